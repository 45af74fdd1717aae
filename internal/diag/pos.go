// Package diag holds what every located error message in mailwarden
// needs: a source position printed as "file:line:col", and the "did you
// mean" suggestion for a misspelt name. The config loader, expr rules and
// Sieve use it, so their errors read the same. Standard library only, so
// any layer may import it.
package diag

import (
	"strconv"
	"strings"
)

// Pos is a position in a source file (the config file or a script). Line
// and Col are 1-based (Col counts characters); zero parts are left out
// when printing.
type Pos struct {
	File      string
	Line, Col int
}

// String formats p as "file:line:col", leaving out what is unknown.
func (p Pos) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(p.Line))
		if p.Col > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Col))
		}
	}
	return b.String()
}
