package corpus

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// hdr is one header field. A raw value is written exactly as given after
// "Name: " (it carries its own folding); otherwise it is folded at spaces
// with cont (default " ") starting each continuation line.
type hdr struct {
	name, value string
	cont        string
	raw         bool
	bare        bool // a line without a colon: name is the whole line (a defect)
}

// builder builds one message.
type builder struct {
	c        *Corpus
	r        *rand.Rand
	i        int
	internal time.Time // INTERNALDATE: when our MX received it
	sent     time.Time // the Date header
	hdrs     []hdr     // all header fields but the top-level MIME ones, in order
	content  []hdr     // MIME-Version excluded: Content-Type, -Transfer-Encoding
	body     string
	style    wordStyle // how this sender encodes non-ASCII header text
	meta     Meta
	vendor   string // for %vendor in templates
}

func (b *builder) add(name, value string) { b.hdrs = append(b.hdrs, hdr{name: name, value: value}) }

// addTab adds a field folded with a tab, as Mailman and Outlook do.
func (b *builder) addTab(name, value string) {
	b.hdrs = append(b.hdrs, hdr{name: name, value: value, cont: "\t"})
}

// addRaw adds a field whose value carries its own folding.
func (b *builder) addRaw(name, value string) {
	b.hdrs = append(b.hdrs, hdr{name: name, value: value, raw: true})
}

func (b *builder) pick(s []string) string { return s[b.r.IntN(len(s))] }

func (b *builder) chance(percent int) bool { return b.r.IntN(100) < percent }

const (
	hexDigits = "0123456789abcdef"
	alnumSet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64Set    = alnumSet + "+/"
)

func (b *builder) rand(set string, n int) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = set[b.r.IntN(len(set))]
	}
	return string(out)
}

// fill expands a template: %d a number, %n a small number, %w a word, %day,
// %month, %city, %vendor, %% a percent sign.
func (b *builder) fill(t string) string {
	var out strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] != '%' || i+1 == len(t) {
			out.WriteByte(t[i])
			continue
		}
		rest := t[i+1:]
		switch {
		case strings.HasPrefix(rest, "day"):
			out.WriteString(b.pick(days))
			i += 3
		case strings.HasPrefix(rest, "month"):
			out.WriteString(b.pick(months))
			i += 5
		case strings.HasPrefix(rest, "city"):
			out.WriteString(b.pick(cities))
			i += 4
		case strings.HasPrefix(rest, "vendor"):
			out.WriteString(b.vendor)
			i += 6
		case rest[0] == 'd':
			fmt.Fprint(&out, 1000+b.r.IntN(99000))
			i++
		case rest[0] == 'n':
			fmt.Fprint(&out, 1+b.r.IntN(12))
			i++
		case rest[0] == 'w':
			out.WriteString(b.pick(words))
			i++
		case rest[0] == '%':
			out.WriteByte('%')
			i++
		default:
			out.WriteByte('%')
		}
	}
	return out.String()
}

// randomPerson returns a private sender with an ASCII address.
func (b *builder) randomPerson() Person {
	first, last := b.pick(firstNames), b.pick(lastNames)
	local := asciiLocal(first) + "." + asciiLocal(last)
	if local == "." || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") {
		local = fmt.Sprintf("user%d", b.r.IntN(10000))
	}
	return Person{Name: first + " " + last, Addr: local + "@" + b.pick(personalDomains)}
}

// asciiLocal makes an address part from a name: Latin letters folded to
// ASCII, other scripts dropped.
func asciiLocal(s string) string {
	fold := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "é", "e", "è", "e", "ç", "c",
		"ø", "o", "Ø", "o", "å", "a", "ł", "l", "Ł", "l", "ñ", "n", "á", "a", "í", "i", "ë", "e", "ı", "i",
		"'", "", "ó", "o", "ú", "u", "ö", "o", "Ö", "oe", "Ü", "ue", "Ä", "ae")
	s = strings.ToLower(fold.Replace(s))
	var out strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' {
			out.WriteRune(r)
		}
	}
	return out.String()
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

func (b *builder) msgID(domain string) string {
	switch b.r.IntN(4) {
	case 0:
		return fmt.Sprintf("<%s@%s>", b.rand(hexDigits, 32), domain)
	case 1:
		return fmt.Sprintf("<CA+%s@mail.gmail.example>", b.rand(alnumSet, 44))
	case 2:
		return fmt.Sprintf("<%d.%s.JavaMail.app@%s>", b.sent.UnixMilli(), b.rand(hexDigits, 8), domain)
	default:
		return fmt.Sprintf("<%s-%s-%s@%s>", b.rand(hexDigits, 8), b.rand(hexDigits, 4), b.rand(hexDigits, 12), domain)
	}
}

var zones = []struct {
	name string
	off  int
}{
	{"UTC", 0}, {"CET", 3600}, {"CEST", 7200}, {"EST", -5 * 3600}, {"PDT", -7 * 3600},
	{"JST", 9 * 3600}, {"MSK", 3 * 3600}, {"IST", 19800}, {"AEST", 10 * 3600}, {"BRT", -3 * 3600},
}

// dateText renders t as a Date header in one of the shapes mailers use.
func (b *builder) dateText(t time.Time) string {
	z := zones[b.r.IntN(len(zones))]
	lt := t.In(time.FixedZone(z.name, z.off))
	switch b.r.IntN(4) {
	case 0:
		return lt.Format("Mon, 2 Jan 2006 15:04:05 -0700")
	case 1:
		return lt.Format("Mon, 2 Jan 2006 15:04:05 -0700 (MST)")
	case 2:
		return lt.Format("2 Jan 2006 15:04:05 -0700")
	default:
		return lt.Format("Mon, 02 Jan 2006 15:04:05 -0700")
	}
}

// ---------------------------------------------------------------- trace

// received adds the Received chain, newest (our MX) first: hops beyond
// the first are the sender's own relays.
func (b *builder) received(senderHost string, hops int) {
	ip := fmt.Sprintf("%s.%d", b.pick([]string{"192.0.2", "198.51.100", "203.0.113"}), 1+b.r.IntN(254))
	rcpt := b.c.o.Recipient
	t := b.internal
	b.addTab("Received", fmt.Sprintf("from mx1.example.org (mx1.example.org [10.0.0.25]) by mail.example.org (Postfix) with ESMTPS id %s for <%s>; %s",
		b.rand("0123456789BCDFGHJKLMNPQRSTVWXYZ", 11), rcpt, t.Format("Mon, 2 Jan 2006 15:04:05 -0700 (MST)")))
	t = t.Add(-time.Duration(1+b.r.IntN(3)) * time.Second)
	b.addTab("Received", fmt.Sprintf("from %s (%s [%s]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256) (No client certificate requested) by mx1.example.org (Postfix) with ESMTPS id %s for <%s>; %s",
		senderHost, senderHost, ip, b.rand("0123456789BCDFGHJKLMNPQRSTVWXYZ", 12), rcpt, t.Format("Mon, 2 Jan 2006 15:04:05 -0700 (MST)")))
	for h := 2; h < hops; h++ {
		t = t.Add(-time.Duration(1+b.r.IntN(40)) * time.Second)
		b.add("Received", fmt.Sprintf("by %s with SMTP id %s.%d.%d; %s",
			fmt.Sprintf("10.%d.%d.%d", b.r.IntN(255), b.r.IntN(255), b.r.IntN(255)), b.rand(alnumSet, 16), b.r.IntN(9999), b.r.IntN(9), t.Format("Mon, 02 Jan 2006 15:04:05 -0700 (MST)")))
	}
}

// spamHeaders adds the spam filter's verdict: spam with X-Spam-Flag: YES
// and/or X-Spam-Status: Yes (spam tagged by only one of them exists, so
// both rules matter); ham usually with X-Spam-Status: No and sometimes
// X-Spam-Flag: NO.
func (b *builder) spamHeaders(spam bool) {
	tests := []string{"BAYES_00", "DKIM_SIGNED", "DKIM_VALID", "DKIM_VALID_AU", "HTML_MESSAGE", "MAILING_LIST_MULTI",
		"RCVD_IN_DNSWL_NONE", "SPF_HELO_NONE", "SPF_PASS", "T_SCC_BODY_TEXT_LINE", "FREEMAIL_FROM", "URIBL_BLOCKED"}
	if spam {
		tests = []string{"BAYES_99", "BAYES_999", "HTML_IMAGE_ONLY_24", "MIME_HTML_ONLY", "RAZOR2_CF_RANGE_51_100",
			"RCVD_IN_SBL_CSS", "URIBL_ABUSE_SURBL", "URIBL_DBL_SPAM", "FROM_FMBLA_NEWDOM", "PYZOR_CHECK"}
	}
	b.r.Shuffle(len(tests), func(i, j int) { tests[i], tests[j] = tests[j], tests[i] })
	tests = tests[:4+b.r.IntN(len(tests)-4)]
	b.add("X-Spam-Checker-Version", "SpamAssassin 4.0.0 (2022-12-13) on mx1.example.org")
	if spam {
		score := 6 + b.r.Float64()*20
		b.add("X-Spam-Level", strings.Repeat("*", int(score)))
		mode := b.r.IntN(10) // 0-7: flag and status, 8: status only, 9: flag only
		if mode != 8 {
			b.add("X-Spam-Flag", "YES")
		}
		if mode != 9 {
			b.addTab("X-Spam-Status", fmt.Sprintf("Yes, score=%.1f required=5.0 tests=%s autolearn=spam autolearn_force=no version=4.0.0", score, strings.Join(tests, ",")))
		}
		b.add("X-Spam-Score", fmt.Sprintf("%.1f", score))
		b.meta.Spam = true
		return
	}
	score := -2 + b.r.Float64()*6.5 // up to 4.5: some near misses
	if b.chance(20) {
		b.add("X-Spam-Flag", "NO")
	}
	if b.chance(92) {
		b.addTab("X-Spam-Status", fmt.Sprintf("No, score=%.1f required=5.0 tests=%s autolearn=ham autolearn_force=no version=4.0.0", score, strings.Join(tests, ",")))
		b.add("X-Spam-Score", fmt.Sprintf("%.1f", score))
	}
}

// authResults adds Authentication-Results (RFC 8601) for the sender's
// domain, folded like OpenDKIM/OpenDMARC do.
func (b *builder) authResults(domain string, pass bool) {
	res := "pass"
	if !pass {
		res = b.pick([]string{"fail", "none", "softfail"})
	}
	b.addRaw("Authentication-Results", fmt.Sprintf("mx1.example.org;\r\n\tdkim=%s (2048-bit key; unprotected) header.d=%s header.i=@%s header.a=rsa-sha256 header.s=s%d header.b=%s;\r\n\tspf=%s (mx1.example.org: domain of bounces@%s designates 198.51.100.%d as permitted sender) smtp.mailfrom=bounces@%s;\r\n\tdmarc=%s (p=%s dis=none) header.from=%s",
		res, domain, domain, 2020+b.r.IntN(6), b.rand(b64Set, 8), res, domain, 1+b.r.IntN(254), domain, res, b.pick([]string{"reject", "quarantine", "none"}), domain))
}

// foldedB64 returns n base64 characters folded into lines of width after a
// tab, the way DKIM and ARC signers fold their b= tags.
func (b *builder) foldedB64(n, width int) string {
	s := b.rand(b64Set, n)
	var out strings.Builder
	for len(s) > width {
		out.WriteString(s[:width])
		out.WriteString("\r\n\t ")
		s = s[width:]
	}
	out.WriteString(s)
	return out.String()
}

// dkim adds a DKIM-Signature (RFC 6376) of domain over typical fields.
func (b *builder) dkim(domain string) {
	hfields := b.pick([]string{
		"from:to:subject:date:message-id:mime-version:content-type",
		"Content-Type:MIME-Version:Message-ID:Date:Subject:To:From:List-Unsubscribe:List-Unsubscribe-Post:Feedback-ID",
		"x-gm-message-state:from:to:cc:subject:date:message-id:reply-to:in-reply-to:references:mime-version:content-type",
	})
	b.addRaw("DKIM-Signature", fmt.Sprintf("v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s;\r\n\ts=s%d; t=%d; x=%d;\r\n\th=%s;\r\n\tbh=%s=;\r\n\tb=%s",
		domain, 2020+b.r.IntN(6), b.sent.Unix(), b.sent.Unix()+604800, hfields, b.rand(b64Set, 43), b.foldedB64(344, 70)))
}

// arc adds an ARC set (RFC 8617) as Google and Microsoft add them.
func (b *builder) arc(instance int, signer string) {
	b.addRaw("ARC-Seal", fmt.Sprintf("i=%d; a=rsa-sha256; t=%d; cv=%s;\r\n\td=%s; s=arc-20240605;\r\n\tb=%s", instance, b.internal.Unix(), map[bool]string{true: "none", false: "pass"}[instance == 1], signer, b.foldedB64(344, 70)))
	b.addRaw("ARC-Message-Signature", fmt.Sprintf("i=%d; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=arc-20240605;\r\n\th=list-unsubscribe:list-archive:list-help:list-post:list-id:mailing-list:precedence:to:subject:message-id:date:from:mime-version:dkim-signature;\r\n\tbh=%s=;\r\n\tfh=%s=;\r\n\tb=%s", instance, signer, b.rand(b64Set, 43), b.rand(b64Set, 43), b.foldedB64(344, 70)))
	b.addRaw("ARC-Authentication-Results", fmt.Sprintf("i=%d; mx.%s;\r\n       dkim=pass header.i=@%s header.s=s%d header.b=%s;\r\n       spf=pass (%s: domain of sender designates 198.51.100.%d as permitted sender) smtp.mailfrom=sender@%s;\r\n       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=%s", instance, signer, signer, 2020+b.r.IntN(6), b.rand(b64Set, 8), signer, 1+b.r.IntN(254), signer, signer))
}

// exchangeHeaders adds the X-MS-Exchange block Microsoft 365 puts on
// corporate mail: many fields, several KB.
func (b *builder) exchangeHeaders() {
	b.add("X-MS-Exchange-Organization-Network-Message-Id", fmt.Sprintf("%s-%s-%s-%s-%s", b.rand(hexDigits, 8), b.rand(hexDigits, 4), b.rand(hexDigits, 4), b.rand(hexDigits, 4), b.rand(hexDigits, 12)))
	b.add("X-MS-Has-Attach", "")
	b.add("X-MS-TNEF-Correlator", "")
	b.add("X-MS-PublicTrafficType", "Email")
	b.add("X-MS-TrafficTypeDiagnostic", "AM8PR07MB7602:EE_|DB9PR07MB8771:EE_")
	b.add("X-MS-Office365-Filtering-Correlation-Id", fmt.Sprintf("%s-%s-%s-%s-%s", b.rand(hexDigits, 8), b.rand(hexDigits, 4), b.rand(hexDigits, 4), b.rand(hexDigits, 4), b.rand(hexDigits, 12)))
	b.add("X-MS-Exchange-SenderADCheck", "1")
	b.add("X-MS-Exchange-AntiSpam-Relay", "0")
	b.add("X-Microsoft-Antispam", "BCL:0;ARA:13230040|1800799024|366016|376014|38070700018;")
	b.addRaw("X-Microsoft-Antispam-Message-Info", b.foldedB64(1200, 76))
	b.add("X-Forefront-Antispam-Report", "CIP:255.255.255.255;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:AM8PR07MB7602.eurprd07.prod.outlook.com;PTR:;CAT:NONE;SFS:(13230040)(1800799024)(366016)(376014)(38070700018);DIR:OUT;SFP:1102;")
	b.add("X-MS-Exchange-AntiSpam-MessageData-ChunkCount", "1")
	b.addRaw("X-MS-Exchange-AntiSpam-MessageData-0", b.foldedB64(1600, 76))
	b.add("X-OriginatorOrg", "corp.example")
	b.add("X-MS-Exchange-CrossTenant-AuthAs", "Internal")
	b.add("X-MS-Exchange-CrossTenant-OriginalArrivalTime", b.sent.UTC().Format("02 Jan 2006 15:04:05.0000 (UTC)"))
	b.add("X-MS-Exchange-CrossTenant-FromEntityHeader", "Hosted")
	b.add("X-MS-Exchange-CrossTenant-Id", fmt.Sprintf("%s-%s-%s-%s-%s", b.rand(hexDigits, 8), b.rand(hexDigits, 4), b.rand(hexDigits, 4), b.rand(hexDigits, 4), b.rand(hexDigits, 12)))
	b.add("X-MS-Exchange-Transport-CrossTenantHeadersStamped", "DB9PR07MB8771")
}

// gmailHeaders adds the fields Gmail's outbound relays add.
func (b *builder) gmailHeaders() {
	b.add("X-Google-DKIM-Signature", fmt.Sprintf("v=1; a=rsa-sha256; c=relaxed/relaxed; d=1e100.net; s=20230601; t=%d; x=%d; h=to:subject:message-id:date:from:mime-version:x-gm-message-state:from:to:cc:subject:date:message-id:reply-to; bh=%s=; b=%s", b.sent.Unix(), b.sent.Unix()+604800, b.rand(b64Set, 43), b.rand(b64Set, 344)))
	b.add("X-Gm-Message-State", "AOJu0Y"+b.rand(b64Set, 90))
	b.add("X-Google-Smtp-Source", "AGHT+I"+b.rand(b64Set, 80)+"==")
	b.add("X-Received", fmt.Sprintf("by 2002:a05:6512:%x:b0:%x:%x:%x with SMTP id %s.%d.%d; %s", b.r.IntN(65535), b.r.IntN(4095), b.r.IntN(65535), b.r.IntN(65535), b.rand(alnumSet, 24), b.r.IntN(9999), b.r.IntN(9), b.sent.Format("Mon, 02 Jan 2006 15:04:05 -0800 (PST)")))
}

// ---------------------------------------------------------------- common

// top adds what every message has: the receiving side's trace fields and
// the author's originator fields (From, To, Subject, Date, Message-ID).
// The From address and Subject are recorded in Meta. senderHost is the
// last relay before our MX.
func (b *builder) top(from Person, subject, senderHost string, spam bool) {
	b.sent = b.internal.Add(-time.Duration(5+b.r.IntN(1800)) * time.Second)
	b.add("Return-Path", "<bounces+"+b.rand(hexDigits, 10)+"@"+domainOf(from.Addr)+">")
	b.add("Delivered-To", b.c.o.Recipient)
	b.received(senderHost, 2+b.r.IntN(4))
	b.spamHeaders(spam)
	b.authResults(domainOf(from.Addr), !spam || b.chance(30))
	b.add("Received-SPF", fmt.Sprintf("Pass (mailfrom) identity=mailfrom; client-ip=198.51.100.%d; helo=%s; envelope-from=<bounces@%s>; receiver=<UNKNOWN>", 1+b.r.IntN(254), senderHost, domainOf(from.Addr)))
	b.setFrom(from)
	b.meta.Subject = subject
}

// setFrom records the From address (and whether it is a VIP's).
func (b *builder) setFrom(p Person) {
	b.meta.From = p.Addr
	for _, v := range VIPs {
		if v.Addr == p.Addr {
			b.meta.VIP = true
		}
	}
}

// originator adds From, To, Cc, Subject, Date, Message-ID in an order
// that varies between mailers.
func (b *builder) originator(from Person, to, cc string, domain string) {
	fields := []hdr{
		{name: "From", value: mailbox(from, b.style)},
		{name: "To", value: to},
		{name: "Subject", value: encodeText(b.meta.Subject, b.style)},
		{name: "Date", value: b.dateText(b.sent)},
		{name: "Message-ID", value: b.msgID(domain)},
	}
	if cc != "" {
		fields = append(fields, hdr{name: "Cc", value: cc})
	}
	if b.chance(50) {
		b.r.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	}
	b.hdrs = append(b.hdrs, fields...)
}

// precedence adds a Precedence field and records bulk.
func (b *builder) precedence(v string) {
	b.add("Precedence", v)
	if strings.EqualFold(v, "bulk") {
		b.meta.Bulk = true
	}
}

// recipients returns the To (and maybe Cc) of private mail; VIP addresses
// appear in Cc as distractors (they must not flag the message).
func (b *builder) recipients() (to, cc string) {
	to = b.c.o.Recipient
	if b.chance(30) {
		to = "You <" + b.c.o.Recipient + ">"
	}
	var ccs []string
	if b.chance(15) {
		for range 1 + b.r.IntN(3) {
			ccs = append(ccs, mailbox(b.randomPerson(), b.style))
		}
	}
	if b.chance(6) {
		ccs = append(ccs, mailbox(VIPs[b.r.IntN(len(VIPs))], b.style))
	}
	return to, strings.Join(ccs, ", ")
}

func (b *builder) thread(domain string) {
	n := 1 + b.r.IntN(6)
	var refs []string
	t := b.r.IntN(100000)
	for j := range n {
		refs = append(refs, fmt.Sprintf("<thread-%d-%d@%s>", t, j, domain))
	}
	b.add("In-Reply-To", refs[len(refs)-1])
	b.add("References", strings.Join(refs, " "))
}

// ---------------------------------------------------------------- categories

func (b *builder) personal() {
	from := b.randomPerson()
	if b.chance(6) {
		from = vipLookalikes[b.r.IntN(len(vipLookalikes))]
	}
	b.privateMail(from, b.fill(b.pick(personalSubjects)))
}

func (b *builder) vip() {
	v := VIPs[b.r.IntN(len(VIPs))]
	subj := b.fill(b.pick(vipSubjects))
	if b.chance(30) && !strings.HasPrefix(subj, "Re:") {
		subj = "Re: " + subj
	}
	b.privateMail(v, subj)
}

// privateMail is mail written by a person: plain text, text+HTML, or with
// attachments.
func (b *builder) privateMail(from Person, subj string) {
	reply := strings.HasPrefix(subj, "Re:") || b.chance(25)
	if reply && !strings.HasPrefix(subj, "Re:") {
		subj = "Re: " + subj
	}
	domain := domainOf(from.Addr)
	b.style.cs = b.pickCharset(subj + from.Name)
	b.top(from, subj, "mail-out."+domain, false)
	corp := domain == "corp.example" || domain == "bank.example"
	if corp {
		b.arc(1, "microsoft.com")
	} else if b.chance(40) {
		b.gmailHeaders()
	}
	b.dkim(domain)
	to, cc := b.recipients()
	b.originator(from, to, cc, domain)
	if reply {
		b.thread(domain)
	}
	if b.chance(10) {
		b.add("Reply-To", mailbox(VIPs[b.r.IntN(len(VIPs))], b.style)) // a distractor
	}
	if m := b.pick(mailers); m != "" {
		b.add(b.pick([]string{"User-Agent", "X-Mailer"}), b.fill(m))
	}
	if corp {
		b.exchangeHeaders()
	}
	b.add("MIME-Version", "1.0")
	text := b.pick([]string{"Hi,", "Hello,", "Hallo,", "Bonjour,", "Привет,", "こんにちは、"}) + "\r\n\r\n" + b.paragraphs(1+b.r.IntN(4)) + "\r\n\r\n" + b.pick([]string{"Cheers,", "Best,", "Viele Grüße,", "Merci,"}) + "\r\n" + from.Name + "\r\n"
	switch x := b.r.IntN(100); {
	case x < 18:
		parts := []part{b.textPart("plain", text)}
		n := 1 + b.r.IntN(3)
		for range n {
			parts = append(parts, b.attachment(b.pick([]string{"pdf", "png", "jpg", "docx", "xlsx", "ics", "csv"})))
		}
		b.meta.Attachments = n
		b.multipart("mixed", parts)
	case x < 55:
		html := "<html><head><meta charset=\"utf-8\"></head><body><div dir=\"ltr\">" + strings.ReplaceAll(htmlEscape(text), "\r\n", "<br>\r\n") + "</div></body></html>\r\n"
		b.multipart("alternative", []part{b.textPart("plain", text), b.textPart("html", html)})
	default:
		b.single(b.textPart("plain", text))
	}
}

// pickCharset picks the charset a sender uses for text.
func (b *builder) pickCharset(text string) charset {
	cs := charsetsFor(text)
	if len(cs) == 1 || b.chance(50) {
		return csUTF8
	}
	return cs[1+b.r.IntN(len(cs)-1)]
}

func (b *builder) list() {
	l := b.pickList()
	b.meta.List = l.Key
	from := b.randomPerson()
	if b.chance(3) { // a VIP posting to a list: moved to the list AND flagged
		from = VIPs[b.r.IntN(len(VIPs))]
	}
	subj := b.fill(b.pick(l.Topics))
	if b.chance(45) {
		subj = "Re: " + subj
	}
	if l.Tag != "" {
		subj = l.Tag + " " + subj
	}
	listDomain := domainOf(l.Post)
	b.style.cs = b.pickCharset(subj + from.Name)
	b.top(from, subj, "lists."+listDomain, false)
	switch l.Style {
	case "google":
		b.arc(1, "google.com")
		b.dkim("googlegroups.com")
		b.add("X-BeenThere", l.Post)
		b.add("Received", fmt.Sprintf("by 2002:a05:6214:%x:b0:%x:%x:%x with SMTP id %s; %s", b.r.IntN(65535), b.r.IntN(4095), b.r.IntN(65535), b.r.IntN(65535), b.rand(alnumSet, 16), b.sent.Format("Mon, 02 Jan 2006 15:04:05 -0800 (PST)")))
		b.gmailHeaders()
		b.dkim(domainOf(from.Addr))
		b.originator(from, l.Post, "", domainOf(from.Addr))
		b.add("X-Original-Sender", from.Addr)
		b.add("X-Original-Authentication-Results", "gmr-mx.google.com; dkim=pass header.i=@"+domainOf(from.Addr)+"; spf=pass smtp.mailfrom="+from.Addr)
		b.add("Reply-To", l.Post)
		b.precedence("list")
		b.add("Mailing-list", "list "+l.Post+"; contact "+strings.Replace(l.Post, "@", "+owners@", 1))
		b.add("List-ID", "<"+l.ID+">")
		b.add("X-Google-Group-Id", fmt.Sprint(100000000000+b.r.IntN(900000000000)))
		b.add("List-Post", "<https://groups.google.com/group/"+l.Key+"/post>, <mailto:"+l.Post+">")
		b.add("List-Help", "<https://groups.google.com/support/>, <mailto:"+strings.Replace(l.Post, "@", "+help@", 1)+">")
		b.add("List-Archive", "<https://groups.google.com/group/"+l.Key+"/>")
		b.add("List-Subscribe", "<https://groups.google.com/group/"+l.Key+"/subscribe>, <mailto:"+strings.Replace(l.Post, "@", "+subscribe@", 1)+">")
		b.addRaw("List-Unsubscribe", fmt.Sprintf("<mailto:googlegroups-manage+%d+unsubscribe@googlegroups.com>,\r\n <https://groups.google.com/group/%s/subscribe>", 100000000000+b.r.IntN(900000000000), l.Key))
	case "mailman":
		b.dkim(domainOf(from.Addr))
		b.originator(from, l.Post, "", domainOf(from.Addr))
		b.add("X-BeenThere", l.Post)
		b.add("X-Mailman-Version", "2.1.39")
		b.precedence("list")
		id := "<" + l.ID + ">"
		if l.Desc != "" {
			// Mailman folds List-Id with CRLF TAB before the id.
			b.addRaw("List-Id", l.Desc+"\r\n\t"+id)
		} else {
			b.add("List-Id", id)
		}
		listURL := "https://" + listDomain + "/mailman/listinfo/" + l.Key
		b.addRaw("List-Unsubscribe", "<"+listURL+">,\r\n\t<mailto:"+strings.Replace(l.Post, "@", "-request@", 1)+"?subject=unsubscribe>")
		b.add("List-Archive", "<https://"+listDomain+"/pipermail/"+l.Key+"/>")
		b.add("List-Post", "<mailto:"+l.Post+">")
		b.add("List-Help", "<mailto:"+strings.Replace(l.Post, "@", "-request@", 1)+"?subject=help>")
		b.addRaw("List-Subscribe", "<"+listURL+">,\r\n\t<mailto:"+strings.Replace(l.Post, "@", "-request@", 1)+"?subject=subscribe>")
		b.add("Errors-To", strings.Replace(l.Post, "@", "-bounces@", 1))
		b.add("Sender", "\""+l.Key+"\" <"+strings.Replace(l.Post, "@", "-bounces@", 1)+">")
	case "vger":
		b.dkim(domainOf(from.Addr))
		b.originator(from, l.Post, mailbox(b.randomPerson(), b.style), domainOf(from.Addr))
		if b.chance(40) {
			b.thread(domainOf(from.Addr))
		}
		b.precedence("bulk") // vger.kernel.org really sends Precedence: bulk
		b.add("List-Id", "<"+l.ID+">")
		b.add("X-Mailing-List", l.Post)
		b.add("List-Subscribe", "<mailto:"+strings.Replace(l.Post, "@", "+subscribe@", 1)+">")
		b.add("List-Unsubscribe", "<mailto:"+strings.Replace(l.Post, "@", "+unsubscribe@", 1)+">")
	default: // mlmmj, majordomo
		b.dkim(domainOf(from.Addr))
		b.originator(from, l.Post, "", domainOf(from.Addr))
		b.add("X-Mailing-List", "<"+l.Post+"> archive/latest/"+fmt.Sprint(b.r.IntN(999999)))
		b.add("X-Loop", l.Post)
		b.add("List-Id", "<"+l.ID+">")
		b.add("List-URL", "<https://"+listDomain+"/"+l.Key+"/>")
		b.add("List-Post", "<mailto:"+l.Post+">")
		b.add("List-Help", "<mailto:"+strings.Replace(l.Post, "@", "-request@", 1)+"?subject=help>")
		b.add("List-Unsubscribe", "<mailto:"+strings.Replace(l.Post, "@", "-request@", 1)+"?subject=unsubscribe>")
		b.precedence("list")
		b.add("Resent-Sender", strings.Replace(l.Post, "@", "-request@", 1))
	}
	b.add("MIME-Version", "1.0")
	text := b.paragraphs(1 + b.r.IntN(5))
	if strings.Contains(subj, "[PATCH") {
		text += "\r\n\r\n---\r\n mm/page_alloc.c | 4 +++-\r\n 1 file changed, 3 insertions(+), 1 deletion(-)\r\n\r\ndiff --git a/mm/page_alloc.c b/mm/page_alloc.c\r\nindex " + b.rand(hexDigits, 12) + ".." + b.rand(hexDigits, 12) + " 100644\r\n--- a/mm/page_alloc.c\r\n+++ b/mm/page_alloc.c\r\n@@ -1201,7 +1201,9 @@\r\n-\tif (page_ref_dec_and_test(page))\r\n+\tif (page_ref_dec_and_test(page)) {\r\n+\t\tcount_vm_event(PGFREE);\r\n \t\t__free_page(page);\r\n+\t}\r\n-- \r\n2.4" + fmt.Sprint(b.r.IntN(9)) + ".0\r\n"
	}
	if l.Style == "mailman" {
		text += "\r\n_______________________________________________\r\n" + l.Key + " mailing list\r\n" + l.Post + "\r\nhttps://" + listDomain + "/mailman/listinfo/" + l.Key + "\r\n"
	}
	if l.Style == "google" {
		text += "\r\n-- \r\nYou received this message because you are subscribed to the Google Groups \"" + l.Key + "\" group.\r\nTo unsubscribe from this group and stop receiving emails from it, send an email to " + strings.Replace(l.Post, "@", "+unsubscribe@", 1) + ".\r\n"
	}
	if b.chance(8) {
		b.meta.Attachments = 1
		b.multipart("mixed", []part{b.textPart("plain", text), b.attachment(b.pick([]string{"patch", "txt", "png"}))})
		return
	}
	b.single(b.textPart("plain", text))
}

func (b *builder) pickList() MailingList {
	total := 0
	for _, l := range Lists {
		total += l.Weight
	}
	x := b.r.IntN(total)
	for _, l := range Lists {
		if x < l.Weight {
			return l
		}
		x -= l.Weight
	}
	return Lists[0]
}

func (b *builder) newsletter() {
	nl := newsletters[b.r.IntN(len(newsletters))]
	from := Person{Name: nl.Name, Addr: nl.Addr}
	subj := b.fill(b.pick(nl.Subjects))
	domain := domainOf(nl.Addr)
	b.style.cs = b.pickCharset(subj + nl.Name)
	b.top(from, subj, "mta"+fmt.Sprint(1+b.r.IntN(40))+".esp.example.net", false)
	b.dkim("esp.example.net")
	b.dkim(domain)
	b.originator(from, b.c.o.Recipient, "", domain)
	b.add("Reply-To", "no-reply@"+domain)
	if nl.ListID != "" {
		b.add("List-Id", nl.ListID)
	}
	b.addRaw("List-Unsubscribe", fmt.Sprintf("<https://%s/u/%s>,\r\n <mailto:unsubscribe-%s@%s?subject=unsubscribe>", domain, b.rand(alnumSet, 48), b.rand(hexDigits, 16), domain))
	b.add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	if nl.Bulk != "" {
		b.precedence(nl.Bulk)
	}
	b.add("Feedback-ID", fmt.Sprintf("%d:%d:campaign:esp", b.r.IntN(99999), b.r.IntN(999)))
	b.add("X-Mailer", "Mailchimp Mailer - **CID"+b.rand(hexDigits, 20)+"**")
	b.add("X-Campaign", "mailchimp"+b.rand(hexDigits, 26)+"."+b.rand(hexDigits, 10))
	b.add("MIME-Version", "1.0")
	html := b.newsletterHTML(subj)
	if b.chance(35) {
		b.single(b.textPart("html", html))
		return
	}
	plain := b.paragraphs(3+b.r.IntN(5)) + "\r\n\r\nUnsubscribe: https://" + domain + "/u\r\n"
	b.multipart("alternative", []part{b.textPart("plain", plain), b.textPart("html", html)})
}

// transactional is vendor mail: invoices (subject contains "invoice") or
// receipts and notices (it does not).
func (b *builder) transactional(invoice bool) {
	v := vendors[b.r.IntN(len(vendors))]
	b.vendor = v.Name
	var subj string
	if invoice {
		subj = b.fill(b.pick(invoiceSubjects[v.Lang]))
	} else {
		subj = b.fill(b.pick(receiptSubjects[v.Lang]))
	}
	from := Person{Name: v.Name, Addr: v.Addr}
	domain := domainOf(v.Addr)
	b.style.cs = b.pickCharset(subj + v.Name)
	b.top(from, subj, "smtp-out."+domain, false)
	b.dkim(domain)
	b.originator(from, b.c.o.Recipient, "", domain)
	b.add("Auto-Submitted", "auto-generated")
	if v.Bulk {
		b.precedence(b.pick([]string{"bulk", "Bulk", "BULK"}))
	}
	b.add("X-Auto-Response-Suppress", "All")
	b.add("MIME-Version", "1.0")
	text := b.pick([]string{"Dear customer,", "Sehr geehrte Kundin, sehr geehrter Kunde,", "Madame, Monsieur,", "Уважаемый клиент,", "お客様各位"}) + "\r\n\r\n" + b.paragraphs(1+b.r.IntN(2)) + "\r\n\r\n" + v.Name + "\r\n"
	if invoice && b.chance(70) {
		b.meta.Attachments = 1
		b.multipart("mixed", []part{b.textPart("plain", text), b.attachment("pdf")})
		return
	}
	if b.chance(50) {
		b.multipart("alternative", []part{b.textPart("plain", text), b.textPart("html", "<html><body><p>"+strings.ReplaceAll(htmlEscape(text), "\r\n", "<br>\r\n")+"</p></body></html>\r\n")})
		return
	}
	b.single(b.textPart("plain", text))
}

func (b *builder) automated() {
	host := b.pick([]string{"db1", "web2", "mx1", "backup", "ci"}) + ".example.org"
	from := b.pick([]string{"root", "monitoring", "Cron Daemon", "gitlab", "MAILER-DAEMON"})
	p := Person{Addr: asciiLocal(from) + "@" + host}
	if strings.Contains(from, " ") {
		p.Name = from
	}
	subj := b.fill(b.pick(automatedSubjects))
	b.top(p, subj, host, false)
	b.originator(p, "root@example.org", "", host)
	b.add("Auto-Submitted", "auto-generated")
	if b.chance(40) {
		b.precedence(b.pick([]string{"bulk", "junk"}))
	}
	b.add("X-Cron-Env", "<SHELL=/bin/sh>")
	var log strings.Builder
	for j := range 3 + b.r.IntN(80) {
		fmt.Fprintf(&log, "%s %s[%d]: %s\r\n", b.sent.Add(time.Duration(j)*time.Second).UTC().Format("Jan _2 15:04:05"), b.pick([]string{"backup", "kernel", "sshd", "postfix/smtpd", "CRON"}), 1000+b.r.IntN(30000), b.pick(loremLines[:3]))
	}
	if b.chance(30) { // old-style: no MIME header at all
		b.body = log.String()
		return
	}
	b.add("MIME-Version", "1.0")
	b.single(b.textPart("plain", log.String()))
}

func (b *builder) spam() {
	p := b.randomPerson()
	p.Name = b.pick([]string{"PayPaI Security", "Lottery Commission", "Dr. Smith", "Delivery Service", "Support Team", "Анна", "Microsoft 365"})
	subj := b.fill(b.pick(spamSubjects))
	b.style.cs = b.pickCharset(subj + p.Name)
	b.top(p, subj, "host-"+fmt.Sprint(b.r.IntN(255))+".dyn.example.net", true)
	b.originator(p, "undisclosed-recipients:;", "", domainOf(p.Addr))
	b.add("X-Priority", "1 (Highest)")
	b.add("MIME-Version", "1.0")
	html := "<html><body><p><a href=\"https://phish.example.net/" + b.rand(alnumSet, 30) + "\">" + htmlEscape(subj) + "</a></p>\r\n<p>" + htmlEscape(b.paragraphs(1)) + "</p></body></html>\r\n"
	if b.chance(15) {
		b.meta.Attachments = 1
		b.multipart("mixed", []part{b.textPart("html", html), b.attachment(b.pick([]string{"zip", "pdf"}))})
		return
	}
	b.single(b.textPart("html", html))
}

// ---------------------------------------------------------------- finish

// finish renders the message, sets its flags (by age and category) and
// derives Meta.Invoice from the subject.
func (b *builder) finish() *Message {
	var out strings.Builder
	out.Grow(8192 + len(b.body))
	for _, h := range append(b.hdrs, b.content...) {
		switch {
		case h.bare:
			out.WriteString(h.name + "\r\n")
		case h.raw:
			out.WriteString(h.name + ": " + h.value + "\r\n")
		default:
			cont := h.cont
			if cont == "" {
				cont = " "
			}
			out.WriteString(foldHeader(h.name, h.value, cont))
		}
	}
	out.WriteString("\r\n")
	out.WriteString(b.body)
	raw := []byte(out.String())

	age := b.c.o.Now.Sub(b.internal)
	seenP := 30
	switch {
	case age > 30*24*time.Hour:
		seenP = 95
	case age > 3*24*time.Hour:
		seenP = 75
	}
	if b.meta.Category == CatSpam {
		seenP /= 4
	}
	var flags []string
	seen := b.chance(seenP)
	if seen {
		flags = append(flags, `\Seen`)
	}
	if seen && (b.meta.Category == CatPersonal || b.meta.Category == CatVIP) && b.chance(30) {
		flags = append(flags, `\Answered`)
	}
	if b.r.IntN(1000) < 15 || (b.meta.Category == CatVIP && b.chance(10)) {
		flags = append(flags, `\Flagged`)
		b.meta.Flagged = true
	}
	b.meta.Invoice = strings.Contains(strings.ToLower(b.meta.Subject), "invoice")
	return &Message{Index: b.i, Raw: raw, Internal: b.internal, Flags: flags, Meta: b.meta}
}
