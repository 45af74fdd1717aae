package rules

import (
	"fmt"
	"slices"
	"strings"
)

// Plan is what should happen to one message: pure data, applied by package
// actions. The zero Plan leaves the message where it is, unchanged.
//
// Applying a Plan means, in this order:
//  1. AddFlags and RemoveFlags change the original's flags in place;
//  2. every Delivery gets a copy of the message (with the flags it then has,
//     or the Delivery's own Flags);
//  3. if Remove is set, the original is removed from its mailbox (for one
//     Delivery this is a single UID MOVE). Remove without a Delivery is
//     invalid and is ignored by Validate's caller.
//
// Sends (Sieve redirect and vacation) are submitted before any of that,
// and a redirect that is not confirmed sent leaves the message as it is
// (package actions).
type Plan struct {
	AddFlags    []string
	RemoveFlags []string
	Deliveries  []Delivery
	Remove      bool
	// Sends are the messages to submit by SMTP (redirect, vacation).
	Sends []Send

	// Skips are the actions the rules asked for that are not carried out,
	// each with the reason ("redirect skipped: no smtp: section"); they
	// are in Trace too, and the engine logs them as warnings.
	Skips []Step

	// Trace says, in decision order, which rule decided what. It feeds
	// `mailwarden test`, the logs and the journal.
	Trace []Step
}

// Delivery is one copy of the message into another mailbox.
type Delivery struct {
	// Mailbox is a mailbox name ("Lists/go") or a special-use attribute
	// (`\Trash`, `\Archive`, `\Junk`, … RFC 6154) that the executor resolves
	// on the server.
	Mailbox string
	// Flags, when non-nil, are the exact flags of the copy (Sieve
	// `fileinto :flags`, RFC 5232 §5). Nil means the message's own flags
	// after AddFlags/RemoveFlags.
	Flags []string
	// Create allows creating Mailbox when it does not exist (RFC 5490 §3.2
	// `:create`; expr rules always allow it).
	Create bool
	// Rule names the rule that asked for this copy.
	Rule string
}

// Step records one decision of one rule.
type Step struct {
	Rule   string `json:"rule"`   // rule name, or "script.sieve:12" for Sieve
	Action string `json:"action"` // human-readable, e.g. `move "Finance"`, `flag \Flagged`
}

// RuleNames lists the rules of the plan's trace, each once, in order,
// comma-separated: what log lines name as the rules that decided.
func (p *Plan) RuleNames() string {
	var names []string
	for _, s := range p.Trace {
		if s.Rule != "" && !slices.Contains(names, s.Rule) {
			names = append(names, s.Rule)
		}
	}
	return strings.Join(names, ",")
}

// IsZero reports whether the plan changes nothing.
func (p *Plan) IsZero() bool {
	return len(p.AddFlags) == 0 && len(p.RemoveFlags) == 0 && len(p.Deliveries) == 0 && !p.Remove && len(p.Sends) == 0
}

// Send adds a message to submit (Sieve redirect or vacation). A second
// send with the same Key is dropped (RFC 5228 §2.10.3: redirecting twice
// to one address redirects once).
func (p *Plan) Send(s Send) {
	for _, e := range p.Sends {
		if e.Key == s.Key {
			return
		}
	}
	p.Sends = append(p.Sends, s)
	p.Trace = append(p.Trace, Step{Rule: s.Rule, Action: s.Describe()})
}

// Skip records an action the rule asked for that is not carried out, and
// why.
func (p *Plan) Skip(rule, what string) {
	st := Step{Rule: rule, Action: what}
	p.Skips = append(p.Skips, st)
	p.Trace = append(p.Trace, st)
}

// AddFlag adds flag to the message in place, cancelling an earlier
// RemoveFlag of the same flag.
func (p *Plan) AddFlag(flag, rule string) {
	flag = CanonicalFlag(flag)
	p.RemoveFlags = deleteFold(p.RemoveFlags, flag)
	if !containsFold(p.AddFlags, flag) {
		p.AddFlags = append(p.AddFlags, flag)
	}
	p.Trace = append(p.Trace, Step{Rule: rule, Action: "flag " + flag})
}

// RemoveFlag removes flag from the message in place, cancelling an earlier
// AddFlag of the same flag.
func (p *Plan) RemoveFlag(flag, rule string) {
	flag = CanonicalFlag(flag)
	p.AddFlags = deleteFold(p.AddFlags, flag)
	if !containsFold(p.RemoveFlags, flag) {
		p.RemoveFlags = append(p.RemoveFlags, flag)
	}
	p.Trace = append(p.Trace, Step{Rule: rule, Action: "unflag " + flag})
}

// SetFlags makes the message's flags exactly flags, given its current flags
// (RFC 5232 §3.1 setflag applied to the message in place).
func (p *Plan) SetFlags(current, flags []string, rule string) {
	p.AddFlags, p.RemoveFlags = nil, nil
	want := CanonicalFlags(flags)
	for _, f := range want {
		if !containsFold(current, f) {
			p.AddFlags = append(p.AddFlags, f)
		}
	}
	for _, f := range CanonicalFlags(current) {
		if !containsFold(want, f) {
			p.RemoveFlags = append(p.RemoveFlags, f)
		}
	}
	p.Trace = append(p.Trace, Step{Rule: rule, Action: "setflags " + formatFlags(want)})
}

// Copy adds a Delivery and keeps the original.
func (p *Plan) Copy(d Delivery) {
	p.addDelivery(d)
	p.Trace = append(p.Trace, Step{Rule: d.Rule, Action: "copy " + describe(d)})
}

// Move adds a Delivery and removes the original once every delivery is
// done. Several moves copy to each and remove the original once.
func (p *Plan) Move(d Delivery) {
	p.addDelivery(d)
	p.Remove = true
	p.Trace = append(p.Trace, Step{Rule: d.Rule, Action: "move " + describe(d)})
}

// Delete moves the message to the special-use Trash mailbox (RFC 6154).
// It never expunges.
func (p *Plan) Delete(rule string) {
	p.addDelivery(Delivery{Mailbox: Trash, Create: false, Rule: rule})
	p.Remove = true
	p.Trace = append(p.Trace, Step{Rule: rule, Action: "delete (move to " + Trash + ")"})
}

// Keep cancels a pending removal of the original (Sieve explicit `keep`).
func (p *Plan) Keep(rule string) {
	p.Remove = false
	p.Trace = append(p.Trace, Step{Rule: rule, Action: "keep"})
}

// Note records a decision that changes nothing (e.g. "stop").
func (p *Plan) Note(rule, action string) {
	p.Trace = append(p.Trace, Step{Rule: rule, Action: action})
}

// addDelivery appends d unless an equal delivery is already planned
// (RFC 5228 §4.1: duplicate fileinto into the same mailbox is done once).
func (p *Plan) addDelivery(d Delivery) {
	for i, e := range p.Deliveries {
		if e.Mailbox == d.Mailbox {
			if d.Create {
				p.Deliveries[i].Create = true
			}
			if d.Flags != nil {
				p.Deliveries[i].Flags = CanonicalFlags(d.Flags)
			}
			return
		}
	}
	if d.Flags != nil {
		d.Flags = CanonicalFlags(d.Flags)
	}
	p.Deliveries = append(p.Deliveries, d)
}

// Effective drops the flag changes that would change nothing on a message
// whose flags are current: adding a flag it has, removing one it lacks
// (flags compare case-insensitively, RFC 9051 §2.3.2). Deliveries and the
// trace stay. A plan that then changes nothing IsZero: the message is not
// counted as acted on, and no command is sent for it.
func (p *Plan) Effective(current []string) {
	p.AddFlags = slices.DeleteFunc(slices.Clone(p.AddFlags), func(f string) bool { return containsFold(current, f) })
	p.RemoveFlags = slices.DeleteFunc(slices.Clone(p.RemoveFlags), func(f string) bool { return !containsFold(current, f) })
	if len(p.AddFlags) == 0 {
		p.AddFlags = nil
	}
	if len(p.RemoveFlags) == 0 {
		p.RemoveFlags = nil
	}
}

// FlagsAfter returns the flags the message has once the plan's in-place
// changes are applied to current.
func (p *Plan) FlagsAfter(current []string) []string {
	out := make([]string, 0, len(current)+len(p.AddFlags))
	for _, f := range CanonicalFlags(current) {
		if !containsFold(p.RemoveFlags, f) {
			out = append(out, f)
		}
	}
	for _, f := range p.AddFlags {
		if !containsFold(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Summary is a one-line human description of the whole plan, e.g.
// `flag \Flagged; move "Finance"` or "keep".
func (p *Plan) Summary() string {
	var parts []string
	if len(p.AddFlags) > 0 {
		parts = append(parts, "flag "+formatFlags(p.AddFlags))
	}
	if len(p.RemoveFlags) > 0 {
		parts = append(parts, "unflag "+formatFlags(p.RemoveFlags))
	}
	verb := "copy "
	if p.Remove && len(p.Deliveries) == 1 {
		verb = "move "
	}
	for _, d := range p.Deliveries {
		parts = append(parts, verb+describe(d))
	}
	if p.Remove && len(p.Deliveries) > 1 {
		parts = append(parts, "remove original")
	}
	for i := range p.Sends {
		parts = append(parts, p.Sends[i].Describe())
	}
	if len(parts) == 0 {
		return "keep"
	}
	return strings.Join(parts, "; ")
}

// Compact is the plan for a log line: one token per change, comma
// separated, names as they are ("flag:\Flagged,move:Lists/go", or "keep").
// Unlike Summary it quotes nothing, so a log handler's own quoting is the
// only escaping a reader sees.
func (p *Plan) Compact() string {
	var parts []string
	for _, f := range p.AddFlags {
		parts = append(parts, "flag:"+f)
	}
	for _, f := range p.RemoveFlags {
		parts = append(parts, "unflag:"+f)
	}
	verb := "copy:"
	if p.Remove && len(p.Deliveries) == 1 {
		verb = "move:"
	}
	for _, d := range p.Deliveries {
		parts = append(parts, verb+d.Mailbox)
	}
	if p.Remove && len(p.Deliveries) > 1 {
		parts = append(parts, "remove-original")
	}
	for _, sd := range p.Sends {
		parts = append(parts, sd.Kind+":"+sd.To)
	}
	if len(parts) == 0 {
		return "keep"
	}
	return strings.Join(parts, ",")
}

func describe(d Delivery) string {
	s := fmt.Sprintf("%q", d.Mailbox)
	if d.Flags != nil {
		s += " flags=" + formatFlags(d.Flags)
	}
	return s
}

func formatFlags(flags []string) string {
	if len(flags) == 0 {
		return "()"
	}
	return strings.Join(flags, " ")
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(e string) bool { return strings.EqualFold(e, s) })
}

func deleteFold(list []string, s string) []string {
	return slices.DeleteFunc(list, func(e string) bool { return strings.EqualFold(e, s) })
}

func quoteString(s string) string { return fmt.Sprintf("%q", s) }
