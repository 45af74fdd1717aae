package sieveoracle

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	out := `
Performed actions:

 * store message in folder: INBOX
        + add IMAP flags: X \seen
 * store message in folder: Box
        + create mailbox if it does not exist
        + add IMAP flags: B
 * track duplicate
 * discard

Implicit keep:

 * store message in folder: INBOX
        + add IMAP flags: $Z
`
	got := strings.Join(Parse(out, false, "INBOX"), " | ")
	want := `keep flags="X \Seen" | fileinto "Box" create flags="B" | discard | keep flags="$Z"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := strings.Join(Parse("Performed actions:\n\n  (none)\n\nImplicit keep:\n\n  (none)\n", true, "INBOX"), " | "); got != "error | keep" {
		t.Errorf("failed run: %s", got)
	}
}

func TestFormatFlags(t *testing.T) {
	if got := FormatFlags([]string{"b", `\SEEN`, "a", "b"}); got != ` flags="\Seen a b"` {
		t.Errorf("got %s", got)
	}
	if FormatFlags(nil) != "" {
		t.Error("empty flags")
	}
}
