package sieve

// reject (RFC 5429 §2.2) and ereject (RFC 5429 §2.1). Mail handled here is
// already in a mailbox: it cannot be refused at the SMTP level, and a
// bounce sent afterwards goes to an envelope sender that is often forged
// (backscatter). RFC 6785 §3.11 makes both an error for mail already
// delivered. So they are never carried out: a compile error, or, with
// `unsupported: skip`, skipped at run time with a warning, the implicit
// keep left as it was (the message stays where it is).

func init() {
	registerExtension("reject", "ereject")
	for _, name := range []string{"reject", "ereject"} {
		registerCommand(name, name, compileReject)
	}
}

func compileReject(c *compiler, n *node) command {
	p, ok := c.args(n, nil, []vKind{vString})
	if !ok || !c.simple(n) {
		return nil
	}
	if !c.unsupportedUse(n, reasonReject, hintReject) {
		return nil
	}
	return &skipCmd{line: n.pos.Line, kind: n.name, reason: c.str(p.pos[0].strs[0], p.pos[0].pos), why: reasonReject}
}
