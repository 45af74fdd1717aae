package sieve

import "fmt"

// argKind says what one argument is (RFC 5228 §2.6).
type argKind uint8

const (
	aTag argKind = iota
	aNumber
	aString     // a single string
	aStringList // a bracketed string list (possibly with one element)
)

func (k argKind) String() string {
	switch k {
	case aTag:
		return "tag"
	case aNumber:
		return "number"
	case aString:
		return "string"
	}
	return "string list"
}

// arg is one parsed argument.
type arg struct {
	kind argKind
	pos  position
	tag  string // aTag: name without ':'
	num  int64  // aNumber
	strs []string
	spos []position // position of each string
	raw  string
}

func (a *arg) describe() string {
	switch a.kind {
	case aTag:
		return fmt.Sprintf("tag \":%s\"", a.tag)
	case aNumber:
		return "number " + a.raw
	case aString:
		return fmt.Sprintf("string %q", a.strs[0])
	}
	return "string list"
}

// node is a command or a test as parsed (RFC 5228 §8.2), before
// validation.
type node struct {
	pos      position
	name     string // lower-cased identifier
	raw      string // identifier as written
	args     []arg
	tests    []*node
	testList bool // tests came in "( … )"
	block    []*node
	hasBlock bool
	endPos   position // position of "}" (for messages)
}

// parser builds the syntax tree from tokens.
type parser struct {
	lx     *lexer
	tok    token
	errs   *ErrorList
	file   string
	depth  int
	maxDep int
}

func parse(file, src string, maxDepth int, errs *ErrorList) []*node {
	p := &parser{lx: newLexer(file, src, errs), errs: errs, file: file, maxDep: maxDepth}
	p.next()
	var cmds []*node
	for p.tok.kind != tEOF {
		if p.tok.kind == tRBrace {
			p.errorf(p.tok.pos, "", "unexpected \"}\" without a matching \"{\"")
			p.next()
			continue
		}
		if c := p.command(); c != nil {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

func (p *parser) next() {
	for {
		p.tok = p.lx.next()
		if p.tok.kind != tError {
			return
		}
	}
}

func (p *parser) errorf(pos position, hint, format string, args ...any) {
	*p.errs = append(*p.errs, &Error{File: p.file, Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// sync skips to just after the next ";" or over the next block, to resume
// after an error.
func (p *parser) sync() {
	depth := 0
	for p.tok.kind != tEOF {
		switch p.tok.kind {
		case tSemicolon:
			if depth == 0 {
				p.next()
				return
			}
		case tLBrace:
			depth++
		case tRBrace:
			if depth == 0 {
				return
			}
			depth--
			if depth == 0 {
				p.next()
				return
			}
		}
		p.next()
	}
}

// command = identifier arguments (";" / block)
func (p *parser) command() *node {
	if p.tok.kind != tIdent {
		hint := ""
		if p.tok.kind == tString {
			hint = "a command starts with its name, e.g. keep;"
		}
		p.errorf(p.tok.pos, hint, "expected a command, found %s", p.tok.describe())
		p.sync()
		return nil
	}
	n := &node{pos: p.tok.pos, name: p.tok.text, raw: p.tok.raw}
	p.next()
	if !p.arguments(n) {
		p.sync()
		return n
	}
	switch p.tok.kind {
	case tSemicolon:
		p.next()
	case tLBrace:
		p.depth++
		if p.depth > p.maxDep {
			p.errorf(p.tok.pos, "", "blocks nested deeper than %d", p.maxDep)
			p.depth--
			p.sync()
			return nil
		}
		n.hasBlock = true
		p.next()
		for p.tok.kind != tRBrace && p.tok.kind != tEOF {
			if c := p.command(); c != nil {
				n.block = append(n.block, c)
			}
		}
		p.depth--
		if p.tok.kind == tEOF {
			p.errorf(n.pos, "close the block with \"}\"", "block of %q is not closed", n.raw)
			return n
		}
		n.endPos = p.tok.pos
		p.next()
	default:
		hint := ""
		if p.tok.kind == tIdent || p.tok.kind == tRBrace || p.tok.kind == tEOF {
			hint = "end the command with \";\""
		}
		p.errorf(p.tok.pos, hint, "expected \";\" or a block after %q, found %s", n.raw, p.tok.describe())
		p.sync()
	}
	return n
}

// arguments = *argument [ test / test-list ]
func (p *parser) arguments(n *node) bool {
	for {
		switch p.tok.kind {
		case tTag:
			n.args = append(n.args, arg{kind: aTag, pos: p.tok.pos, tag: p.tok.text, raw: p.tok.raw})
			p.next()
		case tNumber:
			n.args = append(n.args, arg{kind: aNumber, pos: p.tok.pos, num: p.tok.num, raw: p.tok.raw})
			p.next()
		case tString:
			n.args = append(n.args, arg{kind: aString, pos: p.tok.pos, strs: []string{p.tok.text}, spos: []position{p.tok.pos}})
			p.next()
		case tLBracket:
			a, ok := p.stringList()
			if !ok {
				return false
			}
			n.args = append(n.args, a)
		case tIdent:
			t := p.test()
			if t == nil {
				return false
			}
			n.tests = []*node{t}
			return true
		case tLParen:
			n.testList = true
			ts, ok := p.testList()
			n.tests = ts
			return ok
		default:
			return true
		}
	}
}

// string-list = "[" string *("," string) "]" / string
func (p *parser) stringList() (arg, bool) {
	a := arg{kind: aStringList, pos: p.tok.pos}
	p.next()
	for {
		if p.tok.kind != tString {
			p.errorf(p.tok.pos, "", "expected a string in the string list, found %s", p.tok.describe())
			return a, false
		}
		a.strs = append(a.strs, p.tok.text)
		a.spos = append(a.spos, p.tok.pos)
		p.next()
		switch p.tok.kind {
		case tComma:
			p.next()
		case tRBracket:
			p.next()
			return a, true
		default:
			p.errorf(p.tok.pos, "separate strings with \",\" and end the list with \"]\"", "expected \",\" or \"]\" in string list, found %s", p.tok.describe())
			return a, false
		}
	}
}

// test = identifier arguments
func (p *parser) test() *node {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > p.maxDep {
		p.errorf(p.tok.pos, "", "tests nested deeper than %d", p.maxDep)
		return nil
	}
	if p.tok.kind != tIdent {
		p.errorf(p.tok.pos, "", "expected a test, found %s", p.tok.describe())
		return nil
	}
	n := &node{pos: p.tok.pos, name: p.tok.text, raw: p.tok.raw}
	p.next()
	if !p.arguments(n) {
		return nil
	}
	return n
}

// test-list = "(" test *("," test) ")"
func (p *parser) testList() ([]*node, bool) {
	p.depth++
	defer func() { p.depth-- }()
	open := p.tok.pos
	p.next()
	var out []*node
	for {
		t := p.test()
		if t == nil {
			return out, false
		}
		out = append(out, t)
		switch p.tok.kind {
		case tComma:
			p.next()
		case tRParen:
			p.next()
			return out, true
		default:
			p.errorf(p.tok.pos, fmt.Sprintf("the list opened at line %d needs \")\"", open.Line), "expected \",\" or \")\" in test list, found %s", p.tok.describe())
			return out, false
		}
	}
}
