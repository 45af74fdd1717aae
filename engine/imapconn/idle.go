package imapconn

import (
	"context"
	"fmt"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Idle is a running IDLE command (RFC 2177, RFC 9051 §6.3.13). While it
// runs, the connection can send nothing else; new mail shows up as a signal
// on Client.Updates. Stop it before any other call.
type Idle struct {
	s       *Session
	cmd     *imapclient.IdleCommand
	stopCtx func() bool
	ctx     context.Context

	once sync.Once
	err  error
}

// Idle starts IDLE and returns once the server has accepted it. If ctx is
// done before Stop, the connection is closed (and Stop reports ctx.Err()).
// Without IDLE (and IMAP4rev2) it returns ErrNoIdle: poll with Noop.
//
// go-imap restarts IDLE every 28 minutes on its own; servers and NATs may
// drop idle connections sooner, so callers should Stop, Noop and Idle again
// every ~10 minutes.
func (s *Session) Idle(ctx context.Context) (*Idle, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if !s.c.caps.Has(imap.CapIdle) || s.c.noIdle {
		return nil, fmt.Errorf("idle: %w", ErrNoIdle)
	}
	select {
	case <-s.c.c.Closed():
		return nil, fmt.Errorf("idle: %w", ErrClosed)
	default:
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("idle: %w", err)
	}
	stop := context.AfterFunc(ctx, func() {
		s.c.log.Debug("imap: context done during IDLE; closing the connection")
		s.c.c.Close()
	})
	// The server's "+ idling" is an answer like any other: under the
	// watchdog.
	wd := s.c.watch()
	cmd, err := s.c.c.Idle()
	stalled := wd.stop()
	if err != nil {
		if !stop() {
			return nil, fmt.Errorf("idle: %w (connection closed: %v)", ctx.Err(), err)
		}
		if stalled {
			return nil, fmt.Errorf("idle: %w after %v; connection closed (%v)", ErrStalled, s.c.responseTimeout, err)
		}
		return nil, fmt.Errorf("idle: %w", err)
	}
	return &Idle{s: s, cmd: cmd, stopCtx: stop, ctx: ctx}, nil
}

// Stop sends DONE and waits for the server to end the IDLE command. It is
// idempotent. It returns promptly if the connection dies or the ctx given to
// Session.Idle is done.
func (i *Idle) Stop() error {
	i.once.Do(func() {
		// DONE, then the server's answer: under the watchdog, like
		// every command (a stalled server is noticed here).
		wd := i.s.c.watch()
		err := i.cmd.Close()
		if err == nil {
			err = i.cmd.Wait()
		}
		stalled := wd.stop()
		if !i.stopCtx() {
			i.err = fmt.Errorf("idle: %w (connection closed)", i.ctx.Err())
			return
		}
		if stalled && err != nil {
			i.err = fmt.Errorf("idle done: %w after %v; connection closed (%v)", ErrStalled, i.s.c.responseTimeout, err)
			return
		}
		if err != nil {
			i.err = fmt.Errorf("idle done: %w", err)
		}
	})
	return i.err
}
