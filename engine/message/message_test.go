package message

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/rules/exprrule"
	"github.com/mailwarden/mailwarden/rules/sieve"
)

func fld(name, raw, value string) rules.Field {
	return rules.Field{Name: name, Raw: raw, Value: value}
}

func TestParseHeaderTable(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []rules.Field // Name, Raw, Value
		date string        // RFC 3339 of m.Date, "" for zero
	}{
		{
			name: "plain CRLF",
			raw:  "From: a@example.com\r\nSubject: Hello\r\n\r\nbody\r\n",
			want: []rules.Field{fld("From", "a@example.com", "a@example.com"), fld("Subject", "Hello", "Hello")},
		},
		{
			name: "LF and folding",
			raw:  "Subject: one\n two\n\tthree\nX: y\n\nbody: not a header\n",
			want: []rules.Field{fld("Subject", "one two three", "one two three"), fld("X", "y", "y")},
		},
		{
			// Mailman's List-Id, git-send-email and Outlook fold with
			// CRLF TAB; Pigeonhole and mail clients read a space.
			name: "fold with TAB reads as a space",
			raw:  "Subject: a\r\n\tb\r\nList-Id: Dev list\r\n\t<dev.lists.example.org>\r\n\r\n",
			want: []rules.Field{fld("Subject", "a b", "a b"), fld("List-Id", "Dev list <dev.lists.example.org>", "Dev list <dev.lists.example.org>")},
		},
		{
			// Only the character that marks the fold changes; white space
			// after it, and tabs inside a line, stay (as in Pigeonhole).
			name: "white space after the fold and inside a line kept",
			raw:  "X-Two: a\r\n \tb\r\nX-Three: a\r\n\t\tb\r\nX-Tab: a\tb\r\nX-Trail: a \r\n b\r\n\r\n",
			want: []rules.Field{fld("X-Two", "a \tb", "a \tb"), fld("X-Three", "a \tb", "a \tb"), fld("X-Tab", "a\tb", "a\tb"), fld("X-Trail", "a  b", "a  b")},
		},
		{
			name: "no blank line is all header",
			raw:  "Subject: a\r\nTo: b@example.org",
			want: []rules.Field{fld("Subject", "a", "a"), fld("To", "b@example.org", "b@example.org")},
		},
		{
			name: "junk lines skipped with their continuations",
			raw:  "From nobody Mon Jan  1 00:00:00 2024\nthis line has no colon\n  continued junk\nBad Name: x\nSubject: ok\n\n",
			want: []rules.Field{fld("Subject", "ok", "ok")},
		},
		{
			name: "leading continuation ignored, space before colon accepted",
			raw:  "  orphan\nSubject : spaced\n\n",
			want: []rules.Field{fld("Subject", "spaced", "spaced")},
		},
		{
			name: "empty value and colon in value",
			raw:  "X-Empty:\nX-Time: 12:30:00\n\n",
			want: []rules.Field{fld("X-Empty", "", ""), fld("X-Time", "12:30:00", "12:30:00")},
		},
		{
			name: "utf-8 raw header kept (RFC 6532)",
			raw:  "Subject: Grüße aus Köln\n\n",
			want: []rules.Field{fld("Subject", "Grüße aus Köln", "Grüße aus Köln")},
		},
		{
			name: "latin-1 junk decoded with declared charset",
			raw:  "Content-Type: text/plain; charset=iso-8859-1\nSubject: caf\xe9\n\n",
			want: []rules.Field{fld("Content-Type", "text/plain; charset=iso-8859-1", "text/plain; charset=iso-8859-1"), fld("Subject", "café", "café")},
		},
		{
			name: "junk without charset is read as Windows-1252",
			raw:  "Content-Type: text/plain; charset=unknown-8bit\nSubject: caf\xe9 \x93quoted\x94\n\n",
			want: []rules.Field{fld("Content-Type", "text/plain; charset=unknown-8bit", "text/plain; charset=unknown-8bit"), fld("Subject", "café “quoted”", "café “quoted”")},
		},
		{
			name: "encoded words",
			raw: "Subject: =?UTF-8?B?w6ljb2xl?= =?UTF-8?Q?_caf=C3=A9?=\n" +
				"X-Latin: =?iso-8859-1?q?Andr=E9?= Pirard\n" +
				"X-Koi: =?koi8-r?B?8NLJ18XU?=\n" +
				"X-SJIS: =?Shift_JIS?B?k/qWe4zq?=\n\n",
			want: []rules.Field{
				fld("Subject", "=?UTF-8?B?w6ljb2xl?= =?UTF-8?Q?_caf=C3=A9?=", "école café"),
				fld("X-Latin", "=?iso-8859-1?q?Andr=E9?= Pirard", "André Pirard"),
				fld("X-Koi", "=?koi8-r?B?8NLJ18XU?=", "Привет"),
				fld("X-SJIS", "=?Shift_JIS?B?k/qWe4zq?=", "日本語"),
			},
		},
		{
			name: "multibyte char split across words",
			// "日本" in UTF-8 is e6 97 a5 e6 9c ac; split after 4 bytes.
			raw:  "Subject: =?utf-8?B?5pel5g==?= =?utf-8?B?nKw=?=\n\n",
			want: []rules.Field{fld("Subject", "=?utf-8?B?5pel5g==?= =?utf-8?B?nKw=?=", "日本")},
		},
		{
			name: "broken encoded words kept raw",
			raw:  "Subject: =?utf-8?B?not*base64?= and =?x-unknown?q?abc?= and =?utf-8?q?ok?=\n\n",
			want: []rules.Field{fld("Subject", "=?utf-8?B?not*base64?= and =?x-unknown?q?abc?= and =?utf-8?q?ok?=",
				"=?utf-8?B?not*base64?= and =?x-unknown?q?abc?= and ok")},
		},
		{
			name: "unterminated encoded word",
			raw:  "Subject: =?utf-8?q?abc\n\n",
			want: []rules.Field{fld("Subject", "=?utf-8?q?abc", "=?utf-8?q?abc")},
		},
		{
			name: "date without zone",
			raw:  "Date: Mon, 3 Jun 2024 09:15:00\n\n",
			want: []rules.Field{fld("Date", "Mon, 3 Jun 2024 09:15:00", "Mon, 3 Jun 2024 09:15:00")},
			date: "2024-06-03T09:15:00Z",
		},
		{
			name: "garbage date",
			raw:  "Date: yesterday-ish\n\n",
			want: []rules.Field{fld("Date", "yesterday-ish", "yesterday-ish")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Parse([]byte(tt.raw), Meta{})
			got := m.Header.Fields()
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("fields:\n got %q\nwant %q", got, tt.want)
			}
			var d string
			if !m.Date.IsZero() {
				d = m.Date.Format(time.RFC3339)
			}
			if d != tt.date {
				t.Errorf("date = %q, want %q", d, tt.date)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Mon, 02 Jan 2006 15:04:05 -0700", "2006-01-02T15:04:05-07:00"},
		{"2 Jan 2006 15:04:05 +0100", "2006-01-02T15:04:05+01:00"},
		{"Mon, 2 Jan 2006 15:04 -0700", "2006-01-02T15:04:00-07:00"},
		{"Mon, 2 Jan 2006 15:04:05", "2006-01-02T15:04:05Z"},
		{"Mon, 2 Jan 2006 15:04:05 GMT", "2006-01-02T15:04:05Z"},
		{"Mon, 2 Jan 2006 15:04:05 PST", "2006-01-02T15:04:05-08:00"},
		{"Mon, 2 Jan 2006 15:04:05 -0800 (PST)", "2006-01-02T15:04:05-08:00"},
		{"Mon, 2 Jan 2006 15:04:05 +0100 (CET) trailing", "2006-01-02T15:04:05+01:00"},
		{"Tue, 2 Jan 06 15:04:05 +0000", "2006-01-02T15:04:05Z"},
		{"2 Jan 99 1:04:05 EST", "1999-01-02T01:04:05-05:00"},
		{"Mon Jan  2 15:04:05 2006", "2006-01-02T15:04:05Z"},
		{"Mon Jan 2 15:04:05 MST 2006", "2006-01-02T15:04:05-07:00"},
		{"2006-01-02T15:04:05Z", "2006-01-02T15:04:05Z"},
		{"2006-01-02 15:04:05 +02:00", "2006-01-02T15:04:05+02:00"},
		{"Monday, 2 January 2006 15:04:05 +0100", "2006-01-02T15:04:05+01:00"},
		{"02 Jan 2006 15:04:60 +0000", "2006-01-02T15:04:59Z"},
		{"Mon, 2 Jan 2006 15:04:05 GMT+0100", "2006-01-02T15:04:05+01:00"},
		{"Mon, 2 Jan 2006", "2006-01-02T00:00:00Z"},
		{"", ""},
		{"Mon, 31 Feb 2006 15:04:05 +0000", ""},
		{"Mon, 2 Jan 2006 25:04:05 +0000", ""},
		{"not a date", ""},
		{"Mon, 2 Foo 2006 15:04:05", ""},
	}
	for _, tt := range tests {
		got := ""
		if tm, ok := ParseDate(tt.in); ok {
			got = tm.Format(time.RFC3339)
		}
		if got != tt.want {
			t.Errorf("ParseDate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseMeta(t *testing.T) {
	raw := []byte("From: \"=?utf-8?q?J=C3=BCrgen?=\" <j@example.com>, not an address, b@example.org\r\nMessage-ID: <abc@example.com>\r\n\r\nhello")
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	m := Parse(raw, Meta{Account: "a", Mailbox: "INBOX", UID: 7, Flags: []string{`\seen`, "vip"}, InternalDate: when})
	if m.Account != "a" || m.Mailbox != "INBOX" || m.UID != 7 || !m.InternalDate.Equal(when) {
		t.Errorf("meta not copied: %+v", m)
	}
	if m.Size != int64(len(raw)) {
		t.Errorf("Size = %d, want %d", m.Size, len(raw))
	}
	if !reflect.DeepEqual(m.Flags, []string{`\Seen`, "vip"}) {
		t.Errorf("Flags = %q", m.Flags)
	}
	if m.MessageID() != "abc@example.com" {
		t.Errorf("MessageID = %q", m.MessageID())
	}
	got := m.Addresses("from")
	want := []rules.Address{{Name: "Jürgen", Address: "j@example.com"}, {Address: "b@example.org"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("From = %q, want %q", got, want)
	}
	if b, err := m.Raw(); err != nil || string(b) != string(raw) {
		t.Errorf("Raw = %q, %v", b, err)
	}
	h := Parse(raw, Meta{HeaderOnly: true, Size: 1000})
	if _, err := h.Raw(); err != rules.ErrBodyNotFetched || h.Size != 1000 {
		t.Errorf("header-only: err=%v size=%d", err, h.Size)
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.eml")
	if err := os.WriteFile(p, []byte("Subject: hi\n\nbody\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
	m, err := ParseFile(p, Meta{Mailbox: "INBOX"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject() != "hi" || !m.InternalDate.Equal(mt) || m.Size != 18 {
		t.Errorf("got subject %q date %v size %d", m.Subject(), m.InternalDate, m.Size)
	}
	if _, err := ParseFile(filepath.Join(dir, "missing.eml"), Meta{}); err == nil {
		t.Error("missing file: no error")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("From: a@example.com\r\nSubject: =?utf-8?B?w6k=?=\r\nDate: Mon, 2 Jan 2006 15:04:05 -0700\r\n\r\nbody"))
	f.Add([]byte("Subject: =?Shift_JIS?B?k/qWe4zq?= =?koi8-r?q?=F0?=\n  cont\nbad line\n\n"))
	f.Add([]byte("Date: 2006-01-02T15:04:05+01:00\nTo: undisclosed-recipients:;\n"))
	f.Add([]byte("Content-Type: text/plain; charset=shift_jis\nSubject: \x93\xfa\n\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := Parse(raw, Meta{})
		for _, fl := range m.Header.Fields() {
			if !utf8.ValidString(fl.Value) || !utf8.ValidString(fl.Raw) {
				t.Fatalf("invalid UTF-8 in %q", fl)
			}
			if strings.ContainsAny(fl.Name, " \t\r\n:") {
				t.Fatalf("bad field name %q", fl.Name)
			}
		}
		_ = m.Addresses("From")
		_ = m.Subject()
	})
}

func FuzzParseDate(f *testing.F) {
	f.Add("Mon, 2 Jan 2006 15:04:05 -0700 (MST)")
	f.Add("2006-01-02T15:04:05Z")
	f.Add("Mon Jan  2 15:04:05 MST 2006")
	f.Fuzz(func(t *testing.T, s string) {
		ParseDate(s)
	})
}

var benchMsg = []byte("Return-Path: <list-bounces@example.org>\r\n" +
	"Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n\tby mail.example.com with ESMTPS id abc123\r\n\tfor <user@example.com>; Mon, 3 Jun 2024 09:15:00 +0200\r\n" +
	"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.org>\r\n" +
	"To: golang-nuts@example.org\r\n" +
	"Subject: =?utf-8?B?UmU6IFtnb2xhbmctbnV0c10gZ2VuZXJpY3MgYW5kIGl0ZXJhdG9ycyDwn5qA?=\r\n" +
	"Date: Mon, 3 Jun 2024 09:14:58 +0200\r\n" +
	"Message-ID: <20240603071458.12345@example.org>\r\n" +
	"List-Id: Go Nuts <golang-nuts.example.org>\r\n" +
	"List-Unsubscribe: <mailto:golang-nuts+unsubscribe@example.org>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" + strings.Repeat("Some body text that is not parsed.\r\n", 50))

func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	for b.Loop() {
		Parse(benchMsg, Meta{Mailbox: "INBOX"})
	}
}

// TestFoldedFieldsReadAlikeInSieveAndExpr checks that a field folded with
// CRLF TAB reads the same, with a space for the fold, in a Sieve test and
// in an expr rule (both read the Field this package builds).
func TestFoldedFieldsReadAlikeInSieveAndExpr(t *testing.T) {
	raw := []byte("From: alice@example.org\r\nSubject: a\r\n\tb\r\n" +
		"List-Id: Mailwarden development\r\n\t<dev.lists.example.org>\r\n\r\nbody\r\n")
	m := Parse(raw, Meta{Mailbox: "INBOX"})

	script, err := sieve.Compile("t.sieve", []byte(`require "fileinto";
if allof (header :is "subject" "a b",
          header :is "list-id" "Mailwarden development <dev.lists.example.org>") {
  fileinto "Lists";
}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := script.Execute(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Actions) != 1 || res.Actions[0].Type != "fileinto" || res.Actions[0].Mailbox != "Lists" {
		t.Errorf("sieve: %+v, want one fileinto \"Lists\"", res.Actions)
	}

	for _, when := range []string{
		`subject == "a b"`,
		`header("List-Id") == "Mailwarden development <dev.lists.example.org>"`,
		`list_id == "dev.lists.example.org"`,
	} {
		r, errs := exprrule.Compile(exprrule.Spec{Name: "t", When: when, Stop: true}, nil)
		if errs != nil {
			t.Fatal(errs)
		}
		if ok, err := r.Match(m); !ok || err != nil {
			t.Errorf("expr %s = %v, %v; want true", when, ok, err)
		}
	}
}
