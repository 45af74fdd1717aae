package engine

// Undo: reverse what the daemon did, from its journal.
//
// Model. The journal (engine/state) holds one entry per change the
// Executor made to one message: flag/unflag in place, copy, move (with the
// destination UID when the server sent COPYUID, RFC 4315 §3), delete
// (\Deleted after a copy, no UIDPLUS) and expunge. Undo reads the entries
// in a time window, follows each message through them (a move's
// destination is where the next entry finds it), and builds, per message,
// one rules.Plan in the mailbox the message is in now: the reverse of its
// flag changes and a move back to where it was before the first selected
// change. Plans are grouped per account and mailbox and applied with one
// actions.Executor.Apply per mailbox, so batching, dry run, logs and the
// journal are those of every other change.
//
// Invariants:
//
//   - Nothing is touched on trust. Before a message is changed, its header
//     is fetched at the UID the journal leads to and its Message-ID must be
//     the entry's (a UID may be stale: the mailbox was recreated, or the
//     user moved the message); where the journal has no UID (no COPYUID) the
//     message is found by UID SEARCH HEADER Message-ID (RFC 9051 §6.4.4) and
//     must be the only match. Anything else is skipped with its reason and
//     left alone.
//   - No mail is removed: copies are kept and reported (deleting them is the
//     user's call); expunged mail cannot be brought back and is reported.
//   - Exactly once: entries that were reversed are marked in the state
//     (state.Store.MarkUndone, after the server confirmed), so a second undo
//     skips them. Undo's own changes are journaled under UndoRule and are
//     never reversed themselves; they, and entries already undone, only
//     serve to follow a message to where it is now.
//   - A message moved back into a watched mailbox is recorded as placed
//     there by that mailbox's rule set (state placements), so the watcher
//     does not run the rules over it again and undo the undo.
//   - Dry run (EXAMINE, nothing sent that changes mail, nothing written to
//     the state) reports exactly what a real run would do.
//
// Limits: a Sieve `fileinto :flags` replaces the flags of the message before
// the copy without a journal entry per flag, so those flags cannot be put
// back; a change made by a rule that the filter does not select, and that
// moved the message on, stops the undo of that message (it is skipped with
// the reason).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/rules"
)

// UndoRule is the rule name that undo's own changes carry in the journal
// and the logs. Undo never reverses entries with this rule.
const UndoRule = "(undo)"

// UndoOptions select the journal entries Undo reverses.
type UndoOptions struct {
	// Since selects entries recorded at or after it. Required: Undo
	// refuses a zero Since, so nothing is undone wholesale by accident.
	Since time.Time
	// Account, when set, selects only entries of that account.
	Account string
	// Mailbox, when set, selects only changes made in that mailbox (where
	// the message was when the rule acted: a move from INBOX is selected
	// by "INBOX", not by its destination).
	Mailbox string
	// Rule, when set, selects only changes made by that rule: its exact
	// name, or a Sieve script's name for its entries "script.sieve:LINE".
	Rule string
	// DryRun examines the mailboxes read-only, reports what would be done
	// and changes nothing, on the server or in the state.
	DryRun bool
	// Logger receives the Executor's lines; nil discards.
	Logger *slog.Logger
	// Dial overrides how connections are made (tests); nil uses
	// DialOptions and imapconn.Dial.
	Dial func(ctx context.Context, a *config.Account) (*imapconn.Client, error)
}

// UndoOutcome says what became of one journal entry.
type UndoOutcome string

const (
	// UndoDone: reversed (or, in dry run, would be).
	UndoDone UndoOutcome = "undone"
	// UndoSkipped: the message is not where, or not what, the journal
	// says; it was left alone. Detail says why.
	UndoSkipped UndoOutcome = "skipped"
	// UndoFailed: the server refused the reversal; running undo again
	// retries it.
	UndoFailed UndoOutcome = "failed"
	// UndoKept: a copy, kept on purpose (undo never removes mail).
	UndoKept UndoOutcome = "kept"
	// UndoImpossible: the message was expunged for good.
	UndoImpossible UndoOutcome = "impossible"
)

// UndoResult is one selected journal entry and what became of it.
type UndoResult struct {
	Seq     uint64
	Entry   actions.Entry
	Outcome UndoOutcome
	Detail  string
}

// UndoReport says what Undo did (or, in dry run, would do).
type UndoReport struct {
	DryRun bool
	// Results has one line per selected entry, newest first.
	Results []UndoResult
}

// Count returns how many entries had outcome o.
func (r *UndoReport) Count(o UndoOutcome) int {
	n := 0
	for _, res := range r.Results {
		if res.Outcome == o {
			n++
		}
	}
	return n
}

// ErrNoSince is returned by Undo without UndoOptions.Since.
var ErrNoSince = errors.New("undo needs a start time (--since or --after): refusing to reverse the whole journal")

// history is one message followed through the journal: where it was
// before the first selected change (origin), where the entries lead
// (cur), and the flag changes to reverse.
type history struct {
	account, messageID string
	origin             string
	cur                string
	curUID             uint32 // 0: unknown (moved without COPYUID)
	curUV              uint32 // UIDVALIDITY of cur when known (never moved), else 0
	added, removed     []string
	entries            []state.Recorded // selected entries it reverses
	blocked            string           // non-empty: skipped, with this reason
	noop               bool             // the selected changes cancel out
	outcome            UndoOutcome
	detail             string
}

func (h *history) key() string {
	if h.curUID != 0 {
		return fmt.Sprintf("%s\x00%s\x00uid:%d", h.account, h.cur, h.curUID)
	}
	return h.account + "\x00" + h.cur + "\x00mid:" + h.messageID
}

// flag notes a flag the daemon added (add) or removed, cancelling an
// opposite change recorded earlier.
func (h *history) flag(f string, add bool) {
	f = rules.CanonicalFlag(f)
	to, from := &h.added, &h.removed
	if !add {
		to, from = from, to
	}
	if i := indexFold(*from, f); i >= 0 {
		*from = slices.Delete(*from, i, i+1)
		return
	}
	if indexFold(*to, f) < 0 {
		*to = append(*to, f)
	}
}

func indexFold(list []string, f string) int {
	return slices.IndexFunc(list, func(g string) bool { return strings.EqualFold(f, g) })
}

// Undo reverses the journal entries opts selects and says per entry what
// it did, newest first. Each message gets one plan, the net reverse of all
// its selected entries (the reverse of each, newest first, composed), in
// the mailbox it is in now. Undo returns an error only when it could not go
// on at all (state unreadable, ctx done); a message that cannot be undone,
// or an account it cannot reach, is a result.
func Undo(ctx context.Context, cfg *config.Config, store *state.Store, opts *UndoOptions) (*UndoReport, error) {
	if opts == nil || opts.Since.IsZero() {
		return nil, ErrNoSince
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	rep := &UndoReport{DryRun: opts.DryRun}
	hs, loose, err := follow(store, opts)
	if err != nil {
		return nil, err
	}

	byAccount := map[string][]*history{}
	var accounts []string
	for _, h := range hs {
		if h.blocked != "" {
			h.outcome, h.detail = UndoSkipped, h.blocked
			continue
		}
		if h.cur == h.origin && len(h.added) == 0 && len(h.removed) == 0 {
			h.outcome, h.detail, h.noop = UndoDone, "nothing left to reverse (later changes cancelled it out)", true
			continue
		}
		if _, ok := byAccount[h.account]; !ok {
			accounts = append(accounts, h.account)
		}
		byAccount[h.account] = append(byAccount[h.account], h)
	}
	var runErr error
	for _, name := range accounts {
		if err := ctx.Err(); err != nil {
			runErr = err
			break
		}
		u := &undoer{cfg: cfg, store: store, opts: opts, log: log}
		if err := u.account(ctx, name, byAccount[name]); err != nil {
			runErr = err
			break
		}
	}
	if !opts.DryRun {
		var seqs []uint64
		for _, h := range hs {
			if h.noop {
				for _, r := range h.entries {
					seqs = append(seqs, r.Seq)
				}
			}
		}
		if err := store.MarkUndone(seqs); err != nil && runErr == nil {
			runErr = fmt.Errorf("mark undone: %w", err)
		}
	}

	for _, h := range hs {
		outcome, detail := h.outcome, h.detail
		if outcome == "" {
			outcome, detail = UndoFailed, "not attempted: "+errText(runErr)
		}
		for _, r := range h.entries {
			rep.Results = append(rep.Results, UndoResult{Seq: r.Seq, Entry: r.Entry, Outcome: outcome, Detail: detail})
		}
	}
	rep.Results = append(rep.Results, loose...)
	sort.Slice(rep.Results, func(i, j int) bool { return rep.Results[i].Seq > rep.Results[j].Seq })
	return rep, runErr
}

func errText(err error) string {
	if err == nil {
		return "stopped"
	}
	return err.Error()
}

// selects reports whether the filters of o select e. Undo's own entries
// are never selected.
func (o *UndoOptions) selects(e *actions.Entry) bool {
	if e.Rule == UndoRule {
		return false
	}
	if o.Account != "" && e.Account != o.Account {
		return false
	}
	// INBOX is case-insensitive; every other name is not (RFC 9051 §5.1).
	if o.Mailbox != "" && e.Mailbox != o.Mailbox && !(strings.EqualFold(o.Mailbox, "INBOX") && strings.EqualFold(e.Mailbox, "INBOX")) {
		return false
	}
	if o.Rule != "" && e.Rule != o.Rule {
		// Sieve steps are named "script.sieve:LINE".
		rest, ok := strings.CutPrefix(e.Rule, o.Rule+":")
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" {
			return false
		}
	}
	return true
}

// follow reads the journal from opts.Since, oldest first, and follows each
// message the selected entries touched to where the journal leads. It
// returns those histories and the results of entries that need no server
// work (copies kept, expunges).
func follow(store *state.Store, opts *UndoOptions) ([]*history, []UndoResult, error) {
	var (
		hs    []*history
		loose []UndoResult
		at    = map[string]*history{} // history.key() → history
	)
	find := func(e *actions.Entry) *history {
		h := at[fmt.Sprintf("%s\x00%s\x00uid:%d", e.Account, e.Mailbox, e.UID)]
		if h == nil && e.MessageID != "" {
			h = at[e.Account+"\x00"+e.Mailbox+"\x00mid:"+e.MessageID]
		}
		if h != nil && h.messageID != e.MessageID {
			return nil // the UID names another message now
		}
		return h
	}
	stop := func(h *history, why string) {
		delete(at, h.key())
		if h.blocked == "" {
			h.blocked = why
		}
	}
	err := store.Entries(opts.Since, func(r state.Recorded) bool {
		e := &r.Entry
		selected := r.Undone.IsZero() && opts.selects(e)
		h := find(e)
		reversible := e.Op == actions.OpFlag || e.Op == actions.OpUnflag || e.Op == actions.OpDelete || e.Op == actions.OpMove
		if h == nil && selected && reversible {
			h = &history{account: e.Account, messageID: e.MessageID, origin: e.Mailbox, cur: e.Mailbox, curUID: e.UID, curUV: e.UIDValidity}
			hs = append(hs, h)
			at[h.key()] = h
		}
		switch {
		case selected && e.Op == actions.OpCopy:
			loose = append(loose, UndoResult{Seq: r.Seq, Entry: *e, Outcome: UndoKept,
				Detail: fmt.Sprintf("not undone: copies are kept; delete the copy in %q yourself if unwanted", e.Target)})
			return true
		case selected && !reversible && e.Op != actions.OpExpunge:
			loose = append(loose, UndoResult{Seq: r.Seq, Entry: *e, Outcome: UndoSkipped,
				Detail: fmt.Sprintf("undo does not know how to reverse %q", e.Op)})
			return true
		case selected && e.Op == actions.OpExpunge:
			loose = append(loose, UndoResult{Seq: r.Seq, Entry: *e, Outcome: UndoImpossible,
				Detail: "cannot be undone: the message was expunged for good"})
			if h != nil {
				stop(h, fmt.Sprintf("expunged for good at %s by %q: cannot be undone", stamp(e.Time), e.Rule))
			}
			return true
		}
		if h == nil {
			return true
		}
		if selected {
			h.entries = append(h.entries, r)
			switch e.Op {
			case actions.OpFlag:
				h.flag(e.Target, true)
			case actions.OpUnflag:
				h.flag(e.Target, false)
			case actions.OpDelete:
				// \Deleted set after a copy, without UIDPLUS (no expunge).
				h.flag(rules.FlagDeleted, true)
			case actions.OpMove:
				h.moveTo(at, e)
			}
			return true
		}
		// Not selected: an entry undo already reversed, or undo's own
		// change, only tells where the message went; another rule's move
		// or an expunge ends what undo can do for it.
		link := !r.Undone.IsZero() || e.Rule == UndoRule
		switch e.Op {
		case actions.OpMove:
			if link {
				h.moveTo(at, e)
				return true
			}
			stop(h, fmt.Sprintf("moved on to %q at %s by rule %q, which the filter does not select: undo that too, or move it yourself", e.Target, stamp(e.Time), e.Rule))
		case actions.OpExpunge:
			stop(h, fmt.Sprintf("expunged for good at %s by %q: cannot be undone", stamp(e.Time), e.Rule))
		}
		return true
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read journal: %w", err)
	}
	return hs, loose, nil
}

func (h *history) moveTo(at map[string]*history, e *actions.Entry) {
	delete(at, h.key())
	h.cur, h.curUID, h.curUV = e.Target, e.DestUID, 0
	at[h.key()] = h
}

func stamp(t time.Time) string { return t.Local().Format(time.DateTime) }

// undoer reverses the histories of one account.
type undoer struct {
	cfg   *config.Config
	store *state.Store
	opts  *UndoOptions
	log   *slog.Logger
}

func (u *undoer) account(ctx context.Context, name string, hs []*history) error {
	all := func(o UndoOutcome, why string) {
		for _, h := range hs {
			h.outcome, h.detail = o, why
		}
	}
	var acct *config.Account
	for i := range u.cfg.Accounts {
		if u.cfg.Accounts[i].Name == name {
			acct = &u.cfg.Accounts[i]
		}
	}
	if acct == nil {
		all(UndoSkipped, fmt.Sprintf("account %q is not in the config", name))
		return nil
	}
	c, err := u.dial(ctx, acct)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		all(UndoFailed, fmt.Sprintf("not undone: cannot connect: %v (run undo again)", err))
		return nil
	}
	defer c.Close()

	byMailbox := map[string][]*history{}
	var boxes []string
	for _, h := range hs {
		if _, ok := byMailbox[h.cur]; !ok {
			boxes = append(boxes, h.cur)
		}
		byMailbox[h.cur] = append(byMailbox[h.cur], h)
	}
	slices.Sort(boxes)
	exec := actions.New(&actions.Options{Account: name, DryRun: u.opts.DryRun, Logger: u.opts.Logger, Journal: recordOnly{u.store}})
	for _, box := range boxes {
		err := u.mailbox(ctx, c, exec, acct, box, byMailbox[box])
		var se stateError
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &se):
			return se.err
		}
		// The connection broke (or the server failed us): what is left
		// of this account is not attempted; the other accounts go on.
		for _, h := range hs {
			if h.outcome == "" {
				h.outcome, h.detail = UndoFailed, fmt.Sprintf("not undone: %v (run undo again)", err)
			}
		}
		return nil
	}
	if err := c.Logout(ctx); err != nil {
		u.log.Debug("logout", "account", name, "err", err)
	}
	return nil
}

func (u *undoer) dial(ctx context.Context, a *config.Account) (*imapconn.Client, error) {
	if u.opts.Dial != nil {
		return u.opts.Dial(ctx, a)
	}
	o, err := DialOptions(a, u.log)
	if err != nil {
		return nil, err
	}
	return imapconn.Dial(ctx, o)
}

// mailbox verifies and reverses the histories whose message is now in box,
// with one Apply.
func (u *undoer) mailbox(ctx context.Context, c *imapconn.Client, exec *actions.Executor, acct *config.Account, box string, hs []*history) error {
	open := c.Select
	if u.opts.DryRun {
		open = c.Examine // RFC 9051 §6.3.3: read-only, not even \Seen changes
	}
	sess, err := open(ctx, box)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if imapconn.IsTemporary(err) {
			return fmt.Errorf("account %q: %w", acct.Name, err)
		}
		for _, h := range hs {
			h.outcome, h.detail = UndoSkipped, fmt.Sprintf("cannot open %q: %v", box, err)
		}
		return nil
	}
	_, uidValidity := sess.Selected()
	found, err := u.locate(ctx, sess, hs)
	if err != nil {
		return fmt.Errorf("account %q mailbox %q: %w", acct.Name, box, err)
	}

	var items []actions.Item
	byUID := map[uint32]*history{}
	for _, h := range hs {
		f := found[h]
		if h.outcome != "" {
			continue
		}
		m := message.Parse(f.Raw, message.Meta{Account: acct.Name, Mailbox: box, UID: f.UID, Flags: f.Flags,
			Size: f.Size, InternalDate: f.InternalDate, HeaderOnly: f.HeaderOnly})
		if why := verify(h, m, box, uidValidity); why != "" {
			h.outcome, h.detail = UndoSkipped, why
			continue
		}
		var p rules.Plan
		for _, fl := range h.added {
			p.RemoveFlag(fl, UndoRule)
		}
		for _, fl := range h.removed {
			p.AddFlag(fl, UndoRule)
		}
		if h.cur != h.origin {
			// The destination is where the message was: recreate it if
			// it is gone.
			p.Move(rules.Delivery{Mailbox: h.origin, Create: true, Rule: UndoRule})
		}
		items = append(items, actions.Item{Message: m, Plan: p})
		byUID[m.UID] = h
	}
	if len(items) == 0 {
		return nil
	}
	u.markPlaced(acct, box, items, nil)
	rep, err := exec.Apply(ctx, sess, items)
	if err != nil {
		return fmt.Errorf("account %q mailbox %q: %w", acct.Name, box, err)
	}
	u.markPlaced(acct, box, items, rep.Placed)
	dest := map[uint32]uint32{}
	for _, pl := range rep.Placed {
		dest[pl.UID] = pl.DestUID
	}
	var done []uint64
	for _, it := range items {
		h := byUID[it.Message.UID]
		if err := rep.Failed[it.Message.UID]; err != nil {
			h.outcome, h.detail = UndoFailed, err.Error()
			continue
		}
		h.outcome, h.detail = UndoDone, describe(h, box, it.Message.UID, dest[it.Message.UID], u.opts.DryRun)
		for _, r := range h.entries {
			done = append(done, r.Seq)
		}
	}
	if u.opts.DryRun {
		return nil
	}
	if err := u.store.MarkUndone(done); err != nil {
		return stateError{fmt.Errorf("mark undone (the changes are made; a second undo finds them done and skips them): %w", err)}
	}
	return nil
}

// stateError is a failure of the state file: it stops Undo, where a
// connection failure only stops one account.
type stateError struct{ err error }

func (e stateError) Error() string { return e.err.Error() }

// locate fetches the header of each history's message in the selected
// mailbox: at its UID, or found by Message-ID when the journal has none.
// A history whose message cannot be pinned down gets its outcome here.
func (u *undoer) locate(ctx context.Context, sess *imapconn.Session, hs []*history) (map[*history]imapconn.Fetched, error) {
	box, _ := sess.Selected()
	want := map[uint32][]*history{}
	var uids []uint32
	claim := func(h *history) {
		if want[h.curUID] == nil {
			uids = append(uids, h.curUID)
		}
		want[h.curUID] = append(want[h.curUID], h)
	}
	for _, h := range hs {
		if h.curUID != 0 {
			claim(h)
		}
	}
	for _, h := range hs {
		if h.curUID != 0 {
			continue
		}
		if h.messageID == "" {
			h.outcome, h.detail = UndoSkipped, fmt.Sprintf("moved to %q without a UID (no COPYUID) and has no Message-ID: cannot be found", box)
			continue
		}
		// RFC 9051 §6.4.4: HEADER is a substring match; the fetched
		// Message-ID is compared exactly below.
		got, err := sess.SearchUIDs(ctx, &imapconn.Criteria{Header: []imapconn.HeaderMatch{{Field: "Message-ID", Value: h.messageID}}})
		if err != nil {
			return nil, err
		}
		msgs, err := sess.FetchUIDs(ctx, got, false)
		if err != nil {
			return nil, err
		}
		var match []imapconn.Fetched
		for _, f := range msgs {
			if message.Parse(f.Raw, message.Meta{HeaderOnly: true}).MessageID() == h.messageID && want[f.UID] == nil {
				match = append(match, f)
			}
		}
		switch len(match) {
		case 0:
			h.outcome, h.detail = UndoSkipped, fmt.Sprintf("not found in %q by Message-ID (moved or deleted since); left alone", box)
		case 1:
			h.curUID = match[0].UID
			claim(h)
		default:
			h.outcome, h.detail = UndoSkipped, fmt.Sprintf("%d messages in %q have this Message-ID: cannot tell which one the rule moved; move it yourself", len(match), box)
		}
	}
	out := map[*history]imapconn.Fetched{}
	if len(uids) == 0 {
		return out, nil
	}
	slices.Sort(uids)
	msgs, err := sess.FetchUIDs(ctx, uids, false)
	if err != nil {
		return nil, err
	}
	for _, f := range msgs {
		for _, h := range want[f.UID] {
			out[h] = f
		}
	}
	for _, h := range hs {
		if _, ok := out[h]; !ok && h.outcome == "" {
			h.outcome, h.detail = UndoSkipped, fmt.Sprintf("no longer in %q (UID %d is gone: moved or deleted since); left alone", box, h.curUID)
		}
	}
	return out, nil
}

// verify says why m is not the message h followed, or "" when it is.
func verify(h *history, m *rules.Message, box string, uidValidity uint32) string {
	// RFC 9051 §2.3.1.1: a UID names the same message only under the same
	// UIDVALIDITY; a recreated mailbox reuses UIDs.
	if h.curUV != 0 && h.curUV != uidValidity {
		return fmt.Sprintf("%q was recreated since (UIDVALIDITY %d, now %d): UID %d is not the same message; left alone", box, h.curUV, uidValidity, m.UID)
	}
	if h.messageID == "" {
		if h.curUV == 0 {
			return fmt.Sprintf("the message has no Message-ID, so UID %d in %q cannot be verified; left alone", m.UID, box)
		}
		return ""
	}
	if got := m.MessageID(); got != h.messageID {
		return fmt.Sprintf("UID %d in %q is another message now (Message-ID <%s>); left alone", m.UID, box, got)
	}
	return ""
}

// describe says what the reversal of h did.
func describe(h *history, box string, uid, destUID uint32, dry bool) string {
	var parts []string
	if len(h.added) > 0 {
		parts = append(parts, "removed "+strings.Join(h.added, " "))
	}
	if len(h.removed) > 0 {
		parts = append(parts, "added "+strings.Join(h.removed, " "))
	}
	if h.cur != h.origin {
		s := fmt.Sprintf("moved back from %q to %q", box, h.origin)
		if destUID != 0 {
			s += fmt.Sprintf(" (UID %d)", destUID)
		}
		parts = append(parts, s)
	} else if len(parts) > 0 {
		parts[len(parts)-1] += fmt.Sprintf(" (UID %d in %q)", uid, box)
	}
	s := strings.Join(parts, "; ")
	if dry {
		s = "would have " + s
	}
	return s
}

// markPlaced records the messages moved back as placed in their origin by
// the rule set watching it, so the watcher does not evaluate them again
// (no loops): by Message-ID before the move (placed == nil), by the new
// UID after it.
func (u *undoer) markPlaced(acct *config.Account, box string, items []actions.Item, placed []actions.Placed) {
	if u.opts.DryRun {
		return
	}
	mark := func(m *rules.Message, dest string, destUID uint32) {
		ruleset := ""
		for _, w := range acct.Watch {
			if w.Mailbox == dest {
				ruleset = w.Ruleset
				break
			}
		}
		if ruleset == "" || (destUID == 0 && m.MessageID() == "") {
			return
		}
		err := u.store.MarkPlaced(acct.Name, dest, destUID, state.Placement{Ruleset: ruleset, MessageID: m.MessageID(), From: box})
		if err != nil {
			u.log.Warn("could not record placement; the watcher may run the rules over the restored message again", "uid", m.UID, "err", err)
		}
	}
	byUID := map[uint32]*rules.Message{}
	for _, it := range items {
		byUID[it.Message.UID] = it.Message
		if placed == nil {
			for _, d := range it.Plan.Deliveries {
				mark(it.Message, d.Mailbox, 0)
			}
		}
	}
	for _, pl := range placed {
		if pl.DestUID != 0 && pl.Op == actions.OpMove {
			mark(byUID[pl.UID], pl.Mailbox, pl.DestUID)
		}
	}
}

// recordOnly journals undo's own changes (for the record and for following
// messages later) but never reports an operation as already applied: the
// exactly-once of undo is its marks, and an old entry with the same key
// must not make undo skip a reversal.
type recordOnly struct{ s *state.Store }

func (recordOnly) Applied(context.Context, []string) (map[string]bool, error) { return nil, nil }

func (r recordOnly) Record(ctx context.Context, entries []actions.Entry) error {
	return r.s.Record(ctx, entries)
}
