package state

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	bolt "go.etcd.io/bbolt"
)

// bucketSent holds the keys of Sieve redirects and vacation replies
// (actions.SendLog): key → state (1 byte) + expiry (8 bytes, Unix nanos).
var bucketSent = []byte("sent")

var _ actions.SendLog = (*Store)(nil)

// Claim records key as pending until period from now, unless the store
// holds it, unexpired: then it returns that state and writes nothing.
// One transaction: two claims of one key never both succeed. A read-only
// store (dry run) claims nothing: a dry run sends nothing.
func (s *Store) Claim(_ context.Context, key string, period time.Duration) (actions.SendState, error) {
	if s.readOnly {
		return actions.SendNew, ErrReadOnly
	}
	state := actions.SendNew
	now := s.now()
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSent)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(key)); len(v) == 9 && now.Before(time.Unix(0, int64(binary.BigEndian.Uint64(v[1:])))) {
			state = actions.SendState(v[0])
			return nil
		}
		if err := b.Put([]byte(key), sentValue(actions.SendPending, now.Add(period))); err != nil {
			return err
		}
		return pruneSent(b, now)
	})
	return state, err
}

// Done records key as sent until period from now.
func (s *Store) Done(_ context.Context, key string, period time.Duration) error {
	if s.readOnly {
		return ErrReadOnly
	}
	now := s.now()
	return s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSent)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), sentValue(actions.SendDone, now.Add(period)))
	})
}

// Release forgets key.
func (s *Store) Release(_ context.Context, key string) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return s.update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketSent); b != nil {
			return b.Delete([]byte(key))
		}
		return nil
	})
}

func sentValue(st actions.SendState, exp time.Time) []byte {
	v := make([]byte, 9)
	v[0] = byte(st)
	binary.BigEndian.PutUint64(v[1:], uint64(exp.UnixNano()))
	return v
}

// pruneSent drops a few expired keys, so the bucket does not grow forever.
func pruneSent(b *bolt.Bucket, now time.Time) error {
	c := b.Cursor()
	n := 0
	for k, v := c.First(); k != nil && n < 16; k, v = c.Next() {
		if len(v) == 9 && now.After(time.Unix(0, int64(binary.BigEndian.Uint64(v[1:])))) {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
	}
	return nil
}
