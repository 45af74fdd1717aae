package sieve

import (
	"context"
	"strings"
	"testing"
)

// outcome runs src on the raw message and returns the normalised result
// joined with " | " (the differential test's line format).
func outcome(t *testing.T, src, raw string) string {
	t.Helper()
	s := mustCompile(t, src, nil)
	res, err := s.Execute(context.Background(), parseTestMessage([]byte(raw)))
	return strings.Join(normalize(res, err), " | ")
}

// RFC 5260 §6: :index counts across the whole header list, not per name.
func TestIndexCountsAcrossNames(t *testing.T) {
	const msg = "From: a@example.org\r\nTo: b@example.org\r\nCc: c@example.org\r\nCc: d@example.org\r\n\r\nbody\r\n"
	tests := []struct{ test, want string }{
		{`header :index 2 :is ["From","To"] "b@example.org"`, `fileinto "yes"`},
		{`header :index 1 :is ["From","To"] "b@example.org"`, "keep"},
		{`header :index 2 :is ["To","From"] "a@example.org"`, `fileinto "yes"`},
		{`header :index 3 :is ["Cc","From"] "a@example.org"`, `fileinto "yes"`},
		{`header :index 1 :last :is ["From","Cc"] "d@example.org"`, `fileinto "yes"`},
		{`header :index 2 :last :is ["From","To"] "a@example.org"`, `fileinto "yes"`},
		{`header :index 4 :is ["From","To","Cc"] "d@example.org"`, `fileinto "yes"`},
		{`header :index 5 :matches ["From","To","Cc"] "*"`, "keep"},
		{`address :index 2 :is ["From","To"] "b@example.org"`, `fileinto "yes"`},
		{`address :index 2 :last :localpart :is ["Cc","To"] "d"`, `fileinto "yes"`},
		{`header :index 2 :count "eq" ["From","To"] "1"`, `fileinto "yes"`},
	}
	for _, tt := range tests {
		src := "require [\"fileinto\", \"index\", \"relational\"];\nif " + tt.test + " { fileinto \"yes\"; }"
		if got := outcome(t, src, msg); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.test, got, tt.want)
		}
	}
}

// With :mime :anychild the names come first, then the parts, and :index
// selects a field whose value options (:param) are read afterwards.
func TestIndexAcrossMIMEParts(t *testing.T) {
	const msg = "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\nx\r\n" +
		"--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\neA==\r\n--b--\r\n"
	tests := []struct{ test, want string }{
		{`header :mime :anychild :matches ["Content-Transfer-Encoding","Content-Type"] "*"`, `fileinto "8bit"`},
		{`header :mime :anychild :index 3 :matches ["Content-Transfer-Encoding","Content-Type"] "*/*;*"`, `fileinto "multipart"`},
		{`header :mime :anychild :param ["boundary","charset"] :index 2 :matches "Content-Type" "*"`, `fileinto "koi8-r"`},
		{`header :mime :anychild :index 1 :last :type :matches "Content-Type" "*"`, `fileinto "text"`},
	}
	for _, tt := range tests {
		src := "require [\"fileinto\", \"index\", \"mime\", \"variables\"];\nif " + tt.test + " { fileinto \"${1}\"; }"
		if got := outcome(t, src, msg); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.test, got, tt.want)
		}
	}
}

// Comments are no part of an address, even inside the addr-spec (RFC 5322
// §3.2.2), as Pigeonhole reads them (its test-address.svtest).
func TestAddressComments(t *testing.T) {
	const msg = "From: Stephan Bosch <stephan(the author)@example.com>\r\n" +
		"To: Nico <nico@nl.example.com>, Harry Becker <harry@de.example.com>\r\n" +
		"Cc: Timo <tss(no spam)@fi.iki>\r\n\r\nbody\r\n"
	tests := []struct{ test, want string }{
		{`address :is "cc" "tss@fi.iki"`, `fileinto "yes"`},
		{`address :localpart :is "from" "stephan"`, `fileinto "yes"`},
		{`address :contains :all "from" "author"`, "keep"},
		{`address :contains :all ["to", "from"] ["Bosch", "Becker"]`, "keep"},
	}
	for _, tt := range tests {
		src := "require \"fileinto\";\nif " + tt.test + " { fileinto \"yes\"; }"
		if got := outcome(t, src, msg); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.test, got, tt.want)
		}
	}
	for in, want := range map[string]string{
		"Timo <tss(no spam)@fi.iki>":        "Timo<tss@fi.iki>",
		"a@b.example (comment (nested))":    "a@b.example  ",
		`"Q (not a comment)" <q@x.example>`: `"Q (not a comment)"<q@x.example>`,
		"x@y.example (unclosed":             "x@y.example  ",
		`E <e(c\)omment)@x.example>`:        `E<e@x.example>`,
	} {
		if got := stripComments(in); got != want {
			t.Errorf("stripComments(%q) = %q, want %q", in, got, want)
		}
	}
}

// exists :mime :anychild wants each name in some part, not every name in
// one part (Pigeonhole's mime/exists.svtest).
func TestExistsMIMEAnychild(t *testing.T) {
	const msg = "From: a@example.org\r\nX-Outer: 1\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\nX-Inner: 1\r\n\r\nx\r\n--b--\r\n"
	tests := []struct{ test, want string }{
		{`exists :mime :anychild ["X-Outer", "X-Inner"]`, `fileinto "yes"`},
		{`exists :mime :anychild ["X-Outer", "X-Nonsense"]`, "keep"},
		{`exists :mime ["X-Outer", "X-Inner"]`, "keep"},
	}
	for _, tt := range tests {
		src := "require [\"fileinto\", \"mime\"];\nif " + tt.test + " { fileinto \"yes\"; }"
		if got := outcome(t, src, msg); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.test, got, tt.want)
		}
	}
}
