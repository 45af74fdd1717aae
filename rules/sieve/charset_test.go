package sieve

import (
	"context"
	"os"
	"strings"
	"testing"
)

// Body parts in charsets the standard library does not know match once
// the message's CharsetReader (go-message's, set by engine/message)
// converts them, in body, extracttext and the :mime tests alike.
func TestBodyCharsets(t *testing.T) {
	raw, err := os.ReadFile("testdata/msgs/charsets.eml")
	if err != nil {
		t.Fatal(err)
	}
	src := `require ["fileinto", "body", "variables", "mime", "foreverypart", "extracttext"];
if body :text :contains "Привет" { fileinto "koi8-r"; }
if body :text :contains "請求書" { fileinto "shift_jis"; }
if body :text :contains "Здравствуйте" { fileinto "windows-1251"; }
if body :content "text/plain" :contains "测试邮件" { fileinto "gb2312"; }
foreverypart {
  if header :mime :param "charset" :is "Content-Type" "shift_jis" {
    extracttext "t";
    if string :contains "${t}" "日本語のメール" { fileinto "extracttext"; }
  }
}`
	s := mustCompile(t, src, nil)

	m := parseTestMessage(raw)
	if m.CharsetReader == nil {
		t.Fatal("engine/message did not set CharsetReader")
	}
	res, err := s.Execute(context.Background(), m)
	got := strings.Join(normalize(res, err), " | ")
	want := `fileinto "koi8-r" | fileinto "shift_jis" | fileinto "windows-1251" | fileinto "gb2312" | fileinto "extracttext"`
	if got != want {
		t.Errorf("with go-message's charsets:\n got %s\nwant %s", got, want)
	}

	// Without a CharsetReader only the standard library's charsets
	// convert: none of these does, and nothing fails.
	m = parseTestMessage(raw)
	m.CharsetReader = nil
	res, err = s.Execute(context.Background(), m)
	if got := strings.Join(normalize(res, err), " | "); got != "keep" {
		t.Errorf("without a CharsetReader: %s, want keep", got)
	}
}

func TestToUTF8Fallback(t *testing.T) {
	tests := []struct {
		in, cs, want string
	}{
		{"caf\xe9", "ISO-8859-1", "café"},
		{"\x80 \x93q\x94", "windows-1252", "€ “q”"},
		{"\xa4", "iso-8859-15", "€"},
		{"ok \xff", "utf-8", "ok ?"},
		{"\xf0\xd2\xc9 ok", "koi8-r", "? ok"}, // unknown without a reader: replaced, never an error
	}
	for _, tt := range tests {
		if got := toUTF8([]byte(tt.in), tt.cs, nil); got != tt.want {
			t.Errorf("toUTF8(%q, %s) = %q, want %q", tt.in, tt.cs, got, tt.want)
		}
	}
}
