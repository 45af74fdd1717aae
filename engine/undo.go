package engine

import (
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/undo"
)

// UndoAccounts returns the accounts of cfg as package undo needs them: each
// name, and which rule set watches which mailbox (a message moved back
// into a watched mailbox is recorded as placed there by that rule set).
func UndoAccounts(cfg *config.Config) []undo.Account {
	out := make([]undo.Account, 0, len(cfg.Accounts))
	for _, a := range cfg.Accounts {
		ua := undo.Account{Name: a.Name, Watches: map[string]string{}}
		for _, w := range a.Watch {
			if _, dup := ua.Watches[w.Mailbox]; !dup {
				ua.Watches[w.Mailbox] = w.Ruleset
			}
		}
		out = append(out, ua)
	}
	return out
}
