package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Status is this replica's view of the cluster.
type Status struct {
	Name string `json:"name"`
	// Healthy: this replica holds a live session (lease kept alive).
	Healthy bool          `json:"healthy"`
	Since   time.Time     `json:"since,omitzero"` // the session's start
	Lease   string        `json:"lease,omitempty"`
	TTL     time.Duration `json:"ttl"`
	// Remaining is the lease's time to live as etcd says (0 when it
	// could not be asked).
	Remaining time.Duration `json:"remaining"`
	Members   []Member      `json:"members"`
	// Owners maps every configured account to its owner ("" when none
	// holds it now), as this replica last read them.
	Owners map[string]string `json:"owners"`
	// Owned are the accounts this replica runs.
	Owned         []string  `json:"owned"`
	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`
}

// Status returns this replica's view; it asks etcd for the lease's
// remaining time, bounded by ctx.
func (n *Node) Status(ctx context.Context) Status {
	n.mu.Lock()
	st := Status{Name: n.o.Name, TTL: n.o.TTL, Members: slices.Clone(n.members), Owners: map[string]string{},
		LastError: n.lastErr, LastErrorTime: n.lastErrT}
	for _, a := range n.accounts {
		st.Owners[a] = n.owners[a]
	}
	for a := range n.owned {
		st.Owned = append(st.Owned, a)
	}
	s := n.session
	if s != nil {
		st.Healthy, st.Since, st.Lease = true, n.since, fmt.Sprintf("%x", int64(s.Lease()))
	}
	n.mu.Unlock()
	slices.Sort(st.Owned)
	if s != nil {
		select {
		case <-s.Done():
			st.Healthy = false
		default:
		}
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		if r, err := n.client.TimeToLive(ctx, s.Lease()); err == nil && r.TTL > 0 {
			st.Remaining = time.Duration(r.TTL) * time.Second
		}
		cancel()
	}
	return st
}
