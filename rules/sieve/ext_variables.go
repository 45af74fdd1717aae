package sieve

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// variables (RFC 5229): set with modifiers, the string test, ${name} and
// ${N} references (see str.go). Names are case-insensitive; values longer
// than Options.MaxVariableSize are truncated at a character boundary
// (RFC 5229 §6).

func init() {
	registerExtension("variables", "encoded-character")
	registerCommand("set", "variables", compileSet)
	registerTest("string", "variables", compileString)
}

// varName returns the storage name of a variable: "global." prefixed when
// it is a global variable (RFC 6609 §3.5).
func (c *compiler) varName(name string) string {
	if strings.HasPrefix(name, "global.") {
		return name
	}
	if c.globals[name] {
		return "global." + name
	}
	return name
}

func (r *run) getVar(name string, scope int) string {
	if scope == 1 {
		return r.globals[name]
	}
	return r.vars[name]
}

func (r *run) getVarName(name string) string {
	if g, ok := strings.CutPrefix(name, "global."); ok {
		return r.globals[g]
	}
	return r.vars[name]
}

// setVarName assigns a variable, enforcing the size and count limits.
func (r *run) setVarName(name, value string) error {
	if max := r.root.lim.maxVarSize; len(value) > max {
		value = truncateUTF8(value, max)
	}
	m := &r.vars
	if g, ok := strings.CutPrefix(name, "global."); ok {
		name = g
		m = &r.globals
	}
	if *m == nil {
		*m = map[string]string{}
	}
	if _, ok := (*m)[name]; !ok {
		r.nVars++
		if r.nVars > r.root.lim.maxVars {
			return r.errorf("more than %d variables", r.root.lim.maxVars)
		}
	}
	(*m)[name] = value
	return nil
}

func truncateUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

// maxMatchVars is how many match variables a match sets: ${0}…${31},
// as Pigeonhole (RFC 5229 §3.2 asks for at least ${0}…${9}).
const maxMatchVars = 32

// setMatchVars records the match variables after a successful :matches
// or :regex (RFC 5229 §3.2).
func (r *run) setMatchVars(caps []string) {
	if len(caps) > maxMatchVars {
		caps = caps[:maxMatchVars]
	}
	max := r.root.lim.maxVarSize
	r.matchVars = r.matchVars[:0]
	for _, c := range caps {
		r.matchVars = append(r.matchVars, truncateUTF8(c, max))
	}
}

// modifier is a set modifier (RFC 5229 §4.1).
type modifier uint8

const (
	modLower modifier = iota + 1
	modUpper
	modLowerFirst
	modUpperFirst
	modQuoteWildcard
	modQuoteRegex
	modLength
)

// modifierTags lists the modifiers; each precedence level is a group, so
// two modifiers of the same precedence are an error (RFC 5229 §4.1).
var modifierTags = []tagSpec{
	{name: "lower", group: "prec40"}, {name: "upper", group: "prec40"},
	{name: "lowerfirst", group: "prec30"}, {name: "upperfirst", group: "prec30"},
	{name: "quotewildcard", group: "prec20"},
	{name: "quoteregex", group: "prec15", ext: "regex"},
	{name: "length", group: "prec10"},
}

// modifiers returns the chosen modifiers in the order they apply:
// highest precedence first.
func modifiers(p *parsedArgs) []modifier {
	var out []modifier
	order := []struct {
		tag string
		m   modifier
	}{
		{"lower", modLower}, {"upper", modUpper}, {"lowerfirst", modLowerFirst}, {"upperfirst", modUpperFirst},
		{"quotewildcard", modQuoteWildcard}, {"quoteregex", modQuoteRegex}, {"length", modLength},
	}
	for _, o := range order {
		if p.has(o.tag) {
			out = append(out, o.m)
		}
	}
	return out
}

func applyModifiers(v string, mods []modifier) string {
	for _, m := range mods {
		switch m {
		// Case changes are ASCII-only, as in Pigeonhole (RFC 5229 §4.1
		// leaves the case mapping to the comparator's notion of case).
		case modLower:
			v = asciiLower(v)
		case modUpper:
			v = asciiUpper(v)
		case modLowerFirst:
			if v != "" {
				v = asciiLower(v[:1]) + v[1:]
			}
		case modUpperFirst:
			if v != "" {
				v = asciiUpper(v[:1]) + v[1:]
			}
		case modQuoteWildcard:
			v = quoteWildcard(v)
		case modQuoteRegex:
			v = quoteRegex(v)
		case modLength:
			v = strconv.Itoa(utf8.RuneCountInString(v))
		}
	}
	return v
}

type setCmd struct {
	line  int
	name  string
	value *str
	mods  []modifier
}

func compileSet(c *compiler, n *node) command {
	p, ok := c.args(n, modifierTags, []vKind{vString, vString})
	if !ok || !c.simple(n) {
		return nil
	}
	raw := p.pos[0].strs[0]
	name := strings.ToLower(raw)
	if !validIdentifier(name) && !(strings.HasPrefix(name, "global.") && c.has("include") && validIdentifier(name[7:])) {
		hint := "variable names are letters, digits and _, not starting with a digit"
		if strings.HasPrefix(raw, "${") {
			hint = "set takes the bare name: set \"name\" \"value\";"
		}
		c.errorf(p.pos[0].pos, hint, "invalid variable name %q", raw)
		return nil
	}
	return &setCmd{line: n.pos.Line, name: c.varName(name), value: c.str(p.pos[1].strs[0], p.pos[1].pos), mods: modifiers(p)}
}

func (s *setCmd) exec(r *run) error {
	r.line = s.line
	return r.setVarName(s.name, applyModifiers(r.expand(s.value), s.mods))
}

// string test (RFC 5229 §5).
type stringTest struct {
	source []*str
	consts []string
	m      *matcher
}

func compileString(c *compiler, n *node) test {
	p, ok := c.args(n, join(comparatorTags, matchTypeTags), []vKind{vStringList, vStringList})
	if !ok || !c.leafTest(n) {
		return nil
	}
	t := &stringTest{source: c.strs(p.pos[0]), m: c.matcher(n, p, p.pos[1])}
	t.consts = constStrings(t.source)
	return t
}

func (t *stringTest) eval(r *run) (bool, error) {
	src := r.expandAll(t.source, t.consts)
	if t.m.kind == mCount {
		// RFC 5229 §5: :count counts the non-empty strings.
		var nonEmpty []string
		for _, s := range src {
			if s != "" {
				nonEmpty = append(nonEmpty, s)
			}
		}
		src = nonEmpty
	}
	return t.m.matchValues(r, src)
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
