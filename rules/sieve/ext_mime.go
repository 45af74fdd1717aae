package sieve

import (
	"strings"

	"github.com/mailwarden/mailwarden/rules"
)

// mime, foreverypart and extracttext (RFC 5703): the :mime/:anychild
// options of header, address and exists (§4), the foreverypart loop and
// break (§3), and extracttext (§7).

func init() {
	registerExtension("mime", "foreverypart", "extracttext")
	registerCommand("foreverypart", "foreverypart", compileForeverypart)
	registerCommand("break", "foreverypart", compileBreak)
	registerCommand("extracttext", "extracttext", compileExtracttext)
}

type mimeOpt uint8

const (
	moNone mimeOpt = iota
	moType
	moSubtype
	moContentType
	moParam
)

type mimeOpts struct {
	anychild bool
	opt      mimeOpt
	params   []*str
}

// mimeOpts reads :mime, :anychild and (for header) the value options.
func (c *compiler) mimeOpts(n *node, p *parsedArgs, header bool) *mimeOpts {
	if !p.has("mime") {
		for _, t := range []string{"anychild", "type", "subtype", "contenttype", "param"} {
			if a := p.tags[t]; a != nil {
				if a.kind != aTag {
					// :param's value; find the tag position from the node.
					c.errorf(n.pos, "add :mime", ":%s needs :mime", t)
				} else {
					c.errorf(a.pos, "add :mime", "%s needs :mime", a.raw)
				}
			}
		}
		return nil
	}
	c.script.needsBody = true
	o := &mimeOpts{anychild: p.has("anychild")}
	switch p.grp["mimeopt"] {
	case "type":
		o.opt = moType
	case "subtype":
		o.opt = moSubtype
	case "contenttype":
		o.opt = moContentType
	case "param":
		o.opt = moParam
		o.params = c.strs(p.tags["param"])
	}
	return o
}

// parts returns the parts a :mime test looks at: the current part (the
// message outside foreverypart) and, with :anychild, its descendants.
func (o *mimeOpts) parts(r *run) ([]*mimePart, error) {
	tree, err := r.mimeTree()
	if err != nil {
		return nil, err
	}
	cur := r.part
	if cur == nil {
		cur = tree.root
	}
	if !o.anychild {
		return []*mimePart{cur}, nil
	}
	var out []*mimePart
	var walk func(p *mimePart)
	walk = func(p *mimePart) {
		out = append(out, p)
		for _, c := range p.children {
			walk(c)
		}
	}
	walk(cur)
	return out, nil
}

// fieldValues returns the values of field f of part p, transformed by
// the :type/:subtype/:contenttype/:param option (RFC 5703 §4.2). A part
// without the field has no value, even for Content-Type (Pigeonhole does
// not apply the RFC 2045 §5.2 default here).
func (o *mimeOpts) fieldValues(p *mimePart, f *rules.Field, params []string) []string {
	isCT := strings.EqualFold(f.Name, "content-type")
	if o.opt != moNone && !isCT && !strings.EqualFold(f.Name, "content-disposition") {
		// The value options read Content-Type and Content-Disposition
		// (RFC 5703 §4.2); like Pigeonhole, any other field yields an
		// empty value (one for each :param).
		n := 1
		if o.opt == moParam {
			n = len(params)
		}
		return make([]string, n)
	}
	v := trimValue(f.Value)
	if o.opt == moNone {
		return []string{v}
	}
	// The values are as written (Pigeonhole keeps their case); an
	// invalid media type is an empty one.
	main := strings.TrimSpace(strings.SplitN(v, ";", 2)[0])
	ps := mediaParams(v)
	if isCT {
		var ok bool
		if main, ok = mediaType(v); !ok {
			ps = nil
		}
	}
	return mimeOptValues(o.opt, main, ps, params)
}

func mimeOptValues(opt mimeOpt, main string, ps map[string]string, params []string) []string {
	t, s, _ := strings.Cut(main, "/")
	switch opt {
	case moType:
		return []string{t}
	case moSubtype:
		return []string{s}
	case moContentType:
		return []string{main}
	case moParam:
		var out []string
		for _, name := range params {
			if v, ok := ps[strings.ToLower(name)]; ok {
				out = append(out, v)
			}
		}
		if len(out) == 0 {
			// None of the parameters is there: one empty value, as in
			// Pigeonhole.
			out = []string{""}
		}
		return out
	}
	return nil
}

// headers returns the header of each part, in the same order.
func headers(parts []*mimePart) [][]rules.Field {
	out := make([][]rules.Field, len(parts))
	for i, p := range parts {
		out[i] = p.header
	}
	return out
}

func (t *headerTest) evalMIME(r *run) (bool, error) {
	parts, err := t.mime.parts(r)
	if err != nil {
		return false, err
	}
	p, err := t.m.prepare(r)
	if err != nil {
		return false, err
	}
	names := r.expandAll(t.names, t.consts)
	var params []string
	if t.mime.opt == moParam {
		params = r.expandAll(t.mime.params, nil)
	}
	count, matched := 0, false
	// :index selects a field; the value options then read that field
	// (as Pigeonhole does).
	t.idx.eachField(names, headers(parts), func(h int, f *rules.Field) bool {
		for _, v := range t.mime.fieldValues(parts[h], f, params) {
			if t.m.kind == mCount {
				count++
			} else if p.test(r, v) {
				matched = true
				return true
			}
		}
		return false
	})
	if t.m.kind == mCount {
		return p.testCount(count), nil
	}
	return matched, nil
}

func (t *addressTest) evalMIME(r *run) (bool, error) {
	parts, err := t.mime.parts(r)
	if err != nil {
		return false, err
	}
	return t.evalFields(r, headers(parts))
}

// With :anychild each name must exist in some part, not necessarily the
// same one (as in Pigeonhole).
func (t *existsTest) evalMIME(r *run, names []string) (bool, error) {
	parts, err := t.mime.parts(r)
	if err != nil {
		return false, err
	}
	for _, n := range names {
		found := false
		for _, part := range parts {
			if _, ok := fieldValue(part.header, n); ok {
				found = true
				break
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

// ---- foreverypart / break (RFC 5703 §3) ----

type foreverypartCmd struct {
	line int
	name string
	body []command
}

func compileForeverypart(c *compiler, n *node) command {
	p, ok := c.args(n, []tagSpec{{name: "name", val: vString}}, nil)
	if !ok || !c.noTests(n) {
		return nil
	}
	if !n.hasBlock {
		c.errorf(n.pos, usage("foreverypart"), "foreverypart needs a block")
		return nil
	}
	c.script.needsBody = true
	f := &foreverypartCmd{line: n.pos.Line}
	if name, a := p.str("name"); a != nil {
		f.name = name
	}
	c.loops = append(c.loops, f.name)
	f.body = c.block(n.block)
	c.loops = c.loops[:len(c.loops)-1]
	return f
}

func (f *foreverypartCmd) exec(r *run) error {
	r.line = f.line
	tree, err := r.mimeTree()
	if err != nil {
		return err
	}
	outer := r.part
	var parts []*mimePart
	if outer == nil {
		// At the top level the message itself is the first part, as in
		// Pigeonhole.
		parts = tree.all
	} else {
		var walk func(p *mimePart)
		walk = func(p *mimePart) {
			for _, c := range p.children {
				parts = append(parts, c)
				walk(c)
			}
		}
		walk(outer)
	}
	defer func() { r.part = outer }()
	for _, p := range parts {
		r.loopIters++
		if r.loopIters > DefaultMaxLoopIters {
			return r.errorf("foreverypart ran more than %d times", DefaultMaxLoopIters)
		}
		r.part = p
		if err := r.block(f.body); err != nil {
			if b, ok := err.(*errBreak); ok && (b.name == "" || b.name == f.name) {
				return nil
			}
			return err
		}
	}
	return nil
}

type breakCmd struct {
	line int
	name string
}

func compileBreak(c *compiler, n *node) command {
	p, ok := c.args(n, []tagSpec{{name: "name", val: vString}}, nil)
	if !ok || !c.simple(n) {
		return nil
	}
	if len(c.loops) == 0 {
		c.errorf(n.pos, "break only works inside foreverypart", "break outside a loop")
		return nil
	}
	b := &breakCmd{line: n.pos.Line}
	if name, a := p.str("name"); a != nil {
		b.name = name
		found := false
		for _, l := range c.loops {
			if l == name {
				found = true
			}
		}
		if !found {
			c.errorf(a.pos, "", "no enclosing foreverypart is named %q", name)
		}
	}
	return b
}

func (b *breakCmd) exec(r *run) error { r.line = b.line; return &errBreak{name: b.name} }

// ---- extracttext (RFC 5703 §7) ----

type extracttextCmd struct {
	line  int
	name  string
	first int
	mods  []modifier
}

func compileExtracttext(c *compiler, n *node) command {
	p, ok := c.args(n, join(modifierTags, []tagSpec{{name: "first", val: vNumber}}), []vKind{vString})
	if !ok || !c.simple(n) {
		return nil
	}
	if !c.has("variables") {
		c.errorf(n.pos, "add `require \"variables\";`", "extracttext requires `require \"variables\";`")
		return nil
	}
	if len(c.loops) == 0 {
		c.errorf(n.pos, "extracttext reads the current part of a foreverypart loop", "extracttext outside foreverypart")
		return nil
	}
	name := strings.ToLower(p.pos[0].strs[0])
	if !validIdentifier(name) {
		c.errorf(p.pos[0].pos, "", "invalid variable name %q", p.pos[0].strs[0])
		return nil
	}
	e := &extracttextCmd{line: n.pos.Line, name: c.varName(name), mods: modifiers(p), first: -1}
	if a := p.tags["first"]; a != nil {
		e.first = int(min(a.num, 1<<30))
	}
	return e
}

func (e *extracttextCmd) exec(r *run) error {
	r.line = e.line
	p := r.part
	v := ""
	// A multipart whose boundary never occurs is read as text, as in
	// Pigeonhole.
	if p != nil && (p.typ != "multipart" || len(p.children) == 0) && !(p.typ == "message" && p.sub == "rfc822") {
		v = p.text(r.m.CharsetReader)
		if p.isHTML() {
			v = htmlToText(v)
		}
	}
	if e.first >= 0 && len(v) > e.first {
		// :first counts octets (as Pigeonhole), cut at a character
		// boundary (Pigeonhole keeps half a character).
		v = truncateUTF8(v, e.first)
	}
	return r.setVarName(e.name, applyModifiers(v, e.mods))
}
