package message

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// watchdog crashes the fuzz worker when one input runs longer than d, so
// that the fuzzer records a hang as a failing input instead of stalling.
func watchdog(d time.Duration) (stop func()) {
	t := time.AfterFunc(d, func() { panic("fuzz input ran longer than " + d.String()) })
	return func() { t.Stop() }
}

// FuzzDecodeWords: RFC 2047 decoding never panics, always yields valid
// UTF-8, leaves text without encoded words alone, and cannot blow up:
// the output is at most three bytes per input byte (U+FFFD for an invalid
// byte; a two-byte legacy character becoming two runes).
func FuzzDecodeWords(f *testing.F) {
	// Found by this target: text without encoded words came back as it
	// was, invalid UTF-8 included, despite the documented guarantee.
	for _, s := range []string{
		"=?UTF-8?B?w6ljb2xl?= =?UTF-8?Q?_caf=C3=A9?=",
		"=?iso-8859-1?q?Andr=E9?= Pirard",
		"=?koi8-r?B?8NLJ18XU?=",
		"=?Shift_JIS?B?k/qWe4zq?=",
		"=?utf-8?B?4oI=?= =?utf-8?B?rA==?=",
		"=?utf-8*en?Q?ok?= =?x-unknown?B?AAAA?= =?=?= =? =?utf-8?X?x?=",
		"=?utf-16?B?AEEAQgBD?= =?iso-2022-jp?B?GyRCJTclaSVXGyhC?=",
		"=?big5-hkscs?B?iGI=?=",
		"plain \xff text",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		defer watchdog(5 * time.Second)()
		out := DecodeWords(s)
		if !utf8.ValidString(out) {
			t.Fatalf("DecodeWords(%q) = %q: invalid UTF-8", s, out)
		}
		if !strings.Contains(s, "=?") && utf8.ValidString(s) && out != s {
			t.Fatalf("DecodeWords(%q) = %q: changed text without encoded words", s, out)
		}
		if len(out) > 3*len(s)+8 {
			t.Fatalf("DecodeWords: %d bytes from %d", len(out), len(s))
		}
	})
}

// FuzzAddresses: the address fields of a parsed message (rules'
// lenient ParseAddressList, with this package's word decoder) never
// panic, and every address has a non-empty addr-spec.
func FuzzAddresses(f *testing.F) {
	for _, s := range []string{
		`"Müller, J." <j@example.org>, b@example.com`,
		"=?utf-8?q?J=C3=BCrgen?= <j@example.net>",
		`g1: g2: a@example.com;, b@example.com;;;, undisclosed-recipients:;`,
		`"unbalanced <a@example.com>, "b" <<<b@example.com>>>, c@, @d, <>, "x\"y" <x@[1.2.3.4]>`,
		"((((a@example.com))))",
		`a@b@c@d, @example.com, "=?utf-8?B?/w==?=" <x@y>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		defer watchdog(5 * time.Second)()
		m := Parse([]byte("From: "+value+"\r\nTo: "+value+"\r\n\r\n"), Meta{})
		for _, name := range []string{"From", "To"} {
			for _, a := range m.Addresses(name) {
				if a.Address == "" {
					t.Fatalf("%s %q: empty address in %+v", name, value, a)
				}
				_ = a.Domain()
				_ = a.LocalPart()
				_ = a.String()
			}
		}
	})
}
