package sieve

import (
	"fmt"
	"strings"

	"github.com/mailwarden/mailwarden/rules"
)

// Result is the raw outcome of executing a script: the Sieve actions in
// execution order (RFC 5228 §2.10). It is what `mailwarden test --sieve
// --json` prints.
type Result struct {
	Actions []Action `json:"actions"`
	// Stopped is true when the script executed `stop`.
	Stopped bool `json:"stopped,omitempty"`
	// Error is the runtime error, when there was one; the actions then end
	// with the implicit keep (RFC 5228 §2.10.6).
	Error string `json:"error,omitempty"`
}

// Action is one Sieve action.
type Action struct {
	Type    string   `json:"type"` // keep | fileinto | discard
	Mailbox string   `json:"mailbox,omitempty"`
	Flags   []string `json:"flags"`  // flags the kept message or the copy gets; system flags canonical
	Copy    bool     `json:"copy"`   // fileinto :copy (RFC 3894)
	Create  bool     `json:"create"` // fileinto :create (RFC 5490 §3.2)
	// SpecialUse is the special-use attribute of fileinto :specialuse
	// (RFC 8579), already resolved: when the message's rules.Mailboxes
	// said the attribute exists, Mailbox is the attribute itself.
	SpecialUse string `json:"specialuse,omitempty"`
	Implicit   bool   `json:"implicit"` // the implicit keep (RFC 5228 §2.10.2)
	Line       int    `json:"line,omitempty"`
	// Script names the included script (RFC 6609) the action came from;
	// empty for the main script.
	Script string `json:"script,omitempty"`
}

// Plan maps the result to a rules.Plan for message m (see ApplyTo).
func (r *Result) Plan(m *rules.Message, scriptName string) rules.Plan {
	var p rules.Plan
	r.ApplyTo(m, scriptName, true, &p)
	return p
}

// isDefaultMailbox reports whether fileinto into mailbox stores the message
// where it already is (RFC 6785 §3.6: keep means "leave it").
func isDefaultMailbox(m *rules.Message, mailbox string) bool {
	cur := m.Mailbox
	if cur == "" {
		cur = "INBOX"
	}
	if strings.EqualFold(cur, "INBOX") {
		return strings.EqualFold(mailbox, "INBOX")
	}
	return mailbox == cur
}

// ApplyTo records the result in p, following RFC 6785 for mail that is
// already in a mailbox:
//
//   - keep (explicit, implicit, or fileinto of the message's own mailbox)
//     leaves the message where it is; its imap4flags become in-place flag
//     changes (AddFlag/RemoveFlag against m.Flags);
//   - fileinto adds a Delivery: a Copy when the message is also kept, a
//     Move otherwise (several fileinto copy to each and remove the
//     original once); :flags become Delivery.Flags, :create Delivery.Create;
//   - discard, when the message is neither kept nor filed anywhere, moves it
//     to the Trash (Plan.Delete; never an expunge);
//   - every step names the rule as "script:line".
//
// exactFlags says whether to give each Delivery the exact flags the Sieve
// result has for it (true when the script uses imap4flags); otherwise
// copies carry the message's own flags (Delivery.Flags nil).
func (r *Result) ApplyTo(m *rules.Message, scriptName string, exactFlags bool, p *rules.Plan) {
	rule := func(a *Action) string {
		name := scriptName
		if a.Script != "" {
			name = a.Script
		}
		if a.Line == 0 {
			return name
		}
		return fmt.Sprintf("%s:%d", name, a.Line)
	}
	var keep *Action
	var deliveries []*Action
	var discard *Action
	for i := range r.Actions {
		a := &r.Actions[i]
		switch a.Type {
		case "keep":
			keep = a
		case "fileinto":
			if isDefaultMailbox(m, a.Mailbox) {
				keep = a
				continue
			}
			deliveries = append(deliveries, a)
		case "discard":
			if discard == nil {
				discard = a
			}
		}
	}
	if keep != nil {
		cur := rules.CanonicalFlags(m.Flags)
		want := rules.CanonicalFlags(keep.Flags)
		for _, f := range want {
			if !containsFold(cur, f) {
				p.AddFlag(f, rule(keep))
			}
		}
		for _, f := range cur {
			if !containsFold(want, f) {
				p.RemoveFlag(f, rule(keep))
			}
		}
		if !keep.Implicit {
			p.Keep(rule(keep))
		}
	}
	for _, a := range deliveries {
		d := rules.Delivery{Mailbox: a.Mailbox, Create: a.Create, Rule: rule(a)}
		if exactFlags {
			d.Flags = rules.CanonicalFlags(a.Flags)
		}
		if keep != nil {
			p.Copy(d)
		} else {
			p.Move(d)
		}
	}
	if keep == nil && len(deliveries) == 0 && discard != nil {
		p.Delete(rule(discard))
	}
	if r.Stopped {
		p.Note(scriptName, "stop")
	}
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}
