package sieve

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// comparator is a collation (RFC 4790) named by :comparator (RFC 5228 §2.7.3).
type comparator uint8

const (
	cmpCasemap comparator = iota // "i;ascii-casemap", the default
	cmpOctet                     // "i;octet"
	cmpNumeric                   // "i;ascii-numeric" (RFC 4790 §9.1)
	cmpUnicode                   // "i;unicode-casemap" (RFC 5051), cmp_unicode_casemap.go
)

// folds reports whether the comparator ignores case (for :regex).
func (c comparator) folds() bool { return c == cmpCasemap || c == cmpUnicode }

// matchKind is a match type (RFC 5228 §2.7.1, RFC 5231, regex draft).
type matchKind uint8

const (
	mIs matchKind = iota
	mContains
	mMatches
	mRegex
	mValue
	mCount
)

// relOp is a relational operator (RFC 5231 §4).
type relOp uint8

const (
	relGT relOp = iota
	relGE
	relLT
	relLE
	relEQ
	relNE
)

var relOps = map[string]relOp{"gt": relGT, "ge": relGE, "lt": relLT, "le": relLE, "eq": relEQ, "ne": relNE}

// matcher is the compiled [COMPARATOR] [MATCH-TYPE] <key-list> part of a
// test.
type matcher struct {
	cmp      comparator
	kind     matchKind
	rel      relOp
	keys     []*str
	consts   []string // keys when all are constant
	folded   []string // constant keys folded for casemap :is/:contains
	globs    []*glob
	uglobs   []*ucGlob // :matches under i;unicode-casemap
	regs     []*regexp.Regexp
	captures bool // set match variables (RFC 5229 §3.2)
	script   *Script
	// flagKeys: each key is a space-separated list of flags, matched one
	// by one (hasflag, RFC 5232 §4: `hasflag :is "b A"`).
	flagKeys bool
}

// splitFlagKeys makes each key of m a list of flags (see flagKeys);
// :count keys stay numbers.
func (c *compiler) splitFlagKeys(m *matcher) {
	if m.kind == mCount {
		return
	}
	m.flagKeys = true
	if m.consts == nil {
		return
	}
	m.consts = splitFields(m.consts)
	m.folded, m.globs, m.uglobs, m.regs = m.keyForms(m.consts, func(_ int, k string) *regexp.Regexp {
		re, _ := compileRegex(k, m.cmp.folds(), c.lim.maxRegex) // reported for the whole key already
		return re
	})
}

// splitFields splits every string at white space.
func splitFields(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, strings.Fields(s)...)
	}
	return out
}

// matcher compiles the comparator and match type of n from p, with keys.
func (c *compiler) matcher(n *node, p *parsedArgs, keys *arg) *matcher {
	m := &matcher{captures: c.has("variables"), script: c.script}
	if name, a := p.str("comparator"); a != nil {
		switch strings.ToLower(name) {
		case "i;ascii-casemap":
			m.cmp = cmpCasemap
		case "i;octet":
			m.cmp = cmpOctet
		case "i;ascii-numeric":
			m.cmp = cmpNumeric
			if !c.has("comparator-i;ascii-numeric") {
				c.errorf(a.pos, "add `require \"comparator-i;ascii-numeric\";`", "comparator %q requires `require \"comparator-i;ascii-numeric\";`", name)
			}
		case "i;unicode-casemap":
			// No require needed, as in Pigeonhole 2.4 (a core comparator
			// there) and the scripts Proton and Fastmail export.
			m.cmp = cmpUnicode
		default:
			c.errorf(a.pos, c.didYouMean(name, []string{"i;octet", "i;ascii-casemap", "i;ascii-numeric", "i;unicode-casemap"}), "unknown comparator %q", name)
		}
	}
	switch p.grp["match"] {
	case "contains":
		m.kind = mContains
	case "matches":
		m.kind = mMatches
	case "regex":
		m.kind = mRegex
	case "value", "count":
		m.kind = mValue
		tag := p.grp["match"]
		if tag == "count" {
			m.kind = mCount
		}
		op, a := p.str(tag)
		r, ok := relOps[strings.ToLower(op)]
		if !ok {
			c.errorf(a.pos, `use one of "gt", "ge", "lt", "le", "eq", "ne"`, "invalid relational operator %q for :%s", op, tag)
		}
		m.rel = r
	}
	if m.cmp == cmpNumeric && (m.kind == mContains || m.kind == mMatches || m.kind == mRegex) {
		// RFC 4790 §9.1: i;ascii-numeric offers equality and ordering only.
		c.errorf(keys.pos, "use :is, :value or :count with i;ascii-numeric", "comparator \"i;ascii-numeric\" does not support :%s", p.grp["match"])
	}
	m.keys = c.strs(keys)
	m.consts = constStrings(m.keys)
	if m.consts != nil {
		// Constant keys are prepared once, here; an invalid regex is a
		// compile error.
		m.folded, m.globs, m.uglobs, m.regs = m.keyForms(m.consts, func(i int, k string) *regexp.Regexp {
			re, err := compileRegex(k, m.cmp.folds(), c.lim.maxRegex)
			if err != nil {
				c.errorf(keys.spos[i], "regular expressions are RE2 (POSIX ERE syntax works)", "invalid regular expression %q: %v", k, err)
			}
			return re
		})
	}
	return m
}

// keyForms prepares keys for the match type: case-folded keys for :is and
// :contains under i;ascii-casemap and i;unicode-casemap, globs for
// :matches, and regular expressions (compiled by regex) for :regex.
// Constant keys go through it at compile time, keys built from variables
// at each evaluation.
func (m *matcher) keyForms(keys []string, regex func(i int, k string) *regexp.Regexp) (folded []string, globs []*glob, uglobs []*ucGlob, regs []*regexp.Regexp) {
	switch m.kind {
	case mIs, mContains:
		switch m.cmp {
		case cmpCasemap:
			folded = make([]string, len(keys))
			for i, k := range keys {
				folded[i] = asciiLower(k)
			}
		case cmpUnicode:
			folded = make([]string, len(keys))
			for i, k := range keys {
				folded[i] = ucCanon(k)
			}
		}
	case mMatches:
		if m.cmp == cmpUnicode {
			uglobs = make([]*ucGlob, len(keys))
			for i, k := range keys {
				uglobs[i] = compileUCGlob(k)
			}
			break
		}
		globs = make([]*glob, len(keys))
		for i, k := range keys {
			globs[i] = compileGlob(k, m.cmp == cmpCasemap)
		}
	case mRegex:
		regs = make([]*regexp.Regexp, len(keys))
		for i, k := range keys {
			regs[i] = regex(i, k)
		}
	}
	return folded, globs, uglobs, regs
}

// prepared is a matcher with its keys expanded for one evaluation.
type prepared struct {
	m      *matcher
	keys   []string
	folded []string
	globs  []*glob
	uglobs []*ucGlob
	regs   []*regexp.Regexp
}

func (m *matcher) prepare(r *run) (prepared, error) {
	if m.consts != nil {
		return prepared{m: m, keys: m.consts, folded: m.folded, globs: m.globs, uglobs: m.uglobs, regs: m.regs}, nil
	}
	p := prepared{m: m, keys: r.expandAll(m.keys, nil)}
	if m.flagKeys {
		p.keys = splitFields(p.keys)
	}
	p.folded, p.globs, p.uglobs, p.regs = m.keyForms(p.keys, func(_ int, k string) *regexp.Regexp {
		// An expression that only becomes invalid at run time (built
		// from variables) matches nothing, as in Pigeonhole.
		re, _ := m.script.regex(k, m.cmp.folds())
		return re
	})
	return p, nil
}

// test reports whether value matches any key, setting match variables on
// success for :matches and :regex.
func (p *prepared) test(r *run, value string) bool {
	m := p.m
	if m.kind == mIs && value == "" {
		// An empty value is only ever the empty key, whatever the
		// comparator says: Pigeonhole's :is does this before asking the
		// comparator, so "" :is "abc" is false under i;ascii-numeric
		// although both are positive infinity.
		for _, k := range p.keys {
			if k == "" {
				return true
			}
		}
		return false
	}
	if m.cmp == cmpUnicode && m.kind != mRegex && m.kind != mValue {
		return p.testUnicode(r, value)
	}
	switch m.kind {
	case mIs:
		for i, k := range p.keys {
			switch m.cmp {
			case cmpCasemap:
				if asciiEqualFold(value, p.folded[i]) {
					return true
				}
			case cmpOctet:
				if value == k {
					return true
				}
			case cmpNumeric:
				if numericCompare(value, k) == 0 {
					return true
				}
			}
		}
	case mContains:
		for i, k := range p.keys {
			if m.cmp == cmpCasemap {
				if asciiContainsFold(value, p.folded[i]) {
					return true
				}
			} else if strings.Contains(value, k) {
				return true
			}
		}
	case mMatches:
		for _, g := range p.globs {
			if m.captures {
				if caps, ok := g.matchCaptures(value); ok {
					r.setMatchVars(caps)
					return true
				}
			} else if g.match(value) {
				return true
			}
		}
	case mRegex:
		for _, re := range p.regs {
			if re == nil {
				continue
			}
			if m.captures {
				if caps := re.FindStringSubmatch(value); caps != nil {
					r.setMatchVars(caps)
					return true
				}
			} else if re.MatchString(value) {
				return true
			}
		}
	case mValue:
		for _, k := range p.keys {
			if relate(m.rel, compare(m.cmp, value, k)) {
				return true
			}
		}
	}
	return false
}

// testUnicode is test under i;unicode-casemap for :is, :contains and
// :matches (see cmp_unicode_casemap.go).
func (p *prepared) testUnicode(r *run, value string) bool {
	switch p.m.kind {
	case mIs:
		v := ucCanon(value)
		for _, k := range p.folded {
			if v == k {
				return true
			}
		}
		return false
	}
	us := ucUnits(value)
	if p.m.kind == mContains {
		for _, k := range p.folded {
			if ucContains(us, k) {
				return true
			}
		}
		return false
	}
	for _, g := range p.uglobs {
		if caps, ok := g.run(value, us, p.m.captures); ok {
			if p.m.captures {
				r.setMatchVars(caps)
			}
			return true
		}
	}
	return false
}

// testCount implements :count (RFC 5231 §4.1): the number of values is
// compared with each key.
func (p *prepared) testCount(n int) bool {
	v := strconv.Itoa(n)
	for _, k := range p.keys {
		if relate(p.m.rel, compare(p.m.cmp, v, k)) {
			return true
		}
	}
	return false
}

// matchValues runs the matcher over values (RFC 5228 §2.7: true when any
// value matches any key).
func (m *matcher) matchValues(r *run, values []string) (bool, error) {
	p, err := m.prepare(r)
	if err != nil {
		return false, err
	}
	if m.kind == mCount {
		return p.testCount(len(values)), nil
	}
	for _, v := range values {
		if p.test(r, v) {
			return true, nil
		}
	}
	return false, nil
}

func relate(op relOp, c int) bool {
	switch op {
	case relGT:
		return c > 0
	case relGE:
		return c >= 0
	case relLT:
		return c < 0
	case relLE:
		return c <= 0
	case relEQ:
		return c == 0
	}
	return c != 0
}

// compare orders a and b under the comparator.
func compare(cmp comparator, a, b string) int {
	switch cmp {
	case cmpCasemap:
		return strings.Compare(asciiLower(a), asciiLower(b))
	case cmpNumeric:
		return numericCompare(a, b)
	case cmpUnicode:
		return strings.Compare(ucCanon(a), ucCanon(b))
	}
	return strings.Compare(a, b)
}

// numericCompare implements i;ascii-numeric (RFC 4790 §9.1): the value of
// a string is its leading digits; a string without one is positive
// infinity, equal to any other such string.
func numericCompare(a, b string) int {
	da, db := leadingDigits(a), leadingDigits(b)
	switch {
	case da == "" && db == "":
		// Both are positive infinity, equal (RFC 4790 §9.1.1); an empty
		// value differs from a non-empty key only under :is (prepared.test).
		return 0
	case da == "":
		return 1
	case db == "":
		return -1
	}
	da = strings.TrimLeft(da, "0")
	db = strings.TrimLeft(db, "0")
	if len(da) != len(db) {
		if len(da) < len(db) {
			return -1
		}
		return 1
	}
	return strings.Compare(da, db)
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i]
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 32
				}
			}
			return string(b)
		}
	}
	return s
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

// asciiEqualFold compares s with an already lower-cased key.
func asciiEqualFold(s, lowerKey string) bool {
	if len(s) != len(lowerKey) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerByte(s[i]) != lowerKey[i] {
			return false
		}
	}
	return true
}

// asciiContainsFold reports whether lowerKey occurs in s, ASCII
// case-insensitively.
func asciiContainsFold(s, lowerKey string) bool {
	n := len(lowerKey)
	if n == 0 {
		return true
	}
	first := lowerKey[0]
	for i := 0; i+n <= len(s); i++ {
		if lowerByte(s[i]) != first {
			continue
		}
		j := 1
		for j < n && lowerByte(s[i+j]) == lowerKey[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

// ---- :matches wildcards (RFC 5228 §2.7.1) ----

type globElem struct {
	kind byte // 'l' literal, '*', '?'
	lit  string
}

type glob struct {
	elems []globElem
	fold  bool
	nCaps int
}

// compileGlob parses a :matches pattern: "*" matches any sequence, "?" one
// character, "\" quotes the next character.
func compileGlob(pat string, fold bool) *glob {
	g := &glob{fold: fold}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			s := lit.String()
			if fold {
				s = asciiLower(s)
			}
			g.elems = append(g.elems, globElem{kind: 'l', lit: s})
			lit.Reset()
		}
	}
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; c {
		case '*', '?':
			flush()
			g.elems = append(g.elems, globElem{kind: c})
			g.nCaps++
		case '\\':
			if i+1 < len(pat) {
				i++
				lit.WriteByte(pat[i])
			}
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return g
}

func (g *glob) hasPrefix(s, lit string) bool {
	if len(s) < len(lit) {
		return false
	}
	if !g.fold {
		return s[:len(lit)] == lit
	}
	for i := 0; i < len(lit); i++ {
		if lowerByte(s[i]) != lit[i] {
			return false
		}
	}
	return true
}

func (g *glob) match(s string) bool {
	_, ok := g.run(s, false)
	return ok
}

// matchCaptures matches and returns ${0} (the whole value) followed by the
// text each wildcard matched. Earlier "*" match as little as possible, as
// in Pigeonhole.
func (g *glob) matchCaptures(s string) ([]string, bool) {
	return g.run(s, true)
}

// run is the classic linear wildcard matcher that backtracks only to the
// most recent "*": O(len(s)·len(pattern)), never exponential.
func (g *glob) run(s string, wantCaps bool) ([]string, bool) {
	var capStart, capEnd []int
	if wantCaps {
		capStart = make([]int, len(g.elems))
		capEnd = make([]int, len(g.elems))
	}
	ei, si := 0, 0
	starE, starS := -1, 0
	for {
		if ei < len(g.elems) {
			e := &g.elems[ei]
			switch e.kind {
			case '*':
				starE, starS = ei, si
				if wantCaps {
					capStart[ei], capEnd[ei] = si, si
				}
				ei++
				if ei == len(g.elems) {
					// A trailing "*" takes the rest.
					if wantCaps {
						capEnd[starE] = len(s)
					}
					si = len(s)
				}
				continue
			case '?':
				if si < len(s) {
					_, size := utf8.DecodeRuneInString(s[si:])
					if wantCaps {
						capStart[ei] = si
						capEnd[ei] = si + size
					}
					si += size
					ei++
					continue
				}
			default:
				if g.hasPrefix(s[si:], e.lit) {
					si += len(e.lit)
					ei++
					continue
				}
			}
		} else if si == len(s) {
			break
		}
		if starE < 0 || starS >= len(s) {
			return nil, false
		}
		_, size := utf8.DecodeRuneInString(s[starS:])
		starS += size
		if wantCaps {
			capEnd[starE] = starS
		}
		si, ei = starS, starE+1
	}
	if !wantCaps {
		return nil, true
	}
	caps := make([]string, 1, g.nCaps+1)
	caps[0] = s
	for i, e := range g.elems {
		if e.kind != 'l' {
			caps = append(caps, s[capStart[i]:capEnd[i]])
		}
	}
	return caps, true
}

// quoteWildcard escapes "*", "?" and "\" (RFC 5229 §4.1.2 :quotewildcard).
func quoteWildcard(s string) string {
	if !strings.ContainsAny(s, `*?\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '*' || c == '?' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ---- :regex (draft-ietf-sieve-regex) ----

// compileRegex compiles a Sieve regular expression. POSIX ERE syntax with
// leftmost-longest matching is tried first (as Pigeonhole uses regcomp);
// an expression that is not ERE but is valid RE2 (e.g. "\d") is accepted
// with RE2 semantics.
func compileRegex(pat string, fold bool, max int) (*regexp.Regexp, error) {
	if len(pat) > max {
		return nil, fmt.Errorf("longer than the limit of %d bytes", max)
	}
	p := pat
	if fold {
		p = "(?i)" + p
	}
	re, err := regexp.CompilePOSIX(pat)
	if err == nil {
		if fold {
			// CompilePOSIX has no flag syntax; rebuild with case folding.
			re, err = regexp.Compile(p)
			if err == nil {
				re.Longest()
			}
		}
		if err == nil {
			return re, nil
		}
	}
	re, err = regexp.Compile(p)
	if err != nil && fold {
		// Report the error against the expression as written.
		if _, err2 := regexp.Compile(pat); err2 != nil {
			err = err2
		}
	}
	return re, err
}

// regexCache caches expressions built from variables at run time.
type regexCache struct {
	mu sync.Mutex
	m  map[string]*regexp.Regexp
}

func (s *Script) regex(pat string, fold bool) (*regexp.Regexp, error) {
	key := pat
	if fold {
		key = "i\x00" + pat
	} else {
		key = "o\x00" + pat
	}
	s.rc.mu.Lock()
	re, ok := s.rc.m[key]
	s.rc.mu.Unlock()
	if ok {
		return re, nil
	}
	re, err := compileRegex(pat, fold, s.lim.maxRegex)
	if err != nil {
		return nil, err
	}
	s.rc.mu.Lock()
	if s.rc.m == nil || len(s.rc.m) > 256 {
		s.rc.m = map[string]*regexp.Regexp{}
	}
	s.rc.m[key] = re
	s.rc.mu.Unlock()
	return re, nil
}

// quoteRegex escapes regex metacharacters (:quoteregex modifier).
func quoteRegex(s string) string { return regexp.QuoteMeta(s) }
