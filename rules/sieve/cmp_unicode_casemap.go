package sieve

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// i;unicode-casemap (RFC 5051), the case-insensitive comparator of
// Proton and Fastmail scripts. Like Pigeonhole 2.4, which added it, it
// needs no `require` (it is a core comparator there); require
// "comparator-i;unicode-casemap" is accepted too.
//
// RFC 5051 §2 compares "titlecased canonicalized" strings: each character
// is mapped to its titlecase (the simple mapping of UnicodeData.txt), then
// fully decomposed (NFKD). We titlecase the decomposed result once more,
// so that compatibility decompositions fold as well ("ﬁ" → "fi" → "FI";
// the RFC's order leaves "fi") and the canonical form is idempotent.
//
// Equality and ordering compare canonical strings octet by octet, as the
// RFC says. Substring and wildcard matching work on characters of the
// value (a character with its combining marks): a key matches only whole
// characters, so "cafe" is not in "café" although "CAFE" is a prefix of
// its decomposition, "?" matches one such character, and match variables
// hold the value's own text, not its canonical form.

// ucUnit is one character of a value: a starter with the combining
// marks (non-zero canonical combining class) that follow it.
type ucUnit struct {
	canon      string // titlecased canonical form
	start, end int    // byte offsets in the value
}

// ucCanon returns the canonical form of s.
func ucCanon(s string) string {
	if isASCII(s) {
		return asciiUpper(s)
	}
	return ucTitle(norm.NFKD.String(ucTitle(s)))
}

// ucTitle maps every rune to its titlecase (simple mapping).
func ucTitle(s string) string { return strings.Map(unicode.ToTitle, s) }

// isASCII reports whether s is ASCII, where canonicalisation is just
// upper-casing (no ASCII character decomposes).
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// ucUnits splits s into characters with their canonical forms.
func ucUnits(s string) []ucUnit {
	units := make([]ucUnit, 0, len(s))
	for i := 0; i < len(s); {
		_, n := utf8.DecodeRuneInString(s[i:])
		j := i + n
		for j < len(s) {
			r, m := utf8.DecodeRuneInString(s[j:])
			if r == utf8.RuneError || norm.NFD.PropertiesString(s[j:j+m]).CCC() == 0 {
				break
			}
			j += m
		}
		units = append(units, ucUnit{canon: ucCanon(s[i:j]), start: i, end: j})
		i = j
	}
	return units
}

// ucLiteral reports whether the canonical literal lit is spelled by whole
// units from us[i], and returns the index after the last one.
func ucLiteral(us []ucUnit, i int, lit string) (int, bool) {
	for lit != "" {
		if i >= len(us) || !strings.HasPrefix(lit, us[i].canon) {
			return 0, false
		}
		lit = lit[len(us[i].canon):]
		i++
	}
	return i, true
}

// ucContains reports whether the canonical key occurs in the value made
// of us, starting and ending at character boundaries.
func ucContains(us []ucUnit, key string) bool {
	if key == "" {
		return true
	}
	for i := range us {
		if _, ok := ucLiteral(us, i, key); ok {
			return true
		}
	}
	return false
}

// ucGlob is a :matches pattern under i;unicode-casemap: the same
// elements as glob, literals in canonical form, matched over characters.
type ucGlob struct {
	elems []globElem
	nCaps int
}

func compileUCGlob(pat string) *ucGlob {
	g := &ucGlob{}
	for _, e := range compileGlob(pat, false).elems {
		if e.kind == 'l' {
			e.lit = ucCanon(e.lit)
		} else {
			g.nCaps++
		}
		g.elems = append(g.elems, e)
	}
	return g
}

// run matches the value s (split into us) like glob.run: the linear
// wildcard matcher that backtracks only to the most recent "*", over
// characters instead of bytes. Earlier "*" match as little as possible.
func (g *ucGlob) run(s string, us []ucUnit, wantCaps bool) ([]string, bool) {
	var capStart, capEnd []int // in units
	if wantCaps {
		capStart = make([]int, len(g.elems))
		capEnd = make([]int, len(g.elems))
	}
	ei, ui := 0, 0
	starE, starU := -1, 0
	for {
		if ei < len(g.elems) {
			e := &g.elems[ei]
			switch e.kind {
			case '*':
				starE, starU = ei, ui
				if wantCaps {
					capStart[ei], capEnd[ei] = ui, ui
				}
				ei++
				if ei == len(g.elems) {
					if wantCaps {
						capEnd[starE] = len(us)
					}
					ui = len(us)
				}
				continue
			case '?':
				if ui < len(us) {
					if wantCaps {
						capStart[ei], capEnd[ei] = ui, ui+1
					}
					ui++
					ei++
					continue
				}
			default:
				if j, ok := ucLiteral(us, ui, e.lit); ok {
					ui = j
					ei++
					continue
				}
			}
		} else if ui == len(us) {
			break
		}
		if starE < 0 || starU >= len(us) {
			return nil, false
		}
		starU++
		if wantCaps {
			capEnd[starE] = starU
		}
		ui, ei = starU, starE+1
	}
	if !wantCaps {
		return nil, true
	}
	off := func(u int) int {
		if u < len(us) {
			return us[u].start
		}
		return len(s)
	}
	caps := make([]string, 1, g.nCaps+1)
	caps[0] = s
	for i, e := range g.elems {
		if e.kind != 'l' {
			caps = append(caps, s[off(capStart[i]):off(capEnd[i])])
		}
	}
	return caps, true
}
