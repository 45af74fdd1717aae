package undo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/rules"
)

// The replay is the pure half of undo: journal entries in, one history per
// message out. It talks to no server and writes nothing.

// history is one message followed through the journal: where it was
// before the first selected change (origin), where the entries lead
// (cur), and the flag changes to reverse.
type history struct {
	account, messageID string
	origin             string
	cur                string
	curUID             uint32 // 0: unknown (moved without COPYUID)
	curUV              uint32 // UIDVALIDITY of cur when known (never moved), else 0
	added, removed     []string
	entries            []state.Recorded // selected entries it reverses
	blocked            string           // non-empty: skipped, with this reason
	noop               bool             // the selected changes cancel out
	outcome            Outcome
	detail             string
}

func (h *history) key() string {
	if h.curUID != 0 {
		return uidKey(h.account, h.cur, h.curUID)
	}
	return midKey(h.account, h.cur, h.messageID)
}

func uidKey(account, mailbox string, uid uint32) string {
	return fmt.Sprintf("%s\x00%s\x00uid:%d", account, mailbox, uid)
}

func midKey(account, mailbox, messageID string) string {
	return account + "\x00" + mailbox + "\x00mid:" + messageID
}

// netZero reports whether the selected changes cancel out: the message is
// where it started, with the flags it had.
func (h *history) netZero() bool {
	return h.cur == h.origin && len(h.added) == 0 && len(h.removed) == 0
}

// flag notes a flag the daemon added (add) or removed, cancelling an
// opposite change recorded earlier.
func (h *history) flag(f string, add bool) {
	f = rules.CanonicalFlag(f)
	to, from := &h.added, &h.removed
	if !add {
		to, from = from, to
	}
	if i := indexFold(*from, f); i >= 0 {
		*from = slices.Delete(*from, i, i+1)
		return
	}
	if indexFold(*to, f) < 0 {
		*to = append(*to, f)
	}
}

func indexFold(list []string, f string) int {
	return slices.IndexFunc(list, func(g string) bool { return strings.EqualFold(f, g) })
}

// selects reports whether the filters of o select e. Undo's own entries
// are never selected.
func (o *Options) selects(e *actions.Entry) bool {
	if e.Rule == Rule {
		return false
	}
	if o.Account != "" && e.Account != o.Account {
		return false
	}
	// INBOX is case-insensitive; every other name is not (RFC 9051 §5.1).
	if o.Mailbox != "" && e.Mailbox != o.Mailbox && !(strings.EqualFold(o.Mailbox, "INBOX") && strings.EqualFold(e.Mailbox, "INBOX")) {
		return false
	}
	if o.Rule != "" && e.Rule != o.Rule {
		// Sieve steps are named "script.sieve:LINE".
		rest, ok := strings.CutPrefix(e.Rule, o.Rule+":")
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" {
			return false
		}
	}
	return true
}

// replay follows messages through journal entries fed to it oldest first.
type replay struct {
	opts *Options
	// histories are the messages the selected entries touched, in the
	// order their first selected entry came.
	histories []*history
	// loose are the results of selected entries that need no server work
	// (copies kept, expunges, unknown operations).
	loose []Result
	at    map[string]*history // history.key() → history
}

func newReplay(opts *Options) *replay {
	return &replay{opts: opts, at: map[string]*history{}}
}

// replayEntries replays entries (oldest first) under the filters of opts.
func replayEntries(entries []state.Recorded, opts *Options) ([]*history, []Result) {
	rp := newReplay(opts)
	for _, r := range entries {
		rp.add(r)
	}
	return rp.histories, rp.loose
}

// find returns the history whose message e names: by UID where the
// history knows it, else by Message-ID; nil when the UID now names another
// message.
func (rp *replay) find(e *actions.Entry) *history {
	h := rp.at[uidKey(e.Account, e.Mailbox, e.UID)]
	if h == nil && e.MessageID != "" {
		h = rp.at[midKey(e.Account, e.Mailbox, e.MessageID)]
	}
	if h != nil && h.messageID != e.MessageID {
		return nil
	}
	return h
}

// stop ends what undo can do for h, with the reason.
func (rp *replay) stop(h *history, why string) {
	delete(rp.at, h.key())
	if h.blocked == "" {
		h.blocked = why
	}
}

func (rp *replay) moveTo(h *history, e *actions.Entry) {
	delete(rp.at, h.key())
	h.cur, h.curUID, h.curUV = e.Target, e.DestUID, 0
	rp.at[h.key()] = h
}

// add feeds one journal entry, in journal order.
func (rp *replay) add(r state.Recorded) {
	e := &r.Entry
	selected := r.Undone.IsZero() && rp.opts.selects(e)
	h := rp.find(e)
	reversible := e.Op == actions.OpFlag || e.Op == actions.OpUnflag || e.Op == actions.OpDelete || e.Op == actions.OpMove
	if h == nil && selected && reversible {
		h = &history{account: e.Account, messageID: e.MessageID, origin: e.Mailbox, cur: e.Mailbox, curUID: e.UID, curUV: e.UIDValidity}
		rp.histories = append(rp.histories, h)
		rp.at[h.key()] = h
	}
	switch {
	case selected && e.Op == actions.OpCopy:
		rp.loose = append(rp.loose, Result{Seq: r.Seq, Entry: *e, Outcome: Kept,
			Detail: fmt.Sprintf("not undone: copies are kept; delete the copy in %q yourself if unwanted", e.Target)})
		return
	case selected && !reversible && e.Op != actions.OpExpunge:
		rp.loose = append(rp.loose, Result{Seq: r.Seq, Entry: *e, Outcome: Skipped,
			Detail: fmt.Sprintf("undo does not know how to reverse %q", e.Op)})
		return
	case selected && e.Op == actions.OpExpunge:
		rp.loose = append(rp.loose, Result{Seq: r.Seq, Entry: *e, Outcome: Impossible,
			Detail: "cannot be undone: the message was expunged for good"})
		if h != nil {
			rp.stop(h, fmt.Sprintf("expunged for good at %s by %q: cannot be undone", stamp(e.Time), e.Rule))
		}
		return
	}
	if h == nil {
		return
	}
	if selected {
		h.entries = append(h.entries, r)
		switch e.Op {
		case actions.OpFlag:
			h.flag(e.Target, true)
		case actions.OpUnflag:
			h.flag(e.Target, false)
		case actions.OpDelete:
			// \Deleted set after a copy, without UIDPLUS (no expunge).
			h.flag(rules.FlagDeleted, true)
		case actions.OpMove:
			rp.moveTo(h, e)
		}
		return
	}
	// Not selected: an entry undo already reversed, or undo's own change,
	// only tells where the message went; another rule's move or an expunge
	// ends what undo can do for it.
	link := !r.Undone.IsZero() || e.Rule == Rule
	switch e.Op {
	case actions.OpMove:
		if link {
			rp.moveTo(h, e)
			return
		}
		rp.stop(h, fmt.Sprintf("moved on to %q at %s by rule %q, which the filter does not select: undo that too, or move it yourself", e.Target, stamp(e.Time), e.Rule))
	case actions.OpExpunge:
		rp.stop(h, fmt.Sprintf("expunged for good at %s by %q: cannot be undone", stamp(e.Time), e.Rule))
	}
}

func stamp(t time.Time) string { return t.Local().Format(time.DateTime) }
