package sieve

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

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
	Type    string   `json:"type"` // keep | fileinto | discard | redirect | vacation | reject | ereject
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
	// Address is redirect's address, or the address vacation answers
	// (the Return-Path).
	Address string `json:"address,omitempty"`
	// Reason is the reason of reject and ereject, or vacation's reason.
	Reason string `json:"reason,omitempty"`
	// Vacation holds the reply of a vacation action.
	Vacation *VacationReply `json:"vacation,omitempty"`
	// Skipped says why an action the script asked for is not carried
	// out under these options (Options.SkipUnsupported); the implicit
	// keep is as if the command were not there.
	Skipped string `json:"skipped,omitempty"`
	// Declined says why a vacation sends no reply (RFC 5230 §4.5, §4.6),
	// or why a redirect is not made (a redirect loop).
	Declined string `json:"declined,omitempty"`
}

// VacationReply is the response of a vacation action (RFC 5230 §5).
type VacationReply struct {
	// Period is how long the recipient is not answered again with the
	// same Handle (:days, :seconds), in seconds.
	Period  int64  `json:"seconds"`
	Subject string `json:"subject"`
	From    string `json:"from,omitempty"`
	To      string `json:"to"`
	// Handle identifies the response for that tracking (RFC 5230 §4.2):
	// :handle, or one made of the unexpanded arguments.
	Handle     string `json:"handle"`
	MIME       bool   `json:"mime,omitempty"`
	InReplyTo  string `json:"in_reply_to,omitempty"`
	References string `json:"references,omitempty"`
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
		if a.Skipped != "" {
			p.Skip(rule(a), skippedText(a))
			continue
		}
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
		case "redirect":
			if a.Declined != "" {
				p.Note(rule(a), fmt.Sprintf("redirect to %q not made: %s", a.Address, a.Declined))
				continue
			}
			raw, _ := m.Raw()
			p.Send(rules.Send{Kind: rules.SendRedirect, Rule: rule(a), To: a.Address, Key: redirectKey(m, a.Address),
				Raw: raw, NullSender: nullSender(m)})
			// RFC 6785 §3.4: a redirect without :copy (and without a
			// keep or fileinto) removes the original: below, like discard.
			if !a.Copy && discard == nil {
				discard = a
			}
		case "vacation":
			if a.Declined != "" {
				p.Note(rule(a), "vacation: no reply: "+a.Declined)
				continue
			}
			v := a.Vacation
			p.Send(rules.Send{Kind: rules.SendVacation, Rule: rule(a), To: a.Address,
				Key: vacationKey(m, v.Handle, a.Address), Period: time.Duration(v.Period) * time.Second,
				Reply: &rules.Reply{From: v.From, To: v.To, Subject: v.Subject, Body: a.Reason, MIME: v.MIME,
					InReplyTo: v.InReplyTo, References: v.References}})
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

// skippedText is the trace line of a skipped action.
func skippedText(a *Action) string {
	what := a.Type
	switch {
	case a.Address != "":
		what += fmt.Sprintf(" to %q", a.Address)
	case a.Type == "reject" || a.Type == "ereject":
		what += fmt.Sprintf(" %q", a.Reason)
	}
	return what + " skipped: " + a.Skipped
}

// redirectKey identifies a redirect of m to addr for at-most-once
// sending: the account, the message (its Message-ID, else where it is)
// and the address.
func redirectKey(m *rules.Message, addr string) string {
	id := m.MessageID()
	if id == "" {
		id = m.Mailbox + "\x00" + strconv.FormatUint(uint64(m.UIDValidity), 10) + "\x00" + strconv.FormatUint(uint64(m.UID), 10)
	} else {
		id = "<" + id + ">"
	}
	return "redirect:" + digest(m.Account, id, canonicalAddress(addr))
}

// vacationKey identifies a vacation response to a recipient (RFC 5230
// §4.2): the account, the response's handle and the address.
func vacationKey(m *rules.Message, handle, to string) string {
	return "vacation:" + digest(m.Account, handle, strings.ToLower(to))
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// nullSender reports whether m came with the null envelope sender
// (Return-Path: <>).
func nullSender(m *rules.Message) bool {
	_, null, _ := envelopeValue(m, "from")
	return null
}
