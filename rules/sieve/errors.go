package sieve

import (
	"fmt"
	"strings"

	"github.com/mailwarden/mailwarden/internal/diag"
)

// Error is one located compile or runtime error.
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
	Hint string
}

// Error formats the error as "file:line:col: msg (hint: …)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// ErrorList is every error found while compiling one script, in source
// order. Compile returns all of them at once.
type ErrorList []*Error

// Error joins the errors, one per line.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap lets errors.As find the individual errors.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// RuntimeError is an error raised while executing a script (RFC 5228
// §2.10.6): the caller keeps the message.
type RuntimeError struct {
	Script string
	Line   int
	Msg    string
	Err    error // wrapped cause, may be nil
	// Unsupported marks the error of a test the script's step said to
	// skip (Options.SkipUnsupported: envelope without the envelope
	// headers): expected, so callers log it as a warning.
	Unsupported bool
}

// Skipped reports whether the error comes from a test the user chose to
// skip (Unsupported); the message is kept as on any runtime error.
func (e *RuntimeError) Skipped() bool { return e.Unsupported }

func (e *RuntimeError) Error() string {
	s := fmt.Sprintf("%s:%d: runtime error: %s", e.Script, e.Line, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *RuntimeError) Unwrap() error { return e.Err }

// suggest returns the candidate closest to s, or "" when none is a
// likely typo.
func suggest(s string, candidates []string) string {
	return diag.Closest(s, candidates, 5)
}
