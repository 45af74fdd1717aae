package sieve

import (
	"fmt"
	"strings"
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
}

func (e *RuntimeError) Error() string {
	s := fmt.Sprintf("%s:%d: runtime error: %s", e.Script, e.Line, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *RuntimeError) Unwrap() error { return e.Err }

// levenshtein returns the edit distance between a and b (for "did you
// mean" hints).
func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// suggest returns the candidate closest to s, or "" when none is close.
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(s), c)
		if d < bestD || (d == bestD && best != "" && c < best) {
			if d < bestD {
				best, bestD = c, d
			} else if c < best {
				best = c
			}
		}
	}
	if best != "" && bestD > len(s)/2+1 {
		return ""
	}
	return best
}
