package sieve

import (
	"bytes"
	"mime"
	"net/mail"
	"os"
	"strings"
	"testing"

	"github.com/emersion/go-message/charset"
	"github.com/mailwarden/mailwarden/rules"
)

var testWordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// parseTestMessage builds a rules.Message from .eml bytes, leniently: a
// test-only stand-in for engine/message.
func parseTestMessage(raw []byte) *rules.Message {
	hdr := raw
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		hdr = raw[:i+2]
	} else if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		hdr = raw[:i+1]
	}
	var fields []rules.Field
	lines := strings.Split(strings.ReplaceAll(string(hdr), "\r\n", "\n"), "\n")
	for _, line := range lines {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			fields[len(fields)-1].Raw += line
			continue
		}
		i := strings.IndexByte(line, ':')
		if i <= 0 {
			continue
		}
		fields = append(fields, rules.Field{Name: strings.TrimRight(line[:i], " \t"), Raw: line[i+1:]})
	}
	for i := range fields {
		fields[i].Raw = strings.TrimSpace(fields[i].Raw)
		v, err := testWordDecoder.DecodeHeader(fields[i].Raw)
		if err != nil {
			v = fields[i].Raw
		}
		fields[i].Value = v
	}
	m := &rules.Message{Mailbox: "INBOX", Header: rules.NewHeader(fields), Size: int64(len(raw)), WordDecoder: testWordDecoder}
	if d, err := mail.ParseDate(m.Header.Get("Date")); err == nil {
		m.Date = d
	}
	m.SetRaw(raw, false)
	return m
}

func loadTestMessage(t testing.TB, path string) *rules.Message {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseTestMessage(raw)
}
