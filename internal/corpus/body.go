package corpus

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// part is one MIME entity: its header fields and encoded body.
type part struct {
	h    []hdr
	body string
}

func (p part) render() string {
	var b strings.Builder
	for _, h := range p.h {
		b.WriteString(foldHeader(h.name, h.value, " "))
	}
	b.WriteString("\r\n")
	b.WriteString(p.body)
	return b.String()
}

// single makes p the whole body: its fields become the message's content
// fields.
func (b *builder) single(p part) {
	b.content = p.h
	b.body = p.body
}

// boundary returns a multipart boundary in one of the styles mailers use.
func (b *builder) boundary() string {
	switch b.r.IntN(4) {
	case 0:
		return fmt.Sprintf("----=_Part_%d_%d.%d", b.r.IntN(999999), b.r.IntN(999999999), b.sent.UnixMilli())
	case 1:
		return "Apple-Mail=_" + strings.ToUpper(b.rand(hexDigits, 8)+"-"+b.rand(hexDigits, 4)+"-"+b.rand(hexDigits, 4)+"-"+b.rand(hexDigits, 4)+"-"+b.rand(hexDigits, 12))
	case 2:
		return "000000000000" + b.rand(hexDigits, 16)
	default:
		return "_=_boundary_" + b.rand(alnumSet, 24)
	}
}

// multipart makes the body a multipart/subtype of parts.
func (b *builder) multipart(subtype string, parts []part) {
	bnd := b.boundary()
	var body strings.Builder
	if b.chance(50) {
		body.WriteString("This is a multi-part message in MIME format.\r\n")
	}
	for _, p := range parts {
		body.WriteString("\r\n--" + bnd + "\r\n")
		body.WriteString(strings.TrimSuffix(p.render(), "\r\n"))
	}
	body.WriteString("\r\n--" + bnd + "--\r\n")
	b.content = []hdr{{name: "Content-Type", value: "multipart/" + subtype + "; boundary=\"" + bnd + "\""}}
	b.body = body.String()
}

// paragraphs returns n paragraphs of text (CRLF, wrapped at 72), mixing
// scripts.
func (b *builder) paragraphs(n int) string {
	var ps []string
	for range n {
		var ss []string
		for range 1 + b.r.IntN(5) {
			if b.chance(40) {
				ss = append(ss, b.pick(loremLines))
				continue
			}
			k := 6 + b.r.IntN(14)
			ws := make([]string, k)
			for j := range ws {
				ws[j] = b.pick(words)
			}
			s := strings.Join(ws, " ")
			ss = append(ss, strings.ToUpper(s[:1])+s[1:]+".")
		}
		ps = append(ps, wrap(strings.Join(ss, " "), 72))
	}
	return strings.Join(ps, "\r\n\r\n")
}

// textPart encodes text (UTF-8, CRLF) as a text/subtype entity in a
// charset and transfer encoding the way varied mailers do.
func (b *builder) textPart(subtype, text string) part {
	if !strings.HasSuffix(text, "\r\n") {
		text += "\r\n"
	}
	ct := "text/" + subtype
	flowed := ""
	if subtype == "plain" && b.chance(15) {
		flowed = "; format=flowed"
	}
	if isASCII(text) {
		cs := b.pick([]string{"us-ascii", "utf-8", "UTF-8"})
		if subtype == "html" && b.chance(50) {
			return part{h: []hdr{{name: "Content-Type", value: ct + "; charset=\"" + cs + "\""}, {name: "Content-Transfer-Encoding", value: "quoted-printable"}}, body: qpEncode([]byte(text))}
		}
		return part{h: []hdr{{name: "Content-Type", value: ct + "; charset=" + cs + flowed}, {name: "Content-Transfer-Encoding", value: "7bit"}}, body: text}
	}
	cs := b.pickCharset(text)
	raw, _ := cs.encode(text)
	switch x := b.r.IntN(100); {
	case x < 60:
		return part{h: []hdr{{name: "Content-Type", value: ct + "; charset=\"" + cs.name + "\"" + flowed}, {name: "Content-Transfer-Encoding", value: "quoted-printable"}}, body: qpEncode(raw)}
	case x < 85 || cs == csISO2022:
		return part{h: []hdr{{name: "Content-Type", value: ct + "; charset=" + cs.name}, {name: "Content-Transfer-Encoding", value: "base64"}}, body: b64Lines(raw)}
	default:
		return part{h: []hdr{{name: "Content-Type", value: ct + "; charset=" + cs.name + flowed}, {name: "Content-Transfer-Encoding", value: "8bit"}}, body: crlfOnly(string(raw))}
	}
}

// crlfOnly makes sure every line break of 8-bit text is CRLF (an encoded
// byte 0x0a inside a multi-byte sequence cannot occur in the charsets used).
func crlfOnly(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}

type attachKind struct {
	ctype string
	magic string
	text  bool
	min   int // decoded size range in bytes
	max   int
}

var attachKinds = map[string]attachKind{
	"pdf":   {"application/pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", false, 20 << 10, 220 << 10},
	"png":   {"image/png", "\x89PNG\r\n\x1a\n", false, 30 << 10, 400 << 10},
	"jpg":   {"image/jpeg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00", false, 40 << 10, 600 << 10},
	"docx":  {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "PK\x03\x04", false, 12 << 10, 90 << 10},
	"xlsx":  {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "PK\x03\x04", false, 8 << 10, 60 << 10},
	"zip":   {"application/zip", "PK\x03\x04", false, 5 << 10, 40 << 10},
	"ics":   {"text/calendar", "", true, 1 << 10, 2 << 10},
	"csv":   {"text/csv", "", true, 2 << 10, 30 << 10},
	"patch": {"text/x-diff", "", true, 1 << 10, 12 << 10},
	"txt":   {"text/plain", "", true, 1 << 10, 8 << 10},
}

var attachNames = []string{"invoice", "report", "Rechnung_März", "photo", "IMG_20240612", "contract_v2", "отчёт", "請求書", "slides", "notes", "résumé"}

// attachment returns an attached file of kind (a key of attachKinds).
func (b *builder) attachment(kind string) part {
	k := attachKinds[kind]
	size := k.min + b.r.IntN(k.max-k.min+1)
	size = min(size, b.c.o.MaxAttachment)
	name := b.pick(attachNames) + "." + kind
	var data []byte
	if k.text {
		var s strings.Builder
		for s.Len() < size {
			switch kind {
			case "csv":
				fmt.Fprintf(&s, "2024-%02d-%02d;%d;%d.%02d;EUR;%s\r\n", 1+b.r.IntN(12), 1+b.r.IntN(28), 10000+b.r.IntN(90000), b.r.IntN(5000), b.r.IntN(100), b.pick(words))
			case "ics":
				fmt.Fprintf(&s, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Calendar//EN\r\nBEGIN:VEVENT\r\nUID:%s@cal.example\r\nDTSTART:%s\r\nSUMMARY:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", b.rand(hexDigits, 24), b.sent.UTC().Format("20060102T150405Z"), b.pick(words))
			case "patch":
				fmt.Fprintf(&s, "@@ -%d,7 +%d,8 @@\r\n-\t%s = %s;\r\n+\t%s = %s + 1;\r\n", b.r.IntN(900), b.r.IntN(900), b.pick(words), b.pick(words), b.pick(words), b.pick(words))
			default:
				s.WriteString(b.pick(loremLines) + "\r\n")
			}
		}
		data = []byte(s.String())
	} else {
		data = make([]byte, (size+7)&^7)
		for i := 0; i < len(data); i += 8 {
			binary.LittleEndian.PutUint64(data[i:], b.r.Uint64())
		}
		data = data[:size]
		copy(data, k.magic)
	}
	var nameParam, fileParam string
	switch {
	case isASCII(name):
		nameParam, fileParam = `name="`+name+`"`, `filename="`+name+`"`
	case b.chance(60):
		nameParam, fileParam = "name*="+rfc2231(name), "filename*="+rfc2231(name)
	default: // what Outlook and Gmail send: encoded words in a quoted string
		ew := encodedWords(csUTF8, false, name)
		nameParam, fileParam = `name="`+ew+`"`, `filename="`+ew+`"`
	}
	h := []hdr{
		{name: "Content-Type", value: k.ctype + "; " + nameParam},
		{name: "Content-Disposition", value: "attachment; " + fileParam + fmt.Sprintf("; size=%d", len(data))},
	}
	if b.chance(30) {
		h = append(h, hdr{name: "Content-ID", value: "<" + b.rand(hexDigits, 16) + "@mail.example>"})
	}
	h = append(h, hdr{name: "Content-Transfer-Encoding", value: "base64"})
	return part{h: h, body: b64Lines(data)}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;").Replace(s)
}

// newsletterHTML is a table-layout marketing mail, 10-40 KB.
func (b *builder) newsletterHTML(title string) string {
	var h strings.Builder
	h.WriteString("<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"><title>" + htmlEscape(title) + "</title>\r\n<style>td{font-family:Helvetica,Arial,sans-serif}</style></head>\r\n<body style=\"margin:0;padding:0\">\r\n<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr><td align=\"center\">\r\n")
	fmt.Fprintf(&h, "<img src=\"https://cdn.esp.example.net/%s/header.png\" width=\"600\" alt=\"\">\r\n", b.rand(hexDigits, 12))
	for i := range 8 + b.r.IntN(30) {
		if i%3 == 0 {
			fmt.Fprintf(&h, "<h2 style=\"color:#%s;font-size:20px\">%s</h2>\r\n", b.rand(hexDigits, 6), htmlEscape(b.fill("%w and %w")))
		}
		fmt.Fprintf(&h, "<p style=\"font-size:14px;line-height:1.5\">%s</p>\r\n", htmlEscape(b.paragraphs(1)))
		fmt.Fprintf(&h, "<a href=\"https://click.esp.example.net/ls/click?upn=%s\" style=\"background:#%s;color:#fff;padding:10px 20px\">Read more</a>\r\n", b.rand(alnumSet, 140), b.rand(hexDigits, 6))
	}
	fmt.Fprintf(&h, "</td></tr></table>\r\n<p style=\"font-size:11px;color:#888\">You receive this because you subscribed. <a href=\"https://esp.example.net/unsubscribe/%s\">Unsubscribe</a></p>\r\n", b.rand(alnumSet, 40))
	fmt.Fprintf(&h, "<img src=\"https://open.esp.example.net/o/%s.gif\" width=\"1\" height=\"1\" alt=\"\">\r\n</body></html>\r\n", b.rand(alnumSet, 60))
	return h.String()
}
