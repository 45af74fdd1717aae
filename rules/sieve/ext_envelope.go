package sieve

import (
	"strings"

	"github.com/mailwarden/mailwarden/rules"
)

// envelope (RFC 5228 §5.4). After delivery there is no SMTP envelope, and
// RFC 6785 §4.6 makes the test an error. With Options.EnvelopeFromHeaders
// (the user's opt-in, sieve.envelope_from_headers) the test reads what the
// delivering server recorded in the header instead:
//
//	from  the first Return-Path field (RFC 5321 §4.4); "<>" is the null
//	      reverse-path, which compares as "" whatever the address part
//	to    the first of Delivered-To, X-Original-To, Envelope-To (the
//	      topmost field: the final recipient)
//
// A part with no such field has no value (the test is false, :count 0).
// Without the opt-in, `unsupported: skip` compiles the test and a message
// that reaches it ends the script with a runtime error marked Unsupported:
// the message is kept unchanged (RFC 5228 §2.10.6) and a warning logged.

var envelopeFields = map[string][]string{
	"from": {"Return-Path"},
	"to":   {"Delivered-To", "X-Original-To", "Envelope-To"},
}

type envelopeTest struct {
	parts  []*str
	consts []string
	part   addrPart
	m      *matcher
}

type envelopeUnavailable struct{ line int }

func (t *envelopeUnavailable) eval(r *run) (bool, error) {
	return false, &RuntimeError{Script: r.s.name, Line: t.line, Msg: "envelope: " + reasonEnvelope, Unsupported: true}
}

func init() {
	registerExtension("envelope")
	registerTest("envelope", "envelope", func(c *compiler, n *node) test {
		p, ok := c.args(n, join(comparatorTags, matchTypeTags, addressPartTags), []vKind{vStringList, vStringList})
		if !ok || !c.leafTest(n) {
			return nil
		}
		t := &envelopeTest{parts: c.strs(p.pos[0]), part: c.addressPart(p), m: c.matcher(n, p, p.pos[1])}
		t.consts = constStrings(t.parts)
		for i, s := range p.pos[0].strs {
			if c.has("variables") && strings.Contains(s, "${") {
				continue
			}
			if envelopeFields[strings.ToLower(s)] == nil {
				c.errorf(p.pos[0].spos[i], `mailwarden knows the envelope parts "from" and "to"`, "unsupported envelope part %q", s)
			}
		}
		if !c.opts.envelopeHeaders() {
			if !c.unsupportedUse(n, reasonEnvelope, hintEnvelope) {
				return nil
			}
			return &envelopeUnavailable{line: n.pos.Line}
		}
		return t
	})
}

// envelopeValue returns the address of the envelope part from the header
// fields; null is true for the null reverse-path ("<>").
func envelopeValue(m *rules.Message, part string) (addr string, null, ok bool) {
	for _, name := range envelopeFields[part] {
		for _, v := range m.Header.Values(name) {
			v = strings.TrimSpace(v)
			if part == "from" && strings.Trim(v, "<> \t") == "" && v != "" {
				return "", true, true
			}
			if list := parseAddresses(v); len(list) > 0 {
				return list[0], false, true
			}
			// A field that holds no address: the part has no value.
			return "", false, false
		}
	}
	return "", false, false
}

func (t *envelopeTest) eval(r *run) (bool, error) {
	p, err := t.m.prepare(r)
	if err != nil {
		return false, err
	}
	count := 0
	for _, part := range r.expandAll(t.parts, t.consts) {
		addr, null, ok := envelopeValue(r.m, strings.ToLower(part))
		if !ok {
			continue
		}
		count++
		if t.m.kind == mCount {
			continue
		}
		v := ""
		if !null {
			// RFC 5228 §5.4: the null reverse-path is "" whatever the
			// address part.
			if v, ok = addressPartOf(addr, t.part); !ok {
				continue
			}
		}
		if p.test(r, v) {
			return true, nil
		}
	}
	if t.m.kind == mCount {
		return p.testCount(count), nil
	}
	return false, nil
}
