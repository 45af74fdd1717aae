package sieve

import (
	"fmt"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

// vacation (RFC 5230) and vacation-seconds (RFC 6131). With
// Options.Submission the interpreter decides whether to answer and what
// (this file); the engine sends the reply with the null envelope sender
// (RFC 5230 §5.1), at most once per recipient and response within the
// period, which it remembers in the state file like duplicate. Without
// Submission vacation is a compile error, or skipped with `unsupported:
// skip`. Vacation does not touch the implicit keep (RFC 5230 §4.7).
//
// RFC 6785 §3.11 lists vacation as inapplicable to IMAP events, which
// include a user's APPEND and flag changes. mailwarden runs scripts on mail
// that has just arrived, the event vacation was made for; it answers only
// messages younger than Options.VacationMaxAge, so running a rule set over
// a mailbox of old mail sends nothing.
//
// No reply is made (the action is recorded with Declined) when:
//
//   - the message has no Return-Path (the envelope sender, which the reply
//     goes to, RFC 5230 §4.2, is unknown) or the null one (<>);
//   - the sender is one of the user's addresses (RFC 3834 §2), or a
//     system address: MAILER-DAEMON, LISTSERV, majordomo, owner-*,
//     *-request (RFC 5230 §4.6);
//   - it has Auto-Submitted other than "no", Precedence bulk, list or
//     junk, or a List-Id, List-Help, List-Subscribe, List-Unsubscribe,
//     List-Post, List-Owner or List-Archive field (RFC 5230 §4.6,
//     RFC 3834 §2);
//   - none of the user's addresses (Options.UserAddresses, :addresses,
//     and the envelope "to" with Options.EnvelopeFromHeaders) is in To,
//     Cc, Bcc, Resent-To, Resent-Cc or Resent-Bcc (RFC 5230 §4.5);
//   - it arrived longer than Options.VacationMaxAge ago (INTERNALDATE).

type vacationCmd struct {
	line      int
	seconds   time.Duration
	subject   *str
	from      *str
	addresses []*str
	mime      bool
	handle    *str
	reason    *str
	// synth is the handle made of the unexpanded arguments when :handle
	// is absent (RFC 5230 §4.2: variables are not expanded for it).
	synth string
}

func init() {
	registerExtension("vacation", "vacation-seconds")
	registerCommand("vacation", "vacation", compileVacation)
}

func compileVacation(c *compiler, n *node) command {
	p, ok := c.args(n, []tagSpec{
		{name: "days", val: vNumber, group: "period"},
		{name: "seconds", val: vNumber, group: "period", ext: "vacation-seconds"},
		{name: "subject", val: vString},
		{name: "from", val: vString},
		{name: "addresses", val: vStringList},
		{name: "mime"},
		{name: "handle", val: vString},
	}, []vKind{vString})
	if !ok || !c.simple(n) {
		return nil
	}
	v := &vacationCmd{line: n.pos.Line, mime: p.has("mime"), seconds: 7 * 24 * time.Hour}
	reasonArg := p.pos[0]
	v.reason = c.str(reasonArg.strs[0], reasonArg.pos)
	raw := map[string]string{}
	for _, tag := range []string{"subject", "from", "handle"} {
		if s, a := p.str(tag); a != nil {
			raw[tag] = s
			sv := c.str(s, a.pos)
			switch tag {
			case "subject":
				v.subject = sv
			case "from":
				v.from = sv
				if sv.constant() {
					if _, ok := redirectAddress(sv.lit); !ok {
						c.errorf(a.pos, `e.g. :from "Me <me@example.com>"`, "invalid :from address %q", sv.lit)
					}
				}
			case "handle":
				v.handle = sv
			}
		}
	}
	if a := p.tags["addresses"]; a != nil {
		v.addresses = c.strs(a)
	}
	if a := p.tags["days"]; a != nil {
		v.seconds = time.Duration(min(a.num, 1<<20)) * 24 * time.Hour
	}
	if a := p.tags["seconds"]; a != nil {
		v.seconds = time.Duration(min(a.num, 1<<31)) * time.Second
	}
	// RFC 5230 §4.1, RFC 6131 §2: a site minimum.
	v.seconds = max(v.seconds, MinVacationPeriod)
	if v.mime && v.reason.constant() {
		if err := checkMIMEReason(v.reason.lit); err != "" {
			c.errorf(reasonArg.pos, "with :mime the reason is a MIME entity: header fields, an empty line, the content", "%s", err)
		}
	}
	v.synth = fmt.Sprintf("%d:%s|%d:%s|%d:%s|%v", len(reasonArg.strs[0]), reasonArg.strs[0], len(raw["subject"]), raw["subject"], len(raw["from"]), raw["from"], v.mime)
	if !c.opts.submission() {
		if !c.unsupportedUse(n, reasonNoSMTP+"; no reply is sent", hintNoSMTP) {
			return nil
		}
		return &skipCmd{line: n.pos.Line, kind: "vacation", why: reasonNoSMTP + "; no reply is sent"}
	}
	return v
}

// checkMIMEReason checks a :mime reason (RFC 5230 §5): a header section
// without 8-bit characters.
func checkMIMEReason(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	head, _, ok := strings.Cut(s, "\n\n")
	if !ok && !strings.HasPrefix(s, "\n") {
		head = s
	}
	for i := 0; i < len(head); i++ {
		if head[i] >= 0x80 {
			return "the MIME header of a :mime reason must be 7-bit (RFC 5230 §5)"
		}
	}
	return ""
}

// listFields mark mailing list mail (RFC 2369, RFC 2919).
var listFields = []string{"List-Id", "List-Help", "List-Subscribe", "List-Unsubscribe", "List-Post", "List-Owner", "List-Archive"}

func (v *vacationCmd) exec(r *run) error {
	r.line = v.line
	for i := range r.actions {
		if r.actions[i].Type == "vacation" {
			// RFC 5230 §4.7.
			return r.errorf("vacation can be executed only once per message")
		}
	}
	reason := r.expand(v.reason)
	if v.mime {
		if e := checkMIMEReason(reason); e != "" {
			return r.errorf("vacation: %s", e)
		}
	}
	reply := &VacationReply{Period: int64(v.seconds / time.Second), Handle: v.synth, MIME: v.mime}
	if v.handle != nil {
		reply.Handle = "handle:" + r.expand(v.handle)
	}
	if v.from != nil {
		from := r.expand(v.from)
		// RFC 5230 §4.3: an invalid :from is ignored.
		if _, ok := redirectAddress(from); ok {
			reply.From = from
		}
	}
	m := r.m
	subject := strings.TrimSpace(m.Subject())
	switch {
	case v.subject != nil:
		reply.Subject = r.expand(v.subject)
	case subject != "":
		reply.Subject = "Auto: " + subject // RFC 5230 §5.3
	default:
		reply.Subject = "Automated reply"
	}
	if id := strings.TrimSpace(m.Header.Get("Message-ID")); id != "" {
		// RFC 5230 §5.8, RFC 5322 §3.6.4.
		reply.InReplyTo = id
		refs := strings.TrimSpace(m.Header.Get("References"))
		if refs == "" {
			refs = strings.TrimSpace(m.Header.Get("In-Reply-To"))
		}
		reply.References = strings.TrimSpace(refs + " " + id)
	}
	mine := append([]string(nil), r.root.userAddresses()...)
	for _, a := range r.expandAll(v.addresses, nil) {
		mine = append(mine, parseAddresses(a)...)
	}
	if r.root.opts.envelopeHeaders() {
		if to, _, ok := envelopeValue(m, "to"); ok && to != "" {
			mine = append(mine, to)
		}
	}
	a := Action{Type: "vacation", Line: v.line, Reason: reason, Vacation: reply}
	sender, declined := vacationSender(m)
	a.Address = sender
	if declined == "" {
		declined = vacationDeclined(m, sender, mine, r.root.opts)
	}
	if declined != "" {
		a.Declined = declined
		return r.addAction(a)
	}
	reply.To = "<" + sender + ">"
	if from := m.Header.Get("From"); from != "" {
		if addrs := parseAddresses(from); len(addrs) == 1 && strings.EqualFold(addrs[0], sender) {
			reply.To = strings.TrimSpace(m.Header.RawValues("From")[0])
		}
	}
	return r.addAction(a)
}

func (s *Script) userAddresses() []string {
	if s.opts == nil {
		return nil
	}
	return s.opts.UserAddresses
}

// vacationSender returns the envelope sender from the Return-Path (RFC
// 5230 §4.2), or why there is none to answer.
func vacationSender(m *rules.Message) (string, string) {
	addr, null, ok := envelopeValue(m, "from")
	switch {
	case null:
		return "", "the envelope sender is null (Return-Path: <>): a bounce or an automatic message (RFC 3834 §2)"
	case !ok:
		return "", "the message has no Return-Path: the envelope sender, whom vacation answers, is unknown (RFC 5230 §4.2)"
	}
	return addr, ""
}

// vacationDeclined returns why vacation must not answer m, or "".
func vacationDeclined(m *rules.Message, sender string, mine []string, o *Options) string {
	for _, a := range mine {
		if strings.EqualFold(a, sender) {
			return "the message is from the user's own address (RFC 3834 §2)"
		}
	}
	local := strings.ToLower(sender)
	if i := strings.LastIndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	switch {
	case local == "mailer-daemon" || local == "listserv" || local == "majordomo" ||
		strings.HasPrefix(local, "owner-") || strings.HasSuffix(local, "-request"):
		return fmt.Sprintf("the sender %s is a system address (RFC 5230 §4.6)", sender)
	}
	if v := strings.TrimSpace(m.Header.Get("Auto-Submitted")); m.Header.Has("Auto-Submitted") && !strings.EqualFold(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]), "no") {
		return "the message is Auto-Submitted: " + v + " (RFC 5230 §4.6)"
	}
	switch p := strings.ToLower(strings.TrimSpace(m.Header.Get("Precedence"))); p {
	case "bulk", "list", "junk":
		return "the message has Precedence: " + p + " (RFC 3834 §2)"
	}
	for _, f := range listFields {
		if m.Header.Has(f) {
			return "the message comes from a mailing list (" + f + ", RFC 5230 §4.6)"
		}
	}
	personal := false
	for _, f := range []string{"To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"} {
		for _, raw := range m.Header.RawValues(f) {
			for _, a := range parseAddresses(raw) {
				for _, me := range mine {
					if strings.EqualFold(a, me) {
						personal = true
					}
				}
			}
		}
	}
	if !personal {
		return "none of the user's addresses is in To, Cc, Bcc or Resent-* (RFC 5230 §4.5; add them with :addresses)"
	}
	maxAge := DefaultVacationMaxAge
	if o != nil && o.VacationMaxAge > 0 {
		maxAge = o.VacationMaxAge
	}
	if !m.InternalDate.IsZero() {
		if age := o.now().Sub(m.InternalDate); age > maxAge {
			return fmt.Sprintf("the message arrived %s ago, longer than %s: vacation answers new mail only", age.Round(time.Hour), maxAge)
		}
	}
	return ""
}
