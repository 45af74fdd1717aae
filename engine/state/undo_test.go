package state

import (
	"context"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mailwarden/mailwarden/actions"
)

// Entries hands out stable sequence numbers; MarkUndone marks exactly the
// given entries (surviving a reopen), takes them out of the exactly-once
// index unless a later entry with the same Key owns it, and PruneJournal
// drops the marks with their entries.
func TestEntriesAndMarkUndone(t *testing.T) {
	dir := t.TempDir()
	clock := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	s, err := Open(dir, &Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	flag := actions.Entry{Account: "a", Mailbox: "INBOX", UIDValidity: 1, UID: 5, Op: actions.OpFlag, Target: "vip", Time: t0}
	move := actions.Entry{Account: "a", Mailbox: "INBOX", UIDValidity: 1, UID: 5, Op: actions.OpMove, Target: "X", DestUID: 9, Time: t0.Add(time.Hour)}
	again := flag // the same operation recorded again later (e.g. after an undo and a re-apply)
	again.Time = t0.Add(2 * time.Hour)
	if err := s.Record(ctx, []actions.Entry{flag, move}); err != nil {
		t.Fatal(err)
	}
	var got []Recorded
	s.Entries(time.Time{}, func(r Recorded) bool { got = append(got, r); return true })
	if len(got) != 2 || got[0].Seq >= got[1].Seq || got[0].Entry.Target != "vip" || !got[0].Undone.IsZero() {
		t.Fatalf("entries: %+v", got)
	}
	if err := s.MarkUndone([]uint64{got[0].Seq, 999}); err != nil {
		t.Fatal(err)
	}
	done, _ := s.Applied(ctx, []string{flag.Key(), move.Key()})
	if has(done, flag.Key()) || !has(done, move.Key()) {
		t.Errorf("after undoing the flag, applied = %v; want only the move", done)
	}
	s.Close()

	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got = nil
	s.Entries(time.Time{}, func(r Recorded) bool { got = append(got, r); return true })
	if !got[0].Undone.Equal(clock) || !got[1].Undone.IsZero() {
		t.Fatalf("undo marks after reopen: %+v", got)
	}

	// A later entry with the same Key owns the index: undoing the old one
	// leaves it.
	if err := s.Record(ctx, []actions.Entry{again}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkUndone([]uint64{got[0].Seq}); err != nil {
		t.Fatal(err)
	}
	if done, _ := s.Applied(ctx, []string{flag.Key()}); !has(done, flag.Key()) {
		t.Error("undoing an old entry dropped a newer entry's exactly-once key")
	}

	// Since filters by time; pruning drops entries and their marks.
	n := 0
	s.Entries(t0.Add(90*time.Minute), func(r Recorded) bool { n++; return true })
	if n != 1 {
		t.Errorf("entries since t0+90m: %d, want 1", n)
	}
	if removed, err := s.PruneJournal(t0.Add(90 * time.Minute)); err != nil || removed != 2 {
		t.Fatalf("prune: %d %v", removed, err)
	}
	if done, _ := s.Applied(ctx, []string{flag.Key()}); !has(done, flag.Key()) {
		t.Error("pruning old entries dropped a newer entry's exactly-once key")
	}
	marks := 0
	s.db.View(func(tx *bolt.Tx) error { marks = tx.Bucket(bucketUndone).Stats().KeyN; return nil })
	if marks != 0 {
		t.Errorf("%d undo marks left after pruning their entries", marks)
	}
}
