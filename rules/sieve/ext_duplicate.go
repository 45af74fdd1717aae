package sieve

import (
	"strings"
	"time"
)

// duplicate (RFC 7352): true when a message with the same unique id was
// seen by an earlier successful execution. The store is Options.Duplicates
// (an in-memory store by default); keys are recorded only when the whole
// execution succeeded (RFC 7352 §3).

func init() {
	registerExtension("duplicate")
	registerTest("duplicate", "duplicate", compileDuplicate)
}

type duplicateTest struct {
	handle   *str
	header   *str
	uniqueid *str
	seconds  time.Duration
	last     bool
}

type dupRecord struct {
	key  string
	ttl  time.Duration
	last bool
	seen bool
}

func compileDuplicate(c *compiler, n *node) test {
	p, ok := c.args(n, []tagSpec{
		{name: "handle", val: vString},
		{name: "header", val: vString, group: "id"},
		{name: "uniqueid", val: vString, group: "id"},
		{name: "seconds", val: vNumber},
		{name: "last"},
	}, nil)
	if !ok || !c.leafTest(n) {
		return nil
	}
	t := &duplicateTest{last: p.has("last"), seconds: DefaultDuplicateTTL}
	if c.opts != nil && c.opts.DuplicateTTL > 0 {
		t.seconds = c.opts.DuplicateTTL
	}
	if v, a := p.str("handle"); a != nil {
		t.handle = c.str(v, a.pos)
	}
	if v, a := p.str("header"); a != nil {
		t.header = c.str(v, a.pos)
	}
	if v, a := p.str("uniqueid"); a != nil {
		t.uniqueid = c.str(v, a.pos)
	}
	if a := p.tags["seconds"]; a != nil {
		t.seconds = time.Duration(min(a.num, 1<<31)) * time.Second
	}
	return t
}

func (t *duplicateTest) eval(r *run) (bool, error) {
	var id string
	switch {
	case t.uniqueid != nil:
		id = r.expand(t.uniqueid)
	case t.header != nil:
		v, ok := fieldValue(r.m.Header.Fields(), r.expand(t.header))
		if !ok {
			return false, nil
		}
		id = strings.TrimSpace(v)
	default:
		// RFC 7352 §3.1: the default id is the Message-ID; without one
		// the test is false.
		v, ok := fieldValue(r.m.Header.Fields(), "Message-ID")
		if !ok || strings.TrimSpace(v) == "" {
			return false, nil
		}
		id = strings.TrimSpace(v)
	}
	key := "default"
	if t.handle != nil {
		key = "h:" + r.expand(t.handle)
	}
	key += "\x00" + id
	// The same id tested twice in one execution is a duplicate the second
	// time.
	for i := range r.dups {
		if r.dups[i].key == key {
			r.dups[i].last = r.dups[i].last || t.last
			return true, nil
		}
	}
	store := r.root.duplicates()
	seen, err := store.Seen(r.ctx, key)
	if err != nil {
		return false, &RuntimeError{Script: r.s.name, Line: r.line, Msg: "duplicate store", Err: err}
	}
	r.dups = append(r.dups, dupRecord{key: key, ttl: t.seconds, last: t.last, seen: seen})
	return seen, nil
}

func (s *Script) duplicates() DuplicateStore {
	if s.opts != nil && s.opts.Duplicates != nil {
		return s.opts.Duplicates
	}
	return defaultDuplicates
}

// commitDuplicates records the ids after a successful execution: new ids
// always, seen ids only with :last (which restarts their timer, RFC 7352
// §3.4).
func (r *run) commitDuplicates() error {
	if len(r.dups) == 0 {
		return nil
	}
	store := r.root.duplicates()
	for _, d := range r.dups {
		if d.seen && !d.last {
			continue
		}
		if err := store.Record(r.ctx, d.key, d.ttl); err != nil {
			return err
		}
	}
	return nil
}
