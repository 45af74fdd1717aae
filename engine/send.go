package engine

import (
	"log/slog"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/smtp"
	"github.com/mailwarden/mailwarden/engine/state"
)

// NewSender returns the sender of Sieve's redirects and vacation replies
// for cfg's smtp: section, or nil when there is none (then no script that
// sends compiles, except with `unsupported: skip`). Like NewDialer it is
// built once by the command and handed down; it does not connect.
func NewSender(cfg *config.Config, log *slog.Logger) actions.Sender {
	if cfg.SMTP == nil {
		return nil
	}
	return smtp.New(cfg.SMTP, &smtp.Options{Logger: log})
}

// sendLog is the store as the executor's SendLog: none for a dry run
// (which sends nothing) or without a store.
func sendLog(store *state.Store, dryRun bool) actions.SendLog {
	if store == nil || dryRun {
		return nil
	}
	return store
}
