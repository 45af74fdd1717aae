package exprrule

import (
	"fmt"
	"github.com/mailwarden/mailwarden/internal/diag"
	"strings"
)

// Pos is a position in the config file (diag.Pos): "file:line:col".
type Pos = diag.Pos

// Error is one problem found while compiling a rule, printed as
//
//	file:line:col: rule "name": field: message (hint: hint)
type Error struct {
	Pos   Pos
	Rule  string // rule name
	Field string // "when", "actions[1]", "name"
	Msg   string
	Hint  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if p := e.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "rule %q: ", e.Rule)
	if e.Field != "" {
		b.WriteString(e.Field)
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

// didYouMean returns the candidate closest to s when it is a likely typo
// (edit distance 1, or 2 for names of 8+ characters), else "".
func didYouMean(s string, candidates []string) string {
	return diag.Closest(s, candidates, 8)
}
