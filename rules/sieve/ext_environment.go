package sieve

import (
	"os"
	"strings"
)

// environment (RFC 5183): environment [COMPARATOR] [MATCH-TYPE] <name>
// <key-list>. Items come from Options.Environment; the standard items
// default to what mailwarden is: name "mailwarden", location "MS" (a
// message store agent), phase "post" (the message is already delivered,
// RFC 6785 §3.4), host and domain from the host name.

func init() {
	registerExtension("environment", "imapsieve")
	registerTest("environment", "environment", func(c *compiler, n *node) test {
		p, ok := c.args(n, join(comparatorTags, matchTypeTags), []vKind{vString, vStringList})
		if !ok || !c.leafTest(n) {
			return nil
		}
		return &environmentTest{name: c.str(p.pos[0].strs[0], p.pos[0].pos), m: c.matcher(n, p, p.pos[1])}
	})
}

// Version is reported by the environment item "version".
const Version = "0.1"

type environmentTest struct {
	name *str
	m    *matcher
}

func (t *environmentTest) eval(r *run) (bool, error) {
	name := strings.ToLower(r.expand(t.name))
	v, ok := r.root.environment(name)
	if !ok && strings.HasPrefix(name, "imap.") && r.root.exts["imapsieve"] {
		v, ok = r.imapEnvironment(name)
	}
	if !ok {
		// RFC 5183 §4: an unknown item makes the test false (even for
		// :count).
		return false, nil
	}
	return t.m.matchValues(r, []string{v})
}

func (s *Script) environment(name string) (string, bool) {
	if s.opts != nil {
		if v, ok := s.opts.Environment[name]; ok {
			return v, true
		}
	}
	switch name {
	case "name":
		return "mailwarden", true
	case "version":
		return Version, true
	case "location":
		return "MS", true
	case "phase":
		return "post", true
	case "host":
		h, err := os.Hostname()
		return h, err == nil
	case "domain":
		h, err := os.Hostname()
		if err != nil {
			return "", false
		}
		if i := strings.IndexByte(h, '.'); i >= 0 {
			return h[i+1:], true
		}
		return h, true
	}
	return "", false
}

// imapEnvironment answers the items RFC 6785 §4 (imapsieve) adds to the
// environment test: the mailbox the message is in, the cause (mailwarden
// sees new mail as delivered: "APPEND"), the account. Options.Environment
// overrides them.
func (r *run) imapEnvironment(name string) (string, bool) {
	switch name {
	case "imap.mailbox":
		if r.m.Mailbox == "" {
			return "INBOX", true
		}
		return r.m.Mailbox, true
	case "imap.cause":
		return "APPEND", true
	case "imap.user":
		return r.m.Account, r.m.Account != ""
	case "imap.changedflags":
		return "", true
	}
	return "", false
}
