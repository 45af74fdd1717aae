// Package state keeps mailwarden's durable state in one embedded bbolt
// file (state_dir/mailwarden.db):
//
//   - checkpoints: per account × mailbox, the UIDVALIDITY and the highest
//     UID whose plan was applied. A watcher fetches only UIDs above it, and
//     advances it only after the batch's plans are applied, so a restart
//     processes exactly the messages that arrived while it was down.
//   - the journal: one entry per applied change (account, mailbox,
//     UIDVALIDITY, UID, Message-ID, rule, op, target, destination UID,
//     time), indexed by operation key so that a batch repeated after a crash
//     skips what it already did (actions.Journal).
//   - placements: where the daemon itself put a message (destination
//     mailbox and UID, or Message-ID when the server gave no COPYUID) and
//     under which rule set, so that a watcher on the destination does not run
//     the same rule set over it again (no loops).
//   - undo marks: the sequence numbers of journal entries that
//     `mailwarden undo` reversed, so that a second undo does not reverse
//     them again. Journal entries are never rewritten: an entry's sequence
//     number (its key, increasing with every Record) names it for good.
//   - backup checkpoints: per backup job × directory × account × mailbox,
//     the UIDVALIDITY and the highest UID exported, advanced only after
//     the exported files are durable (backup.go).
//
// Every write is one bbolt transaction, fsync'd before it returns. The file
// is locked: a second process on the same state_dir fails at Open with a
// clear error instead of corrupting checkpoints.
package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mailwarden/mailwarden/actions"
)

var (
	bucketCheckpoints = []byte("checkpoints")
	bucketJournal     = []byte("journal")
	bucketApplied     = []byte("applied")
	bucketPlaced      = []byte("placed")
	bucketUndone      = []byte("undone")
	// bucketIntents holds the copies about to be made (actions.Journal
	// Intend): IntentKey → entry, until Record settles them.
	bucketIntents = []byte("intents")
)

// FileName is the name of the state file inside state_dir.
const FileName = "mailwarden.db"

// Store is the state file. It is safe for concurrent use.
type Store struct {
	db       *bolt.DB
	now      func() time.Time
	readOnly bool
	memDups  *memDuplicates // read-only: the duplicates recorded meanwhile
}

var _ actions.Journal = (*Store)(nil)

// Options configure Open. Nil means defaults.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the
	// file. Default 2s.
	LockTimeout time.Duration
	// Now stamps checkpoints and placements. Default time.Now.
	Now func() time.Time
	// ReadOnly opens the file for a dry run: everything reads as stored,
	// nothing is written (writes fail with ErrReadOnly, except the Sieve
	// duplicates, remembered in memory, and placements, which PlacedBy
	// does not claim). Several read-only opens may share the file; a
	// missing file is an error wrapping os.ErrNotExist.
	ReadOnly bool
}

// ErrReadOnly is returned by writes to a Store opened read-only.
var ErrReadOnly = errors.New("state file opened read-only (dry run)")

// Open opens (creating if needed) the state file in dir, creating dir with
// mode 0700 when missing.
func Open(dir string, opts *Options) (*Store, error) {
	o := Options{LockTimeout: 2 * time.Second, Now: time.Now}
	if opts != nil {
		if opts.LockTimeout > 0 {
			o.LockTimeout = opts.LockTimeout
		}
		if opts.Now != nil {
			o.Now = opts.Now
		}
		o.ReadOnly = opts.ReadOnly
	}
	if o.ReadOnly {
		return openReadOnly(dir, o)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open state %s: locked by another process (is another mailwarden running with the same state_dir?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCheckpoints, bucketJournal, bucketApplied, bucketPlaced, bucketUndone, bucketIntents} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init state %s: %w", path, err)
	}
	return &Store{db: db, now: o.Now}, nil
}

func openReadOnly(dir string, o Options) (*Store, error) {
	path := filepath.Join(dir, FileName)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout, ReadOnly: true})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open state %s: locked by another process (is mailwarden running with the same state_dir?)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCheckpoints, bucketJournal, bucketApplied, bucketPlaced, bucketUndone} {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("bucket %s missing", b)
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	return &Store{db: db, now: o.Now, readOnly: true, memDups: &memDuplicates{m: map[string]time.Time{}}}, nil
}

// ReadOnly reports whether the Store was opened read-only (a dry run).
func (s *Store) ReadOnly() bool { return s.readOnly }

// update runs fn in a write transaction, or fails with ErrReadOnly.
func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return s.db.Update(fn)
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the state file's path.
func (s *Store) Path() string { return s.db.Path() }

func key(parts ...string) []byte {
	var b bytes.Buffer
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(p)
	}
	return b.Bytes()
}

// Checkpoint is how far a watched mailbox has been processed.
type Checkpoint struct {
	UIDValidity uint32    `json:"uidvalidity"`
	LastUID     uint32    `json:"last_uid"`
	Updated     time.Time `json:"updated"`
}

// Checkpoint returns the checkpoint of account/mailbox; ok is false when
// there is none yet (first start).
func (s *Store) Checkpoint(account, mailbox string) (cp Checkpoint, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCheckpoints).Get(key(account, mailbox))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &cp)
	})
	if err != nil {
		err = fmt.Errorf("read checkpoint %s/%s: %w", account, mailbox, err)
	}
	return cp, ok, err
}

// SetCheckpoint stores the checkpoint of account/mailbox durably.
func (s *Store) SetCheckpoint(account, mailbox string, cp Checkpoint) error {
	if cp.Updated.IsZero() {
		cp.Updated = s.now()
	}
	v, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	err = s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCheckpoints).Put(key(account, mailbox), v)
	})
	if err != nil {
		return fmt.Errorf("write checkpoint %s/%s: %w", account, mailbox, err)
	}
	return nil
}

// Applied implements actions.Journal: the applied index points each key
// at its journal entry, which names the message.
func (s *Store) Applied(_ context.Context, keys []string) (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		a, j := tx.Bucket(bucketApplied), tx.Bucket(bucketJournal)
		for _, k := range keys {
			seq := a.Get([]byte(k))
			if seq == nil {
				continue
			}
			var e struct{ MessageID string }
			if v := j.Get(seq); v != nil {
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("journal entry %x: %w", seq, err)
				}
			}
			out[k] = e.MessageID
		}
		return nil
	})
	return out, err
}

// Record implements actions.Journal: entries are appended in one
// transaction, indexed by their operation key.
func (s *Store) Record(_ context.Context, entries []actions.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.update(func(tx *bolt.Tx) error {
		j, a := tx.Bucket(bucketJournal), tx.Bucket(bucketApplied)
		for i := range entries {
			seq, err := j.NextSequence()
			if err != nil {
				return err
			}
			v, err := json.Marshal(&entries[i])
			if err != nil {
				return err
			}
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], seq)
			if err := j.Put(k[:], v); err != nil {
				return err
			}
			if err := a.Put([]byte(entries[i].Key()), k[:]); err != nil {
				return err
			}
			if op := entries[i].Op; op == actions.OpCopy || op == actions.OpMove {
				if err := tx.Bucket(bucketIntents).Delete([]byte(entries[i].IntentKey())); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Intend implements actions.Journal: the copies or moves of entries are
// about to be sent. Record settles them; PendingCopies lists those a crash
// left unsettled.
func (s *Store) Intend(_ context.Context, entries []actions.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIntents)
		for i := range entries {
			v, err := json.Marshal(&entries[i])
			if err != nil {
				return err
			}
			if err := b.Put([]byte(entries[i].IntentKey()), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// PendingCopies lists the intents of account's mailbox that no Record
// settled: copies or moves that may or may not have happened.
func (s *Store) PendingCopies(account, mailbox string) ([]actions.Entry, error) {
	var out []actions.Entry
	prefix := []byte(account + "\x00" + mailbox + "\x00")
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIntents)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var e actions.Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("intent %q: %w", k, err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// SettleCopies settles pending intents after the engine looked in their
// destinations: the copies found are recorded as made (journal entries,
// so a retry does not copy again), the others dropped (the copy is made
// again).
func (s *Store) SettleCopies(found, missing []actions.Entry) error {
	if err := s.Record(context.Background(), found); err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIntents)
		for i := range missing {
			if err := b.Delete([]byte(missing[i].IntentKey())); err != nil {
				return err
			}
		}
		return nil
	})
}

// Journal calls fn for each journal entry at or after since, oldest first,
// until fn returns false.
func (s *Store) Journal(since time.Time, fn func(actions.Entry) bool) error {
	return s.Entries(since, func(r Recorded) bool { return fn(r.Entry) })
}

// Recorded is one journal entry as stored.
type Recorded struct {
	// Seq is the entry's sequence number: its key in the journal, strictly
	// increasing with every Record and never reused, so it names the entry
	// for good (two entries may share a Key and even a Time).
	Seq   uint64
	Entry actions.Entry
	// Undone is when `mailwarden undo` reversed the entry (MarkUndone);
	// zero when it did not.
	Undone time.Time
}

// Entries calls fn for each journal entry at or after since, oldest first
// (in Seq order), with its sequence number and undo mark, until fn returns
// false.
func (s *Store) Entries(since time.Time, fn func(Recorded) bool) error {
	return s.db.View(func(tx *bolt.Tx) error {
		u := tx.Bucket(bucketUndone)
		c := tx.Bucket(bucketJournal).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			r := Recorded{Seq: binary.BigEndian.Uint64(k)}
			if err := json.Unmarshal(v, &r.Entry); err != nil {
				return fmt.Errorf("journal entry %x: %w", k, err)
			}
			if r.Entry.Time.Before(since) {
				continue
			}
			if mark := u.Get(k); mark != nil {
				if err := r.Undone.UnmarshalBinary(mark); err != nil {
					return fmt.Errorf("undo mark %x: %w", k, err)
				}
			}
			if !fn(r) {
				return nil
			}
		}
		return nil
	})
}

// MarkUndone records, in one transaction, that the journal entries with
// sequence numbers seqs were reversed, stamped with the store's clock.
// Each such entry also leaves the exactly-once index (Applied) unless a
// later entry with the same Key took its place there: its change is no
// longer in effect, so making it again (by `apply`, say) is not a repeat.
// Unknown sequence numbers (pruned entries) are ignored.
func (s *Store) MarkUndone(seqs []uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	now, err := s.now().MarshalBinary()
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		j, a, u := tx.Bucket(bucketJournal), tx.Bucket(bucketApplied), tx.Bucket(bucketUndone)
		for _, seq := range seqs {
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], seq)
			v := j.Get(k[:])
			if v == nil {
				continue
			}
			var e actions.Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("journal entry %x: %w", k, err)
			}
			if bytes.Equal(a.Get([]byte(e.Key())), k[:]) {
				if err := a.Delete([]byte(e.Key())); err != nil {
					return err
				}
			}
			if err := u.Put(k[:], now); err != nil {
				return err
			}
		}
		return nil
	})
}

// PruneJournal deletes journal entries older than before and returns how
// many it removed. Entries are in time order, so it stops at the first
// newer one.
func (s *Store) PruneJournal(before time.Time) (int, error) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		j, a, u := tx.Bucket(bucketJournal), tx.Bucket(bucketApplied), tx.Bucket(bucketUndone)
		c := j.Cursor()
		for k, v := c.First(); k != nil; k, v = c.First() {
			var e actions.Entry
			if err := json.Unmarshal(v, &e); err == nil && !e.Time.Before(before) {
				return nil
			}
			if bytes.Equal(a.Get([]byte(e.Key())), k) {
				if err := a.Delete([]byte(e.Key())); err != nil {
					return err
				}
			}
			if err := u.Delete(k); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Placement says the daemon itself put a message into a mailbox.
type Placement struct {
	Ruleset   string `json:"ruleset"`
	MessageID string `json:"message_id"`
	From      string `json:"from"` // source mailbox
	// UIDValidity is the destination's UIDVALIDITY (from COPYUID, or as
	// the destination's watcher saw it); 0 when not known.
	UIDValidity uint32    `json:"uidvalidity,omitempty"`
	Time        time.Time `json:"time"`
}

// MarkPlaced records that ruleset put a message into account/mailbox: see
// PlacedMark. MarkPlacedAll does the same for a whole batch in one
// transaction.
func (s *Store) MarkPlaced(account, mailbox string, destUID uint32, p Placement) error {
	return s.MarkPlacedAll([]PlacedMark{{Account: account, Mailbox: mailbox, DestUID: destUID, Placement: p}})
}

// PlacedBy returns the rule set that placed the message of account's
// mailbox with uidValidity, uid and messageID there, if the daemon placed
// exactly that message:
//
//   - a mark under its UID counts when its UIDVALIDITY (if known) and its
//     Message-ID are the message's: a UID can name another message after a
//     UIDVALIDITY change;
//   - a pending mark under its Message-ID (the daemon moved a message there
//     but the server named no UID) counts once: the first message with
//     that Message-ID claims it, and the mark becomes a mark under that
//     message's UID. A later message with the same Message-ID (a re-sent
//     invoice, a list message delivered twice) is new mail.
func (s *Store) PlacedBy(account, mailbox string, uidValidity, uid uint32, messageID string) (Placement, bool, error) {
	var p Placement
	found, pending := false, false
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPlaced)
		if v := b.Get(key(account, mailbox, fmt.Sprint("uid:", uid))); v != nil {
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			if p.MessageID == messageID && (p.UIDValidity == 0 || p.UIDValidity == uidValidity) {
				found = true
				return nil
			}
		}
		if messageID == "" {
			return nil
		}
		if v := b.Get(key(account, mailbox, "mid:"+messageID)); v != nil {
			found, pending = true, true
			return json.Unmarshal(v, &p)
		}
		return nil
	})
	if err != nil || !pending || s.readOnly {
		return p, found, err
	}
	// Claim the pending mark for this message.
	p.UIDValidity = uidValidity
	v, err := json.Marshal(p)
	if err != nil {
		return p, found, err
	}
	err = s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPlaced)
		if err := b.Delete(key(account, mailbox, "mid:"+messageID)); err != nil {
			return err
		}
		return b.Put(key(account, mailbox, fmt.Sprint("uid:", uid)), v)
	})
	return p, found, err
}

// PrunePlaced deletes placements older than before.
func (s *Store) PrunePlaced(before time.Time) (int, error) {
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPlaced).Cursor()
		for k, v := c.First(); k != nil; {
			var p Placement
			if err := json.Unmarshal(v, &p); err == nil && !p.Time.Before(before) {
				k, v = c.Next()
				continue
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
			k, v = c.Seek(k)
		}
		return nil
	})
	return n, err
}
