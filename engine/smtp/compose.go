package smtp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"

	"github.com/mailwarden/mailwarden/rules"
)

// redirectMessage is the message as fetched with the loop-control field
// prepended (RFC 5228 §4.2 leaves the message otherwise unchanged).
func redirectMessage(sd rules.Send) []byte {
	var b bytes.Buffer
	b.Grow(len(sd.Raw) + 64)
	fmt.Fprintf(&b, "%s: <%s>\r\n", rules.RedirectedField, sd.To)
	b.Write(sd.Raw)
	return b.Bytes()
}

// vacationMessage builds the reply (RFC 5230 §5, RFC 3834 §3).
func (s *Sender) vacationMessage(sd rules.Send) ([]byte, error) {
	r := sd.Reply
	from := r.From
	if from == "" {
		from = s.cfg.From
	}
	domain := "localhost"
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	var id [12]byte
	rand.Read(id[:])
	var b bytes.Buffer
	h := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", name, oneLine(value))
		}
	}
	h("Date", s.o.Now().Format("Mon, 02 Jan 2006 15:04:05 -0700")) // RFC 5230 §5.2
	h("From", encodeAddressList(from))                             // §5.4
	h("To", encodeAddressList(r.To))                               // §5.5
	h("Subject", mime.QEncoding.Encode("utf-8", r.Subject))        // §4.3: encoded words only when not ASCII
	h("Message-ID", "<vacation."+hex.EncodeToString(id[:])+"@"+domain+">")
	h("In-Reply-To", r.InReplyTo) // §5.8
	h("References", r.References)
	h("Auto-Submitted", "auto-replied") // §5.6, RFC 3834 §5
	h("MIME-Version", "1.0")
	if r.MIME {
		// RFC 5230 §4.4: the reason is a MIME entity, header and content.
		body := strings.ReplaceAll(strings.ReplaceAll(r.Body, "\r\n", "\n"), "\n", "\r\n")
		b.WriteString(strings.TrimLeft(body, "\r\n"))
		return b.Bytes(), nil
	}
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(strings.ReplaceAll(r.Body, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(body, "\r\n") {
		b.WriteString("\r\n")
	}
	return b.Bytes(), nil
}

// encodeAddressList RFC 2047-encodes the display names of an address
// list that has non-ASCII ones; an ASCII list is kept as written.
func encodeAddressList(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			if list, err := mail.ParseAddressList(v); err == nil {
				parts := make([]string, len(list))
				for j, a := range list {
					parts[j] = a.String()
				}
				return strings.Join(parts, ", ")
			}
			return v
		}
	}
	return v
}

// oneLine keeps a header value on one line (a value with a line break
// would start a new field).
func oneLine(v string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
}
