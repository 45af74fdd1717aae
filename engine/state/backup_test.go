package state

import (
	"errors"
	"testing"
)

func TestBackupCheckpoint(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if _, ok, err := s.BackupCheckpoint("b", "/bk", "a", "INBOX"); ok || err != nil {
		t.Fatalf("fresh store: %v %v", ok, err)
	}
	if err := s.SetBackupCheckpoint("b", "/bk", "a", "INBOX", Checkpoint{UIDValidity: 3, LastUID: 99}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A dry run reads it from a read-only open.
	ro, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	cp, ok, err := ro.BackupCheckpoint("b", "/bk", "a", "INBOX")
	if !ok || err != nil || cp.UIDValidity != 3 || cp.LastUID != 99 {
		t.Errorf("read-only: %+v %v %v", cp, ok, err)
	}
	for _, k := range [][4]string{{"c", "/bk", "a", "INBOX"}, {"b", "/other", "a", "INBOX"}, {"b", "/bk", "x", "INBOX"}, {"b", "/bk", "a", "Sent"}} {
		if _, ok, _ := ro.BackupCheckpoint(k[0], k[1], k[2], k[3]); ok {
			t.Errorf("checkpoint found under %q", k)
		}
	}
	if err := ro.SetBackupCheckpoint("b", "/bk", "a", "INBOX", Checkpoint{}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only write: %v", err)
	}
	ro.Close()
}

// A state file written before backups existed has no backups bucket: a
// read-only open (dry run) still answers "no checkpoint".
func TestBackupCheckpointOldFile(t *testing.T) {
	dir := t.TempDir()
	open(t, dir).Close()
	ro, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, ok, err := ro.BackupCheckpoint("b", "/bk", "a", "INBOX"); ok || err != nil {
		t.Errorf("old file: %v %v", ok, err)
	}
}
