package sieve

import (
	"testing"
)

func TestUnicodeCasemap(t *testing.T) {
	const msg = "From: stephan@example.org\r\nX-A: This is a header with T\xc3\x88ST\r\n" + // "TÈST"
		"X-Decomposed: Cafe\xcc\x81 au lait\r\n" + // "Café" with a combining acute
		"X-Lig: \xef\xac\x81le\r\n" + // "ﬁle"
		"X-Sharp: Stra\xc3\x9fe\r\n\r\nbody\r\n" // "Straße"
	tests := []struct{ test, want string }{
		// Pigeonhole 2.4's own tests (tests/comparators/i-unicode-casemap.svtest).
		{`header :contains :comparator "i;unicode-casemap" "X-A" "TÈST"`, `fileinto "yes"`},
		{`header :contains :comparator "i;unicode-casemap" "X-A" "tèst"`, `fileinto "yes"`},
		{`header :matches :comparator "i;unicode-casemap" "X-A" "This*with*TÈST"`, `fileinto "yes"`},
		{`header :matches :comparator "i;unicode-casemap" "X-A" "ThIs*with*tèsT"`, `fileinto "yes"`},
		{`header :matches :comparator "i;unicode-casemap" "X-A" "t${hex:ff}st"`, "keep"},
		// RFC 5051: titlecase, then full decomposition.
		{`header :is :comparator "i;unicode-casemap" "X-Decomposed" "CAFÉ AU LAIT"`, `fileinto "yes"`},
		{`header :contains :comparator "i;unicode-casemap" "X-Decomposed" "café"`, `fileinto "yes"`},
		{`header :is :comparator "i;unicode-casemap" "X-Lig" "FILE"`, `fileinto "yes"`},
		{`header :is :comparator "i;unicode-casemap" "X-Sharp" "STRASSE"`, "keep"}, // simple mappings only
		{`header :is :comparator "i;unicode-casemap" "X-Sharp" "straße"`, `fileinto "yes"`},
		// Whole characters only: "cafe" is not in "café".
		{`header :contains :comparator "i;unicode-casemap" "X-Decomposed" "cafe "`, "keep"},
		{`header :matches :comparator "i;unicode-casemap" "X-Decomposed" "caf? au lait"`, `fileinto "yes"`},
		{`header :matches :comparator "i;unicode-casemap" "X-Decomposed" "caf?? au lait"`, "keep"},
		// i;ascii-casemap does not fold È.
		{`header :contains "X-A" "tèst"`, "keep"},
		// Ordering compares canonical forms.
		{`header :value "gt" :comparator "i;unicode-casemap" "X-A" "this is a header with tèss"`, `fileinto "yes"`},
		{`header :value "eq" :comparator "i;unicode-casemap" "X-A" "THIS IS A HEADER WITH tèst"`, `fileinto "yes"`},
	}
	for _, tt := range tests {
		src := "require [\"fileinto\", \"relational\", \"variables\", \"encoded-character\"];\nif " + tt.test + " { fileinto \"yes\"; }"
		if got := outcome(t, src, msg); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.test, got, tt.want)
		}
	}
}

// Match variables hold the value's own text, not its canonical form.
func TestUnicodeCasemapCaptures(t *testing.T) {
	const msg = "Subject: Re: Cafe\xcc\x81 \xd0\xa1\xd1\x87\xd1\x91\xd1\x82 42\r\n\r\nbody\r\n" // "Re: Café Счёт 42"
	src := `require ["fileinto", "variables"];
if header :matches :comparator "i;unicode-casemap" "subject" "RE: CAF? с*т *" { fileinto "${1}|${2}|${3}"; }`
	if got, want := outcome(t, src, msg), "fileinto \"e\u0301|\u0447\u0451|42\""; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestUnicodeCasemapRequire(t *testing.T) {
	for _, src := range []string{
		`if header :is :comparator "i;unicode-casemap" "subject" "x" { keep; }`,
		`require "comparator-i;unicode-casemap"; if header :is :comparator "i;unicode-casemap" "subject" "x" { keep; }`,
	} {
		if _, err := Compile("t.sieve", []byte(src), nil); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

func TestUCCanon(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "ABC"},
		{"é", "E\u0301"},
		{"e\u0301", "E\u0301"},
		{"ﬁ", "FI"},
		{"ǆ", "DZ\u030c"},
		{"ß", "ß"},
		{"ⅰ", "I"},
	}
	for _, tt := range tests {
		if got := ucCanon(tt.in); got != tt.want {
			t.Errorf("ucCanon(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := ucCanon(ucCanon(tt.in)); got != ucCanon(tt.in) {
			t.Errorf("ucCanon not idempotent on %q", tt.in)
		}
	}
}
