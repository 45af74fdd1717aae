package actions

import (
	"context"
	"errors"
	"testing"

	"github.com/mailwarden/mailwarden/rules"
)

func TestExpungeRemovesExactlyThoseUIDs(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true})
	old1 := srv.add("INBOX", "old1", rules.FlagSeen)
	srv.add("INBOX", "others-deleted", rules.FlagDeleted)
	old2 := srv.add("INBOX", "old2")
	srv.add("INBOX", "young")
	j := &memJournal{}
	rep, err := New(&Options{Account: "acct", Journal: j}).Expunge(context.Background(), srv,
		[]*rules.Message{msg(old1, "old1", rules.FlagSeen), msg(old2, "old2")}, "empty-trash")
	if err != nil || rep.Err() != nil {
		t.Fatal(err, rep.Err())
	}
	equal(t, "commands", srv.log, []string{"STORE 1,3 +FLAGS", "UID EXPUNGE 1,3"})
	equal(t, "INBOX keeps the other client's \\Deleted message", srv.contents("INBOX"), []string{`others-deleted[\Deleted]`, "young[]"})
	if rep.Ops[OpExpunge] != 2 || rep.Messages != 2 || rep.Commands != 2 {
		t.Errorf("report = %+v", rep)
	}
	if len(j.entries) != 2 || j.entries[0].Op != OpExpunge || j.entries[0].MessageID != "old1" || j.entries[0].Rule != "empty-trash" ||
		j.entries[1].UID != old2 || j.entries[1].Account != "acct" || j.entries[1].UIDValidity != 42 {
		t.Errorf("journal = %+v", j.entries)
	}
}

func TestExpungeRefusesWithoutUIDPLUS(t *testing.T) {
	for _, dry := range []bool{false, true} {
		srv := newFake(Caps{Move: true})
		uid := srv.add("INBOX", "old")
		rep, err := New(&Options{DryRun: dry}).Expunge(context.Background(), srv, []*rules.Message{msg(uid, "old")}, "r")
		if !errors.Is(err, ErrNoUIDPlus) {
			t.Fatalf("dry run %v: err = %v, want ErrNoUIDPlus", dry, err)
		}
		equal(t, "commands", srv.log, nil)
		equal(t, "INBOX", srv.contents("INBOX"), []string{"old[]"})
		if rep.Commands != 0 {
			t.Errorf("report = %+v", rep)
		}
	}
}

func TestExpungeIsCapped(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true})
	var msgs []*rules.Message
	for i := range 3 {
		id := string(rune('a' + i))
		msgs = append(msgs, msg(srv.add("INBOX", id), id))
	}
	_, err := New(&Options{MaxExpunge: 2}).Expunge(context.Background(), srv, msgs, "r")
	if !errors.Is(err, ErrExpungeCap) {
		t.Fatalf("err = %v, want ErrExpungeCap", err)
	}
	equal(t, "nothing removed", srv.contents("INBOX"), []string{"a[]", "b[]", "c[]"})
	equal(t, "commands", srv.log, nil)
}

func TestExpungeDryRunChangesNothing(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true})
	uid := srv.add("INBOX", "old")
	j := &memJournal{}
	rep, err := New(&Options{DryRun: true, Journal: j}).Expunge(context.Background(), srv, []*rules.Message{msg(uid, "old")}, "r")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "commands sent", srv.log, nil)
	equal(t, "INBOX", srv.contents("INBOX"), []string{"old[]"})
	if rep.Commands != 2 || rep.Ops[OpExpunge] != 1 || len(j.entries) != 0 {
		t.Errorf("report %+v, journal %d", rep, len(j.entries))
	}
}

type failingStore struct{ *fakeServer }

func (f failingStore) UIDExpunge(context.Context, []uint32) error {
	return errors.New("NO expunge failed")
}

func TestExpungeFailureLeavesMessagesFlaggedForTheNextRun(t *testing.T) {
	srv := newFake(Caps{Move: true, UIDPlus: true})
	uid := srv.add("INBOX", "old")
	ex := New(nil)
	rep, err := ex.Expunge(context.Background(), failingStore{srv}, []*rules.Message{msg(uid, "old")}, "r")
	if err != nil || rep.Failed[uid] == nil || rep.Ops[OpExpunge] != 0 {
		t.Fatalf("err %v, report %+v", err, rep)
	}
	equal(t, "INBOX", srv.contents("INBOX"), []string{`old[\Deleted]`})
	if rep, err := ex.Expunge(context.Background(), srv, []*rules.Message{msg(uid, "old")}, "r"); err != nil || rep.Err() != nil {
		t.Fatal(err, rep.Err())
	}
	equal(t, "INBOX after the next run", srv.contents("INBOX"), nil)
}
