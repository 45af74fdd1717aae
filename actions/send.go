package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

// Ops of sends, in Report.Ops and OnApplied entries (Target is the
// recipient).
const (
	OpRedirect Op = "redirect" // Sieve redirect submitted (RFC 5228 §4.2)
	OpVacation Op = "vacation" // vacation reply submitted (RFC 5230)
)

// DefaultSendPeriod is how long a redirect is remembered (so that it is
// never made twice) when Options.SendPeriod is zero.
const DefaultSendPeriod = 90 * 24 * time.Hour

// Sender submits messages by SMTP (RFC 6409). engine/smtp implements it.
type Sender interface {
	// Send submits s for message m: for a redirect, s.Raw to s.To; for a
	// vacation, the reply s.Reply builds. An error that wraps
	// ErrMaybeSent says the server may have accepted the message anyway
	// (the connection broke after the message was transmitted, before
	// the server's reply); any other error says it certainly did not.
	Send(ctx context.Context, m *rules.Message, s rules.Send) error
}

// ErrMaybeSent marks a Send whose outcome is unknown.
var ErrMaybeSent = errors.New("the submission server may have accepted the message")

// SendError is the Report.Failed error of a message left as it is
// because its redirect did not certainly go out. It is not a reason to
// retry the batch on a new IMAP connection: nothing is wrong there, and
// the send is not retried by itself (a later run may, after Release).
type SendError struct{ Err error }

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// SendState is what a SendLog knows of a key.
type SendState int

const (
	SendNew     SendState = iota // not seen within its period: claimed now
	SendPending                  // claimed before and never settled: maybe sent (a crash, or ErrMaybeSent)
	SendDone                     // sent within its period
)

// SendLog makes sends at most once: engine/state implements it, in the
// state file.
//
// Before a message is submitted its key is claimed durably (Claim); after
// the server accepted it the claim is settled (Done); when the server
// certainly did not take it the claim is dropped (Release) and a later run
// may try again. A claim found pending (the process died during the SMTP
// transaction, or the server's answer was lost) is never retried: the
// message may have gone out, and a redirect or an auto-reply sent twice
// is worse than one that is logged as in doubt. Keys expire after their
// period (vacation's :days, redirects' SendPeriod).
type SendLog interface {
	// Claim returns SendNew and records key as pending for period, or
	// returns what it holds for key (and records nothing).
	Claim(ctx context.Context, key string, period time.Duration) (SendState, error)
	// Done records key as sent for period.
	Done(ctx context.Context, key string, period time.Duration) error
	// Release forgets a claim whose send certainly failed.
	Release(ctx context.Context, key string) error
}

// sendAll submits the sends of every item, before any IMAP command (a
// message is removed only after its redirects were accepted). It returns,
// by UID, the messages whose redirect did not certainly go out: they are
// left exactly as they are (the implicit keep, RFC 5228 §2.10.6). A
// vacation reply that fails is logged and does not hold the message back:
// vacation does not touch the keep (RFC 5230 §4.7).
func (e *Executor) sendAll(ctx context.Context, items []Item, rep *Report, log *slog.Logger) map[uint32]error {
	var held map[uint32]error
	for i := range items {
		it := &items[i]
		for _, s := range it.Plan.Sends {
			err := e.send(ctx, it.Message, s, rep, log)
			if err == nil {
				continue
			}
			attrs := []any{"uid", it.Message.UID, "message_id", it.Message.MessageID(), "rule", s.Rule, "to", s.To, "err", err}
			if s.Kind == rules.SendVacation {
				log.Error("vacation reply not sent", attrs...)
				continue
			}
			log.Error("redirect not made; message left as it is", attrs...)
			if held == nil {
				held = map[uint32]error{}
			}
			if held[it.Message.UID] == nil {
				held[it.Message.UID] = &SendError{Err: err}
			}
		}
	}
	return held
}

// send submits one message at most once (see SendLog).
func (e *Executor) send(ctx context.Context, m *rules.Message, s rules.Send, rep *Report, log *slog.Logger) error {
	op := OpRedirect
	if s.Kind == rules.SendVacation {
		op = OpVacation
	}
	attrs := []any{"uid", m.UID, "message_id", m.MessageID(), "rule", s.Rule, "to", s.To}
	if e.opts.DryRun {
		rep.Ops[op]++
		log.Info("dry run: would send "+s.Kind, attrs...)
		return nil
	}
	if e.opts.Sender == nil {
		return errors.New("no smtp: section to send with")
	}
	period := s.Period
	if period <= 0 {
		period = e.opts.SendPeriod
	}
	if period <= 0 {
		period = DefaultSendPeriod
	}
	if sl := e.opts.SendLog; sl != nil {
		state, err := sl.Claim(ctx, s.Key, period)
		if err != nil {
			return fmt.Errorf("record %s before sending: %w", s.Kind, err)
		}
		switch state {
		case SendDone:
			if op == OpVacation {
				log.Info("vacation: already answered within the period; no reply", attrs...)
			} else {
				log.Info("redirect made before; not sent again", attrs...)
			}
			return nil
		case SendPending:
			log.Warn(s.Kind+" may have been sent before (interrupted); not sent again", attrs...)
			if op == OpVacation {
				return nil
			}
			return fmt.Errorf("%s to %s: %w (interrupted earlier); not sent again", s.Kind, s.To, ErrMaybeSent)
		}
	}
	err := e.opts.Sender.Send(ctx, m, s)
	switch {
	case err == nil:
		if sl := e.opts.SendLog; sl != nil {
			if err := sl.Done(ctx, s.Key, period); err != nil {
				// Sent: the pending claim stays, which also prevents a
				// second send.
				log.Warn("sent, but could not record it", append(attrs, "err", err)...)
			}
		}
	case errors.Is(err, ErrMaybeSent):
		// The claim stays pending: never retried.
		return err
	default:
		if sl := e.opts.SendLog; sl != nil {
			if rerr := sl.Release(ctx, s.Key); rerr != nil {
				log.Warn("could not release the claim of a failed send; it will not be retried", append(attrs, "err", rerr)...)
			}
		}
		return err
	}
	rep.Ops[op]++
	log.Info("sent "+s.Kind, attrs...)
	if e.opts.OnApplied != nil {
		e.opts.OnApplied([]Entry{{Account: e.opts.Account, Mailbox: m.Mailbox, UIDValidity: m.UIDValidity, UID: m.UID,
			MessageID: m.MessageID(), Rule: s.Rule, Op: op, Target: s.To, Time: e.opts.Now()}})
	}
	return nil
}
