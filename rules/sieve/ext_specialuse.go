package sieve

import "strings"

// special-use (RFC 8579): the specialuse_exists test and fileinto
// :specialuse (ext_fileinto.go).

var specialUses = []string{`\All`, `\Archive`, `\Drafts`, `\Flagged`, `\Junk`, `\Sent`, `\Trash`}

func validSpecialUse(s string) bool { return canonicalSpecialUse(s) != "" }

func canonicalSpecialUse(s string) string {
	for _, u := range specialUses {
		if strings.EqualFold(u, s) {
			return u
		}
	}
	return ""
}

func init() {
	registerExtension("special-use")
	registerTest("specialuse_exists", "special-use", func(c *compiler, n *node) test {
		want := []vKind{vStringList}
		nPos := 0
		for _, a := range n.args {
			if a.kind != aTag {
				nPos++
			}
		}
		if nPos == 2 {
			want = []vKind{vString, vStringList}
		}
		p, ok := c.args(n, nil, want)
		if !ok || !c.leafTest(n) {
			return nil
		}
		c.script.asksBoxes = true
		t := &specialUseExistsTest{uses: c.strs(p.pos[len(p.pos)-1])}
		if len(p.pos) == 2 {
			t.mailbox = c.str(p.pos[0].strs[0], p.pos[0].pos)
		}
		last := p.pos[len(p.pos)-1]
		for i, u := range last.strs {
			if !strings.Contains(u, "${") && !validSpecialUse(u) {
				c.errorf(last.spos[i], `special-use attributes are \Archive, \Drafts, \Junk, \Sent, \Trash, \All, \Flagged`, "invalid special-use attribute %q", u)
			}
		}
		return t
	})
}

type specialUseExistsTest struct {
	mailbox *str
	uses    []*str
}

// RFC 8579 §3: true when every attribute exists (on the mailbox, when
// one is named). The message's Mailboxes answers; without one (offline)
// every attribute is taken to exist.
func (t *specialUseExistsTest) eval(r *run) (bool, error) {
	boxes := r.m.Mailboxes
	mbox := ""
	if t.mailbox != nil {
		mbox = r.expand(t.mailbox)
		if boxes != nil {
			ok, err := boxes.MailboxExists(r.ctx, mbox)
			if err != nil {
				return false, &RuntimeError{Script: r.s.name, Line: r.line, Msg: "specialuse_exists " + mbox, Err: err}
			}
			if !ok {
				return false, nil
			}
		}
	}
	for _, u := range t.uses {
		use := r.expand(u)
		if !validSpecialUse(use) {
			return false, r.errorf("invalid special-use attribute %q", use)
		}
		if boxes == nil {
			continue
		}
		ok, err := boxes.SpecialUseExists(r.ctx, mbox, canonicalSpecialUse(use))
		if err != nil {
			return false, &RuntimeError{Script: r.s.name, Line: r.line, Msg: "specialuse_exists", Err: err}
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}
