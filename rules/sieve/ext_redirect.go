package sieve

import (
	"strings"

	"github.com/mailwarden/mailwarden/rules"
)

// redirect (RFC 5228 §4.2) with :copy (RFC 3894). With Options.Submission
// it records the address; the engine submits the message as fetched, at
// most once per message and address, and without :copy (and without a
// keep or fileinto) moves the original to the Trash once the submission
// server accepted it (RFC 6785 §3.4; never an expunge). A message already
// redirected to the address by mailwarden (its X-Mailwarden-Redirected
// field names it) is not redirected again: a loop (RFC 5228 §10).

// RedirectedField is rules.RedirectedField.
const RedirectedField = rules.RedirectedField

type redirectCmd struct {
	line int
	addr *str
	copy bool
}

func init() {
	registerCommand("redirect", "", compileRedirect)
}

func compileRedirect(c *compiler, n *node) command {
	p, ok := c.args(n, []tagSpec{{name: "copy", ext: "copy"}}, []vKind{vString})
	if !ok || !c.simple(n) {
		return nil
	}
	a := p.pos[0]
	addr := c.str(a.strs[0], a.pos)
	if addr.constant() {
		if _, ok := redirectAddress(addr.lit); !ok {
			// RFC 5228 §4.2: the address must be syntactically valid.
			c.errorf(a.pos, "redirect takes one address, e.g. \"someone@example.com\"", "invalid redirect address %q", addr.lit)
			return nil
		}
	}
	if !c.opts.submission() {
		if !c.unsupportedUse(n, reasonNoSMTP+"; the message is kept", hintNoSMTP) {
			return nil
		}
		return &skipCmd{line: n.pos.Line, kind: "redirect", address: addr, why: reasonNoSMTP + "; the message is kept"}
	}
	// The message goes out whole, as fetched.
	c.script.needsBody = true
	return &redirectCmd{line: n.pos.Line, addr: addr, copy: p.has("copy")}
}

// redirectAddress returns the addr-spec of a redirect address: one
// address, bare or with a display name.
func redirectAddress(v string) (string, bool) {
	list := parseAddresses(v)
	if len(list) != 1 {
		return "", false
	}
	return list[0], true
}

func (c *redirectCmd) exec(r *run) error {
	r.line = c.line
	v := r.expand(c.addr)
	addr, ok := redirectAddress(v)
	if !ok {
		return r.errorf("redirect: invalid address %q", v)
	}
	n := 0
	for i := range r.actions {
		if a := &r.actions[i]; a.Type == "redirect" && a.Skipped == "" && a.Declined == "" {
			if sameAddress(a.Address, addr) {
				// RFC 5228 §2.10.3: redirecting twice to one address
				// redirects once.
				if !c.copy {
					r.cancelled = true
				}
				return nil
			}
			n++
		}
	}
	if max := r.root.maxRedirects(); n >= max {
		return r.errorf("more than %d redirects", max)
	}
	a := Action{Type: "redirect", Address: addr, Copy: c.copy, Line: c.line}
	for _, f := range r.m.Header.Values(RedirectedField) {
		for _, done := range parseAddresses(f) {
			if sameAddress(done, addr) {
				// Sent there before (by this or another mailwarden):
				// the message is kept, the loop broken.
				a.Declined = "the message was redirected to this address before (" + RedirectedField + "): a loop"
				return r.addAction(a)
			}
		}
	}
	// RFC 3894: :copy keeps the implicit keep.
	if !c.copy {
		r.cancelled = true
	}
	return r.addAction(a)
}

func (s *Script) maxRedirects() int {
	if s.opts != nil && s.opts.MaxRedirects > 0 {
		return s.opts.MaxRedirects
	}
	return DefaultMaxRedirects
}

// sameAddress compares two addr-specs as mail does: the local part
// exactly (RFC 5321 §2.4), the domain without case.
func sameAddress(a, b string) bool {
	return canonicalAddress(a) == canonicalAddress(b)
}

// canonicalAddress lower-cases the domain of an addr-spec.
func canonicalAddress(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return a[:i+1] + strings.ToLower(a[i+1:])
	}
	return a
}
