package corpus

import (
	"strings"
)

// MalformedKinds are the deliberate defects, each seen in real mailboxes.
// A defect never changes what the reference rule set must do with the
// message (the rules' fields stay readable to any lenient parser), so
// Expect holds for malformed mail too; what it tests is that a tool keeps
// going and still acts on the message.
var MalformedKinds = []string{
	"no-colon",         // a header line without a colon (after the fields rules read)
	"broken-boundary",  // multipart whose declared boundary is not the one used, or never closed
	"bad-date",         // an unparseable Date
	"missing-date",     // no Date at all
	"bad-encoded-word", // invalid RFC 2047: bad base64, unknown charset, unterminated
	"8bit-subject",     // raw 8-bit bytes (UTF-8 or Latin-1) in Subject
	"8bit-from",        // raw 8-bit bytes in the From display name
	"missing-from",     // no From, an empty one, or a group with no address
	"truncated",        // the body ends in the middle (of a base64 attachment)
	"long-line",        // a 3-12 KB header line, unfolded
	"8bit-body",        // 8-bit bytes in a body declared us-ascii / 7bit
}

// applicable reports whether kind can be applied to the message without
// changing the rules' outcome: subject defects skip invoice mail (the word
// must stay readable), From defects skip VIP mail, and Date defects skip
// bulk mail (the Sieve variant of the rules judges age by the Date field).
func (b *builder) applicable(kind string) bool {
	switch kind {
	case "bad-encoded-word", "8bit-subject":
		return !strings.Contains(strings.ToLower(b.meta.Subject), "invoice")
	case "8bit-from", "missing-from":
		return !b.meta.VIP
	case "bad-date", "missing-date":
		return !b.meta.Bulk
	}
	return true
}

// malform applies one applicable defect.
func (b *builder) malform() {
	var kinds []string
	for _, k := range MalformedKinds {
		if b.applicable(k) {
			kinds = append(kinds, k)
		}
	}
	kind := kinds[b.r.IntN(len(kinds))]
	b.meta.Malformed = kind
	set := func(name, value string, raw bool) {
		for i := range b.hdrs {
			if strings.EqualFold(b.hdrs[i].name, name) {
				b.hdrs[i].value, b.hdrs[i].raw = value, raw
				return
			}
		}
		b.hdrs = append(b.hdrs, hdr{name: name, value: value, raw: raw})
	}
	del := func(name string) {
		out := b.hdrs[:0]
		for _, h := range b.hdrs {
			if !strings.EqualFold(h.name, name) {
				out = append(out, h)
			}
		}
		b.hdrs = out
	}
	switch kind {
	case "no-colon":
		// Inserted before MIME-Version (or at the end): every field a rule
		// reads comes before it, the MIME fields after it.
		at := len(b.hdrs)
		for i, h := range b.hdrs {
			if strings.EqualFold(h.name, "MIME-Version") {
				at = i
			}
		}
		line := hdr{name: b.pick([]string{"This line is not a header", "X-Broken header without a colon", "=====BEGIN FORWARDED ENVELOPE====="}), bare: true}
		b.hdrs = append(b.hdrs[:at], append([]hdr{line}, b.hdrs[at:]...)...)
	case "broken-boundary":
		b.ensureMultipart()
		ct := b.content[0].value
		i := strings.Index(ct, `boundary="`)
		bnd := ct[i+len(`boundary="`) : len(ct)-1]
		switch b.r.IntN(3) {
		case 0: // declared boundary differs from the one used
			b.content[0].value = strings.Replace(ct, bnd, bnd+"X", 1)
		case 1: // never closed
			b.body = strings.Replace(b.body, "--"+bnd+"--", "", 1)
		default: // no boundary parameter at all
			b.content[0].value = ct[:strings.IndexByte(ct, ';')]
		}
	case "bad-date":
		set("Date", b.pick([]string{"Thu, 31 Feb 2023 25:61:99 +9900", "yesterday afternoon", "2023-13-45T99:99:99", "Mon, 3 Foo 2024 10:00:00", "0", "Fri, 12 Jul 24 9:5:3 GMT+2"}), false)
	case "missing-date":
		del("Date")
	case "bad-encoded-word":
		b.meta.Subject = b.pick([]string{"=?UTF-8?B?!!not*base64!!?=", "=?x-unknown-charset?Q?Hello_World?=", "=?UTF-8?Q?unterminated_word", "=?UTF-8?Q?bad=ZZhex_in_a_word?=", "=?ISO-8859-1?X?bad_encoding?="})
		set("Subject", b.meta.Subject, true)
	case "8bit-subject":
		s := b.pick([]string{"Grüße aus Köln — Übersicht", "Réunion à 15h — café", "Привет, как дела?", "日本語の件名です"})
		b.meta.Subject = s
		if b.chance(50) {
			if l, ok := csLatin1.encode(s); ok {
				s = string(l) // invalid UTF-8 on purpose
			}
		}
		set("Subject", s, true)
	case "8bit-from":
		for i := range b.hdrs {
			if strings.EqualFold(b.hdrs[i].name, "From") {
				b.hdrs[i].value = "Jürgen Weiß <" + b.meta.From + ">"
				b.hdrs[i].raw = true
			}
		}
	case "missing-from":
		switch b.r.IntN(3) {
		case 0:
			del("From")
		case 1:
			set("From", "undisclosed-recipients:;", true)
		default:
			set("From", "<>", true)
		}
		b.meta.From = ""
	case "truncated":
		b.ensureMultipart()
		b.body = b.body[:len(b.body)*(40+b.r.IntN(50))/100]
	case "long-line":
		if b.chance(50) {
			var refs []string
			for range 80 + b.r.IntN(200) {
				refs = append(refs, "<"+b.rand(hexDigits, 24)+"@long.example>")
			}
			b.hdrs = append(b.hdrs, hdr{name: "References", value: strings.Join(refs, " "), raw: true})
		} else {
			b.hdrs = append(b.hdrs, hdr{name: "X-Tracking-Data", value: b.rand(alnumSet, 3000+b.r.IntN(9000)), raw: true})
		}
	case "8bit-body":
		text := "Grüße — déjà vu — naïve café\r\n" + b.paragraphs(2) + "\r\n"
		if l, ok := csLatin1.encode(text); ok && b.chance(50) {
			text = string(l)
		}
		b.content = []hdr{{name: "Content-Type", value: "text/plain; charset=us-ascii"}, {name: "Content-Transfer-Encoding", value: "7bit"}}
		b.body = text
	}
}

// ensureMultipart turns a single-part body into multipart/mixed with an
// attachment (a defect that needs parts needs a message with parts).
func (b *builder) ensureMultipart() {
	if len(b.content) > 0 && strings.HasPrefix(strings.ToLower(b.content[0].value), "multipart/") {
		return
	}
	text := part{h: b.content, body: b.body}
	if len(text.h) == 0 {
		text.h = []hdr{{name: "Content-Type", value: "text/plain; charset=us-ascii"}}
	}
	if !b.hasField("MIME-Version") {
		b.add("MIME-Version", "1.0")
	}
	b.meta.Attachments++
	b.multipart("mixed", []part{text, b.attachment("pdf")})
}

func (b *builder) hasField(name string) bool {
	for _, h := range b.hdrs {
		if strings.EqualFold(h.name, name) {
			return true
		}
	}
	return false
}
