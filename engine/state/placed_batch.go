package state

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PlacedMark is one placement for MarkPlacedAll: the daemon put a message
// into Account's Mailbox (or, before the move, is about to).
type PlacedMark struct {
	Account, Mailbox string
	// DestUID (with Placement.UIDValidity) names the exact message the
	// server reported (COPYUID): the mark is kept under that UID, and a
	// pending mark under its Message-ID is dropped. Zero: the UID is not
	// known (yet): the mark waits under the Message-ID, pending, for the
	// first message with that Message-ID to claim it (PlacedBy).
	DestUID   uint32
	Placement Placement
	// Drop removes the pending mark under the Message-ID and records
	// nothing: the move it was made for failed.
	Drop bool
}

// MarkPlacedAll records many placements in one transaction (one fsync), as
// MarkPlaced does for each: a batch of thousands of moves (a sweep, `apply`,
// a watcher catching up) would otherwise wait for one fsync per message.
func (s *Store) MarkPlacedAll(marks []PlacedMark) error {
	if len(marks) == 0 {
		return nil
	}
	vals := make([][]byte, len(marks))
	for i := range marks {
		p := marks[i].Placement
		if p.Time.IsZero() {
			p.Time = s.now()
		}
		v, err := json.Marshal(p)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	return s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPlaced)
		for i, m := range marks {
			mid := key(m.Account, m.Mailbox, "mid:"+m.Placement.MessageID)
			switch {
			case m.Drop || m.DestUID != 0:
				if m.Placement.MessageID != "" {
					if err := b.Delete(mid); err != nil {
						return err
					}
				}
				if m.Drop {
					continue
				}
				if err := b.Put(key(m.Account, m.Mailbox, fmt.Sprint("uid:", m.DestUID)), vals[i]); err != nil {
					return err
				}
			case m.Placement.MessageID != "":
				if err := b.Put(mid, vals[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
