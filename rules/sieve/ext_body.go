package sieve

import "strings"

// body (RFC 5173): body [COMPARATOR] [MATCH-TYPE] [:raw / :content
// <types> / :text] <key-list>.

func init() {
	registerExtension("body")
	registerTest("body", "body", compileBody)
}

type bodyTransform uint8

const (
	btText bodyTransform = iota
	btRaw
	btContent
)

type bodyTest struct {
	transform bodyTransform
	types     []string // :content types, lower-cased
	m         *matcher
}

func compileBody(c *compiler, n *node) test {
	p, ok := c.args(n, join(comparatorTags, matchTypeTags, []tagSpec{
		{name: "raw", group: "transform"}, {name: "text", group: "transform"},
		{name: "content", val: vStringList, group: "transform"},
	}), []vKind{vStringList})
	if !ok || !c.leafTest(n) {
		return nil
	}
	c.script.needsBody = true
	t := &bodyTest{m: c.matcher(n, p, p.pos[0])}
	// Like Pigeonhole, body does not set match variables: a body can be
	// large and RFC 5173 does not ask for them.
	t.m.captures = false
	switch p.grp["transform"] {
	case "raw":
		t.transform = btRaw
	case "content":
		t.transform = btContent
		for _, s := range p.tags["content"].strs {
			t.types = append(t.types, strings.ToLower(s))
		}
	}
	return t
}

// contentMatches implements the :content type rule of RFC 5173 §5.2: ""
// matches every part, "type" a whole type, "type/subtype" exactly.
func contentMatches(p *mimePart, spec string) bool {
	if spec == "" {
		return true
	}
	if t, s, ok := strings.Cut(spec, "/"); ok {
		// A type that begins or ends with "/" or has two matches
		// nothing (RFC 5173 §5.2).
		return t != "" && s != "" && !strings.Contains(s, "/") && t == p.typ && s == p.sub
	}
	return spec == p.typ
}

func (t *bodyTest) eval(r *run) (bool, error) {
	raw, err := r.m.Raw()
	if err != nil {
		return false, &RuntimeError{Script: r.s.name, Line: r.line, Msg: "body test", Err: err}
	}
	_, body, hasBody := splitHeader(raw)
	var values []string
	if !hasBody {
		// No body: no values (still counted by :count).
		return t.m.matchValues(r, nil)
	}
	if t.transform == btRaw {
		// An empty body has no value to match (as in Pigeonhole).
		if len(body) > 0 {
			values = []string{toUTF8(body, "utf-8", nil)}
		}
		return t.m.matchValues(r, values)
	}
	tree, err := r.mimeTree()
	if err != nil {
		return false, err
	}
	for _, p := range tree.all {
		if t.transform == btText {
			// Text parts as they are, HTML and XHTML as their text,
			// no other part (as Pigeonhole).
			if p.typ != "text" && !p.isHTML() {
				continue
			}
			s := p.text(r.m.CharsetReader)
			if p.isHTML() {
				s = htmlToText(s)
			}
			values = append(values, s)
			continue
		}
		match := false
		for _, spec := range t.types {
			if contentMatches(p, spec) {
				match = true
				break
			}
		}
		if !match {
			continue
		}
		switch {
		case p.typ == "multipart":
			// RFC 5173 §5.2: a matching multipart contributes its
			// prologue and its epilogue as separate values; like
			// Pigeonhole, an empty epilogue is no value.
			values = append(values, toUTF8(p.prologue, "utf-8", nil))
			if len(p.epilogue) > 0 {
				values = append(values, toUTF8(p.epilogue, "utf-8", nil))
			}
		case p.typ == "message" && p.sub == "rfc822" && len(p.children) == 1:
			// …and a message/rfc822 part the header of the message.
			hdr, _, _ := splitHeader(p.decoded())
			values = append(values, toUTF8(hdr, "utf-8", nil))
		default:
			values = append(values, p.text(r.m.CharsetReader))
		}
	}
	return t.m.matchValues(r, values)
}
