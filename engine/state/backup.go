package state

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// bucketBackups holds the backup checkpoints: key (job, directory,
// account, mailbox) → Checkpoint. It is created by the first write, so a
// state file from before backups opens read-only (a dry run) as it is.
var bucketBackups = []byte("backups")

// BackupCheckpoint returns how far the backup job has exported account's
// mailbox into dir: the UIDVALIDITY and the highest UID up to which every
// message was written and its directory fsync'd (or left out by the job's
// filter). ok is false before the first export.
func (s *Store) BackupCheckpoint(job, dir, account, mailbox string) (cp Checkpoint, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBackups)
		if b == nil {
			return nil
		}
		v := b.Get(key(job, dir, account, mailbox))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &cp)
	})
	if err != nil {
		err = fmt.Errorf("read backup checkpoint %s %s/%s: %w", job, account, mailbox, err)
	}
	return cp, ok, err
}

// SetBackupCheckpoint stores the backup checkpoint durably (one fsync'd
// transaction). Callers advance it only after the files it covers are
// durable.
func (s *Store) SetBackupCheckpoint(job, dir, account, mailbox string, cp Checkpoint) error {
	if cp.Updated.IsZero() {
		cp.Updated = s.now()
	}
	v, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	err = s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketBackups)
		if err != nil {
			return err
		}
		return b.Put(key(job, dir, account, mailbox), v)
	})
	if err != nil {
		return fmt.Errorf("write backup checkpoint %s %s/%s: %w", job, account, mailbox, err)
	}
	return nil
}
