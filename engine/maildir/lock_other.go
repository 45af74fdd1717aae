//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package maildir

import (
	"context"
	"os"
	"time"
)

// lock does nothing where flock(2) is missing: one writer per folder is
// then up to the caller (the scheduler never overlaps a job with itself).
func lock(ctx context.Context, _ *os.File, _ time.Duration) error { return ctx.Err() }
