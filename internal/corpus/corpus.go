package corpus

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"
)

// Options configure a Corpus. A nil *Options means all defaults.
type Options struct {
	// Seed selects the corpus: the same Seed and Options give byte-identical
	// messages. Default 1.
	Seed uint64
	// N is the number of messages. Default 10000.
	N int
	// Now is the reference time: internal dates lie in the Span before it,
	// and the "older than 90 days" rule is judged against it. Default
	// 2025-06-01 00:00 UTC (a fixed date, so that tests are reproducible;
	// benchmarks pass the current time, because the programs they run read
	// the clock).
	Now time.Time
	// Span is how far back internal dates go. Default 730 days.
	Span time.Duration
	// MalformedRate is the probability that a message is deliberately
	// malformed. Default 0.01; a negative value means none.
	MalformedRate float64
	// MaxAttachment caps one attachment's decoded size in bytes. Default
	// 512 KiB.
	MaxAttachment int
	// Recipient is the mailbox owner's address. Default "you@example.org".
	Recipient string
}

// Corpus generates messages. Message i depends only on the Options and i.
type Corpus struct {
	o Options
}

// New returns a Corpus with o's defaults filled in.
func New(o *Options) *Corpus {
	c := &Corpus{}
	if o != nil {
		c.o = *o
	}
	if c.o.Seed == 0 {
		c.o.Seed = 1
	}
	if c.o.N <= 0 {
		c.o.N = 10000
	}
	if c.o.Now.IsZero() {
		c.o.Now = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.o.Span <= 0 {
		c.o.Span = 730 * 24 * time.Hour
	}
	switch {
	case c.o.MalformedRate == 0:
		c.o.MalformedRate = 0.01
	case c.o.MalformedRate < 0:
		c.o.MalformedRate = 0
	}
	if c.o.MaxAttachment <= 0 {
		c.o.MaxAttachment = 512 << 10
	}
	if c.o.Recipient == "" {
		c.o.Recipient = "you@example.org"
	}
	return c
}

// Options returns the options in effect (defaults filled in).
func (c *Corpus) Options() Options { return c.o }

// N is the number of messages.
func (c *Corpus) N() int { return c.o.N }

// Message is one generated message.
type Message struct {
	// Index is the message's position, 0..N-1, in internal-date order.
	Index int
	// Raw is the RFC 5322 message with CRLF line endings.
	Raw []byte
	// Internal is the IMAP INTERNALDATE (whole seconds, UTC).
	Internal time.Time
	// Flags are the IMAP system flags the message starts with (\Seen,
	// \Answered, \Flagged), in that order.
	Flags []string
	Meta  Meta
}

// Category is what kind of mail a message is.
type Category string

const (
	CatPersonal      Category = "personal"
	CatVIP           Category = "vip"
	CatList          Category = "list"
	CatNewsletter    Category = "newsletter"
	CatInvoice       Category = "invoice"
	CatTransactional Category = "transactional"
	CatAutomated     Category = "automated"
	CatSpam          Category = "spam"
)

// categoryWeights give the mix of a typical personal INBOX, in percent.
var categoryWeights = []struct {
	c Category
	w int
}{
	{CatPersonal, 20}, {CatVIP, 3}, {CatList, 31}, {CatNewsletter, 16},
	{CatInvoice, 6}, {CatTransactional, 9}, {CatAutomated, 7}, {CatSpam, 8},
}

// Meta is what the generator knows about a message: enough to compute
// what the reference rule set must do with it (Expect) without parsing
// the message and without mailwarden's rule engine.
type Meta struct {
	Category Category
	// List is the mailing list key ("golang-nuts") for list mail, also
	// for lists the rule set does not know; "" otherwise.
	List string
	// VIP: the From address is one of VIPs.
	VIP bool
	// Spam: the server's spam filter marked it (X-Spam-Flag: YES or
	// X-Spam-Status: Yes, ...).
	Spam bool
	// Invoice: the decoded Subject contains "invoice" in some case.
	Invoice bool
	// Bulk: it carries Precedence: bulk (in some case).
	Bulk bool
	// Flagged: it starts with \Flagged.
	Flagged bool
	// Malformed names the deliberate defect ("" for none): see
	// MalformedKinds.
	Malformed string
	// Subject is the subject as written (before encoding), From the From
	// address ("" when there is none).
	Subject, From string
	// Attachments counts attached files.
	Attachments int
}

// All generates every message, in parallel, in index order.
func (c *Corpus) All() []*Message {
	out := make([]*Message, c.o.N)
	var wg sync.WaitGroup
	next := make(chan int, 64)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = c.Message(i)
			}
		}()
	}
	for i := range out {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// guardBand is kept free of internal dates on both sides of the
// "older than 90 days" cut-off (relative to Now): tools judge that age in
// different ways (expr by the exact instant, IMAP SEARCH BEFORE by the day
// in the server's time zone, the Sieve variant by the Date header), and
// the band makes them agree. It also covers benchmarks that run for hours
// after the corpus was generated with Now = the start time.
const guardBand = 3 * 24 * time.Hour

// OldAge is the age from which the reference rule set trashes bulk mail.
const OldAge = 90 * 24 * time.Hour

// rng returns message i's random source.
func (c *Corpus) rng(i int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(c.o.Seed, uint64(i)*0x9E3779B97F4A7C15+stream))
}

// internalDate returns message i's internal date: increasing with i, denser
// towards Now (mail volume grows), never within guardBand of Now-OldAge,
// at least a minute before Now.
func (c *Corpus) internalDate(i int) time.Time {
	r := c.rng(i, 1)
	u := (float64(i) + r.Float64()) / float64(c.o.N) // increasing in i
	u = 1 - math.Pow(1-u, 1.3)                       // more recent mail
	cut := c.o.Now.Add(-OldAge)
	start := c.o.Now.Add(-c.o.Span)
	end := c.o.Now.Add(-time.Minute)
	// Two segments, [start, cut-band) and (cut+band, end], joined.
	a := cut.Add(-guardBand).Sub(start)
	b := end.Sub(cut.Add(guardBand))
	if a < 0 { // span shorter than the cut-off: one segment
		return start.Add(time.Duration(u * float64(end.Sub(start)))).Truncate(time.Second).UTC()
	}
	x := time.Duration(u * float64(a+b))
	if x < a {
		return start.Add(x).Truncate(time.Second).UTC()
	}
	return cut.Add(guardBand + time.Second).Add(x - a).Truncate(time.Second).UTC()
}

// Message builds message i (0 ≤ i < N).
func (c *Corpus) Message(i int) *Message {
	r := c.rng(i, 2)
	b := &builder{c: c, r: r, i: i, internal: c.internalDate(i)}
	b.style = wordStyle{cs: csUTF8, q: r.IntN(2) == 0, whole: r.IntN(3) == 0}
	total := 0
	for _, w := range categoryWeights {
		total += w.w
	}
	x := r.IntN(total)
	cat := categoryWeights[0].c
	for _, w := range categoryWeights {
		if x < w.w {
			cat = w.c
			break
		}
		x -= w.w
	}
	b.meta.Category = cat
	switch cat {
	case CatPersonal:
		b.personal()
	case CatVIP:
		b.vip()
	case CatList:
		b.list()
	case CatNewsletter:
		b.newsletter()
	case CatInvoice:
		b.transactional(true)
	case CatTransactional:
		b.transactional(false)
	case CatAutomated:
		b.automated()
	case CatSpam:
		b.spam()
	}
	if c.Malformed(i) {
		b.malform()
	}
	return b.finish()
}

// Malformed reports whether message i is one of the deliberately
// malformed ones (drawn from its own random stream, so this is cheap).
func (c *Corpus) Malformed(i int) bool {
	return c.rng(i, 3).Float64() < c.o.MalformedRate
}
