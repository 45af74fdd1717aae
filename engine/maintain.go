package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/mailwarden/mailwarden/engine/state"
)

// PruneState removes journal entries and loop-protection placements older
// than retention (config journal_retention). Undo reaches back at most that
// far; crash recovery needs only the last minutes.
func PruneState(store *state.Store, retention time.Duration, now time.Time) (journal, placed int, err error) {
	before := now.Add(-retention)
	if journal, err = store.PruneJournal(before); err != nil {
		return journal, 0, err
	}
	placed, err = store.PrunePlaced(before)
	return journal, placed, err
}

// Maintain prunes the state at once and then every day until ctx is done,
// so a daemon that runs for years keeps a bounded state file.
func Maintain(ctx context.Context, store *state.Store, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		j, p, err := PruneState(store, retention, time.Now())
		if err != nil {
			log.Error("pruning the state file failed; will retry tomorrow", "err", err)
		} else if j+p > 0 {
			log.Info("pruned the state file", "journal_entries", j, "placements", p, "older_than", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
