package state

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PlacedMark is one placement for MarkPlacedAll.
type PlacedMark struct {
	Account, Mailbox string
	DestUID          uint32
	Placement        Placement
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
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPlaced)
		for i, m := range marks {
			if m.DestUID != 0 {
				if err := b.Put(key(m.Account, m.Mailbox, fmt.Sprint("uid:", m.DestUID)), vals[i]); err != nil {
					return err
				}
			}
			if m.Placement.MessageID != "" {
				if err := b.Put(key(m.Account, m.Mailbox, "mid:"+m.Placement.MessageID), vals[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
