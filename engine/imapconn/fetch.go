package imapconn

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/mailwarden/mailwarden/rules"
)

// Fetched is one message as fetched for the rule engine.
type Fetched struct {
	UID uint32
	// Flags as the server sent them, system flags in canonical case
	// (`\Seen`).
	Flags        []string
	Size         int64 // RFC822.SIZE
	InternalDate time.Time
	// Raw is the header section (BODY.PEEK[HEADER], which ends with the
	// blank line) when HeaderOnly, else the whole message (BODY.PEEK[]).
	Raw        []byte
	HeaderOnly bool
}

// FetchNew fetches the messages whose UID is greater than afterUID, in UID
// order, with one UID FETCH afterUID+1:* (RFC 9051 §6.4.5, §6.4.8): UID,
// FLAGS, RFC822.SIZE, INTERNALDATE and BODY.PEEK[HEADER] (or BODY.PEEK[]
// when whole). PEEK leaves \Seen alone.
//
// "n:*" always matches the last message even when its UID is below n
// (RFC 9051 §6.4.8): such messages are filtered out.
//
// With max > 0 at most max messages are returned, the lowest UIDs first:
// a UID SEARCH finds them, then a UID FETCH of exactly those.
func (s *Session) FetchNew(ctx context.Context, afterUID uint32, max int, whole bool) ([]Fetched, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if afterUID == ^uint32(0) {
		return nil, nil
	}
	if max > 0 {
		uids, err := s.SearchUIDs(ctx, &Criteria{UIDFrom: afterUID + 1})
		if err != nil {
			return nil, err
		}
		if len(uids) > max {
			uids = uids[:max]
		}
		return s.FetchUIDs(ctx, uids, whole)
	}
	var set imap.UIDSet
	set.AddRange(imap.UID(afterUID+1), 0) // afterUID+1:*
	out, err := s.fetch(ctx, set, whole)
	if err != nil {
		return nil, fmt.Errorf("uid fetch %d:*: %w", afterUID+1, err)
	}
	return slices.DeleteFunc(out, func(f Fetched) bool { return f.UID <= afterUID }), nil
}

// FetchUIDs fetches exactly uids (those that still exist) like FetchNew,
// in UID order.
func (s *Session) FetchUIDs(ctx context.Context, uids []uint32, whole bool) ([]Fetched, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	set := uidSet(uids)
	out, err := s.fetch(ctx, set, whole)
	if err != nil {
		return nil, fmt.Errorf("uid fetch %s: %w", set, err)
	}
	return out, nil
}

func (s *Session) fetch(ctx context.Context, set imap.UIDSet, whole bool) ([]Fetched, error) {
	var out []Fetched
	err := s.each(ctx, set, FetchSpec{Whole: whole}, func(f Fetched) error {
		out = append(out, f)
		return nil
	})
	slices.SortFunc(out, func(a, b Fetched) int { return int64cmp(int64(a.UID), int64(b.UID)) })
	return out, err
}

// FetchSpec says what FetchEach fetches of each message, besides UID,
// FLAGS, RFC822.SIZE and INTERNALDATE.
type FetchSpec struct {
	// Whole fetches the whole message (BODY.PEEK[]); otherwise only the
	// header section.
	Whole bool
	// Fields, when set and not Whole, fetches only these header fields
	// (BODY.PEEK[HEADER.FIELDS (...)], RFC 9051 §6.4.5): what the rules
	// read. Nil fetches the whole header (BODY.PEEK[HEADER]).
	Fields []string
}

func (spec FetchSpec) section() *imap.FetchItemBodySection {
	switch {
	case spec.Whole:
		return &imap.FetchItemBodySection{Peek: true}
	case len(spec.Fields) > 0:
		return &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: spec.Fields, Peek: true}
	}
	return &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
}

// FetchEach fetches exactly uids (those that still exist) with one UID
// FETCH (RFC 9051 §6.4.5) and calls fn with each message as its data
// arrives, so the caller parses and evaluates one message while the server
// is still sending the next ones. Messages come in the server's order
// (ascending UID on every server seen; not guaranteed). fn must not use
// the connection: the FETCH is in flight until FetchEach returns. An error
// from fn stops the calls (the rest of the answer is read and dropped) and
// is returned.
func (s *Session) FetchEach(ctx context.Context, uids []uint32, spec FetchSpec, fn func(Fetched) error) error {
	if len(uids) == 0 {
		return nil
	}
	if err := s.check(); err != nil {
		return err
	}
	set := uidSet(uids)
	if err := s.each(ctx, set, spec, fn); err != nil {
		return fmt.Errorf("uid fetch %s: %w", shortSet(set), err)
	}
	return nil
}

// each runs one UID FETCH of set and hands each message to fn.
func (s *Session) each(ctx context.Context, set imap.UIDSet, spec FetchSpec, fn func(Fetched) error) error {
	section := spec.section()
	opts := &imap.FetchOptions{
		UID: true, Flags: true, RFC822Size: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{section},
	}
	var fnErr error
	err := s.c.call(ctx, func() error {
		cmd := s.c.c.Fetch(set, opts)
		for {
			data := cmd.Next()
			if data == nil {
				break
			}
			m, err := data.Collect()
			if err != nil {
				cmd.Close()
				return err
			}
			if m.UID == 0 || fnErr != nil {
				continue // not ours (go-imap matches UID FETCH answers by UID), or fn gave up
			}
			f := Fetched{
				UID:          uint32(m.UID),
				Size:         m.RFC822Size,
				InternalDate: m.InternalDate,
				Raw:          m.FindBodySection(section),
				HeaderOnly:   !spec.Whole,
				Flags:        make([]string, len(m.Flags)),
			}
			for i, fl := range m.Flags {
				// Some servers (imapmemserver) send system flags in
				// lower case: `\flagged`.
				f.Flags[i] = rules.CanonicalFlag(string(fl))
			}
			fnErr = fn(f)
			// go-imap reads no more while fn works: that time is ours,
			// not the server's silence (liveness.go).
			s.c.activity.touch()
		}
		return cmd.Close()
	})
	if err != nil {
		return err
	}
	return fnErr
}

// shortSet renders a UID set for an error message, cut short when long.
func shortSet(set imap.UIDSet) string {
	str := set.String()
	if len(str) > 64 {
		str = str[:61] + "..."
	}
	return str
}

func int64cmp(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Criteria select messages for SearchUIDs; the zero value (or nil) matches
// all messages. Every set field must match (AND). Dates compare by day
// only, in the server's time zone (RFC 9051 §6.4.4).
type Criteria struct {
	// UIDFrom..UIDTo bounds the UIDs (inclusive); 0 means unbounded.
	UIDFrom, UIDTo uint32
	// Before / Since compare the internal date (BEFORE, SINCE).
	Before, Since time.Time
	// SentBefore / SentSince compare the Date: header (SENTBEFORE, SENTSINCE).
	SentBefore, SentSince time.Time
	// Flags must all be set; NotFlags must all be unset (KEYWORD/UNKEYWORD
	// for keywords).
	Flags, NotFlags []string
	// Larger / Smaller compare RFC822.SIZE; 0 means no bound.
	Larger, Smaller int64
	// Header must all match (HEADER, RFC 9051 §6.4.4).
	Header []HeaderMatch
}

// HeaderMatch matches messages with a header field Field whose value
// contains Value. Servers compare case-insensitively and as a substring
// (RFC 9051 §6.4.4), so a caller that needs equality (one Message-ID)
// checks the fetched header itself.
type HeaderMatch struct {
	Field, Value string
}

// SearchUIDs returns the UIDs matching c with UID SEARCH (RFC 9051
// §6.4.4), ascending. With UIDFrom set, the "n:*" last-message quirk is
// filtered out.
func (s *Session) SearchUIDs(ctx context.Context, c *Criteria) ([]uint32, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if c == nil {
		c = &Criteria{}
	}
	crit := &imap.SearchCriteria{
		Before: c.Before, Since: c.Since, SentBefore: c.SentBefore, SentSince: c.SentSince,
		Flag: toFlags(c.Flags), NotFlag: toFlags(c.NotFlags),
		Larger: c.Larger, Smaller: c.Smaller,
	}
	for _, h := range c.Header {
		crit.Header = append(crit.Header, imap.SearchCriteriaHeaderField{Key: h.Field, Value: h.Value})
	}
	if c.UIDFrom > 0 || c.UIDTo > 0 {
		from := max(c.UIDFrom, 1)
		var set imap.UIDSet
		set.AddRange(imap.UID(from), imap.UID(c.UIDTo))
		crit.UID = []imap.UIDSet{set}
	}
	var data *imap.SearchData
	err := s.c.call(ctx, func() (err error) {
		data, err = s.c.c.UIDSearch(crit, nil).Wait()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("uid search: %w", err)
	}
	all := data.AllUIDs()
	out := make([]uint32, 0, len(all))
	for _, u := range all {
		if uint32(u) < c.UIDFrom || (c.UIDTo > 0 && uint32(u) > c.UIDTo) {
			continue
		}
		out = append(out, uint32(u))
	}
	slices.Sort(out)
	return out, nil
}
