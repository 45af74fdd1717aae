package actions

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mailwarden/mailwarden/rules"
)

func msg(uid uint32, id string, flags ...string) *rules.Message {
	return &rules.Message{UID: uid, Mailbox: "INBOX", Flags: flags,
		Header: rules.NewHeader([]rules.Field{{Name: "Message-ID", Raw: "<" + id + ">", Value: "<" + id + ">"}})}
}

func moveTo(box, rule string) rules.Plan {
	var p rules.Plan
	p.Move(rules.Delivery{Mailbox: box, Create: true, Rule: rule})
	return p
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func TestBatchGroupsOneCommandPerDestinationAndFlagSet(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true}, "Finance")
	var items []Item
	for i := range 5 {
		uid := srv.add("INBOX", string(rune('a'+i)))
		var p rules.Plan
		if i < 3 {
			p = moveTo("Finance", "invoices")
		} else {
			p.AddFlag(`\flagged`, "boss")
			p.AddFlag("vip", "boss")
		}
		items = append(items, Item{Message: msg(uid, string(rune('a'+i))), Plan: p})
	}
	rep, err := New(nil).Apply(context.Background(), srv, items)
	if err != nil || rep.Err() != nil {
		t.Fatal(err, rep.Err())
	}
	equal(t, "commands", srv.log, []string{"STORE 4:5 +FLAGS", "MOVE 1:3 Finance"})
	equal(t, "INBOX", srv.contents("INBOX"), []string{`d[\Flagged vip]`, `e[\Flagged vip]`})
	equal(t, "Finance", srv.contents("Finance"), []string{"a[]", "b[]", "c[]"})
	if rep.Ops[OpMove] != 3 || rep.Ops[OpFlag] != 4 || rep.Messages != 5 || rep.Commands != 2 {
		t.Errorf("report = %+v", rep)
	}
	if len(rep.Placed) != 3 || rep.Placed[0].DestUID != 1 || rep.Placed[2].DestUID != 3 {
		t.Errorf("placed = %+v", rep.Placed)
	}
}

func TestMoveWithoutMOVEExpungesExactlyThoseUIDs(t *testing.T) {
	srv := newFake(Caps{UIDPlus: true}, "Archive")
	other := srv.add("INBOX", "someone-elses-deleted", rules.FlagDeleted)
	uid := srv.add("INBOX", "m1", rules.FlagSeen)
	rep, _ := New(nil).Apply(context.Background(), srv, []Item{{Message: msg(uid, "m1", rules.FlagSeen), Plan: moveTo("Archive", "r")}})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	equal(t, "commands", srv.log, []string{"COPY 2 Archive", "STORE 2 +FLAGS", "UID EXPUNGE 2"})
	equal(t, "INBOX keeps the other client's \\Deleted message", srv.contents("INBOX"), []string{`someone-elses-deleted[\Deleted]`})
	equal(t, "Archive", srv.contents("Archive"), []string{`m1[\Seen]`})
	_ = other
}

func TestMoveWithoutUIDPLUSCopiesAndFlagsButNeverExpunges(t *testing.T) {
	srv := newFake(Caps{}, "Archive")
	uid := srv.add("INBOX", "m1")
	rep, _ := New(nil).Apply(context.Background(), srv, []Item{{Message: msg(uid, "m1"), Plan: moveTo("Archive", "r")}})
	equal(t, "commands", srv.log, []string{"COPY 1 Archive", "STORE 1 +FLAGS"})
	equal(t, "INBOX", srv.contents("INBOX"), []string{`m1[\Deleted]`})
	equal(t, "Archive", srv.contents("Archive"), []string{`m1[]`})
	if len(rep.Warnings) != 1 {
		t.Errorf("want one warning about UIDPLUS, got %q", rep.Warnings)
	}
}

func TestTryCreate(t *testing.T) {
	t.Run("allowed", func(t *testing.T) {
		srv := newFake(Caps{Move: true, UIDPlus: true})
		uid := srv.add("INBOX", "m1")
		rep, _ := New(nil).Apply(context.Background(), srv, []Item{{Message: msg(uid, "m1"), Plan: moveTo("Lists/go", "lists")}})
		if err := rep.Err(); err != nil {
			t.Fatal(err)
		}
		equal(t, "commands", srv.log, []string{"MOVE 1 Lists/go", "CREATE Lists/go", "MOVE 1 Lists/go"})
		equal(t, "Lists/go", srv.contents("Lists/go"), []string{"m1[]"})
	})
	t.Run("not allowed leaves the message in place", func(t *testing.T) {
		srv := newFake(Caps{Move: true, UIDPlus: true})
		uid := srv.add("INBOX", "m1")
		var p rules.Plan
		p.Move(rules.Delivery{Mailbox: "Nope", Rule: "sieve"})
		rep, _ := New(nil).Apply(context.Background(), srv, []Item{{Message: msg(uid, "m1"), Plan: p}})
		if !errors.Is(rep.Failed[uid], ErrTryCreate) {
			t.Fatalf("failed = %v", rep.Failed)
		}
		equal(t, "INBOX", srv.contents("INBOX"), []string{"m1[]"})
	})
}

func TestSeveralDeliveriesCopyThenMoveOnce(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true}, "A", "B")
	uid := srv.add("INBOX", "m1")
	var p rules.Plan
	p.Move(rules.Delivery{Mailbox: "A", Rule: "r1"})
	p.Move(rules.Delivery{Mailbox: "B", Rule: "r2"})
	rep, _ := New(nil).Apply(context.Background(), srv, []Item{{Message: msg(uid, "m1"), Plan: p}})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	equal(t, "commands", srv.log, []string{"COPY 1 A", "MOVE 1 B"})
	equal(t, "INBOX", srv.contents("INBOX"), nil)
	equal(t, "A", srv.contents("A"), []string{"m1[]"})
	equal(t, "B", srv.contents("B"), []string{"m1[]"})
}

func TestFailedCopyNeverRemovesOriginal(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true}, "A", "B")
	srv.failCopy["A"] = errors.New("NO [OVERQUOTA] quota exceeded")
	uid := srv.add("INBOX", "m1")
	var p rules.Plan
	p.Move(rules.Delivery{Mailbox: "A"})
	p.Move(rules.Delivery{Mailbox: "B"})
	rep, _ := New(nil).Apply(context.Background(), srv, []Item{{Message: msg(uid, "m1"), Plan: p}})
	if rep.Failed[uid] == nil {
		t.Fatal("want failure")
	}
	equal(t, "commands", srv.log, []string{"COPY 1 A"})
	equal(t, "INBOX", srv.contents("INBOX"), []string{"m1[]"})
	equal(t, "B", srv.contents("B"), nil)
}

func TestDeleteGoesToTrashNeverExpunges(t *testing.T) {
	for _, special := range []bool{true, false} {
		srv := newFake(Caps{Move: true, UIDPlus: true}, "Deleted Items")
		if special {
			srv.special[rules.Trash] = "Deleted Items"
		}
		uid := srv.add("INBOX", "spam")
		var p rules.Plan
		p.Delete("spam")
		rep, _ := New(nil).Apply(context.Background(), srv, []Item{{Message: msg(uid, "spam"), Plan: p}})
		if err := rep.Err(); err != nil {
			t.Fatal(err)
		}
		box := "Trash" // conventional name when the server has no SPECIAL-USE; created on demand
		if special {
			box = "Deleted Items"
		}
		equal(t, box, srv.contents(box), []string{"spam[]"})
		for _, l := range srv.log {
			if l[:3] == "UID" {
				t.Errorf("delete sent %s", l)
			}
		}
	}
}

func TestFileintoCurrentMailboxKeeps(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true}, "X")
	uid := srv.add("INBOX", "m1")
	var p rules.Plan
	p.Move(rules.Delivery{Mailbox: "INBOX"})
	p.Move(rules.Delivery{Mailbox: "X"})
	New(nil).Apply(context.Background(), srv, []Item{{Message: msg(uid, "m1"), Plan: p}})
	equal(t, "commands", srv.log, []string{"COPY 1 X"})
	equal(t, "INBOX", srv.contents("INBOX"), []string{"m1[]"})
}

func TestFileintoWithFlagsSetsTheCopysFlagsOnly(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true}, "X")
	uid := srv.add("INBOX", "m1", rules.FlagSeen)
	var p rules.Plan
	p.AddFlag("keep-me", "r")
	p.Copy(rules.Delivery{Mailbox: "X", Flags: []string{`\flagged`}})
	rep, _ := New(nil).Apply(context.Background(), srv, []Item{{Message: msg(uid, "m1", rules.FlagSeen), Plan: p}})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	equal(t, "X", srv.contents("X"), []string{`m1[\Flagged]`})
	equal(t, "INBOX", srv.contents("INBOX"), []string{`m1[\Seen keep-me]`})
}

func TestJournalSkipsWhatWasAlreadyDone(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true}, "X")
	uid := srv.add("INBOX", "m1")
	j := &memJournal{}
	var p rules.Plan
	p.Copy(rules.Delivery{Mailbox: "X", Rule: "r"})
	p.AddFlag("seen-by-rule", "r")
	ex := New(&Options{Account: "acct", Journal: j})
	items := []Item{{Message: msg(uid, "m1"), Plan: p}}
	if _, err := ex.Apply(context.Background(), srv, items); err != nil {
		t.Fatal(err)
	}
	// A crash before the checkpoint advanced: the same batch again.
	rep, err := ex.Apply(context.Background(), srv, items)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "X has one copy", srv.contents("X"), []string{"m1[seen-by-rule]"})
	if rep.Skipped != 2 || rep.Commands != 0 {
		t.Errorf("second apply: skipped %d, commands %d; want 2, 0", rep.Skipped, rep.Commands)
	}
	if len(j.entries) != 2 || j.entries[0].MessageID != "m1" || j.entries[0].Rule != "r" || j.entries[0].UIDValidity != 42 {
		t.Errorf("journal = %+v", j.entries)
	}
}

// A mailbox restored from a backup can reuse a UID under the same
// UIDVALIDITY for another message (against RFC 9051 §2.3.1.1). The journal
// names the message a change was made to, so the new message's changes
// are made, not skipped as done.
func TestJournalNeverSkipsAReusedUID(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true}, "X")
	uid := srv.add("INBOX", "m1")
	j := &memJournal{}
	var p rules.Plan
	p.Copy(rules.Delivery{Mailbox: "X", Rule: "r"})
	p.AddFlag("seen-by-rule", "r")
	ex := New(&Options{Account: "acct", Journal: j})
	if _, err := ex.Apply(context.Background(), srv, []Item{{Message: msg(uid, "m1"), Plan: p}}); err != nil {
		t.Fatal(err)
	}
	// The mailbox is restored: UID uid is now another message.
	srv.boxes["INBOX"][uid] = &fakeMsg{id: "m2"}
	rep, err := ex.Apply(context.Background(), srv, []Item{{Message: msg(uid, "m2"), Plan: p}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != 0 {
		t.Errorf("skipped %d changes of another message at a reused UID, want 0", rep.Skipped)
	}
	equal(t, "X", srv.contents("X"), []string{"m1[seen-by-rule]", "m2[seen-by-rule]"})
	equal(t, "INBOX", srv.contents("INBOX"), []string{"m2[seen-by-rule]"})
}

func TestDryRunChangesNothing(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true})
	uid := srv.add("INBOX", "m1")
	p := moveTo("Finance", "invoices")
	p.AddFlag(rules.FlagFlagged, "boss")
	j := &memJournal{}
	rep, err := New(&Options{DryRun: true, Journal: j}).Apply(context.Background(), srv, []Item{{Message: msg(uid, "m1"), Plan: p}})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "commands sent", srv.log, nil)
	equal(t, "INBOX", srv.contents("INBOX"), []string{"m1[]"})
	if rep.Commands != 2 || rep.Ops[OpMove] != 1 || len(j.entries) != 0 {
		t.Errorf("report %+v, journal %d", rep, len(j.entries))
	}
}

func TestFormatUIDs(t *testing.T) {
	for _, tc := range []struct {
		in   []uint32
		want string
	}{{nil, ""}, {[]uint32{7}, "7"}, {[]uint32{1, 2, 3, 7, 9, 10}, "1:3,7,9:10"}} {
		if got := FormatUIDs(tc.in); got != tc.want {
			t.Errorf("FormatUIDs(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExplicitFlagsEqualToTheMessagesNeedNoStore(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true}, "X")
	a := srv.add("INBOX", "a", rules.FlagSeen)
	b := srv.add("INBOX", "b", rules.FlagSeen)
	var p rules.Plan
	p.Move(rules.Delivery{Mailbox: "X", Flags: []string{`\seen`}})
	rep, _ := New(nil).Apply(context.Background(), srv, []Item{
		{Message: msg(a, "a", rules.FlagSeen), Plan: p},
		{Message: msg(b, "b", rules.FlagSeen), Plan: moveTo("X", "r")},
	})
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	equal(t, "commands", srv.log, []string{"MOVE 1:2 X"})
	equal(t, "X", srv.contents("X"), []string{`a[\Seen]`, `b[\Seen]`})
}
