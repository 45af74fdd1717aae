package sieve

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// str is a compiled string argument: a constant, or a template with
// variable references when the variables extension is in use
// (RFC 5229 §3).
type str struct {
	lit   string    // the value when parts is nil
	parts []strPart // template; nil means constant
}

type strPart struct {
	lit   string
	name  string // variable name, lower-cased ("" for a literal part)
	num   int    // match variable number, -1 when name is a named variable
	scope int    // 0 local, 1 global (RFC 6609 §3.5 "global." namespace)
}

func (s *str) constant() bool { return s.parts == nil }

// str compiles a string at pos: encoded characters are decoded (RFC 5228
// §2.4.2.4) and, with "variables", "${…}" references become parts.
func (c *compiler) str(v string, pos position) *str {
	if c.has("encoded-character") {
		v = decodeEncodedChars(v)
	}
	if !c.has("variables") || !strings.Contains(v, "${") {
		return &str{lit: v}
	}
	var parts []strPart
	lit := strings.Builder{}
	i := 0
	for i < len(v) {
		j := strings.Index(v[i:], "${")
		if j < 0 {
			lit.WriteString(v[i:])
			break
		}
		lit.WriteString(v[i : i+j])
		i += j
		end := strings.IndexByte(v[i+2:], '}')
		if end < 0 {
			lit.WriteString(v[i:])
			break
		}
		ref := v[i+2 : i+2+end]
		if p, ok := c.varRef(ref); ok {
			if lit.Len() > 0 {
				parts = append(parts, strPart{lit: lit.String(), num: -1})
				lit.Reset()
			}
			parts = append(parts, p)
			i += end + 3
			continue
		}
		// Not a valid reference: "${" is literal (RFC 5229 §3); rescan
		// from the next character so "${${a}}" still finds ${a}.
		lit.WriteString("$")
		i++
	}
	if lit.Len() > 0 {
		parts = append(parts, strPart{lit: lit.String(), num: -1})
	}
	if len(parts) == 1 && parts[0].name == "" && parts[0].num < 0 {
		return &str{lit: parts[0].lit}
	}
	if len(parts) == 0 {
		return &str{}
	}
	return &str{parts: parts}
}

// varRef parses the inside of "${…}" (RFC 5229 §3 variable-ref).
func (c *compiler) varRef(ref string) (strPart, bool) {
	if ref == "" {
		return strPart{}, false
	}
	if isDigit(ref[0]) {
		for i := 0; i < len(ref); i++ {
			if !isDigit(ref[i]) {
				return strPart{}, false
			}
		}
		n, err := strconv.Atoi(ref)
		if err != nil || n > 1<<20 {
			n = 1 << 20
		}
		return strPart{num: n}, true
	}
	scope := 0
	name := strings.ToLower(ref)
	if strings.HasPrefix(name, "global.") && c.has("include") {
		scope = 1
		name = name[len("global."):]
	}
	if !validIdentifier(name) {
		return strPart{}, false
	}
	if scope == 0 && c.globals[name] {
		scope = 1
	}
	return strPart{name: name, num: -1, scope: scope}, true
}

// validIdentifier reports whether s is an RFC 5228 identifier.
func validIdentifier(s string) bool {
	if s == "" || !(isAlpha(s[0]) || s[0] == '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !(isAlpha(s[i]) || isDigit(s[i]) || s[i] == '_') {
			return false
		}
	}
	return true
}

// strs compiles every string of a string-list argument.
func (c *compiler) strs(a *arg) []*str {
	out := make([]*str, len(a.strs))
	for i, s := range a.strs {
		out[i] = c.str(s, a.spos[i])
	}
	return out
}

// expand returns the value of s in r.
func (r *run) expand(s *str) string {
	if s.parts == nil {
		return s.lit
	}
	var b strings.Builder
	for i := range s.parts {
		p := &s.parts[i]
		switch {
		case p.name != "":
			b.WriteString(r.getVar(p.name, p.scope))
		case p.num >= 0:
			if p.num < len(r.matchVars) {
				b.WriteString(r.matchVars[p.num])
			}
		default:
			b.WriteString(p.lit)
		}
		if b.Len() > r.s.lim.maxVarSize*4 {
			break
		}
	}
	return b.String()
}

// expandAll expands a list; constant lists are returned without copying.
func (r *run) expandAll(list []*str, consts []string) []string {
	if consts != nil {
		return consts
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = r.expand(s)
	}
	return out
}

// constStrings returns the values of list when all are constant, else nil.
func constStrings(list []*str) []string {
	out := make([]string, len(list))
	for i, s := range list {
		if !s.constant() {
			return nil
		}
		out[i] = s.lit
	}
	return out
}

// decodeEncodedChars decodes "${hex:…}" and "${unicode:…}" (RFC 5228
// §2.4.2.4). Malformed encodings are left as they are.
func decodeEncodedChars(v string) string {
	if !strings.Contains(v, "${") {
		return v
	}
	var b strings.Builder
	i := 0
	for i < len(v) {
		j := strings.Index(v[i:], "${")
		if j < 0 {
			b.WriteString(v[i:])
			break
		}
		b.WriteString(v[i : i+j])
		i += j
		end := strings.IndexByte(v[i:], '}')
		if end < 0 {
			b.WriteString(v[i:])
			break
		}
		inner := v[i+2 : i+end]
		if dec, ok := decodeEncoded(inner); ok {
			b.WriteString(dec)
			i += end + 1
			continue
		}
		b.WriteString("$")
		i++
	}
	return b.String()
}

func decodeEncoded(inner string) (string, bool) {
	colon := strings.IndexByte(inner, ':')
	if colon < 0 {
		return "", false
	}
	kind := strings.ToLower(inner[:colon])
	if kind != "hex" && kind != "unicode" {
		return "", false
	}
	fields := strings.FieldsFunc(inner[colon+1:], func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	if len(fields) == 0 {
		return "", false
	}
	var b strings.Builder
	for _, f := range fields {
		if kind == "hex" && len(f) > 2 {
			return "", false
		}
		n, err := strconv.ParseUint(f, 16, 32)
		if err != nil {
			return "", false
		}
		if kind == "hex" {
			if n > 0xff {
				return "", false
			}
			b.WriteByte(byte(n))
		} else {
			// RFC 5228 §2.4.2.4: surrogates and values above 0x10FFFF are
			// errors; we leave the sequence undecoded.
			if n > utf8.MaxRune || (n >= 0xd800 && n <= 0xdfff) {
				return "", false
			}
			b.WriteRune(rune(n))
		}
	}
	return b.String(), true
}
