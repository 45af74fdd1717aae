package sieve

import (
	"net/mail"
	"strings"

	"github.com/mailwarden/mailwarden/rules"
)

// ---- keep and discard (RFC 5228 §4.3, §4.4) ----

type keepCmd struct {
	line  int
	flags *flagArg // RFC 5232 §5 keep :flags
}

func (c *keepCmd) exec(r *run) error {
	r.line = c.line
	flags := r.flagsCopy()
	if c.flags != nil {
		flags = c.flags.value(r)
	}
	r.cancelled = true
	// Every keep is recorded in order: keeping twice keeps once (RFC 5228
	// §2.10.3) and the last keep (or fileinto of the message's own
	// mailbox) decides the flags; Result.ApplyTo does that.
	return r.addAction(Action{Type: "keep", Flags: flags, Line: c.line})
}

type discardCmd struct{ line int }

func (c *discardCmd) exec(r *run) error {
	r.line = c.line
	r.cancelled = true
	return r.addAction(Action{Type: "discard", Line: c.line})
}

func init() {
	registerCommand("keep", "", func(c *compiler, n *node) command {
		p, ok := c.args(n, []tagSpec{{name: "flags", val: vStringList, ext: "imap4flags"}}, nil)
		if !ok || !c.simple(n) {
			return nil
		}
		k := &keepCmd{line: n.pos.Line}
		if a := p.tags["flags"]; a != nil {
			k.flags = c.flagArg(a)
		}
		return k
	})
	registerCommand("discard", "", func(c *compiler, n *node) command {
		if _, ok := c.args(n, nil, nil); !ok || !c.simple(n) {
			return nil
		}
		return &discardCmd{line: n.pos.Line}
	})
}

// ---- header (RFC 5228 §5.7), with :index (RFC 5260 §4) and :mime
// (RFC 5703 §4) ----

type headerTest struct {
	names  []*str
	consts []string // lower-cased names when constant
	m      *matcher
	idx    index
	mime   *mimeOpts // nil without :mime
}

// index is the :index/:last selection of RFC 5260 §4.
type index struct {
	n    int // 0 = all
	last bool
}

// eachField calls fn with every field called one of names, in the order
// :index counts them: name by name in the order of the header list, and
// for each name header by header (hdrs holds the message header, or the
// headers of the MIME parts a :mime test reads, in depth-first order),
// then field by field. With :index fn sees only the field at that
// position in the whole sequence, counted from its end with :last
// (RFC 5260 §6 counts across the list, as Pigeonhole does:
// `header :index 2 ["From","To"]` is the To field of a message with one
// From). fn returns true to stop; h is the index into hdrs.
func (ix index) eachField(names []string, hdrs [][]rules.Field, fn func(h int, f *rules.Field) bool) {
	if ix.n == 0 {
		for _, name := range names {
			for h, fields := range hdrs {
				for i := range fields {
					if strings.EqualFold(fields[i].Name, name) && fn(h, &fields[i]) {
						return
					}
				}
			}
		}
		return
	}
	want := ix.n - 1
	if ix.last {
		total := 0
		index{}.eachField(names, hdrs, func(int, *rules.Field) bool { total++; return false })
		want = total - ix.n
	}
	if want < 0 {
		return
	}
	k := 0
	index{}.eachField(names, hdrs, func(h int, f *rules.Field) bool {
		if k < want {
			k++
			return false
		}
		fn(h, f)
		return true
	})
}

func (c *compiler) index(p *parsedArgs) index {
	var ix index
	if a := p.tags["index"]; a != nil {
		if a.num < 1 {
			c.errorf(a.pos, "fields are counted from 1", ":index must be at least 1")
		}
		ix.n = int(min(a.num, 1<<30))
	}
	if a := p.tags["last"]; a != nil {
		if ix.n == 0 {
			c.errorf(a.pos, "use :last together with :index", ":last without :index")
		}
		ix.last = true
	}
	return ix
}

func (t *headerTest) eval(r *run) (bool, error) {
	if t.mime != nil {
		return t.evalMIME(r)
	}
	p, err := t.m.prepare(r)
	if err != nil {
		return false, err
	}
	names := r.expandAll(t.names, t.consts)
	count, matched := 0, false
	hdrs := [1][]rules.Field{r.m.Header.Fields()}
	t.idx.eachField(names, hdrs[:], func(_ int, f *rules.Field) bool {
		if t.m.kind == mCount {
			count++
			return false
		}
		matched = p.test(r, trimValue(f.Value))
		return matched
	})
	if t.m.kind == mCount {
		return p.testCount(count), nil
	}
	return matched, nil
}

// trimValue removes the surrounding white space of an unfolded value.
func trimValue(s string) string {
	if s == "" {
		return s
	}
	if c := s[0]; c == ' ' || c == '\t' || c == '\r' || c == '\n' || s[len(s)-1] <= ' ' {
		return strings.Trim(s, " \t\r\n")
	}
	return s
}

func init() {
	registerTest("header", "", func(c *compiler, n *node) test {
		p, ok := c.args(n, join(comparatorTags, matchTypeTags, indexTags, mimeTags), []vKind{vStringList, vStringList})
		if !ok || !c.leafTest(n) {
			return nil
		}
		t := &headerTest{names: c.strs(p.pos[0]), m: c.matcher(n, p, p.pos[1]), idx: c.index(p)}
		t.consts = constStrings(t.names)
		t.mime = c.mimeOpts(n, p, true)
		c.checkHeaderNames(p.pos[0])
		return t
	})
	registerTest("exists", "", func(c *compiler, n *node) test {
		p, ok := c.args(n, mimeTags, []vKind{vStringList})
		if !ok || !c.leafTest(n) {
			return nil
		}
		t := &existsTest{names: c.strs(p.pos[0])}
		t.consts = constStrings(t.names)
		t.mime = c.mimeOpts(n, p, false)
		c.checkHeaderNames(p.pos[0])
		return t
	})
	registerTest("size", "", func(c *compiler, n *node) test {
		p, ok := c.args(n, []tagSpec{{name: "over", group: "size"}, {name: "under", group: "size"}}, []vKind{vNumber})
		if !ok || !c.leafTest(n) {
			return nil
		}
		if p.grp["size"] == "" {
			c.errorf(n.pos, usage("size"), "size needs :over or :under")
			return nil
		}
		return &sizeTest{over: p.grp["size"] == "over", n: p.pos[0].num}
	})
}

// checkHeaderNames rejects constant header names that cannot be field
// names (RFC 5228 §2.4.2.2, RFC 5322 §3.6.8).
func (c *compiler) checkHeaderNames(a *arg) {
	for i, s := range a.strs {
		if c.has("variables") && strings.Contains(s, "${") {
			continue
		}
		if !validFieldName(s) {
			hint := ""
			if strings.HasSuffix(s, ":") {
				hint = "leave out the colon"
			}
			c.errorf(a.spos[i], hint, "invalid header name %q", s)
		}
	}
}

func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f || s[i] == ':' {
			return false
		}
	}
	return true
}

type existsTest struct {
	names  []*str
	consts []string
	mime   *mimeOpts
}

// RFC 5228 §5.5: true when every named header exists.
func (t *existsTest) eval(r *run) (bool, error) {
	names := r.expandAll(t.names, t.consts)
	if t.mime != nil {
		return t.evalMIME(r, names)
	}
	for _, n := range names {
		if !r.m.Header.Has(n) {
			return false, nil
		}
	}
	return true, nil
}

type sizeTest struct {
	over bool
	n    int64
}

// RFC 5228 §5.9.
func (t *sizeTest) eval(r *run) (bool, error) {
	size := r.m.Size
	if raw, err := r.m.Raw(); err == nil && size == 0 {
		size = int64(len(raw))
	}
	if t.over {
		return size > t.n, nil
	}
	return size < t.n, nil
}

// ---- address (RFC 5228 §5.1), :user/:detail (RFC 5233), :index ----

type addrPart uint8

const (
	apAll addrPart = iota
	apLocal
	apDomain
	apUser
	apDetail
)

type addressTest struct {
	names  []*str
	consts []string
	part   addrPart
	m      *matcher
	idx    index
	mime   *mimeOpts
}

// addressHeaders are the fields Pigeonhole allows in the address test
// (RFC 5228 §5.1: implementations MUST restrict it to headers that
// contain addresses).
var addressHeaders = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "sender": true, "reply-to": true,
	"resent-from": true, "resent-to": true, "resent-cc": true, "resent-bcc": true, "resent-sender": true,
	"resent-reply-to": true, "delivered-to": true, "errors-to": true, "x-original-to": true,
	"mail-followup-to": true, "mail-reply-to": true,
}

func (c *compiler) addressPart(p *parsedArgs) addrPart {
	switch p.grp["addresspart"] {
	case "localpart":
		return apLocal
	case "domain":
		return apDomain
	case "user":
		return apUser
	case "detail":
		return apDetail
	}
	return apAll
}

func init() {
	registerTest("address", "", func(c *compiler, n *node) test {
		p, ok := c.args(n, join(comparatorTags, matchTypeTags, addressPartTags, indexTags,
			[]tagSpec{{name: "mime", ext: "mime"}, {name: "anychild", ext: "mime"}}), []vKind{vStringList, vStringList})
		if !ok || !c.leafTest(n) {
			return nil
		}
		t := &addressTest{names: c.strs(p.pos[0]), part: c.addressPart(p), m: c.matcher(n, p, p.pos[1]), idx: c.index(p)}
		t.consts = constStrings(t.names)
		t.mime = c.mimeOpts(n, p, false)
		h := p.pos[0]
		for i, s := range h.strs {
			if c.has("variables") && strings.Contains(s, "${") {
				continue
			}
			if !addressHeaders[strings.ToLower(s)] {
				c.errorf(h.spos[i], "the address test reads address headers such as from, to, cc, sender, reply-to; use header for others", "header %q is not allowed in the address test", s)
			}
		}
		return t
	})
}

func (t *addressTest) eval(r *run) (bool, error) {
	if t.mime != nil {
		return t.evalMIME(r)
	}
	hdrs := [1][]rules.Field{r.m.Header.Fields()}
	return t.evalFields(r, hdrs[:])
}

// evalFields tests the address fields of hdrs (the message header, or the
// MIME parts' headers).
func (t *addressTest) evalFields(r *run, hdrs [][]rules.Field) (bool, error) {
	p, err := t.m.prepare(r)
	if err != nil {
		return false, err
	}
	names := r.expandAll(t.names, t.consts)
	count, matched := 0, false
	t.idx.eachField(names, hdrs, func(_ int, f *rules.Field) bool {
		addrs := r.addresses(f.Raw)
		if len(addrs) == 0 {
			// Nothing parses as an address: like Pigeonhole, the whole
			// value stands for one invalid address that only :all sees
			// (RFC 5228 §5.1 leaves this to the implementation).
			raw := strings.TrimSpace(f.Value)
			if raw == "" {
				return false
			}
			if t.m.kind == mCount {
				count++
				return false
			}
			matched = t.part == apAll && p.test(r, raw)
			return matched
		}
		for _, a := range addrs {
			if t.m.kind == mCount {
				// :count counts addresses, whether or not they have
				// the part (as Pigeonhole does for :detail).
				count++
				continue
			}
			v, ok := addressPartOf(a, t.part)
			if ok && p.test(r, v) {
				matched = true
				return true
			}
		}
		return false
	})
	if t.m.kind == mCount {
		return p.testCount(count), nil
	}
	return matched, nil
}

// addresses returns parseAddresses(raw), cached for the execution.
func (r *run) addresses(raw string) []string {
	for i := range r.addrCache {
		if r.addrCache[i].raw == raw {
			return r.addrCache[i].addrs
		}
	}
	a := parseAddresses(raw)
	if len(r.addrCache) < 16 {
		r.addrCache = append(r.addrCache, addrCacheEntry{raw, a})
	}
	return a
}

type addrCacheEntry struct {
	raw   string
	addrs []string
}

// simpleAddress parses the common one-address forms "local@domain" and
// "Phrase <local@domain>" without net/mail; ok is false for anything
// else.
func simpleAddress(v string) (string, bool) {
	v = strings.Trim(v, " \t\r\n")
	if strings.HasPrefix(v, "\"") {
		// "Quoted, Name" <local@domain>
		end := 1
		for end < len(v) && v[end] != '"' {
			if v[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(v) {
			return "", false
		}
		v = strings.Trim(v[end+1:], " \t\r\n")
		if !strings.HasPrefix(v, "<") {
			return "", false
		}
	}
	if strings.ContainsAny(v, ",\"();:\\[]") {
		return "", false
	}
	spec := v
	if strings.HasSuffix(v, ">") {
		i := strings.IndexByte(v, '<')
		if i < 0 || strings.IndexByte(v[i+1:], '<') >= 0 {
			return "", false
		}
		for _, w := range strings.Fields(v[:i]) {
			if !isAtomText(w, false) {
				return "", false
			}
		}
		spec = v[i+1 : len(v)-1]
	}
	at := strings.LastIndexByte(spec, '@')
	if at <= 0 || !isAtomText(spec[:at], true) || !isAtomText(spec[at+1:], true) || !validDomain(spec[at+1:]) {
		return "", false
	}
	local := spec[:at]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", false
	}
	return spec, true
}

// isAtomText reports whether s is atext (RFC 5322 §3.2.3), with dots when
// dots is set.
func isAtomText(s string, dots bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlpha(c) || isDigit(c) || c >= 0x80:
		case strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0:
		case c == '.' && dots:
		default:
			return false
		}
	}
	return true
}

// parseAddresses returns the addr-specs of an address-list field value.
// The list is parsed strictly first; when that fails each top-level
// element is parsed on its own and the ones that fail are dropped, as are
// addresses without a local part or a valid domain (RFC 5322 §3.4).
// Unlike rules.ParseAddressList nothing is salvaged from a broken element:
// the address test must not match what only looks like an address.
func parseAddresses(value string) []string {
	if a, ok := simpleAddress(value); ok {
		return []string{a}
	}
	if strings.IndexByte(value, '(') >= 0 {
		value = stripComments(value)
	}
	var p mail.AddressParser
	list, err := p.ParseList(value)
	if err != nil {
		list = list[:0]
		for _, part := range rules.SplitAddressList(value) {
			part = strings.TrimSpace(part)
			if i := strings.IndexByte(part, ':'); i >= 0 && !strings.ContainsAny(part[:i], "<\"@") {
				part = strings.TrimSpace(part[i+1:])
			}
			part = strings.TrimSpace(strings.TrimSuffix(part, ";"))
			if part == "" {
				continue
			}
			if a, err := p.Parse(part); err == nil {
				list = append(list, a)
			} else if spec, ok := lenientAddress(part); ok {
				list = append(list, &mail.Address{Address: spec})
			}
		}
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		i := strings.LastIndexByte(a.Address, '@')
		if i <= 0 || i == len(a.Address)-1 || !validDomain(a.Address[i+1:]) || strings.IndexByte(a.Address[:i], '@') >= 0 {
			continue
		}
		out = append(out, a.Address)
	}
	return out
}

// stripComments removes the comments of an address list (RFC 5322 §3.2.2
// CFWS), which may stand anywhere between tokens, even inside an
// addr-spec ("tss(no spam)@fi.iki"), and which net/mail does not skip
// there. A comment becomes nothing, and so does white space left next to
// "@", "." or an angle bracket; elsewhere it becomes a space. Quoted
// strings are kept; an unclosed comment runs to the end.
func stripComments(v string) string {
	var b strings.Builder
	depth, quoted := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && (quoted || depth > 0) && i+1 < len(v):
			if depth == 0 {
				b.WriteByte(c)
				b.WriteByte(v[i+1])
			}
			i++
		case quoted:
			if c == '"' {
				quoted = false
			}
			b.WriteByte(c)
		case c == '(':
			if depth == 0 {
				b.WriteByte(' ')
			}
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '"':
			quoted = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	s := b.String()
	for _, sep := range []string{"@", ".", "<", ">"} {
		for strings.Contains(s, " "+sep) {
			s = strings.ReplaceAll(s, " "+sep, sep)
		}
		if sep != "<" {
			for strings.Contains(s, sep+" ") {
				s = strings.ReplaceAll(s, sep+" ", sep)
			}
		}
	}
	return s
}

// lenientAddress reads what Pigeonhole's lenient parser accepts and
// net/mail does not: an obsolete route (<@route:local@domain>, RFC 5322
// §4.4), local parts with leading, trailing or doubled dots (obs-local-part)
// and junk after a complete address ("a@b.example garbage"). An element
// with an unbalanced quote is rejected.
func lenientAddress(part string) (string, bool) {
	quotes := 0
	for i := 0; i < len(part); i++ {
		switch part[i] {
		case '\\':
			i++
		case '"':
			quotes++
		}
	}
	if quotes%2 != 0 {
		return "", false
	}
	spec := ""
	if i := strings.LastIndexByte(part, '<'); i >= 0 {
		j := strings.IndexByte(part[i:], '>')
		if j < 0 {
			return "", false
		}
		spec = part[i+1 : i+j]
		if strings.HasPrefix(spec, "@") {
			k := strings.IndexByte(spec, ':')
			if k < 0 {
				return "", false
			}
			spec = spec[k+1:]
		}
	} else if f := strings.Fields(part); len(f) > 0 {
		spec = f[0]
	}
	at := strings.LastIndexByte(spec, '@')
	if at <= 0 {
		return "", false
	}
	local, domain := spec[:at], spec[at+1:]
	if strings.HasPrefix(local, "\"") && strings.HasSuffix(local, "\"") && len(local) >= 2 {
		local = local[1 : len(local)-1]
	} else {
		for i := 0; i < len(local); i++ {
			if c := local[i]; c >= 0x80 || !(isAtomText(local[i:i+1], true)) {
				return "", false
			}
		}
	}
	if !validDomain(domain) || local == "" {
		return "", false
	}
	return local + "@" + domain, true
}

// addressPartOf returns the requested part of an addr-spec; ok is false
// when the part does not exist (RFC 5233 §4: :detail without separator).
func addressPartOf(addr string, part addrPart) (string, bool) {
	local, domain := addr, ""
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		local, domain = addr[:i], addr[i+1:]
	}
	switch part {
	case apLocal:
		return local, true
	case apDomain:
		return domain, true
	case apUser:
		// RFC 5233 §4: the user is everything before the first separator.
		if i := strings.IndexByte(local, '+'); i >= 0 {
			return local[:i], true
		}
		return local, true
	case apDetail:
		if i := strings.IndexByte(local, '+'); i >= 0 {
			return local[i+1:], true
		}
		return "", false
	}
	return quoteLocal(local) + "@" + domain, true
}

// validDomain reports whether d is a dot-atom or a domain literal
// (RFC 5322 §3.4.1).
func validDomain(d string) bool {
	if strings.HasPrefix(d, "[") && strings.HasSuffix(d, "]") {
		return true
	}
	if d == "" || d[0] == '.' || d[len(d)-1] == '.' || strings.Contains(d, "..") {
		return false
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; c <= ' ' || strings.IndexByte("()<>[]:;@\\,\"", c) >= 0 {
			return false
		}
	}
	return true
}

// quoteLocal quotes a local part that is not a dot-atom (RFC 5322 §3.4.1),
// as :all shows it.
func quoteLocal(local string) string {
	dotAtom := local != "" && local[0] != '.' && local[len(local)-1] != '.' && !strings.Contains(local, "..")
	for i := 0; dotAtom && i < len(local); i++ {
		c := local[i]
		if c <= ' ' || strings.IndexByte("()<>[]:;@\\,\"", c) >= 0 {
			dotAtom = false
		}
	}
	if dotAtom {
		return local
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(local); i++ {
		if local[i] == '"' || local[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(local[i])
	}
	b.WriteByte('"')
	return b.String()
}
