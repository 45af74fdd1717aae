package actions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/mailwarden/mailwarden/rules"
)

// batch is the state of one Apply: it sends grouped commands and records
// what each did.
type batch struct {
	e           *Executor
	ctx         context.Context
	mb          Mailbox
	rep         *Report
	log         *slog.Logger
	mailbox     string
	uidValidity uint32
}

// group is an ordered set of messages that share one command.
type group struct {
	key string
	ws  []*work
}

func groupBy(ws []*work, keys func(w *work) []string) []*group {
	var out []*group
	idx := map[string]*group{}
	for _, w := range ws {
		if w.err != nil {
			continue
		}
		for _, k := range keys(w) {
			g := idx[k]
			if g == nil {
				g = &group{key: k}
				idx[k] = g
				out = append(out, g)
			}
			g.ws = append(g.ws, w)
		}
	}
	return out
}

func uidsOf(ws []*work) []uint32 {
	uids := make([]uint32, len(ws))
	for i, w := range ws {
		uids[i] = w.item.Message.UID
	}
	return uids
}

// run sends one command, or only logs it in dry run.
func (b *batch) run(desc string, fn func() error) error {
	b.rep.Commands++
	if b.e.opts.DryRun {
		b.log.Info("dry run: would send", "command", desc)
		return nil
	}
	if err := b.ctx.Err(); err != nil {
		return err
	}
	b.log.Debug("send", "command", desc)
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", desc, err)
	}
	return nil
}

func fail(ws []*work, err error) {
	for _, w := range ws {
		if w.err == nil {
			w.err = err
		}
	}
}

// record journals one completed operation for each message of ws.
func (b *batch) record(ws []*work, op Op, target string, copied Copied) {
	if b.e.opts.DryRun {
		for _, w := range ws {
			b.rep.Ops[op]++
			if op == OpCopy || op == OpMove {
				b.rep.Placed = append(b.rep.Placed, Placed{UID: w.item.Message.UID, Mailbox: target, Op: op})
			}
		}
		return
	}
	now := b.e.opts.Now()
	entries := make([]Entry, 0, len(ws))
	for i, w := range ws {
		b.rep.Ops[op]++
		var dest uint32
		if i < len(copied.UIDs) {
			dest = copied.UIDs[i]
		}
		if op == OpCopy || op == OpMove {
			b.rep.Placed = append(b.rep.Placed, Placed{UID: w.item.Message.UID, Mailbox: target, DestUID: dest, DestUIDValidity: copied.UIDValidity, Op: op})
		}
		entries = append(entries, Entry{
			Account: b.e.opts.Account, Mailbox: b.mailbox, UIDValidity: b.uidValidity,
			UID: w.item.Message.UID, MessageID: w.item.Message.MessageID(), Rule: ruleFor(w, op, target),
			Op: op, Target: target, DestUID: dest, Time: now,
		})
	}
	if b.e.opts.OnApplied != nil {
		b.e.opts.OnApplied(entries)
	}
	if b.e.opts.Journal == nil {
		return
	}
	if err := b.e.opts.Journal.Record(b.ctx, entries); err != nil {
		// The change is made; only the record is missing. Say so loudly:
		// a crash before the checkpoint advances could repeat a copy.
		b.rep.Warnings = append(b.rep.Warnings, fmt.Sprintf("journal write failed after %s %s: %v", op, target, err))
		b.log.Error("journal write failed", "op", string(op), "target", target, "err", err)
	}
}

// intend records, before a COPY or MOVE of ws to target is sent, that it
// is about to happen (Journal.Intend). Without a durable intent the
// command is not sent: the messages fail for now and are retried.
func (b *batch) intend(ws []*work, target string) []*work {
	if b.e.opts.DryRun || b.e.opts.Journal == nil {
		return ws
	}
	entries := make([]Entry, len(ws))
	for i, w := range ws {
		entries[i] = Entry{Account: b.e.opts.Account, Mailbox: b.mailbox, UIDValidity: b.uidValidity,
			UID: w.item.Message.UID, MessageID: w.item.Message.MessageID(), InternalDate: w.item.Message.InternalDate,
			Rule: ruleFor(w, OpCopy, target), Op: OpCopy, Target: target, Time: b.e.opts.Now()}
	}
	if err := b.e.opts.Journal.Intend(b.ctx, entries); err != nil {
		fail(ws, fmt.Errorf("journal the copy to %q before sending it: %w", target, err))
		return nil
	}
	return ws
}

// ruleFor finds the rule that asked for an operation, for the journal.
func ruleFor(w *work, op Op, target string) string {
	switch op {
	case OpCopy, OpMove, OpDelete:
		for _, t := range append(w.copies, derefTarget(w.final)...) {
			if t.mailbox == target {
				return t.rule
			}
		}
	}
	want := string(op) + " " + target
	for _, s := range w.item.Plan.Trace {
		if s.Action == want {
			return s.Rule
		}
	}
	if len(w.item.Plan.Trace) > 0 {
		return w.item.Plan.Trace[len(w.item.Plan.Trace)-1].Rule
	}
	return ""
}

func derefTarget(t *target) []target {
	if t == nil {
		return nil
	}
	return []target{*t}
}

// storeFlags sends one UID STORE per distinct flag set (RFC 9051 §6.4.6).
func (b *batch) storeFlags(ws []*work, op StoreOp) {
	pick := func(w *work) []string {
		if op == StoreAdd {
			return w.add
		}
		return w.rem
	}
	groups := groupBy(ws, func(w *work) []string {
		if len(pick(w)) == 0 {
			return nil
		}
		return []string{strings.Join(pick(w), " ")}
	})
	jop := OpFlag
	if op == StoreRemove {
		jop = OpUnflag
	}
	for _, g := range groups {
		flags := pick(g.ws[0])
		uids := uidsOf(g.ws)
		err := b.run(fmt.Sprintf("UID STORE %s %s (%s)", FormatUIDs(uids), op, g.key), func() error {
			return b.mb.Store(b.ctx, uids, op, flags)
		})
		if err != nil {
			fail(g.ws, err)
			continue
		}
		for _, f := range flags {
			b.record(g.ws, jop, f, Copied{})
		}
	}
}

// copy sends one UID COPY per destination for deliveries that keep the
// original (and the non-final deliveries of multi-destination moves).
func (b *batch) copy(ws []*work) {
	groups := groupBy(ws, func(w *work) []string {
		keys := make([]string, 0, len(w.copies))
		for _, t := range w.copies {
			keys = append(keys, t.mailbox+"\x00"+t.flagsKey())
		}
		return keys
	})
	for _, g := range groups {
		t := findTarget(g.ws[0].copies, g.key)
		live := liveOnly(g.ws)
		if len(live) == 0 {
			continue
		}
		if t.flags != nil && !b.setExactFlags(live, t.flags) {
			continue
		}
		if live = b.intend(live, t.mailbox); len(live) == 0 {
			continue
		}
		uids := uidsOf(live)
		var dest Copied
		err := b.run(fmt.Sprintf("UID COPY %s %q", FormatUIDs(uids), t.mailbox), func() (err error) {
			dest, err = b.withCreate(t, func() (Copied, error) { return b.mb.Copy(b.ctx, uids, t.mailbox) })
			return err
		})
		if t.flags != nil {
			b.restoreFlags(live)
		}
		if err != nil {
			fail(live, err)
			continue
		}
		b.record(live, OpCopy, t.mailbox, dest)
	}
}

// move removes each original into its final destination: one UID MOVE per
// destination (RFC 6851 §3.2), or COPY + STORE \Deleted + UID EXPUNGE of
// exactly those UIDs (RFC 4315 §2.1) when the server lacks MOVE.
func (b *batch) move(ws []*work) {
	groups := groupBy(ws, func(w *work) []string {
		if w.final == nil {
			return nil
		}
		return []string{w.final.mailbox + "\x00" + w.final.flagsKey()}
	})
	caps := b.mb.Caps()
	for _, g := range groups {
		t := *g.ws[0].final
		live := liveOnly(g.ws)
		if len(live) == 0 {
			continue
		}
		// A move cut short after its copy was made: only the removal of
		// the original is left.
		var copied []*work
		live = slices.DeleteFunc(live, func(w *work) bool {
			if w.finalCopied {
				copied = append(copied, w)
			}
			return w.finalCopied
		})
		if len(copied) > 0 {
			b.removeCopied(copied, t, caps)
		}
		if len(live) == 0 {
			continue
		}
		if t.flags != nil && !b.setExactFlags(live, t.flags) {
			continue
		}
		if live = b.intend(live, t.mailbox); len(live) == 0 {
			continue
		}
		uids := uidsOf(live)
		if caps.Move {
			var dest Copied
			err := b.run(fmt.Sprintf("UID MOVE %s %q", FormatUIDs(uids), t.mailbox), func() (err error) {
				dest, err = b.withCreate(t, func() (Copied, error) { return b.mb.Move(b.ctx, uids, t.mailbox) })
				return err
			})
			if err != nil {
				fail(live, err)
				continue
			}
			b.record(live, OpMove, t.mailbox, dest)
			continue
		}
		b.copyDeleteExpunge(live, t, caps)
	}
}

func (b *batch) copyDeleteExpunge(ws []*work, t target, caps Caps) {
	uids := uidsOf(ws)
	var dest Copied
	err := b.run(fmt.Sprintf("UID COPY %s %q", FormatUIDs(uids), t.mailbox), func() (err error) {
		dest, err = b.withCreate(t, func() (Copied, error) { return b.mb.Copy(b.ctx, uids, t.mailbox) })
		return err
	})
	if err != nil {
		fail(ws, err)
		return
	}
	b.deleteExpunge(ws, t, caps, dest)
}

// removeCopied removes originals whose copy in t was made by an earlier
// run that stopped before removing them: STORE \Deleted and UID EXPUNGE
// of exactly those UIDs (RFC 4315 §2.1), never a second copy.
func (b *batch) removeCopied(ws []*work, t target, caps Caps) {
	b.deleteExpunge(ws, t, caps, Copied{})
}

// deleteExpunge is the second half of a move without MOVE: the copies in
// t are made (dest says where, when known); flag the originals \Deleted
// and expunge exactly them.
func (b *batch) deleteExpunge(ws []*work, t target, caps Caps, dest Copied) {
	uids := uidsOf(ws)
	err := b.run(fmt.Sprintf(`UID STORE %s +FLAGS (\Deleted)`, FormatUIDs(uids)), func() error {
		return b.mb.Store(b.ctx, uids, StoreAdd, []string{rules.FlagDeleted})
	})
	if err != nil {
		// Copied but not removed: record the copy so a retry does not
		// copy again, and report the message as not fully applied.
		b.record(ws, OpCopy, t.mailbox, dest)
		fail(ws, err)
		return
	}
	if !caps.UIDPlus {
		msg := fmt.Sprintf("server lacks UIDPLUS: %d message(s) copied to %q and flagged \\Deleted but not expunged (a plain EXPUNGE would also remove other clients' deleted mail)", len(ws), t.mailbox)
		b.rep.Warnings = append(b.rep.Warnings, msg)
		b.log.Warn(msg)
		b.record(ws, OpCopy, t.mailbox, dest)
		b.record(ws, OpDelete, t.mailbox, Copied{})
		return
	}
	err = b.run(fmt.Sprintf("UID EXPUNGE %s", FormatUIDs(uids)), func() error {
		return b.mb.UIDExpunge(b.ctx, uids)
	})
	if err != nil {
		b.record(ws, OpCopy, t.mailbox, dest)
		fail(ws, err)
		return
	}
	b.record(ws, OpMove, t.mailbox, dest)
}

// withCreate runs a COPY or MOVE and, when the server answers
// NO [TRYCREATE] and the delivery allows it, creates the destination and
// tries once more (RFC 9051 §6.4.7).
func (b *batch) withCreate(t target, fn func() (Copied, error)) (Copied, error) {
	dest, err := fn()
	if err == nil || !errors.Is(err, ErrTryCreate) {
		return dest, err
	}
	if !t.create {
		return Copied{}, fmt.Errorf("%w (the rule does not allow creating %q; add :create or create it)", err, t.mailbox)
	}
	b.rep.Commands++
	b.log.Info("creating mailbox", "name", t.mailbox)
	if cerr := b.mb.Create(b.ctx, t.mailbox); cerr != nil {
		return Copied{}, fmt.Errorf("create %q: %w", t.mailbox, cerr)
	}
	return fn()
}

// setExactFlags gives messages exactly flags before they are copied with
// Sieve's `fileinto :flags` (RFC 5232 §5). It groups nothing: all of ws
// get the same set.
func (b *batch) setExactFlags(ws []*work, flags []string) bool {
	flags = storable(flags)
	uids := uidsOf(ws)
	err := b.run(fmt.Sprintf("UID STORE %s FLAGS (%s)", FormatUIDs(uids), strings.Join(flags, " ")), func() error {
		return b.mb.Store(b.ctx, uids, StoreReplace, flags)
	})
	if err != nil {
		fail(ws, err)
		return false
	}
	return true
}

// restoreFlags puts back each message's own flags after a copy with
// explicit flags, one STORE per distinct set.
func (b *batch) restoreFlags(ws []*work) {
	for _, g := range groupBy(ws, func(w *work) []string { return []string{strings.Join(storable(w.flags), " ")} }) {
		uids := uidsOf(g.ws)
		flags := storable(g.ws[0].flags)
		err := b.run(fmt.Sprintf("UID STORE %s FLAGS (%s)", FormatUIDs(uids), g.key), func() error {
			return b.mb.Store(b.ctx, uids, StoreReplace, flags)
		})
		if err != nil {
			fail(g.ws, err)
		}
	}
}

// storable drops \Recent from a flag list about to be stored: a session
// flag the server sets, that a client can neither set nor clear (RFC 3501
// §2.3.2; RFC 9051 removed it). Dovecot answers BAD to a STORE with it.
func storable(flags []string) []string {
	if !slices.ContainsFunc(flags, isRecent) {
		return flags
	}
	return slices.DeleteFunc(slices.Clone(flags), isRecent)
}

func isRecent(f string) bool { return strings.EqualFold(f, rules.FlagRecent) }

func findTarget(ts []target, key string) target {
	for _, t := range ts {
		if t.mailbox+"\x00"+t.flagsKey() == key {
			return t
		}
	}
	panic("actions: group key without target") // unreachable: keys come from ts
}

func liveOnly(ws []*work) []*work {
	out := make([]*work, 0, len(ws))
	for _, w := range ws {
		if w.err == nil {
			out = append(out, w)
		}
	}
	return out
}

// FormatUIDs writes uids as a compact IMAP sequence set ("1:3,7"),
// RFC 9051 §9 sequence-set, for logs.
func FormatUIDs(uids []uint32) string {
	if len(uids) == 0 {
		return ""
	}
	var sb strings.Builder
	start, prev := uids[0], uids[0]
	flush := func() {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatUint(uint64(start), 10))
		if prev != start {
			sb.WriteByte(':')
			sb.WriteString(strconv.FormatUint(uint64(prev), 10))
		}
	}
	for _, u := range uids[1:] {
		if u == prev+1 {
			prev = u
			continue
		}
		flush()
		start, prev = u, u
	}
	flush()
	return sb.String()
}
