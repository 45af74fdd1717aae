package undo

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/state"
)

// The replay is pure: these tests feed it journal slices, no server.

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// journal builds Recorded entries in order, numbering them from 1.
type journal []state.Recorded

func (j *journal) add(e actions.Entry) *state.Recorded {
	if e.Account == "" {
		e.Account = "acct"
	}
	if e.UIDValidity == 0 {
		e.UIDValidity = 7
	}
	e.Time = t0.Add(time.Duration(len(*j)) * time.Minute)
	*j = append(*j, state.Recorded{Seq: uint64(len(*j) + 1), Entry: e})
	return &(*j)[len(*j)-1]
}

func flag(mailbox string, uid uint32, mid, rule, f string) actions.Entry {
	return actions.Entry{Mailbox: mailbox, UID: uid, MessageID: mid, Rule: rule, Op: actions.OpFlag, Target: f}
}

func move(mailbox string, uid uint32, mid, rule, to string, dest uint32) actions.Entry {
	return actions.Entry{Mailbox: mailbox, UID: uid, MessageID: mid, Rule: rule, Op: actions.OpMove, Target: to, DestUID: dest}
}

func seqs(rs []state.Recorded) []uint64 {
	var out []uint64
	for _, r := range rs {
		out = append(out, r.Seq)
	}
	return out
}

func TestReplayFollowsAMessageThroughMoves(t *testing.T) {
	var j journal
	j.add(flag("INBOX", 10, "inv@x", "invoices", "paid"))
	j.add(move("INBOX", 10, "inv@x", "invoices", "Finance", 3))
	j.add(flag("Finance", 3, "inv@x", "finance", `\Seen`))
	j.add(move("Finance", 3, "inv@x", "finance", "Finance/2026", 1))
	hs, loose := replayEntries(j, &Options{})
	if len(hs) != 1 || len(loose) != 0 {
		t.Fatalf("histories %d, loose %d; want 1, 0", len(hs), len(loose))
	}
	h := hs[0]
	if h.origin != "INBOX" || h.cur != "Finance/2026" || h.curUID != 1 || h.curUV != 0 {
		t.Errorf("origin %q cur %q uid %d uv %d; want INBOX, Finance/2026, 1, 0 (moved: UIDVALIDITY unknown)", h.origin, h.cur, h.curUID, h.curUV)
	}
	if !slices.Equal(h.added, []string{"paid", `\Seen`}) || len(h.removed) != 0 {
		t.Errorf("added %v removed %v", h.added, h.removed)
	}
	if !slices.Equal(seqs(h.entries), []uint64{1, 2, 3, 4}) || h.blocked != "" {
		t.Errorf("entries %v blocked %q", seqs(h.entries), h.blocked)
	}
}

func TestReplayOppositeFlagChangesCancel(t *testing.T) {
	var j journal
	j.add(flag("INBOX", 5, "a@x", "r", "todo"))
	e := flag("INBOX", 5, "a@x", "r", "TODO")
	e.Op = actions.OpUnflag
	j.add(e)
	hs, _ := replayEntries(j, &Options{})
	if len(hs) != 1 || !hs[0].netZero() {
		t.Fatalf("flag then unflag (case-insensitive) must cancel out: %+v", hs[0])
	}
}

func TestReplayCopiesAreKeptAndExpungesImpossible(t *testing.T) {
	var j journal
	j.add(actions.Entry{Mailbox: "INBOX", UID: 1, MessageID: "c@x", Rule: "r", Op: actions.OpCopy, Target: "Archive"})
	j.add(flag("INBOX", 2, "gone@x", "r", "old"))
	j.add(actions.Entry{Mailbox: "INBOX", UID: 2, MessageID: "gone@x", Rule: "expire", Op: actions.OpExpunge})
	hs, loose := replayEntries(j, &Options{})
	got := map[string]Outcome{}
	for _, r := range loose {
		got[r.Entry.MessageID+" "+string(r.Entry.Op)] = r.Outcome
	}
	if got["c@x copy"] != Kept || got["gone@x expunge"] != Impossible || len(loose) != 2 {
		t.Errorf("loose results %v", got)
	}
	if len(hs) != 1 || !strings.Contains(hs[0].blocked, "expunged for good") {
		t.Errorf("a flag on a message expunged later cannot be undone: %+v", hs)
	}
}

func TestReplayStopsWhereAnUnselectedRuleMovedTheMessageOn(t *testing.T) {
	var j journal
	j.add(move("INBOX", 10, "m@x", "lists", "Lists", 4))
	j.add(move("Lists", 4, "m@x", "archive", "Archive", 9))
	hs, _ := replayEntries(j, &Options{Rule: "lists"})
	if len(hs) != 1 || !strings.Contains(hs[0].blocked, `moved on to "Archive"`) || !strings.Contains(hs[0].blocked, `"archive"`) {
		t.Fatalf("want the history blocked by the archive rule's move: %+v", hs)
	}
}

func TestReplayFollowsUndoAndUndoneEntries(t *testing.T) {
	var j journal
	j.add(move("INBOX", 10, "m@x", "lists", "Lists", 4))
	j.add(move("Lists", 4, "m@x", Rule, "INBOX", 11)) // undo moved it back
	j[0].Undone = t0.Add(time.Hour)
	j.add(move("INBOX", 11, "m@x", "lists2", "Lists2", 6))
	hs, _ := replayEntries(j, &Options{})
	if len(hs) != 1 {
		t.Fatalf("histories %d, want 1 (only the last move is selected)", len(hs))
	}
	h := hs[0]
	if h.origin != "INBOX" || h.cur != "Lists2" || h.curUID != 6 || !slices.Equal(seqs(h.entries), []uint64{3}) {
		t.Errorf("origin %q cur %q uid %d entries %v", h.origin, h.cur, h.curUID, seqs(h.entries))
	}
}

// A UID that now names another message (a different Message-ID) starts a
// new history instead of extending the old one.
func TestReplayReusedUIDIsAnotherMessage(t *testing.T) {
	var j journal
	j.add(flag("INBOX", 3, "first@x", "r", "a"))
	j.add(flag("INBOX", 3, "second@x", "r", "b"))
	hs, _ := replayEntries(j, &Options{})
	if len(hs) != 2 || hs[0].messageID != "first@x" || hs[1].messageID != "second@x" {
		t.Fatalf("want two histories, one per Message-ID: %+v", hs)
	}
}

func TestOptionsSelect(t *testing.T) {
	e := actions.Entry{Account: "acct", Mailbox: "INBOX", Rule: "filters.sieve:12"}
	for _, tc := range []struct {
		o    Options
		want bool
	}{
		{Options{}, true},
		{Options{Account: "acct"}, true},
		{Options{Account: "other"}, false},
		{Options{Mailbox: "inbox"}, true}, // INBOX is case-insensitive, RFC 9051 §5.1
		{Options{Mailbox: "Finance"}, false},
		{Options{Rule: "filters.sieve"}, true},
		{Options{Rule: "filters.sieve:12"}, true},
		{Options{Rule: "filters"}, false},
		{Options{Rule: "filters.sieve:1"}, false},
	} {
		if got := tc.o.selects(&e); got != tc.want {
			t.Errorf("%+v selects %+v = %v, want %v", tc.o, e, got, tc.want)
		}
	}
	if (&Options{}).selects(&actions.Entry{Rule: Rule}) {
		t.Error("undo's own entries must never be selected")
	}
}
