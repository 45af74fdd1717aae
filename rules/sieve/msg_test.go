package sieve

import (
	"os"
	"testing"

	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/rules"
)

// parseTestMessage builds a rules.Message from .eml bytes with the
// product's own lenient parser (engine/message), so the tests see headers
// exactly as the daemon does.
func parseTestMessage(raw []byte) *rules.Message {
	return message.Parse(raw, message.Meta{Mailbox: "INBOX"})
}

func loadTestMessage(t testing.TB, path string) *rules.Message {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseTestMessage(raw)
}
