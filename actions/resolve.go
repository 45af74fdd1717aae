package actions

import (
	"context"
	"errors"
	"fmt"

	"github.com/mailwarden/mailwarden/rules"
)

// SpecialUser finds the mailbox that carries a special-use attribute. A
// Mailbox is one; so is a connection with no mailbox selected
// (imapconn.Client), since LIST needs no selection.
type SpecialUser interface {
	// SpecialUse returns the name of the mailbox carrying attr (`\Trash`,
	// RFC 6154), or an error wrapping ErrNoSpecialUse when none does.
	SpecialUse(ctx context.Context, attr string) (string, error)
}

// conventional names for special-use mailboxes on servers without
// SPECIAL-USE (RFC 6154 §2 lists the attributes, not names).
var conventional = map[string]string{
	rules.Trash:   "Trash",
	rules.Archive: "Archive",
	rules.Junk:    "Junk",
	rules.Sent:    "Sent",
	rules.Drafts:  "Drafts",
}

// ConventionalName returns the name a special-use mailbox (`\Trash`)
// conventionally has, for servers without SPECIAL-USE (RFC 6154); ok is
// false for an attribute without one.
func ConventionalName(attr string) (name string, ok bool) {
	name, ok = conventional[attr]
	return name, ok
}

// Resolve returns the mailbox a rule or job means by name: name itself, or,
// for a special-use attribute (`\Trash`, RFC 6154), the mailbox the server
// marks with it, else the attribute's conventional name ("Trash") on a
// server that marks none. This is the one place special-use names are
// resolved, for the Executor and the jobs alike.
func Resolve(ctx context.Context, su SpecialUser, name string) (string, error) {
	if !rules.IsSpecialUse(name) {
		return name, nil
	}
	n, err := su.SpecialUse(ctx, name)
	if errors.Is(err, ErrNoSpecialUse) {
		fallback, ok := conventional[name]
		if !ok {
			return "", fmt.Errorf("no mailbox has special-use attribute %s: %w", name, err)
		}
		return fallback, nil
	}
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", name, err)
	}
	return n, nil
}
