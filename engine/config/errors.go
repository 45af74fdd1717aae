package config

import (
	"github.com/mailwarden/mailwarden/internal/diag"
	"strings"
)

// Pos is a position in the config file (diag.Pos): "file:line:col".
type Pos = diag.Pos

// Error is one problem in the config, printed as
//
//	file:line:col: key.path: message (hint: hint)
type Error struct {
	Pos  Pos
	Path string // "accounts[0].tls"; "" for the whole file
	Msg  string
	Hint string
}

func (e *Error) Error() string {
	var b strings.Builder
	if p := e.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(e.Hint)
		b.WriteByte(')')
	}
	return b.String()
}

// ErrorList is every problem found in a config file, in file order for
// shape errors followed by semantic ones. Its Error method prints one per
// line.
type ErrorList []error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.As find individual errors.
func (l ErrorList) Unwrap() []error { return l }

// didYouMean returns the candidate closest to s when it is a likely typo
// (edit distance 1, or 2 for names of 6+ characters), else "".
func didYouMean(s string, candidates []string) string {
	return diag.Closest(s, candidates, 6)
}

func oneOf(values []string) string { return "one of " + strings.Join(values, ", ") }
