package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message"
)

// small keeps attachments at 2 KiB: the tests check structure and
// decisions, not sizes (TestSizes does), and must stay fast under -race.
func small(o Options) *Options {
	o.MaxAttachment = 2 << 10
	return &o
}

// sample is a 1200-message corpus shared by the tests.
var sample = sync.OnceValue(func() []*Message { return New(small(Options{N: 1200})).All() })

// broken is a corpus where every third message is malformed.
var broken = sync.OnceValue(func() []*Message { return New(small(Options{N: 600, MalformedRate: 0.3, Seed: 3})).All() })

func TestSizes(t *testing.T) {
	msgs := New(&Options{N: 150}).All()
	var total, hdrs, attach int
	for _, m := range msgs {
		total += len(m.Raw)
		hdrs += len(head(m.Raw))
		if m.Meta.Attachments > 0 {
			attach++
		}
	}
	n := len(msgs)
	t.Logf("%d messages: %d bytes on average, header %d; %d with attachments", n, total/n, hdrs/n, attach)
	if hdrs/n < 2500 || total/n < 10000 || attach < n/20 {
		t.Errorf("average size %d, header %d, %d with attachments: not a realistic mailbox", total/n, hdrs/n, attach)
	}
}

func TestDeterministic(t *testing.T) {
	o := small(Options{N: 150, Seed: 7})
	a, b := New(o).All(), New(o).All()
	for i := range a {
		if !bytes.Equal(a[i].Raw, b[i].Raw) || !a[i].Internal.Equal(b[i].Internal) || fmt.Sprint(a[i].Flags) != fmt.Sprint(b[i].Flags) {
			t.Fatalf("message %d differs between two generations with the same options", i)
		}
		if i%10 == 0 {
			if m := New(o).Message(i); !bytes.Equal(m.Raw, a[i].Raw) {
				t.Fatalf("Message(%d) differs from All()[%d]", i, i)
			}
		}
	}
	other := New(small(Options{N: 150, Seed: 8})).All()
	same := 0
	for i := range a {
		if bytes.Equal(a[i].Raw, other[i].Raw) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 7 and 8 share %d identical messages", same)
	}
}

func TestWellFormedBytes(t *testing.T) {
	for _, m := range sample() {
		// CRLF only: then RFC822.SIZE == len(Raw) and the Maildir W= is right.
		if n := bytes.Count(m.Raw, []byte("\n")); n != bytes.Count(m.Raw, []byte("\r\n")) || n != bytes.Count(m.Raw, []byte("\r")) {
			t.Fatalf("message %d (%s): bare CR or LF", m.Index, m.Meta.Category)
		}
		if !bytes.Contains(m.Raw, []byte("\r\n\r\n")) {
			t.Fatalf("message %d has no header/body separator", m.Index)
		}
	}
}

func TestInternalDates(t *testing.T) {
	o := New(&Options{N: 1200}).Options()
	cut := o.Now.Add(-OldAge)
	var prev time.Time
	for i, m := range sample() {
		if !m.Internal.After(prev) {
			t.Fatalf("internal dates not increasing at %d: %v after %v", i, m.Internal, prev)
		}
		prev = m.Internal
		if m.Internal.Before(o.Now.Add(-o.Span)) || !m.Internal.Before(o.Now) {
			t.Fatalf("message %d: internal date %v outside the span before %v", i, m.Internal, o.Now)
		}
		if d := m.Internal.Sub(cut); d > -guardBand && d < guardBand {
			t.Fatalf("message %d: internal date %v within the guard band of the cut-off %v", i, m.Internal, cut)
		}
	}
}

// TestParsesWithNetMail: every message that is not meant to be malformed
// reads cleanly with net/mail (header, Date, From, Subject) and its MIME
// structure with go-message, and says what Meta says.
func TestParsesWithNetMail(t *testing.T) {
	ap := &mail.AddressParser{WordDecoder: wordDecoder}
	checked := 0
	for _, m := range sample() {
		if m.Meta.Malformed != "" {
			continue
		}
		checked++
		msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
		if err != nil {
			t.Fatalf("message %d (%s): net/mail: %v", m.Index, m.Meta.Category, err)
		}
		if _, err := msg.Header.Date(); err != nil {
			t.Errorf("message %d: Date %q: %v", m.Index, msg.Header.Get("Date"), err)
		}
		from, err := ap.ParseList(msg.Header.Get("From"))
		if err != nil || len(from) != 1 || from[0].Address != m.Meta.From {
			t.Errorf("message %d: From %q parses to %v, %v; want %s", m.Index, msg.Header.Get("From"), from, err, m.Meta.From)
		}
		subj, err := wordDecoder.DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || subj != m.Meta.Subject {
			t.Errorf("message %d: Subject %q decodes to %q, %v; want %q", m.Index, msg.Header.Get("Subject"), subj, err, m.Meta.Subject)
		}
		if err := walkMIME(m.Raw); err != nil {
			t.Errorf("message %d (%s): MIME: %v", m.Index, m.Meta.Category, err)
		}
	}
	if checked < 1100 {
		t.Fatalf("only %d well-formed messages checked", checked)
	}
}

// walkMIME reads every part of the message with go-message, decoding
// transfer encodings and charsets.
func walkMIME(raw []byte) error {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return walk(e)
}

func walk(e *message.Entity) error {
	if mr := e.MultipartReader(); mr != nil {
		n := 0
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			n++
			if err := walk(p); err != nil {
				return err
			}
		}
		if n == 0 {
			return errors.New("multipart without parts")
		}
		return nil
	}
	if mt, _, _ := e.Header.ContentType(); strings.HasPrefix(mt, "multipart/") {
		return errors.New("multipart without a usable boundary")
	}
	_, err := io.Copy(io.Discard, e.Body)
	return err
}

func TestMalformedShare(t *testing.T) {
	c := New(&Options{N: 100000})
	n := 0
	for i := range c.N() {
		if c.Malformed(i) {
			n++
		}
	}
	if share := float64(n) / float64(c.N()); share < 0.009 || share > 0.011 {
		t.Fatalf("malformed share %.4f, want about 0.01", share)
	}
	if n0 := New(&Options{N: 1000, MalformedRate: -1}); countMalformed(n0) != 0 {
		t.Fatal("MalformedRate < 0 still makes malformed messages")
	}
}

func countMalformed(c *Corpus) int {
	n := 0
	for i := range c.N() {
		if c.Malformed(i) {
			n++
		}
	}
	return n
}

// TestMalformedKinds: each kind really is the defect it claims (a strict
// reader notices it), every kind occurs, and Meta still describes what a
// lenient reader finds in the rules' fields (TestDecideAgreesWithExpect).
func TestMalformedKinds(t *testing.T) {
	seen := map[string]int{}
	for _, m := range broken() {
		k := m.Meta.Malformed
		if k == "" {
			continue
		}
		seen[k]++
		if !defective(k, m.Raw) {
			t.Errorf("message %d: %s, but a strict reader finds nothing wrong:\n%s", m.Index, k, head(m.Raw))
		}
	}
	for _, k := range MalformedKinds {
		if seen[k] == 0 {
			t.Errorf("kind %s never generated (%v)", k, seen)
		}
	}
}

func head(raw []byte) string {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i > 0 {
		return string(raw[:i])
	}
	return string(raw)
}

func defective(kind string, raw []byte) bool {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if kind == "no-colon" {
		return err != nil
	}
	if err != nil {
		return false
	}
	hdr := []byte(head(raw))
	switch kind {
	case "bad-date":
		_, err := msg.Header.Date()
		return err != nil
	case "missing-date":
		return msg.Header.Get("Date") == ""
	case "bad-encoded-word":
		d, err := wordDecoder.DecodeHeader(msg.Header.Get("Subject"))
		return err != nil || strings.Contains(d, "=?")
	case "8bit-subject", "8bit-from":
		name := "Subject"
		if kind == "8bit-from" {
			name = "From"
		}
		return !isASCII(msg.Header.Get(name))
	case "missing-from":
		l, err := mail.ParseAddressList(msg.Header.Get("From"))
		return err != nil || len(l) == 0
	case "broken-boundary", "truncated":
		return walkMIME(raw) != nil
	case "long-line":
		for _, l := range bytes.Split(hdr, []byte("\r\n")) {
			if len(l) > 998 {
				return true
			}
		}
	case "8bit-body":
		return !isASCII(string(raw[len(hdr):]))
	}
	return false
}

// TestDecideAgreesWithExpect: the rule set, applied to what a lenient
// reader finds in each message's bytes, puts every message where Expect
// (computed from Meta alone) says it must go.
func TestDecideAgreesWithExpect(t *testing.T) {
	for _, msgs := range [][]*Message{sample(), broken()} {
		now := New(nil).Options().Now
		exp := Expect(msgs, now)
		for i, m := range msgs {
			h := ReadHeader(m.Raw)
			mb, flags := Reference.Decide(h.Get, m.Internal, now)
			flagged := m.Meta.Flagged || len(flags) > 0
			if mb != exp.Mailbox[i] || flagged != exp.Flagged[i] {
				t.Errorf("message %d (%s, malformed %q): rules say %s flagged=%v, Expect says %s flagged=%v\n%s",
					i, m.Meta.Category, m.Meta.Malformed, mb, flagged, exp.Mailbox[i], exp.Flagged[i], head(m.Raw))
			}
		}
	}
}

// TestExpectSanity: the 2000-message sample exercises every rule and the
// precedence cases the rule set has to get right.
func TestExpectSanity(t *testing.T) {
	msgs := sample()
	now := New(nil).Options().Now
	e := Expect(msgs, now)
	t.Logf("expectation for %d messages:\n%s", len(msgs), e)
	for _, d := range Reference.Destinations() {
		if e.Count[d] == 0 {
			t.Errorf("no message goes to %s", d)
		}
	}
	if len(Reference) != 13 || len(Reference.Destinations()) != 11 {
		t.Errorf("reference rule set has %d rules and %d destinations, want 13 and 11", len(Reference), len(Reference.Destinations()))
	}
	total, spam := 0, 0
	cases := map[string]int{}
	for i, m := range msgs {
		total++
		if m.Meta.Spam {
			spam++
		}
		mb := e.Mailbox[i]
		switch {
		case m.Meta.VIP && mb != "INBOX" && e.Flagged[i]:
			cases["vip moved and flagged"]++
		case m.Meta.Spam && m.Meta.Invoice:
			cases["spam invoice in Junk"]++
		case m.Meta.List != "" && m.Meta.Invoice && strings.HasPrefix(mb, "Lists/"):
			cases["list invoice in list folder"]++
		case m.Meta.List != "" && mb == "INBOX":
			cases["list not in rules stays"]++
		case m.Meta.Bulk && mb == "INBOX":
			cases["recent bulk stays"]++
		case m.Meta.Bulk && m.Meta.Invoice && mb == "Finance":
			cases["bulk invoice in Finance"]++
		case m.Meta.List != "" && m.Meta.Bulk && now.Sub(m.Internal) > OldAge && strings.HasPrefix(mb, "Lists/"):
			cases["old bulk list mail in list folder"]++
		}
	}
	for _, c := range []string{"vip moved and flagged", "spam invoice in Junk", "list invoice in list folder", "list not in rules stays", "recent bulk stays", "bulk invoice in Finance", "old bulk list mail in list folder"} {
		if cases[c] == 0 {
			t.Errorf("no message for the case %q (%v)", c, cases)
		}
	}
	if e.Count["Junk"] != spam {
		t.Errorf("Junk %d, spam %d", e.Count["Junk"], spam)
	}
	if s := float64(spam) / float64(total); s < 0.04 || s > 0.12 {
		t.Errorf("spam share %.3f", s)
	}
	if e.Moves() < total/3 || e.Count["INBOX"] < total/4 {
		t.Errorf("%d of %d moved, %d stay: not a realistic mix", e.Moves(), total, e.Count["INBOX"])
	}
}

func TestMaildir(t *testing.T) {
	msgs := sample()[:50]
	dir := filepath.Join(t.TempDir(), "Maildir")
	if err := WriteMaildir(dir, msgs, -1, -1); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "cur"))
	if err != nil || len(ents) != len(msgs) {
		t.Fatalf("cur has %d entries (%v), want %d", len(ents), err, len(msgs))
	}
	for _, m := range msgs {
		p := filepath.Join(dir, "cur", MaildirName(m))
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		if !bytes.Equal(b, bytes.ReplaceAll(m.Raw, []byte("\r\n"), []byte("\n"))) {
			t.Fatalf("%s: content differs", p)
		}
		if !fi.ModTime().Equal(m.Internal) {
			t.Errorf("%s: mtime %v, want internal date %v", p, fi.ModTime(), m.Internal)
		}
		var s, w int
		var rest string
		name := MaildirName(m)
		fmt.Sscanf(name[strings.Index(name, ",S="):], ",S=%d,W=%d:%s", &s, &w, &rest)
		if s != int(fi.Size()) || w != len(m.Raw) {
			t.Errorf("%s: S=%d W=%d, file %d bytes, message %d", name, s, w, fi.Size(), len(m.Raw))
		}
		if strings.Contains(rest, "F") != m.Meta.Flagged {
			t.Errorf("%s: flags %q, Flagged %v", name, rest, m.Meta.Flagged)
		}
	}
}

func TestReadHeader(t *testing.T) {
	raw := "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= and\r\n =?koi8-r?b?8NLJ18XU?=\r\nList-Id: Dovecot\r\n\t<dovecot.dovecot.org>\r\nno colon here\r\nX Bad: y\r\nSubject: second\r\n\r\nBody: not a header\r\n"
	h := ReadHeader([]byte(raw))
	if got := h.Get("subject"); got != "Grüße and Привет" {
		t.Errorf("Subject %q", got)
	}
	if got := h.Get("List-ID"); got != "Dovecot\t<dovecot.dovecot.org>" {
		t.Errorf("List-Id %q", got)
	}
	if len(h) != 2 || len(h["subject"]) != 2 || h.Get("body") != "" {
		t.Errorf("fields %v", h)
	}
}
