package smtp

import (
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/rules"
)

func testSender() *Sender {
	return New(&config.SMTP{Host: "127.0.0.1", Port: 25, From: "Bob <bob@example.org>"},
		&Options{Now: func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }})
}

// RFC 5230 §5: the reply's fields; a non-ASCII subject as encoded words
// (§4.3), the body quoted-printable.
func TestVacationMessage(t *testing.T) {
	b, err := testSender().vacationMessage(rules.Send{Kind: rules.SendVacation, To: "a@example.com", Reply: &rules.Reply{
		To: "Anna <a@example.com>", Subject: "Abwesend bis März", Body: "Zurück am Montag.\nGrüße",
		InReplyTo: "<m1@x>", References: "<m0@x> <m1@x>"}})
	if err != nil {
		t.Fatal(err)
	}
	msg := string(b)
	for _, want := range []string{
		"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n", "From: Bob <bob@example.org>\r\n", "To: Anna <a@example.com>\r\n",
		"Subject: =?utf-8?q?Abwesend_bis_M=C3=A4rz?=\r\n", "In-Reply-To: <m1@x>\r\n", "References: <m0@x> <m1@x>\r\n",
		"Auto-Submitted: auto-replied\r\n", "Content-Transfer-Encoding: quoted-printable\r\n", "\r\n\r\nZur=C3=BCck am Montag.\r\nGr=C3=BC=C3=9Fe\r\n",
		"Message-ID: <vacation.",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("reply lacks %q:\n%s", want, msg)
		}
	}
	// :mime: the reason is the entity; a value with a line break stays
	// one field.
	b, _ = testSender().vacationMessage(rules.Send{Kind: rules.SendVacation, To: "a@example.com", Reply: &rules.Reply{
		From: "Other <o@example.org>", To: "<a@example.com>", Subject: "x\r\nBcc: evil@example.com", MIME: true,
		Body: "Content-Type: text/plain; charset=us-ascii\n\nAway."}})
	msg = string(b)
	if strings.Contains(msg, "\r\nBcc:") || !strings.Contains(msg, "From: Other <o@example.org>\r\n") ||
		!strings.HasSuffix(msg, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nAway.") {
		t.Errorf(":mime reply:\n%s", msg)
	}
}

func TestRedirectMessage(t *testing.T) {
	got := string(redirectMessage(rules.Send{To: "c@example.net", Raw: []byte("Subject: s\r\n\r\nbody\r\n")}))
	if got != "X-Mailwarden-Redirected: <c@example.net>\r\nSubject: s\r\n\r\nbody\r\n" {
		t.Errorf("got %q", got)
	}
}
