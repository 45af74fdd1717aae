//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package maildir

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// lock takes an exclusive flock(2) on f, trying again every wait until ctx
// ends. Closing f releases it. flock locks belong to the open file, so two
// Writers in one process exclude each other as two processes do.
func lock(ctx context.Context, f *os.File, wait time.Duration) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
