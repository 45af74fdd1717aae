package sieve

import (
	"strings"

	"github.com/mailwarden/mailwarden/rules"
)

// imap4flags (RFC 5232): setflag, addflag, removeflag, hasflag and the
// :flags argument of keep and fileinto. The internal variable starts with
// the message's current flags (m.Flags), so on already-delivered mail the
// flag commands edit the flags the message has (RFC 6785 §3.5).

func init() {
	registerExtension("imap4flags")
	registerCommand("setflag", "imap4flags", compileFlagCmd(flagSet))
	registerCommand("addflag", "imap4flags", compileFlagCmd(flagAdd))
	registerCommand("removeflag", "imap4flags", compileFlagCmd(flagRemove))
	registerTest("hasflag", "imap4flags", compileHasflag)
}

// flagArg is a compiled <list-of-flags>.
type flagArg struct {
	list   []*str
	consts []string // parsed flags when constant
}

func (c *compiler) flagArg(a *arg) *flagArg {
	f := &flagArg{list: c.strs(a)}
	if cs := constStrings(f.list); cs != nil {
		f.consts = parseFlags(cs)
		if f.consts == nil {
			f.consts = []string{}
		}
	}
	return f
}

// value returns the flags (a fresh slice).
func (f *flagArg) value(r *run) []string {
	if f.consts != nil {
		out := make([]string, len(f.consts))
		copy(out, f.consts)
		return out
	}
	out := parseFlags(r.expandAll(f.list, nil))
	if out == nil {
		out = []string{}
	}
	return out
}

// parseFlags splits each string at spaces (RFC 5232 §3: a string may hold
// several flags), canonicalises system flags and drops duplicates and
// names that are not valid flags.
func parseFlags(list []string) []string {
	var out []string
	for _, s := range list {
		for _, f := range strings.Fields(s) {
			f = rules.CanonicalFlag(f)
			if !rules.ValidFlag(f) || containsFold(out, f) {
				continue
			}
			out = append(out, f)
		}
	}
	return out
}

type flagOp uint8

const (
	flagSet flagOp = iota
	flagAdd
	flagRemove
)

type flagCmd struct {
	line  int
	op    flagOp
	vname string // variable name ("" = internal variable)
	flags *flagArg
}

func compileFlagCmd(op flagOp) cmdCompiler {
	return func(c *compiler, n *node) command {
		want := []vKind{vStringList}
		if c.has("variables") && len(n.args) == 2 {
			want = []vKind{vString, vStringList}
		}
		p, ok := c.args(n, nil, want)
		if !ok || !c.simple(n) {
			return nil
		}
		cmd := &flagCmd{line: n.pos.Line, op: op}
		if len(p.pos) == 2 {
			name := strings.ToLower(p.pos[0].strs[0])
			if !validIdentifier(name) {
				c.errorf(p.pos[0].pos, "variable names are letters, digits and _", "invalid variable name %q", p.pos[0].strs[0])
			}
			cmd.vname = c.varName(name)
		}
		cmd.flags = c.flagArg(p.pos[len(p.pos)-1])
		return cmd
	}
}

func (f *flagCmd) exec(r *run) error {
	r.line = f.line
	val := f.flags.value(r)
	var cur []string
	if f.vname == "" {
		cur = r.flags
	} else {
		cur = parseFlags([]string{r.getVarName(f.vname)})
	}
	switch f.op {
	case flagSet:
		cur = val
	case flagAdd:
		for _, v := range val {
			if !containsFold(cur, v) {
				cur = append(cur, v)
			}
		}
	case flagRemove:
		out := cur[:0:0]
		for _, c := range cur {
			if !containsFold(val, c) {
				out = append(out, c)
			}
		}
		cur = out
	}
	if f.vname == "" {
		r.flags = cur
		return nil
	}
	return r.setVarName(f.vname, strings.Join(cur, " "))
}

// hasflag (RFC 5232 §4).
type hasflagTest struct {
	vars []string // variable names; nil = internal variable
	m    *matcher
}

func compileHasflag(c *compiler, n *node) test {
	specs := join(comparatorTags, matchTypeTags)
	want := []vKind{vStringList}
	if c.has("variables") && positionalCount(n, specs) >= 2 {
		want = []vKind{vStringList, vStringList}
	}
	p, ok := c.args(n, specs, want)
	if !ok || !c.leafTest(n) {
		return nil
	}
	t := &hasflagTest{m: c.matcher(n, p, p.pos[len(p.pos)-1])}
	c.splitFlagKeys(t.m)
	if len(p.pos) == 2 {
		for i, v := range p.pos[0].strs {
			name := strings.ToLower(v)
			if !validIdentifier(name) {
				c.errorf(p.pos[0].spos[i], "", "invalid variable name %q", v)
			}
			t.vars = append(t.vars, c.varName(name))
		}
	}
	return t
}

func (t *hasflagTest) eval(r *run) (bool, error) {
	var flags []string
	if t.vars == nil {
		flags = r.flags
	} else {
		for _, v := range t.vars {
			flags = append(flags, parseFlags([]string{r.getVarName(v)})...)
		}
	}
	return t.m.matchValues(r, flags)
}
