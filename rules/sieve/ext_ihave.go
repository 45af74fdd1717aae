package sieve

import "strings"

// ihave (RFC 5463): the ihave test and the error command. An ihave test
// is decided at compile time: when every named extension is supported,
// the test is true and the extensions are enabled inside its block; when
// one is not, the test is false and its block is not validated (§4), so a
// script can carry code for extensions mailwarden lacks.

func init() {
	registerExtension("ihave")
	registerTest("ihave", "ihave", func(c *compiler, n *node) test {
		caps, ok := c.ihaveCaps(n)
		if !ok {
			return nil
		}
		return constTest(c.allSupported(caps))
	})
	registerCommand("error", "ihave", func(c *compiler, n *node) command {
		p, ok := c.args(n, nil, []vKind{vString})
		if !ok || !c.simple(n) {
			return nil
		}
		return &errorCmd{line: n.pos.Line, msg: c.str(p.pos[0].strs[0], p.pos[0].pos)}
	})
}

func (c *compiler) ihaveCaps(n *node) ([]string, bool) {
	p, ok := c.args(n, nil, []vKind{vStringList})
	if !ok || !c.leafTest(n) {
		return nil, false
	}
	for i, s := range p.pos[0].strs {
		if c.has("variables") && strings.Contains(s, "${") {
			c.errorf(p.pos[0].spos[i], "RFC 5463 §4: the capability list is constant", "ihave takes constant extension names")
			return nil, false
		}
	}
	return p.pos[0].strs, true
}

// allSupported reports whether every extension can be had through ihave.
// Extensions that change how strings are read (variables,
// encoded-character) only work through require: ihave reports them as
// missing, as Pigeonhole does, since a block's strings are compiled
// before the test runs. Extensions these options cannot carry out
// (skip.go) are missing too: vacation without Submission, envelope
// without EnvelopeFromHeaders, reject and ereject always.
func (c *compiler) allSupported(caps []string) bool {
	for _, e := range caps {
		if !extensions[e] || e == "variables" || e == "encoded-character" {
			return false
		}
		switch e {
		case "vacation", "vacation-seconds":
			if !c.opts.submission() {
				return false
			}
		case "envelope":
			if !c.opts.envelopeHeaders() {
				return false
			}
		case "reject", "ereject":
			return false
		}
	}
	return true
}

// ihaveBlock reports, for an if/elsif whose test is ihave, whether the
// block is to be compiled and which extensions to enable in it.
func (c *compiler) ihaveBlock(n *node) (skip bool, enable []string) {
	if len(n.tests) != 1 || n.tests[0].name != "ihave" || !c.has("ihave") {
		return false, nil
	}
	caps, ok := c.ihaveCaps(n.tests[0])
	if !ok {
		return false, nil
	}
	if !c.allSupported(caps) {
		return true, nil
	}
	return false, caps
}

// errorCmd is RFC 5463 §5 error: a runtime error with the message.
type errorCmd struct {
	line int
	msg  *str
}

func (e *errorCmd) exec(r *run) error {
	r.line = e.line
	return r.errorf("error: %s", r.expand(e.msg))
}
