package engine

import (
	"context"
	"sync"

	"github.com/mailwarden/mailwarden/engine/config"
)

// Budgets are the connection budgets of the servers (max_connections):
// one counting semaphore per host:port, shared by everything that dials
// through the dialer built with them — watchers, scheduled jobs, apply and
// undo run by the daemon. A connection takes a slot before it dials and
// gives it back when it is closed (by either side), so the daemon never
// holds more connections to a server than its budget, whatever runs.
//
// Budgets outlive a reload: `run` keeps one Budgets for its life and
// updates the limits (Set) from each config, so connections opened under
// the old config still count until they close.
type Budgets struct {
	mu    sync.Mutex
	slots map[string]*slots
}

// NewBudgets returns budgets with the limits of cfg (nil: none).
func NewBudgets(cfg *config.Config) *Budgets {
	b := &Budgets{slots: map[string]*slots{}}
	if cfg != nil {
		b.Set(cfg.Budgets())
	}
	return b
}

// Set replaces the limits: server (host:port) → most connections. A
// server not in limits has no budget (its connections are still counted).
func (b *Budgets) Set(limits map[string]int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, s := range b.slots {
		s.setLimit(limits[k])
	}
	for k, n := range limits {
		b.get(k).setLimit(n)
	}
}

// Limit is server's budget (0: none).
func (b *Budgets) Limit(server string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.get(server)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limit
}

// InUse is how many connections to server are open (or being opened).
func (b *Budgets) InUse(server string) int {
	b.mu.Lock()
	s := b.get(server)
	b.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// Acquire waits for a slot of server's budget, or for ctx. The returned
// release gives it back; call it exactly once.
func (b *Budgets) Acquire(ctx context.Context, server string) (release func(), err error) {
	b.mu.Lock()
	s := b.get(server)
	b.mu.Unlock()
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(s.release) }, nil
}

func (b *Budgets) get(server string) *slots {
	s := b.slots[server]
	if s == nil {
		s = &slots{wake: make(chan struct{})}
		b.slots[server] = s
	}
	return s
}

// slots is a counting semaphore whose limit can change.
type slots struct {
	mu    sync.Mutex
	limit int // 0: unlimited
	used  int
	wake  chan struct{} // closed and replaced on every release or limit change
}

func (s *slots) setLimit(n int) {
	s.mu.Lock()
	s.limit = n
	close(s.wake)
	s.wake = make(chan struct{})
	s.mu.Unlock()
}

func (s *slots) acquire(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.limit <= 0 || s.used < s.limit {
			s.used++
			s.mu.Unlock()
			return nil
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *slots) release() {
	s.mu.Lock()
	s.used--
	close(s.wake)
	s.wake = make(chan struct{})
	s.mu.Unlock()
}
