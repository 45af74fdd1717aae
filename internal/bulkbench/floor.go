package bulkbench

import (
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailwarden/mailwarden/internal/corpus"
)

// FloorResult is what one floor run did.
type FloorResult struct {
	// Fetched messages; Flagged is the size of the one STORE; Moved counts
	// per destination (one MOVE each).
	Fetched int
	Flagged int
	Moved   map[string]int
	// Commands is the number of commands after SELECT: 1 FETCH + STOREs +
	// MOVEs.
	Commands int
}

// Floor is the least a client can do to apply rules to a mailbox on this
// server: LOGIN, SELECT, one UID FETCH of exactly what the rules read
// (UID, FLAGS, INTERNALDATE and BODY.PEEK[HEADER.FIELDS (the rules'
// fields)]), the decisions in plain Go, then one UID STORE +FLAGS.SILENT
// per flag and one UID MOVE per destination (RFC 6851), and LOGOUT. No
// journal, no checkpoint, no parsing beyond the fields. Its time is the
// server's floor for the rule set; a tool's time over the floor's is the
// tool's own overhead.
//
// With wholeHeader it fetches BODY.PEEK[HEADER] instead of the fields, as
// mailwarden does, to compare what the two cost the server.
func Floor(addr, user, pass string, rs corpus.RuleSet, now time.Time, wholeHeader bool) (*FloorResult, error) {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		return nil, fmt.Errorf("select: %w", err)
	}
	if !c.Caps().Has(imap.CapMove) {
		return nil, fmt.Errorf("the server has no MOVE: the floor is defined with it")
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: rs.Fields(), Peek: true}
	if wholeHeader {
		section.HeaderFields = nil
	}
	var all imap.UIDSet
	all.AddRange(1, 0) // 1:*
	msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return nil, fmt.Errorf("uid fetch: %w", err)
	}
	res := &FloorResult{Fetched: len(msgs), Moved: map[string]int{}, Commands: 1}
	moves := map[string]*imap.UIDSet{}
	flags := map[string]*imap.UIDSet{}
	for _, m := range msgs {
		h := corpus.ReadHeader(m.FindBodySection(section))
		mb, fl := rs.Decide(h.Get, m.InternalDate, now)
		for _, f := range fl {
			if flags[f] == nil {
				flags[f] = &imap.UIDSet{}
			}
			flags[f].AddNum(m.UID)
		}
		if mb != "INBOX" {
			if moves[mb] == nil {
				moves[mb] = &imap.UIDSet{}
			}
			moves[mb].AddNum(m.UID)
			res.Moved[mb]++
		}
	}
	// Flags first: they travel with the message when it is moved.
	for f, set := range flags {
		if err := c.Store(*set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.Flag(f)}}, nil).Close(); err != nil {
			return nil, fmt.Errorf("uid store %s: %w", f, err)
		}
		res.Commands++
		if f == string(imap.FlagFlagged) {
			res.Flagged = len(uidsOf(*set))
		}
	}
	for _, mb := range rs.Destinations() {
		set := moves[mb]
		if set == nil {
			continue
		}
		if _, err := c.Move(*set, mb).Wait(); err != nil {
			return nil, fmt.Errorf("uid move to %s: %w", mb, err)
		}
		res.Commands++
	}
	if err := c.Logout().Wait(); err != nil {
		return nil, fmt.Errorf("logout: %w", err)
	}
	return res, nil
}

func uidsOf(s imap.UIDSet) []imap.UID {
	uids, _ := s.Nums()
	return uids
}
