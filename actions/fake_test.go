package actions

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mailwarden/mailwarden/rules"
)

// fakeServer simulates the mailbox state an IMAP server keeps, so executor
// tests assert outcomes (where each message is, with which flags), not
// calls. The real protocol is covered against imapmemserver and Dovecot in
// package engine.
type fakeServer struct {
	boxes    map[string]map[uint32]*fakeMsg
	next     map[string]uint32
	special  map[string]string
	caps     Caps
	selected string
	log      []string
	failCopy map[string]error // destination → error to return
}

type fakeMsg struct {
	id    string
	flags []string
}

func newFake(caps Caps, boxes ...string) *fakeServer {
	f := &fakeServer{boxes: map[string]map[uint32]*fakeMsg{}, next: map[string]uint32{}, special: map[string]string{}, caps: caps, selected: "INBOX", failCopy: map[string]error{}}
	for _, b := range append([]string{"INBOX"}, boxes...) {
		f.boxes[b] = map[uint32]*fakeMsg{}
		f.next[b] = 1
	}
	return f
}

func (f *fakeServer) add(box, id string, flags ...string) uint32 {
	uid := f.next[box]
	f.next[box]++
	f.boxes[box][uid] = &fakeMsg{id: id, flags: flags}
	return uid
}

// contents lists "id[flags]" of a mailbox in UID order.
func (f *fakeServer) contents(box string) []string {
	var uids []uint32
	for u := range f.boxes[box] {
		uids = append(uids, u)
	}
	slices.Sort(uids)
	var out []string
	for _, u := range uids {
		m := f.boxes[box][u]
		fl := slices.Clone(m.flags)
		slices.Sort(fl)
		out = append(out, fmt.Sprintf("%s[%s]", m.id, strings.Join(fl, " ")))
	}
	return out
}

func (f *fakeServer) Caps() Caps                   { return f.caps }
func (f *fakeServer) Selected() (string, uint32)   { return f.selected, 42 }
func (f *fakeServer) logf(format string, a ...any) { f.log = append(f.log, fmt.Sprintf(format, a...)) }

func (f *fakeServer) Store(_ context.Context, uids []uint32, op StoreOp, flags []string) error {
	f.logf("STORE %s %s", FormatUIDs(uids), op)
	for _, u := range uids {
		m := f.boxes[f.selected][u]
		if m == nil {
			continue
		}
		switch op {
		case StoreAdd:
			for _, fl := range flags {
				if !slices.Contains(m.flags, fl) {
					m.flags = append(m.flags, fl)
				}
			}
		case StoreRemove:
			m.flags = slices.DeleteFunc(m.flags, func(s string) bool { return slices.Contains(flags, s) })
		case StoreReplace:
			m.flags = slices.Clone(flags)
		}
	}
	return nil
}

func (f *fakeServer) Copy(_ context.Context, uids []uint32, dest string) (Copied, error) {
	f.logf("COPY %s %s", FormatUIDs(uids), dest)
	if err := f.failCopy[dest]; err != nil {
		return Copied{}, err
	}
	box, ok := f.boxes[dest]
	if !ok {
		return Copied{}, fmt.Errorf("NO [TRYCREATE] %s: %w", dest, ErrTryCreate)
	}
	var out []uint32
	for _, u := range uids {
		m := f.boxes[f.selected][u]
		n := f.next[dest]
		f.next[dest]++
		box[n] = &fakeMsg{id: m.id, flags: slices.Clone(m.flags)}
		out = append(out, n)
	}
	return Copied{UIDValidity: 42, UIDs: out}, nil
}

func (f *fakeServer) Move(ctx context.Context, uids []uint32, dest string) (Copied, error) {
	if !f.caps.Move {
		panic("Move called without MOVE capability")
	}
	f.logf("MOVE %s %s", FormatUIDs(uids), dest)
	if _, ok := f.boxes[dest]; !ok {
		return Copied{}, fmt.Errorf("NO [TRYCREATE] %s: %w", dest, ErrTryCreate)
	}
	out := make([]uint32, 0, len(uids))
	for _, u := range uids {
		m := f.boxes[f.selected][u]
		n := f.next[dest]
		f.next[dest]++
		f.boxes[dest][n] = m
		delete(f.boxes[f.selected], u)
		out = append(out, n)
	}
	return Copied{UIDValidity: 42, UIDs: out}, nil
}

func (f *fakeServer) UIDExpunge(_ context.Context, uids []uint32) error {
	if !f.caps.UIDPlus {
		panic("UIDExpunge called without UIDPLUS")
	}
	f.logf("UID EXPUNGE %s", FormatUIDs(uids))
	for _, u := range uids {
		if m := f.boxes[f.selected][u]; m != nil && slices.Contains(m.flags, rules.FlagDeleted) {
			delete(f.boxes[f.selected], u)
		}
	}
	return nil
}

func (f *fakeServer) Create(_ context.Context, name string) error {
	f.logf("CREATE %s", name)
	if _, ok := f.boxes[name]; !ok {
		f.boxes[name] = map[uint32]*fakeMsg{}
		f.next[name] = 1
	}
	return nil
}

func (f *fakeServer) SpecialUse(_ context.Context, attr string) (string, error) {
	if n, ok := f.special[attr]; ok {
		return n, nil
	}
	return "", ErrNoSpecialUse
}

// memJournal is an in-memory Journal.
type memJournal struct {
	entries []Entry
	intents map[string]Entry // pending copies
}

func (j *memJournal) Applied(_ context.Context, keys []string) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range keys {
		for _, e := range j.entries {
			if e.Key() == k {
				out[k] = e.MessageID
			}
		}
	}
	return out, nil
}

func (j *memJournal) Record(_ context.Context, entries []Entry) error {
	j.entries = append(j.entries, entries...)
	for _, e := range entries {
		delete(j.intents, e.IntentKey())
	}
	return nil
}

func (j *memJournal) Intend(_ context.Context, entries []Entry) error {
	if j.intents == nil {
		j.intents = map[string]Entry{}
	}
	for _, e := range entries {
		j.intents[e.IntentKey()] = e
	}
	return nil
}
