package sieve

import "fmt"

// What mailwarden cannot carry out under a script's options, and what it
// does instead when the script's rule set step says `unsupported: skip`
// (Options.SkipUnsupported). Without that setting each is a compile error
// whose hint names the setting and what would make the command work.
//
//	redirect, vacation  without Options.Submission (no smtp: section):
//	                    skipped; the implicit keep stays (a skipped
//	                    redirect never removes the message)
//	reject, ereject     always (RFC 6785 §3.11: mail already delivered
//	                    cannot be refused): skipped, the message kept
//	envelope            without Options.EnvelopeFromHeaders: a message
//	                    that reaches the test is kept unchanged (a
//	                    runtime error, RFC 6785 §4.6, logged as a warning)

// Skip is one command a script will skip, for `mailwarden check`.
type Skip struct {
	Script  string // the script (or included script) it is in
	Line    int
	Command string // "redirect", "vacation", "reject", "ereject", "envelope"
	Reason  string // what happens instead, and why
}

func (s Skip) String() string {
	return fmt.Sprintf("%s:%d: %s skipped: %s", s.Script, s.Line, s.Command, s.Reason)
}

// Skips lists the commands of the script (and of the scripts it
// includes) that are skipped at run time, in source order; empty unless
// the script was compiled with Options.SkipUnsupported.
func (s *Script) Skips() []Skip { return s.skips }

// Reasons given for skipped commands, and hints for the compile errors
// without `unsupported: skip`.
const (
	reasonNoSMTP = "no smtp: section to send with"
	hintNoSMTP   = "configure the smtp: section to send it, or set `unsupported: skip` on this script's rule set step to skip it (the message is kept)"

	reasonReject = "mail handled here is already delivered and cannot be refused (RFC 6785 §3.11); the message is kept"
	hintReject   = "set `unsupported: skip` on this script's rule set step to keep such messages (a warning is logged each time), or use discard or fileinto"

	reasonEnvelope = "there is no envelope after delivery (RFC 6785 §4.6); a message that reaches this test is kept unchanged"
	hintEnvelope   = "set sieve.envelope_from_headers: true to read Return-Path and Delivered-To as the envelope, or `unsupported: skip` on this script's rule set step (messages that reach the test are kept unchanged); or test those headers with address and header"
)

// unsupportedUse handles a command or test these options cannot carry
// out: with SkipUnsupported it records the skip and returns true (compile
// the skipping form); otherwise it reports the compile error (once per
// script) and returns false.
func (c *compiler) unsupportedUse(n *node, reason, hint string) bool {
	if c.opts.skipUnsupported() {
		c.script.skips = append(c.script.skips, Skip{Script: c.script.name, Line: n.pos.Line, Command: n.name, Reason: reason})
		return true
	}
	c.errorOnce("command "+n.name, n.pos, hint, "%s is not available: %s", n.raw, trimKept(reason))
	return false
}

// trimKept drops what happens under `unsupported: skip` from a reason,
// for the compile error.
func trimKept(reason string) string {
	for i := 0; i+2 < len(reason); i++ {
		if reason[i] == ';' {
			return reason[:i]
		}
	}
	return reason
}

// skipCmd is a command compiled in its skipping form: it records the
// action with the reason, and leaves the implicit keep alone.
type skipCmd struct {
	line    int
	kind    string
	address *str // redirect
	reason  *str // reject, ereject
	why     string
}

func (c *skipCmd) exec(r *run) error {
	r.line = c.line
	a := Action{Type: c.kind, Line: c.line, Skipped: c.why}
	if c.address != nil {
		a.Address = r.expand(c.address)
	}
	if c.reason != nil {
		a.Reason = r.expand(c.reason)
	}
	return r.addAction(a)
}
