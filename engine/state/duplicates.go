package state

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketDuplicates = []byte("duplicates")

// memDuplicates remembers the duplicates a dry run records.
type memDuplicates struct {
	mu sync.Mutex
	m  map[string]time.Time // key → expiry
}

func (d *memDuplicates) Seen(_ context.Context, key string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	exp, ok := d.m[key]
	return ok && time.Now().Before(exp), nil
}

func (d *memDuplicates) Record(_ context.Context, key string, ttl time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[key] = time.Now().Add(ttl)
	return nil
}

// Duplicates is the durable store behind Sieve's duplicate test
// (RFC 7352): keys with an expiry, in the state file, so "seen before"
// survives a restart. It implements sieve.DuplicateStore.
type Duplicates struct{ s *Store }

// Duplicates returns the duplicate-tracking view of the store.
func (s *Store) Duplicates() *Duplicates { return &Duplicates{s: s} }

// Seen reports whether key was recorded and has not expired.
func (d *Duplicates) Seen(ctx context.Context, key string) (bool, error) {
	if d.s.memDups != nil {
		if seen, _ := d.s.memDups.Seen(ctx, key); seen {
			return true, nil
		}
	}
	seen := false
	err := d.s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDuplicates)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); len(v) == 8 {
			seen = d.s.now().Before(time.Unix(0, int64(binary.BigEndian.Uint64(v))))
		}
		return nil
	})
	return seen, err
}

// Record stores key until ttl from now, replacing an earlier expiry, and
// drops a few expired keys on the way so the bucket does not grow forever.
// A read-only store (dry run) remembers the key in memory only.
func (d *Duplicates) Record(ctx context.Context, key string, ttl time.Duration) error {
	if d.s.readOnly {
		return d.s.memDups.Record(ctx, key, ttl)
	}
	now := d.s.now()
	return d.s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketDuplicates)
		if err != nil {
			return err
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(now.Add(ttl).UnixNano()))
		if err := b.Put([]byte(key), v[:]); err != nil {
			return err
		}
		// Opportunistic cleanup: at most 16 expired keys per record.
		c := b.Cursor()
		n := 0
		for k, v := c.First(); k != nil && n < 16; k, v = c.Next() {
			if len(v) == 8 && now.After(time.Unix(0, int64(binary.BigEndian.Uint64(v)))) {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
}
