package exprrule

import (
	"strconv"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

// Address is an address as rule expressions see it (see the package doc).
type Address struct {
	Address string `expr:"address"`
	Name    string `expr:"name"`
	Domain  string `expr:"domain"`
	Local   string `expr:"local"`
}

func toAddress(a rules.Address) Address {
	local, domain := a.LocalPart(), a.Domain()
	addr := a.Address
	if strings.IndexByte(addr, '@') >= 0 {
		addr = local + "@" + domain
	}
	return Address{Address: addr, Name: a.Name, Domain: domain, Local: local}
}

func toAddresses(list []rules.Address) []Address {
	if len(list) == 0 {
		return nil
	}
	out := make([]Address, len(list))
	for i, a := range list {
		out[i] = toAddress(a)
	}
	return out
}

// env is the expression environment. Its field tags are the names rules
// use; keep them in sync with the package doc and envNames.
type env struct {
	Subject      string                `expr:"subject"`
	From         Address               `expr:"from"`
	To           []Address             `expr:"to"`
	Cc           []Address             `expr:"cc"`
	ReplyTo      []Address             `expr:"reply_to"`
	Header       func(string) string   `expr:"header"`
	Headers      func(string) []string `expr:"headers"`
	HasHeader    func(string) bool     `expr:"has_header"`
	ListID       string                `expr:"list_id"`
	MessageID    string                `expr:"message_id"`
	Date         time.Time             `expr:"date"`
	InternalDate time.Time             `expr:"internal_date"`
	Age          time.Duration         `expr:"age"`
	Size         int                   `expr:"size"`
	Flags        []string              `expr:"flags"`
	HasFlag      func(string) bool     `expr:"has_flag"`
	Number       func(string) float64  `expr:"number"`
	Mailbox      string                `expr:"mailbox"`
	Account      string                `expr:"account"`

	m *rules.Message
}

// need is a bit set of the environment variables an expression reads, so
// that evaluation computes only those (parsing addresses is the costly part).
type need uint32

const (
	needSubject need = 1 << iota
	needFrom
	needTo
	needCc
	needReplyTo
	needListID
	needMessageID
	needDate
	needInternalDate
	needAge
	needSize
	needFlags
	needMailbox
	needAccount
)

// envNames maps every name of the environment to what computing it needs
// (0 for the functions, which are always bound).
var envNames = map[string]need{
	"subject":       needSubject,
	"from":          needFrom,
	"to":            needTo,
	"cc":            needCc,
	"reply_to":      needReplyTo,
	"header":        0,
	"headers":       0,
	"has_header":    0,
	"list_id":       needListID,
	"message_id":    needMessageID,
	"date":          needDate,
	"internal_date": needInternalDate,
	"age":           needAge,
	"size":          needSize,
	"flags":         needFlags,
	"has_flag":      0,
	"number":        0,
	"mailbox":       needMailbox,
	"account":       needAccount,
}

// newEnv returns an env whose functions read e.m; the functions are bound
// once so that pooled envs cost no allocation per message.
func newEnv() *env {
	e := &env{}
	e.Header = func(name string) string { return e.m.Header.Get(name) }
	e.Headers = func(name string) []string { return e.m.Header.Values(name) }
	e.HasHeader = func(name string) bool { return e.m.Header.Has(name) }
	e.HasFlag = func(f string) bool { return e.m.HasFlag(f) }
	e.Number = Number
	return e
}

// fill sets the variables in n from m.
func (e *env) fill(m *rules.Message, n need, now func() time.Time) {
	e.m = m
	if n&needSubject != 0 {
		e.Subject = m.Subject()
	}
	if n&needFrom != 0 {
		if from := m.Addresses("From"); len(from) > 0 {
			e.From = toAddress(from[0])
		}
	}
	if n&needTo != 0 {
		e.To = toAddresses(m.Addresses("To"))
	}
	if n&needCc != 0 {
		e.Cc = toAddresses(m.Addresses("Cc"))
	}
	if n&needReplyTo != 0 {
		e.ReplyTo = toAddresses(m.Addresses("Reply-To"))
	}
	if n&needListID != 0 {
		e.ListID = ListID(m.Header.Get("List-Id"))
	}
	if n&needMessageID != 0 {
		e.MessageID = m.MessageID()
	}
	e.Date = m.Date
	e.InternalDate = m.InternalDate
	if n&needAge != 0 {
		e.Age = now().Sub(m.InternalDate)
	}
	e.Size = int(m.Size)
	e.Flags = m.Flags
	e.Mailbox = m.Mailbox
	e.Account = m.Account
}

// reset drops every reference to the message so a pooled env keeps nothing
// alive.
func (e *env) reset() {
	h, hs, hh, hf, n := e.Header, e.Headers, e.HasHeader, e.HasFlag, e.Number
	*e = env{Header: h, Headers: hs, HasHeader: hh, HasFlag: hf, Number: n}
}

// ListID returns the list identifier of a List-Id value (RFC 2919 §3): the
// text inside the angle brackets, lower-cased; without brackets the whole
// trimmed value, lower-cased.
func ListID(v string) string {
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			v = v[i+1 : i+j]
		}
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// Number returns the decimal number at the start of s (after white space),
// or 0 when there is none: "9.8" → 9.8, " -2.5 (threshold 5)" → -2.5,
// "7/10" → 7, "" → 0. Header values such as X-Spam-Score are compared with
// it without a runtime error on junk.
func Number(s string) float64 {
	s = strings.TrimLeft(s, " \t")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	digits := false
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
		digits = true
	}
	if end < len(s) && s[end] == '.' {
		frac := end + 1
		for frac < len(s) && s[frac] >= '0' && s[frac] <= '9' {
			frac++
			digits = true
		}
		if frac > end+1 {
			end = frac
		}
	}
	if !digits {
		return 0
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	if err != nil {
		return 0
	}
	return f
}
