// Package hostile generates hostile and malformed mail for tests: broken
// MIME, megabyte header lines, ten thousand header fields, thousand-deep
// multiparts, bad charsets, NULs and 8-bit junk, encoded-word and RFC 2231
// abuse, base64 and quoted-printable garbage, and seeded random mutations
// of realistic messages, plus, on request, a 50 MiB attachment that is
// streamed rather than held.
//
// # Model
//
// Generate returns N cheap descriptors; nothing is built until asked.
// Message i is built from its own RNG, seeded from (Options.Seed, i), so
// Bytes returns the same bytes every time, in any order, on any machine,
// and a failing message is reproduced by its index alone. Even indexes are
// mutations of realistic messages; odd ones cycle through the hostile
// kinds (Kinds), so every kind appears in any run of 2×len(Kinds)
// messages.
//
// # Invariants
//
//   - Every message but the degenerate ones carries the Message-ID
//     <Message.ID>; ID is "" when the kind leaves no usable Message-ID.
//   - The huge message (Options.Huge) is never materialised by WriteTo:
//     it streams in 48 KiB pieces; Bytes builds it only when called.
//   - Deterministic: no clock, no map iteration, no global RNG.
package hostile

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// DefaultN is the default number of messages.
const DefaultN = 2000

// DefaultHugeSize is the default decoded size of the huge attachment.
const DefaultHugeSize = 50 << 20

// Options configure Generate. A nil *Options means all defaults.
type Options struct {
	// N is the number of messages. Default DefaultN.
	N int
	// Seed selects the corpus. Default 0.
	Seed uint64
	// Huge adds one more message (kind "huge-attachment") with an
	// attachment of HugeSize bytes, base64-encoded. Default false.
	Huge bool
	// HugeSize is the attachment's decoded size. Default DefaultHugeSize.
	HugeSize int64
}

// Message is one generated message.
type Message struct {
	Index int
	Kind  string
	// ID is the Message-ID the message carries (without angle brackets),
	// or "" when its kind leaves none that parses.
	ID string

	seed     uint64
	hugeSize int64 // > 0 only for the huge message
}

// Kinds are the hostile kinds, in the order odd indexes cycle through
// them. Even indexes are "mutated".
var Kinds = []string{
	"long-header-line",
	"many-headers",
	"deep-multipart",
	"missing-boundary",
	"duplicate-boundary",
	"bad-boundary-param",
	"wrong-nesting",
	"bad-charset",
	"nul-and-8bit",
	"encoded-word-abuse",
	"base64-garbage",
	"qp-garbage",
	"address-abuse",
	"rfc2231-abuse",
	"line-endings",
	"wide-multipart",
	"degenerate",
}

var builders = map[string]func(g *gen){
	"mutated":            mutated,
	"long-header-line":   longHeaderLine,
	"many-headers":       manyHeaders,
	"deep-multipart":     deepMultipart,
	"missing-boundary":   missingBoundary,
	"duplicate-boundary": duplicateBoundary,
	"bad-boundary-param": badBoundaryParam,
	"wrong-nesting":      wrongNesting,
	"bad-charset":        badCharset,
	"nul-and-8bit":       nulAnd8bit,
	"encoded-word-abuse": encodedWordAbuse,
	"base64-garbage":     base64Garbage,
	"qp-garbage":         qpGarbage,
	"address-abuse":      addressAbuse,
	"rfc2231-abuse":      rfc2231Abuse,
	"line-endings":       lineEndings,
	"wide-multipart":     wideMultipart,
	"degenerate":         degenerate,
}

// Generate returns the corpus's descriptors (Options.N of them, plus the
// huge message last when Options.Huge).
func Generate(opts *Options) []Message {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.N <= 0 {
		o.N = DefaultN
	}
	if o.HugeSize <= 0 {
		o.HugeSize = DefaultHugeSize
	}
	out := make([]Message, 0, o.N+1)
	for i := range o.N {
		kind := "mutated"
		if i%2 == 1 {
			kind = Kinds[(i/2)%len(Kinds)]
		}
		m := Message{Index: i, Kind: kind, seed: o.Seed}
		if kind != "degenerate" {
			m.ID = messageID(o.Seed, i)
		}
		out = append(out, m)
	}
	if o.Huge {
		out = append(out, Message{Index: o.N, Kind: "huge-attachment", ID: messageID(o.Seed, o.N), seed: o.Seed, hugeSize: o.HugeSize})
	}
	return out
}

func messageID(seed uint64, i int) string {
	return fmt.Sprintf("hostile-%d-%d@mailwarden.test", seed, i)
}

// Bytes builds the message. For the huge message this allocates the
// whole of it.
func (m Message) Bytes() []byte {
	if m.hugeSize > 0 {
		var b bytes.Buffer
		b.Grow(int(m.hugeSize*4/3 + m.hugeSize/28 + 4096))
		m.WriteTo(&b)
		return b.Bytes()
	}
	g := &gen{rng: rand.New(rand.NewPCG(m.seed, uint64(m.Index))), id: m.ID, index: m.Index}
	builders[m.Kind](g)
	// Never nil, even when empty: a fetched empty message is not a
	// message whose body was not fetched.
	return append([]byte{}, g.b.Bytes()...)
}

// WriteTo writes the message to w; the huge message is streamed.
func (m Message) WriteTo(w io.Writer) (int64, error) {
	if m.hugeSize <= 0 {
		n, err := w.Write(m.Bytes())
		return int64(n), err
	}
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	fmt.Fprintf(bw, "From: Big Sender <big@example.com>\r\nTo: user@example.org\r\nSubject: a %d MiB attachment\r\n"+
		"Date: Mon, 3 Jun 2024 09:00:00 +0000\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=\"huge-boundary\"\r\n\r\n"+
		"--huge-boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the attached archive. unsubscribe\r\n"+
		"--huge-boundary\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\n"+
		"Content-Disposition: attachment; filename=\"big.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
		m.hugeSize>>20, m.ID)
	rng := rand.New(rand.NewPCG(m.seed, uint64(m.Index)))
	raw := make([]byte, 57*862) // 49134 bytes: whole base64 lines of 76 characters
	enc := make([]byte, base64.StdEncoding.EncodedLen(57))
	for left := m.hugeSize; left > 0; {
		n := int(min(left, int64(len(raw))))
		for i := 0; i < n; i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < n; j++ {
				raw[i+j] = byte(v >> (8 * j))
			}
		}
		for i := 0; i < n; i += 57 {
			line := raw[i:min(i+57, n)]
			k := base64.StdEncoding.EncodedLen(len(line))
			base64.StdEncoding.Encode(enc[:k], line)
			bw.Write(enc[:k])
			bw.WriteString("\r\n")
		}
		left -= int64(n)
	}
	bw.WriteString("--huge-boundary--\r\n")
	err := bw.Flush()
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// gen builds one message.
type gen struct {
	b     bytes.Buffer
	rng   *rand.Rand
	id    string
	index int
}

func (g *gen) f(format string, args ...any) { fmt.Fprintf(&g.b, format, args...) }
func (g *gen) s(s string)                   { g.b.WriteString(s) }

func (g *gen) pick(options ...string) string { return options[g.rng.IntN(len(options))] }

// std writes the usual header fields (without ending the header).
func (g *gen) std(subject string) {
	g.f("From: %s\r\nTo: user@example.org\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n",
		g.pick(`"Sender" <sender@example.com>`, "boss@example.com", "=?utf-8?q?J=C3=BCrgen?= <j@example.net>", "list-bounces@lists.example.org"),
		subject, g.pick("Mon, 3 Jun 2024 09:15:00 +0200", "3 Jun 2024 09:15", "garbage date", "Tue, 31 Feb 2024 25:61:61 +9999"), g.id)
}

// junk returns n bytes of junk: 8-bit, controls, NULs, IMAP and MIME
// syntax characters.
func (g *gen) junk(n int) []byte {
	const alphabet = "\x00\x01\x1b\x7f\x80\xff\xc3\xa9\xe2\x82\xac\r\n\t =?{}()<>\"\\@:;,-_'*%+"
	out := make([]byte, n)
	for i := range out {
		if g.rng.IntN(3) == 0 {
			out[i] = alphabet[g.rng.IntN(len(alphabet))]
		} else {
			out[i] = byte(g.rng.IntN(256))
		}
	}
	return out
}

func longHeaderLine(g *gen) {
	const mib = 1 << 20
	switch g.rng.IntN(5) {
	case 0: // a 1 MiB subject of words
		g.std(strings.Repeat("cheap pills invoice ", mib/20))
	case 1: // 1 MiB without white space
		g.std("long X-Junk")
		g.f("X-Junk: %s\r\n", strings.Repeat("A", mib))
	case 2: // 1 MiB of addresses (about 50,000)
		g.std("many recipients")
		g.s("Cc: ")
		for i := 0; g.b.Len() < mib; i++ {
			g.f("r%d@example.org, ", i)
		}
		g.s("last@example.org\r\n")
	case 3: // 1 MiB of encoded words
		var sb strings.Builder
		for sb.Len() < mib {
			sb.WriteString("=?utf-8?B?w6ljb2xlIGNhZsOp?= ")
		}
		g.std(sb.String())
	default: // 1 MiB folded into 30,000 continuation lines
		g.std("folded")
		g.s("X-Folded: start")
		for g.b.Len() < mib {
			g.s("\r\n folded continuation")
		}
		g.s("\r\n")
	}
	g.s("Content-Type: text/plain\r\n\r\nshort body, long header\r\n")
}

func manyHeaders(g *gen) {
	g.std("ten thousand fields")
	for i := range 10000 {
		switch i % 5 {
		case 0:
			g.f("Received: from host%d.example.net (host%d [192.0.2.%d]) by mx.example.org; Mon, 3 Jun 2024 09:%02d:00 +0000\r\n", i, i, i%256, i%60)
		case 1:
			g.f("X-Header-%d: value %d\r\n", i, i)
		case 2:
			g.f("Subject: duplicate subject %d\r\n", i)
		case 3:
			g.f("From: dup%d@example.com\r\n", i)
		default:
			g.f("X-Spam-Score: %d\r\n", i%20)
		}
	}
	g.s("Content-Type: text/plain\r\n\r\nbody after 10,000 header fields\r\n")
}

func deepMultipart(g *gen) {
	const depth = 1000
	g.std("1000-deep multipart")
	same := g.rng.IntN(3) == 0   // every level uses the same boundary
	closed := g.rng.IntN(3) != 0 // close delimiters present
	bnd := func(i int) string {
		if same {
			return "deep"
		}
		return fmt.Sprintf("b%d", i)
	}
	g.f("Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", bnd(0))
	for i := 1; i < depth; i++ {
		g.f("--%s\r\nContent-Type: multipart/%s; boundary=\"%s\"\r\n\r\n", bnd(i-1), g.pick("mixed", "alternative", "related", "digest"), bnd(i))
	}
	g.f("--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nthe innermost part: unsubscribe meeting\r\n", bnd(depth-1))
	if closed {
		for i := depth - 1; i >= 0; i-- {
			g.f("--%s--\r\n", bnd(i))
		}
	}
}

func missingBoundary(g *gen) {
	g.std("missing boundary")
	g.s("Content-Type: multipart/mixed; boundary=\"declared\"\r\n\r\n")
	switch g.rng.IntN(3) {
	case 0: // the parts use another boundary
		g.s("--other\r\nContent-Type: text/plain\r\n\r\npart one\r\n--other\r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n--other--\r\n")
	case 1: // no close delimiter, body ends mid-part
		g.s("--declared\r\nContent-Type: text/plain\r\n\r\npart without end\r\n--declared\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK")
	default: // only a prologue
		g.s("This is a multi-part message in MIME format, without parts.\r\n")
	}
}

func duplicateBoundary(g *gen) {
	g.std("duplicate boundaries")
	g.s("Content-Type: multipart/mixed; boundary=\"dup\"; boundary=\"dup2\"\r\n\r\n")
	g.s("--dup\r\nContent-Type: multipart/alternative; boundary=\"dup\"\r\n\r\n")
	g.s("--dup\r\nContent-Type: text/plain\r\n\r\ninner plain --dup inside text\r\n")
	g.s("--dup\r\nContent-Type: text/html\r\n\r\n<p>inner html</p>\r\n--dup--\r\n")
	g.s("--dup\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	g.s(base64.StdEncoding.EncodeToString([]byte("--dup\r\n--dup--\r\nboundary inside base64")) + "\r\n")
	g.s("--dup2\r\n--dup--\r\n--dup--\r\n")
}

func badBoundaryParam(g *gen) {
	g.std("bad boundary parameter")
	switch g.rng.IntN(4) {
	case 0:
		g.s("Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nno boundary param\r\n--x--\r\n")
	case 1:
		g.s("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n\r\nempty boundary\r\n----\r\n")
	case 2:
		b := strings.Repeat("b", 5000)
		g.f("Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\n\r\nlong boundary\r\n--%s--\r\n", b, b, b)
	default:
		g.s("Content-Type: multipart/mixed; boundary=\"(){}<>@,;:\\\\\\\"/[]?= \x00\xff\"\r\n\r\n--(){}<>@,;:\r\n\r\nspecials\r\n")
	}
}

func wrongNesting(g *gen) {
	g.std("wrong nesting")
	switch g.rng.IntN(5) {
	case 0: // message/rfc822 holding garbage
		g.s("Content-Type: message/rfc822\r\n\r\n")
		g.b.Write(g.junk(2000))
	case 1: // a digest of text parts, one of them base64 multipart
		g.s("Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\nContent-Type: text/plain\r\n\r\nplain in digest\r\n")
		g.s("--d\r\nContent-Type: multipart/mixed; boundary=e\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		g.s(base64.StdEncoding.EncodeToString([]byte("--e\r\n\r\nhidden\r\n--e--\r\n")) + "\r\n--d--\r\n")
	case 2: // text/plain whose body is MIME
		g.s("Content-Type: text/plain\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>not a part</p>\r\n--x--\r\n")
	case 3: // message/rfc822 nested 200 deep
		g.s("Content-Type: message/rfc822\r\n\r\n")
		for range 200 {
			g.s("Subject: nested\r\nContent-Type: message/rfc822\r\n\r\n")
		}
		g.s("Subject: innermost\r\n\r\nmeeting\r\n")
	default: // multipart declared with an encoding; a part with no header
		g.s("Content-Type: multipart/alternative; boundary=q\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n--q\r\n\r\nno header part\r\n--q\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\x00\x00--q--\r\n")
	}
}

func badCharset(g *gen) {
	g.f("From: =?x-unknown?B?%s?= <a@example.com>\r\nTo: =?utf-7?Q?+AGEAYgBj-?= <b@example.org>\r\n", base64.StdEncoding.EncodeToString(g.junk(20)))
	g.f("Subject: =?iso-2022-jp?B?GyRCJTclaSVXGyhC?= =?gb18030?B?%s?= =?utf-16?B?AEEAQgBD?=\r\n", base64.StdEncoding.EncodeToString(g.junk(9)))
	g.f("Date: Mon, 3 Jun 2024 09:15:00 +0200\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n", g.id)
	cs := g.pick("x-unknown-foo", "utf-7", "utf-16", "utf-32", "iso-2022-jp", "gb18030", "\"\"", "utf-8; charset=latin1", "ebcdic-cp-us", "../../etc/passwd")
	g.f("Content-Type: text/plain; charset=%s\r\n\r\n", cs)
	g.s("caf\xe9 \x1b$B%7%i%W\x1b(B \xfe\xff\x00A\x00 meeting ")
	g.b.Write(g.junk(500))
	g.s("\r\n")
}

func nulAnd8bit(g *gen) {
	g.std("nul \x00 and \xff junk \x93quoted\x94")
	g.s("X-Nul\x00Name: value\r\nX-8bit: \xc3\x28 \xa0\xa1 \xed\xa0\x80\r\n\x00\x00: empty name\r\nX-Bare-CR: a\rb\rc\r\n")
	g.s("Content-Type: text/plain; charset=utf-8\r\n\r\n")
	g.b.Write(g.junk(4000))
	g.s("\r\n\x00unsubscribe\x00\r\n")
}

func encodedWordAbuse(g *gen) {
	var sb strings.Builder
	switch g.rng.IntN(4) {
	case 0: // 10,000 words, a multi-byte character split across each pair
		for range 5000 {
			sb.WriteString("=?utf-8?B?4oI=?= =?utf-8?B?rA==?= ")
		}
	case 1: // words that decode to words, 20 levels deep (about 20 KB)
		inner := "=?utf-8?B?" + base64.StdEncoding.EncodeToString([]byte("=?utf-8?Q?=3D=3F?=")) + "?="
		for range 20 {
			inner = "=?utf-8?B?" + base64.StdEncoding.EncodeToString([]byte(inner)) + "?="
		}
		sb.WriteString(inner)
	case 2: // broken words
		sb.WriteString("=?utf-8?B?not base64!?= =?utf-8?Q?=ZZ=?= =?=?= =? =?utf-8?X?x?= =?*?B??= =?utf-8*en?Q?ok?= =?utf-8?B?")
		sb.WriteString(strings.Repeat("=?", 10000))
	default: // an overlong word
		sb.WriteString("=?utf-8?Q?" + strings.Repeat("=C3=A9", 50000) + "?=")
	}
	g.std(sb.String())
	g.f("Content-Type: text/plain; name=\"=?utf-8?B?%s?=\"\r\n", base64.StdEncoding.EncodeToString([]byte("f\x00le.exe")))
	g.s("Content-Disposition: attachment; filename==?utf-8?Q?evil.exe?=\r\n\r\nbody\r\n")
}

func base64Garbage(g *gen) {
	g.std("base64 garbage")
	g.s("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	g.s("--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nthis is !!! not *** base64 at all ===\r\n")
	g.s("--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: BASE64; junk\r\n\r\ndW5zdWJzY3JpYmU\r\n") // no padding
	g.s("--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	line := base64.StdEncoding.EncodeToString(g.junk(75000)) // one 100,000-character line
	g.s(line[:50000] + "\x00\xff" + line[50000:] + "\r\n")
	g.s("--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 f\r\nM86)C\r\nend\r\n--b--\r\n")
}

func qpGarbage(g *gen) {
	g.std("quoted-printable garbage")
	g.s("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	g.s("=ZZ =G1 =\r\n=\r\n=\r\n")
	for range 10000 {
		g.s("soft=\r\n")
	}
	g.s(strings.Repeat("=C3=A9", 20000) + "\r\nunsub=\r\nscribe =E2=82\r\ntrailing =")
}

func addressAbuse(g *gen) {
	var from string
	switch g.rng.IntN(5) {
	case 0:
		from = strings.Repeat("(", 10000) + "a@example.com" + strings.Repeat(")", 10000)
	case 1:
		from = `"unbalanced <a@example.com>, "b" <<<b@example.com>>>, c@, @d, <>, "x\"y" <x@[1.2.3.4]>`
	case 2:
		from = strings.Repeat("x", 10000) + "@" + strings.Repeat("y", 10000) + ".example"
	case 3:
		from = "g1: g2: a@example.com;, b@example.com;;;, undisclosed-recipients:;"
	default:
		var sb strings.Builder
		for i := range 1000 {
			fmt.Fprintf(&sb, "\"Name %d, Jr.\" <u%d@example.com>, ", i, i)
		}
		from = sb.String() + "boss@example.com"
	}
	g.f("From: %s\r\nSender: %s\r\nReply-To: %s\r\nTo: %s\r\nSubject: address abuse\r\nMessage-ID: <%s>\r\n\r\nbody\r\n",
		from, from, "<<<>>>", "a@b@c@d, \x00@example.com", g.id)
}

func rfc2231Abuse(g *gen) {
	g.std("RFC 2231 abuse")
	g.s("Content-Type: multipart/mixed; boundary=r\r\n\r\n--r\r\nContent-Type: application/octet-stream;\r\n")
	for i := range 1000 {
		g.f(" name*%d*=utf-8''%%%02X%%ZZpart%d;\r\n", i, i%256, i)
	}
	g.s(" name*0=dup\r\nContent-Disposition: attachment; filename*=bogus'''%%%; filename*0*=x'y'z; filename*1=\"a\"; filename*99999999999999999999=b\r\n\r\ndata\r\n--r--\r\n")
}

func lineEndings(g *gen) {
	switch g.rng.IntN(4) {
	case 0: // bare CR everywhere
		g.f("From: a@example.com\rTo: b@example.org\rSubject: bare CR\rMessage-ID: <%s>\r\rbody\rmore\r", g.id)
	case 1: // mixed
		g.f("From: a@example.com\nTo: b@example.org\r\nSubject: mixed\n\r\nMessage-ID: <%s>\r\r\n\nbody\n\r", g.id)
	case 2: // whitespace-only "blank" line, then more fields
		g.f("Subject: ws line\r\n \r\nMessage-ID: <%s>\r\n\t\r\nFrom: a@example.com\r\n\r\nbody", g.id)
	default: // no final newline, CR CR LF
		g.f("Subject: crcrlf\r\r\nMessage-ID: <%s>\r\r\n\r\r\nbody without newline", g.id)
	}
}

func wideMultipart(g *gen) {
	g.std("5000 sibling parts")
	g.s("Content-Type: multipart/mixed; boundary=w\r\n\r\n")
	for i := range 5000 {
		g.f("--w\r\nContent-Type: %s\r\n\r\npart %d\r\n", g.pick("text/plain", "text/html", "application/octet-stream", "message/rfc822"), i)
	}
	g.s("--w--\r\n")
}

func degenerate(g *gen) {
	switch g.rng.IntN(6) {
	case 0:
		// empty
	case 1:
		g.s("\r\n")
	case 2:
		g.s("\r\nbody only, no header at all\r\n")
	case 3:
		g.s(strings.Repeat("no colon and no newline ", 1<<20/24))
	case 4:
		g.b.Write(g.junk(64 << 10))
	default:
		g.s("Subject: header only, no blank line")
	}
}

// Realistic templates that mutated starts from.
var templates = []func(g *gen){
	func(g *gen) {
		g.std("Your invoice INV-2024-0612")
		g.s("Content-Type: text/plain; charset=utf-8\r\n\r\nDear customer,\r\nplease find your invoice attached.\r\nunsubscribe: https://example.com/u\r\n")
	},
	func(g *gen) {
		g.std("=?utf-8?B?UmU6IFtnb2xhbmctbnV0c10gZ2VuZXJpY3M=?=")
		g.s("List-Id: Go Nuts <golang-nuts.example.org>\r\nContent-Type: multipart/alternative; boundary=\"alt-1\"\r\n\r\n")
		g.s("--alt-1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nMeeting at 10, caf=C3=A9 downstairs.=\r\n\r\n")
		g.s("--alt-1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Meeting at 10</p></body></html>\r\n--alt-1--\r\n")
	},
	func(g *gen) {
		g.std("Quarterly report")
		g.s("Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\nThis is a multi-part message in MIME format.\r\n")
		g.s("--mix\r\nContent-Type: text/plain\r\n\r\nSee attachment.\r\n")
		g.s("--mix\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
		enc := base64.StdEncoding.EncodeToString(g.junk(3000))
		for i := 0; i < len(enc); i += 76 {
			g.s(enc[i:min(i+76, len(enc))] + "\r\n")
		}
		g.s("--mix--\r\n")
	},
	func(g *gen) {
		g.std("Fwd: hello")
		g.s("Content-Type: message/rfc822\r\n\r\nFrom: inner@example.net\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\ninner body viagra\r\n")
	},
	func(g *gen) {
		g.std("[SPAM] Cheap pills")
		g.s("X-Spam-Score: 9.5/10\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>V=EDagra! Click <a href=3D\"http://x\">here</a></p>\r\n")
	},
}

// mutated is a realistic message with 1 to 8 random mutations.
func mutated(g *gen) {
	templates[g.rng.IntN(len(templates))](g)
	b := g.b.Bytes()
	for range 1 + g.rng.IntN(8) {
		b = mutate(g, b)
	}
	g.b.Reset()
	g.b.Write(b)
}

var inserts = []string{"\x00", "\xff\xfe", "\r", "\n", "\r\n\r\n", "--alt-1\r\n", "--mix--\r\n", "=?", "?=", "{5}\r\n",
	"Content-Type: multipart/mixed; boundary=x\r\n", "Content-Transfer-Encoding: base64\r\n", "=\r\n", "=ZZ", "\"", "<", "(", ":", "\t"}

func mutate(g *gen, b []byte) []byte {
	if len(b) == 0 {
		return append(b, g.junk(1+g.rng.IntN(32))...)
	}
	i := g.rng.IntN(len(b))
	j := min(len(b), i+1+g.rng.IntN(64))
	switch g.rng.IntN(8) {
	case 0: // flip bits
		b[i] ^= byte(1 + g.rng.IntN(255))
	case 1: // insert syntax
		s := inserts[g.rng.IntN(len(inserts))]
		b = append(b[:i], append([]byte(s), b[i:]...)...)
	case 2: // insert junk
		b = append(b[:i], append(g.junk(1+g.rng.IntN(64)), b[i:]...)...)
	case 3: // delete a range
		b = append(b[:i], b[j:]...)
	case 4: // duplicate a range
		dup := append([]byte(nil), b[i:j]...)
		b = append(b[:j], append(dup, b[j:]...)...)
	case 5: // truncate
		b = b[:i]
	case 6: // CRLF → LF in a range
		tail := bytes.ReplaceAll(b[i:], []byte("\r\n"), []byte("\n"))
		b = append(b[:i], tail...)
	default: // a header field in the body, or a body line in the header
		b = append(b[:i], append([]byte("\r\nX-Injected: "+string(g.junk(8))+"\r\n"), b[i:]...)...)
	}
	return b
}
