package sieve

import "testing"

const nestedMsg = "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n" +
	"Outer prologue.\r\n" +
	"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n" +
	"Inner prologue.\r\n" +
	"--inner\r\nContent-Type: text/plain\r\n\r\nHello in plain text\r\n" +
	"--inner\r\nContent-Type: application/xhtml+xml\r\n\r\n<html><body>Hello in XHTML</body></html>\r\n" +
	"--inner--\r\n\r\nInner epilogue.\r\n" +
	"--outer\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: x-unknown\r\n\r\n<p>Hidden</p>\r\n" +
	"--outer--\r\n"

// RFC 5173 §5.2: a multipart contributes its prologue and, unless empty,
// its epilogue, as separate values (as Pigeonhole: its body/content.svtest).
func TestBodyMultipartEpilogue(t *testing.T) {
	tests := []struct{ test, want string }{
		{`body :content "multipart" :contains "Inner epilogue"`, `fileinto "yes"`},
		{`body :content "multipart" :contains "Outer prologue"`, `fileinto "yes"`},
		// outer prologue, inner prologue, inner epilogue; the outer
		// epilogue is empty.
		{`body :content "multipart" :count "eq" :comparator "i;ascii-numeric" "3"`, `fileinto "yes"`},
	}
	for _, tt := range tests {
		src := "require [\"fileinto\", \"body\", \"relational\", \"comparator-i;ascii-numeric\"];\nif " + tt.test + " { fileinto \"yes\"; }"
		if got := outcome(t, src, nestedMsg); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.test, got, tt.want)
		}
	}
}

// body :text reads XHTML as text, and a part with an unknown
// Content-Transfer-Encoding has no content (RFC 2045 §6.4; as Pigeonhole,
// its body/text.svtest).
func TestBodyTextXHTMLAndUnknownEncoding(t *testing.T) {
	tests := []struct{ test, want string }{
		{`body :text :contains "Hello in XHTML"`, `fileinto "yes"`},
		{`body :text :contains "<body>"`, "keep"},
		{`body :text :contains "Hidden"`, "keep"},
		{`body :content "text/html" :contains "Hidden"`, "keep"},
		{`body :raw :contains "Hidden"`, `fileinto "yes"`},
	}
	for _, tt := range tests {
		src := "require [\"fileinto\", \"body\"];\nif " + tt.test + " { fileinto \"yes\"; }"
		if got := outcome(t, src, nestedMsg); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.test, got, tt.want)
		}
	}
}

// A Content-Type that is not "type/subtype" leaves the part without a
// type (only body :content "" matches it), and the :mime value options
// give the media type as written (RFC 5173 §5.2, as Pigeonhole: its
// body/content.svtest).
func TestContentTypeForms(t *testing.T) {
	const msg = "From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain/stupid\r\n\r\nTwo slashes\r\n" +
		"--b\r\nContent-Type: TEXT/Plain\r\n\r\nUpper case\r\n--b--\r\n"
	tests := []struct{ test, want string }{
		{`body :content "text/plain/stupid" :contains ""`, "keep"},
		{`body :content "/" :contains ""`, "keep"},
		{`body :content "text" :contains "Two slashes"`, "keep"},
		{`body :content "" :contains "Two slashes"`, `fileinto "yes"`},
		{`body :text :contains "Two slashes"`, "keep"},
		{`body :content "text/plain" :contains "Upper case"`, `fileinto "yes"`},
		{`header :mime :anychild :type :is :comparator "i;octet" "content-type" "TEXT"`, `fileinto "yes"`},
		{`header :mime :anychild :contenttype :is "content-type" ""`, `fileinto "yes"`},
	}
	for _, tt := range tests {
		src := "require [\"fileinto\", \"body\", \"mime\"];\nif " + tt.test + " { fileinto \"yes\"; }"
		if got := outcome(t, src, msg); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.test, got, tt.want)
		}
	}
}
