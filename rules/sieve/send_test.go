package sieve

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

const sendMsg = "Return-Path: <alice@example.com>\r\n" +
	"Delivered-To: bob+lists@example.org\r\n" +
	"From: Alice <alice@example.com>\r\n" +
	"To: Bob <bob@example.org>\r\n" +
	"Subject: Lunch?\r\n" +
	"Message-ID: <m1@example.com>\r\n" +
	"References: <m0@example.com>\r\n" +
	"\r\n" +
	"Are you free?\r\n"

var sendNow = time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)

func sendOptions() *Options {
	return &Options{Submission: true, UserAddresses: []string{"bob@example.org"}, Now: func() time.Time { return sendNow }}
}

func sendMessage(extra string) *rules.Message {
	m := parseTestMessage([]byte(extra + sendMsg))
	m.Account, m.Mailbox, m.UID, m.UIDValidity = "acct", "INBOX", 7, 1
	m.InternalDate = sendNow.Add(-time.Hour)
	return m
}

func planOf(t *testing.T, src string, o *Options, m *rules.Message) (rules.Plan, *Result) {
	t.Helper()
	s, err := Compile("s.sieve", []byte(src), o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Execute(context.Background(), m)
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	var p rules.Plan
	res.ApplyTo(m, "s.sieve", false, &p)
	return p, res
}

// redirect (RFC 5228 §4.2, RFC 6785 §3.4): a send; without :copy the
// original goes to the Trash, with :copy (or a keep or fileinto) it stays.
func TestRedirectPlan(t *testing.T) {
	for _, tt := range []struct{ src, summary string }{
		{`redirect "carol@example.net";`, `move "\\Trash"; redirect to "carol@example.net"`},
		{`require "copy"; redirect :copy "carol@example.net";`, `redirect to "carol@example.net"`},
		{`redirect "carol@example.net"; keep;`, `redirect to "carol@example.net"`},
		{`require "fileinto"; redirect "carol@example.net"; fileinto "Sent-on";`, `move "Sent-on"; redirect to "carol@example.net"`},
		{`redirect "Carol <carol@example.net>"; redirect "carol@EXAMPLE.net";`, `move "\\Trash"; redirect to "carol@example.net"`},
	} {
		m := sendMessage("")
		m.SetRaw([]byte(sendMsg), false)
		p, _ := planOf(t, tt.src, sendOptions(), m)
		if got := p.Summary(); got != tt.summary {
			t.Errorf("%s:\n got %s\nwant %s", tt.src, got, tt.summary)
		}
		if len(p.Sends) != 1 || string(p.Sends[0].Raw) != sendMsg || p.Sends[0].Kind != rules.SendRedirect ||
			!strings.HasPrefix(p.Sends[0].Key, "redirect:") {
			t.Errorf("%s: sends %+v", tt.src, p.Sends)
		}
	}
	// A script with redirect needs the body; the key does not depend on
	// the UID when the message has a Message-ID.
	s, _ := Compile("s.sieve", []byte(`redirect "carol@example.net";`), sendOptions())
	if !s.NeedsBody() {
		t.Error("redirect does not need the body")
	}
	m1, m2 := sendMessage(""), sendMessage("")
	m2.UID, m2.Mailbox = 99, "Other"
	if redirectKey(m1, "carol@example.net") != redirectKey(m2, "carol@Example.NET") {
		t.Error("redirect key depends on where the message is")
	}
	// A message mailwarden redirected to the address before is kept.
	p, res := planOf(t, `redirect "carol@example.net";`, sendOptions(), sendMessage(RedirectedField+": carol@example.net\r\n"))
	if len(p.Sends) != 0 || !p.IsZero() || res.Actions[0].Declined == "" || !res.Actions[len(res.Actions)-1].Implicit {
		t.Errorf("loop: plan %s, actions %+v", p.Summary(), res.Actions)
	}
	// Return-Path: <> → the redirect has the null sender too.
	p, _ = planOf(t, `redirect "carol@example.net";`, sendOptions(), parseTestMessage([]byte("Return-Path: <>\r\nSubject: bounce\r\n\r\nx\r\n")))
	if len(p.Sends) != 1 || !p.Sends[0].NullSender {
		t.Errorf("null sender: %+v", p.Sends)
	}
	// More than MaxRedirects is a runtime error.
	s, _ = Compile("s.sieve", []byte(`redirect "a@x.example"; redirect "b@x.example"; redirect "c@x.example";`), &Options{Submission: true, MaxRedirects: 2})
	if _, err := s.Execute(context.Background(), sendMessage("")); err == nil || !strings.Contains(err.Error(), "more than 2 redirects") {
		t.Errorf("max redirects: %v", err)
	}
}

// vacation (RFC 5230): the reply and the rules for not replying.
func TestVacation(t *testing.T) {
	src := `require ["vacation", "variables"];
if header :matches "subject" "*" { set "s" "${1}"; }
vacation :days 3 :subject "Re: ${s}" :from "Bob <bob@example.org>" "Back Monday.";`
	p, res := planOf(t, src, sendOptions(), sendMessage(""))
	if len(p.Sends) != 1 {
		t.Fatalf("no send: %+v", res.Actions)
	}
	sd := p.Sends[0]
	r := sd.Reply
	if sd.Kind != rules.SendVacation || sd.To != "alice@example.com" || sd.Period != 3*24*time.Hour ||
		r.Subject != "Re: Lunch?" || r.From != "Bob <bob@example.org>" || r.To != "Alice <alice@example.com>" ||
		r.Body != "Back Monday." || r.InReplyTo != "<m1@example.com>" || r.References != "<m0@example.com> <m1@example.com>" {
		t.Errorf("send %+v reply %+v", sd, r)
	}
	if !res.Actions[len(res.Actions)-1].Implicit {
		t.Error("vacation cancelled the implicit keep (RFC 5230 §4.7)")
	}
	// The handle is made of the unexpanded arguments (RFC 5230 §4.2): the
	// same for every subject.
	m := sendMessage("")
	other := parseTestMessage([]byte(strings.Replace(sendMsg, "Lunch?", "Dinner?", 1)))
	other.Account = m.Account
	p3, _ := planOf(t, src, sendOptions(), other)
	if len(p3.Sends) != 1 || p3.Sends[0].Key != sd.Key {
		t.Errorf("handle depends on the expanded subject: %v", p3.Sends)
	}
	// Default subject, :seconds with the minimum period.
	p, _ = planOf(t, `require ["vacation", "vacation-seconds"]; vacation :seconds 60 "x";`, sendOptions(), sendMessage(""))
	if len(p.Sends) != 1 || p.Sends[0].Reply.Subject != "Auto: Lunch?" || p.Sends[0].Period != MinVacationPeriod {
		t.Errorf("defaults: %+v", p.Sends)
	}

	declined := []struct{ name, extra, want string }{
		{"list", "List-Id: <l.example.com>\r\n", "mailing list"},
		{"auto-submitted", "Auto-Submitted: auto-replied\r\n", "Auto-Submitted"},
		{"precedence", "Precedence: bulk\r\n", "Precedence: bulk"},
		{"null sender", "Return-Path: <>\r\n", "null"},
		{"own address", "Return-Path: <bob@example.org>\r\n", "own address"},
		{"system address", "Return-Path: <owner-list@example.com>\r\n", "system address"},
		{"mailer-daemon", "Return-Path: <MAILER-DAEMON@example.com>\r\n", "system address"},
	}
	for _, d := range declined {
		p, res := planOf(t, `require "vacation"; vacation "x";`, sendOptions(), sendMessage(d.extra))
		if len(p.Sends) != 0 || !strings.Contains(res.Actions[0].Declined, d.want) {
			t.Errorf("%s: sends %v, declined %q", d.name, p.Sends, res.Actions[0].Declined)
		}
	}
	// Not to one of the user's addresses unless :addresses names it.
	o := sendOptions()
	o.UserAddresses = []string{"robert@example.org"}
	if p, _ := planOf(t, `require "vacation"; vacation "x";`, o, sendMessage("")); len(p.Sends) != 0 {
		t.Error("replied to a message not sent to the user")
	}
	if p, _ := planOf(t, `require "vacation"; vacation :addresses "bob@example.org" "x";`, o, sendMessage("")); len(p.Sends) != 1 {
		t.Error(":addresses not honoured")
	}
	// No Return-Path: no reply.
	m = parseTestMessage([]byte(strings.Replace(sendMsg, "Return-Path: <alice@example.com>\r\n", "", 1)))
	if p, _ := planOf(t, `require "vacation"; vacation "x";`, sendOptions(), m); len(p.Sends) != 0 {
		t.Error("replied without a Return-Path")
	}
	// Old mail: no reply.
	m = sendMessage("")
	m.InternalDate = sendNow.Add(-8 * 24 * time.Hour)
	if p, _ := planOf(t, `require "vacation"; vacation "x";`, sendOptions(), m); len(p.Sends) != 0 {
		t.Error("replied to week-old mail")
	}
	// Twice in one execution is an error (RFC 5230 §4.7).
	s, _ := Compile("s.sieve", []byte(`require "vacation"; vacation "a"; vacation "b";`), sendOptions())
	if _, err := s.Execute(context.Background(), sendMessage("")); err == nil {
		t.Error("two vacations ran")
	}
}

// envelope (RFC 5228 §5.4) read from the header when the user opted in.
func TestEnvelopeFromHeaders(t *testing.T) {
	o := &Options{EnvelopeFromHeaders: true}
	for _, tt := range []struct {
		src   string
		extra string
		want  bool
	}{
		{`require "envelope"; if envelope :is "from" "alice@example.com" { discard; }`, "", true},
		{`require "envelope"; if envelope :domain :is "to" "example.org" { discard; }`, "", true},
		{`require ["envelope", "subaddress"]; if envelope :detail "to" "lists" { discard; }`, "", true},
		{`require "envelope"; if envelope :is "from" "" { discard; }`, "Return-Path: <>\r\n", true},
		{`require "envelope"; if envelope :localpart :is "from" "" { discard; }`, "Return-Path: <>\r\n", true},
		{`require "envelope"; if envelope :is "to" "x@example.org" { discard; }`, "X-Original-To: x@example.org\r\n", false},
	} {
		p, _ := planOf(t, tt.src, o, sendMessage(tt.extra))
		if got := len(p.Deliveries) == 1; got != tt.want {
			t.Errorf("%s (%q): matched %v", tt.src, tt.extra, got)
		}
	}
	// X-Original-To when there is no Delivered-To.
	m := parseTestMessage([]byte("X-Original-To: x@example.org\r\nSubject: s\r\n\r\nb\r\n"))
	if p, _ := planOf(t, `require "envelope"; if envelope :is "to" "x@example.org" { discard; }`, o, m); len(p.Deliveries) != 1 {
		t.Error("X-Original-To not read")
	}
}

// unsupported: skip — what cannot be carried out is skipped, listed, and
// never removes the message.
func TestSkipUnsupported(t *testing.T) {
	src := `require ["reject", "vacation", "envelope", "fileinto"];
if header :contains "subject" "lunch" { redirect "carol@example.net"; }
vacation "away";
reject "no";
if envelope :is "from" "x@example.com" { fileinto "X"; }
fileinto "After";
`
	o := &Options{SkipUnsupported: true}
	s, err := Compile("s.sieve", []byte(src), o)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sk := range s.Skips() {
		got = append(got, sk.String())
	}
	want := []string{
		"s.sieve:2: redirect skipped: no smtp: section to send with; the message is kept",
		"s.sieve:3: vacation skipped: no smtp: section to send with; no reply is sent",
		"s.sieve:4: reject skipped: mail handled here is already delivered and cannot be refused (RFC 6785 §3.11); the message is kept",
		"s.sieve:5: envelope skipped: there is no envelope after delivery (RFC 6785 §4.6); a message that reaches this test is kept unchanged",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("skips:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s.NeedsBody() {
		t.Error("a skipped redirect needs no body")
	}
	// The envelope test is reached: a runtime error marked Unsupported,
	// the message kept.
	_, err = s.Execute(context.Background(), sendMessage(""))
	var re *RuntimeError
	if !errors.As(err, &re) || !re.Skipped() {
		t.Errorf("envelope: %v", err)
	}
	// Without the envelope test the rest runs: the skipped actions are
	// in the plan's Skips, and the message moves only by fileinto.
	src2 := strings.Replace(src, `if envelope :is "from" "x@example.com" { fileinto "X"; }`, "", 1)
	s, err = Compile("s.sieve", []byte(src2), o)
	if err != nil {
		t.Fatal(err)
	}
	var p rules.Plan
	if _, err := s.Apply(context.Background(), sendMessage(""), &p); err != nil {
		t.Fatal(err)
	}
	if p.Summary() != `move "After"` || len(p.Skips) != 3 || len(p.Sends) != 0 {
		t.Errorf("plan %s, skips %v", p.Summary(), p.Skips)
	}
	// A redirect skipped alone keeps the message.
	s, _ = Compile("s.sieve", []byte(`redirect "carol@example.net";`), o)
	p = rules.Plan{}
	s.Apply(context.Background(), sendMessage(""), &p)
	if !p.IsZero() || len(p.Skips) != 1 || p.Skips[0].Action != `redirect to "carol@example.net" skipped: no smtp: section to send with; the message is kept` {
		t.Errorf("skipped redirect: %s %+v", p.Summary(), p.Skips)
	}
	// ihave reports what would be skipped as missing.
	s, err = Compile("s.sieve", []byte(`require ["ihave"]; if ihave "vacation" { vacation "x"; } else { keep; }`), o)
	if err != nil || len(s.Skips()) != 0 {
		t.Errorf("ihave: %v %v", err, s.Skips())
	}
}
