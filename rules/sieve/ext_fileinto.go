package sieve

// fileinto (RFC 5228 §4.1) with :copy (RFC 3894), :flags (RFC 5232 §5),
// :create (RFC 5490 §3.2) and :specialuse (RFC 8579 §4).

import "unicode/utf8"

type fileintoCmd struct {
	line       int
	mailbox    *str
	copy       bool
	create     bool
	flags      *flagArg
	specialUse *str
}

func init() {
	registerExtension("fileinto", "copy")
	registerCommand("fileinto", "fileinto", compileFileinto)
}

func compileFileinto(c *compiler, n *node) command {
	p, ok := c.args(n, []tagSpec{
		{name: "copy", ext: "copy"},
		{name: "flags", val: vStringList, ext: "imap4flags"},
		{name: "create", ext: "mailbox"},
		{name: "specialuse", val: vString, ext: "special-use"},
	}, []vKind{vString})
	if !ok || !c.simple(n) {
		return nil
	}
	f := &fileintoCmd{line: n.pos.Line, copy: p.has("copy"), create: p.has("create")}
	f.mailbox = c.str(p.pos[0].strs[0], p.pos[0].pos)
	if a := p.tags["flags"]; a != nil {
		f.flags = c.flagArg(a)
	}
	if a := p.tags["specialuse"]; a != nil {
		f.specialUse = c.str(a.strs[0], a.pos)
		c.script.asksBoxes = true
		if f.specialUse.constant() && !validSpecialUse(f.specialUse.lit) {
			c.errorf(a.pos, `special-use attributes are \Archive, \Drafts, \Junk, \Sent, \Trash, \All, \Flagged`, "invalid special-use attribute %q", f.specialUse.lit)
		}
	}
	if f.mailbox.constant() && f.mailbox.lit == "" {
		c.errorf(p.pos[0].pos, "", "fileinto needs a mailbox name")
	}
	if f.mailbox.constant() && f.mailbox.lit != "" && f.specialUse == nil {
		c.script.targets = append(c.script.targets, Target{Mailbox: f.mailbox.lit, Create: f.create, Line: f.line, Script: c.script.name})
	}
	return f
}

func (f *fileintoCmd) exec(r *run) error {
	r.line = f.line
	a := Action{Type: "fileinto", Mailbox: r.expand(f.mailbox), Copy: f.copy, Create: f.create, Line: f.line}
	if f.flags != nil {
		a.Flags = f.flags.value(r)
	} else {
		a.Flags = r.flagsCopy()
	}
	if f.specialUse != nil {
		use := r.expand(f.specialUse)
		if !validSpecialUse(use) {
			return r.errorf("invalid special-use attribute %q", use)
		}
		a.SpecialUse = canonicalSpecialUse(use)
		ok := true
		if boxes := r.m.Mailboxes; boxes != nil {
			var err error
			if ok, err = boxes.SpecialUseExists(r.ctx, "", a.SpecialUse); err != nil {
				return &RuntimeError{Script: r.s.name, Line: f.line, Msg: "specialuse lookup", Err: err}
			}
		}
		if ok {
			// RFC 8579 §4: the mailbox with that attribute wins.
			a.Mailbox = a.SpecialUse
		}
	}
	if a.Mailbox == "" {
		return r.errorf("fileinto: empty mailbox name")
	}
	if !utf8.ValidString(a.Mailbox) {
		// A name built from variables can hold any bytes; IMAP mailbox
		// names are UTF-8 (RFC 9051 §5.1). Pigeonhole fails the same way
		// ("invalid folder name").
		return r.errorf("fileinto: invalid mailbox name %q: not UTF-8", a.Mailbox)
	}
	// RFC 3894: :copy does not cancel the implicit keep.
	if !f.copy {
		r.cancelled = true
	}
	// Every fileinto is recorded in order; RFC 5228 §2.10.3 (the same
	// mailbox twice is filed once, the later flags win) is applied when
	// the result becomes a Plan.
	return r.addAction(a)
}
