package sieve

import (
	"math"
	"strconv"
	"strings"
)

// spamtest, spamtestplus and virustest (RFC 5235). The score is read from
// a header (Options.SpamtestHeader, Options.VirustestHeader): a number,
// optionally followed by "/max". spamtest yields "0" when the message was
// not tested (no header), else 1..10; with :percent (spamtestplus) 0..100.
// virustest yields the header's 0..5 value ("0" when absent). The default
// comparator is i;ascii-casemap as everywhere; use
// :comparator "i;ascii-numeric" to compare numbers.

func init() {
	registerExtension("spamtest", "spamtestplus", "virustest")
	registerTest("spamtest", "spamtest", compileSpamtest(false))
	registerTest("virustest", "virustest", compileSpamtest(true))
}

type spamTest struct {
	virus   bool
	percent bool
	m       *matcher
}

func compileSpamtest(virus bool) testCompiler {
	return func(c *compiler, n *node) test {
		var tags []tagSpec
		if !virus {
			tags = []tagSpec{{name: "percent", ext: "spamtestplus"}}
		}
		p, ok := c.args(n, join(comparatorTags, matchTypeTags, tags), []vKind{vString})
		if !ok || !c.leafTest(n) {
			return nil
		}
		return &spamTest{virus: virus, percent: p.has("percent"), m: c.matcher(n, p, p.pos[0])}
	}
}

// leadingNumber parses the number at the start of s.
func leadingNumber(s string) (float64, string, bool) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (isDigit(s[i]) || s[i] == '.' || (i == 0 && (s[i] == '-' || s[i] == '+'))) {
		i++
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, s, false
	}
	return f, s[i:], true
}

func (t *spamTest) eval(r *run) (bool, error) {
	o := r.root.opts
	var value string
	if t.virus {
		name := DefaultVirustestHeader
		if o != nil && o.VirustestHeader != "" {
			name = o.VirustestHeader
		}
		value = "0"
		if v, ok := fieldValue(r.m.Header.Fields(), name); ok {
			if f, _, ok := leadingNumber(v); ok && f >= 0 && f <= 5 {
				value = strconv.Itoa(int(f))
			}
		}
		return t.m.matchValues(r, []string{value})
	}
	name, max := DefaultSpamtestHeader, float64(DefaultSpamtestMax)
	if o != nil && o.SpamtestHeader != "" {
		name = o.SpamtestHeader
	}
	if o != nil && o.SpamtestMax > 0 {
		max = o.SpamtestMax
	}
	value = "0"
	if v, ok := fieldValue(r.m.Header.Fields(), name); ok {
		if score, rest, ok := leadingNumber(v); ok {
			if m, ok := strings.CutPrefix(strings.TrimSpace(rest), "/"); ok {
				if f, _, ok := leadingNumber(m); ok && f > 0 {
					max = f
				}
			}
			ratio := math.Max(0, math.Min(1, score/max))
			if t.percent {
				// RFC 5235 §3.2: 0..100 % with :percent.
				value = strconv.Itoa(int(ratio * 100))
			} else {
				// RFC 5235 §3.1: 1 = certainly not spam … 10 = spam;
				// truncated like Pigeonhole.
				value = strconv.Itoa(1 + int(ratio*9))
			}
		}
	}
	return t.m.matchValues(r, []string{value})
}
