package watch

import (
	"sync"

	"github.com/mailwarden/mailwarden/engine/state"
)

// DryRunCheckpoints reads checkpoints from the store but keeps writes in
// memory, so a dry run moves through the mail like a real run without
// changing what the next real run will process.
type DryRunCheckpoints struct {
	Store Checkpoints

	mu      sync.Mutex
	overlay map[[2]string]state.Checkpoint
}

// Checkpoint returns the in-memory checkpoint if this dry run wrote one,
// else the stored one.
func (d *DryRunCheckpoints) Checkpoint(account, mailbox string) (state.Checkpoint, bool, error) {
	d.mu.Lock()
	cp, ok := d.overlay[[2]string{account, mailbox}]
	d.mu.Unlock()
	if ok {
		return cp, true, nil
	}
	return d.Store.Checkpoint(account, mailbox)
}

// SetCheckpoint records cp in memory only.
func (d *DryRunCheckpoints) SetCheckpoint(account, mailbox string, cp state.Checkpoint) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.overlay == nil {
		d.overlay = map[[2]string]state.Checkpoint{}
	}
	d.overlay[[2]string{account, mailbox}] = cp
	return nil
}
