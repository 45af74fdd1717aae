package sieve

// mailbox (RFC 5490): the mailboxexists test and fileinto :create.

func init() {
	registerExtension("mailbox")
	registerTest("mailboxexists", "mailbox", func(c *compiler, n *node) test {
		p, ok := c.args(n, nil, []vKind{vStringList})
		if !ok || !c.leafTest(n) {
			return nil
		}
		c.script.asksBoxes = true
		t := &mailboxExistsTest{names: c.strs(p.pos[0])}
		t.consts = constStrings(t.names)
		return t
	})
}

type mailboxExistsTest struct {
	names  []*str
	consts []string
}

// RFC 5490 §3.1: true when every named mailbox exists. The message's
// Mailboxes answers; without one (offline) every mailbox is taken to
// exist.
func (t *mailboxExistsTest) eval(r *run) (bool, error) {
	boxes := r.m.Mailboxes
	if boxes == nil {
		return true, nil
	}
	for _, name := range r.expandAll(t.names, t.consts) {
		ok, err := boxes.MailboxExists(r.ctx, name)
		if err != nil {
			return false, &RuntimeError{Script: r.s.name, Line: r.line, Msg: "mailboxexists " + name, Err: err}
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}
