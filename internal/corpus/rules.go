package corpus

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Cond holds when the decoded, unfolded value of header Field contains
// Contains, compared case-insensitively: what IMAP SEARCH HEADER does
// (RFC 9051 §6.4.4), what Sieve's `header :contains` does with its
// default comparator (RFC 5228 §2.7.3), and what the expr form writes as
// lower(header(F)) contains "v". The corpus has no message where the
// first field of a name and a later one disagree, so "the first field"
// (expr) and "any field" (IMAP, Sieve) agree on it.
type Cond struct {
	Field    string
	Contains string // lower case
}

// Rule is one rule of a RuleSet.
type Rule struct {
	Name string
	// Any: the rule matches when at least one Cond holds ...
	Any []Cond
	// ... and, when OlderThan > 0, the internal date is more than
	// OlderThan before now.
	OlderThan time.Duration
	// Move is the destination mailbox ("" for none); a rule with a Move
	// stops the rule set.
	Move string
	// Flag is added to the message ("" for none).
	Flag string
}

// RuleSet is an ordered list of rules. Semantics (the same in every form):
// rules run in order; a matching rule adds its flag (the flag travels with
// the message when it is moved later); the first matching rule with a
// Move moves the message there and ends the rule set. A message no Move
// matches stays in INBOX.
type RuleSet []Rule

// Reference is the 13-rule reference rule set of issue 8: spam (two
// rules) to Junk; five VIP senders flagged; eight List-Ids to
// Lists/<key>; "invoice" in Subject to Finance; Precedence bulk older than
// 90 days to Trash.
var Reference = buildReference()

func buildReference() RuleSet {
	rs := RuleSet{
		{Name: "spam-flag", Any: []Cond{{"X-Spam-Flag", "yes"}}, Move: "Junk"},
		{Name: "spam-status", Any: []Cond{{"X-Spam-Status", "yes,"}}, Move: "Junk"},
	}
	vip := Rule{Name: "vip", Flag: `\Flagged`}
	for _, v := range VIPs {
		vip.Any = append(vip.Any, Cond{"From", v.Addr})
	}
	rs = append(rs, vip)
	for _, l := range Lists {
		if l.InRules {
			rs = append(rs, Rule{Name: "list-" + l.Key, Any: []Cond{{"List-Id", l.ID}}, Move: ListFolder(l.Key)})
		}
	}
	return append(rs,
		Rule{Name: "invoice", Any: []Cond{{"Subject", "invoice"}}, Move: "Finance"},
		Rule{Name: "bulk-old", Any: []Cond{{"Precedence", "bulk"}}, OlderThan: OldAge, Move: "Trash"},
	)
}

// ListFolder is the mailbox list mail of key is filed into.
func ListFolder(key string) string { return "Lists/" + key }

// Fields returns the header fields the rule set reads, in rule order.
func (rs RuleSet) Fields() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		for _, c := range r.Any {
			if k := strings.ToLower(c.Field); !seen[k] {
				seen[k] = true
				out = append(out, c.Field)
			}
		}
	}
	return out
}

// Destinations returns the mailboxes the rule set moves to, in rule order.
func (rs RuleSet) Destinations() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range rs {
		if r.Move != "" && !seen[r.Move] {
			seen[r.Move] = true
			out = append(out, r.Move)
		}
	}
	return out
}

// Decide applies the rule set to one message: header returns the decoded,
// unfolded value of a field ("" when absent). It returns the mailbox the
// message ends in ("INBOX" when it stays) and the flags rules add.
func (rs RuleSet) Decide(header func(field string) string, internal, now time.Time) (mailbox string, flags []string) {
	for _, r := range rs {
		if !r.matches(header, internal, now) {
			continue
		}
		if r.Flag != "" {
			flags = append(flags, r.Flag)
		}
		if r.Move != "" {
			return r.Move, flags
		}
	}
	return "INBOX", flags
}

func (r *Rule) matches(header func(string) string, internal, now time.Time) bool {
	if r.OlderThan > 0 && !internal.Before(now.Add(-r.OlderThan)) {
		return false
	}
	for _, c := range r.Any {
		if strings.Contains(strings.ToLower(header(c.Field)), c.Contains) {
			return true
		}
	}
	return false
}

// Expectation is what running the reference rule set once over the
// corpus in INBOX must leave on the server.
type Expectation struct {
	// Mailbox[i] is where message i ends; Flagged[i] whether it then has
	// \Flagged.
	Mailbox []string
	Flagged []bool
	// Count and FlaggedCount are per mailbox (INBOX included; mailboxes
	// that end empty are absent).
	Count, FlaggedCount map[string]int
}

// Expect computes the Expectation from the messages' Meta alone: it does
// not parse messages and does not use the rule set's conditions, so it is
// an independent account of what the rules must do. Tests check that
// Reference.Decide over the parsed messages agrees with it.
//
// Precedence, as the rule set orders it: spam goes to Junk (before any
// flag is added); otherwise a VIP message is flagged; then list mail of a
// list in the rules goes to its folder, else an invoice to Finance, else
// bulk mail older than OldAge to Trash; the rest stays in INBOX.
// Messages that start with \Flagged keep it.
func Expect(msgs []*Message, now time.Time) *Expectation {
	e := &Expectation{Mailbox: make([]string, len(msgs)), Flagged: make([]bool, len(msgs)), Count: map[string]int{}, FlaggedCount: map[string]int{}}
	inRules := map[string]bool{}
	for _, l := range Lists {
		inRules[l.Key] = l.InRules
	}
	for i, m := range msgs {
		mb, fl := "INBOX", m.Meta.Flagged
		switch {
		case m.Meta.Spam:
			mb = "Junk"
		case inRules[m.Meta.List]:
			mb = ListFolder(m.Meta.List)
		case m.Meta.Invoice:
			mb = "Finance"
		case m.Meta.Bulk && now.Sub(m.Internal) > OldAge:
			mb = "Trash"
		}
		if !m.Meta.Spam && m.Meta.VIP {
			fl = true
		}
		e.Mailbox[i], e.Flagged[i] = mb, fl
		e.Count[mb]++
		if fl {
			e.FlaggedCount[mb]++
		}
	}
	return e
}

// Moves is the number of messages that leave INBOX.
func (e *Expectation) Moves() int {
	n := 0
	for mb, c := range e.Count {
		if mb != "INBOX" {
			n += c
		}
	}
	return n
}

// String lists the counts, one mailbox per line, sorted.
func (e *Expectation) String() string {
	var names []string
	for k := range e.Count {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%-22s %6d  (%d flagged)\n", k, e.Count[k], e.FlaggedCount[k])
	}
	return b.String()
}
