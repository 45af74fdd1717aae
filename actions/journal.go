package actions

import (
	"context"
	"fmt"
	"time"
)

// Op is the kind of change one journal entry records.
type Op string

const (
	OpFlag   Op = "flag"   // keyword or flag added in place
	OpUnflag Op = "unflag" // removed in place
	OpCopy   Op = "copy"   // copied to Target, original kept
	OpMove   Op = "move"   // moved to Target (UID MOVE, or copy+delete+expunge)
	OpDelete Op = "delete" // flagged \Deleted after a copy, not expunged (no UIDPLUS)
	// OpExpunge: removed for good (UID STORE \Deleted + UID EXPUNGE of
	// exactly this UID) by Executor.Expunge; Target is empty.
	OpExpunge Op = "expunge"
)

// Entry is one applied change to one message.
type Entry struct {
	Account     string
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	MessageID   string
	Rule        string
	Op          Op
	Target      string // flag for flag/unflag, destination mailbox for copy/move
	DestUID     uint32 // UID of the copy in Target when the server said (COPYUID), else 0
	Time        time.Time
	// InternalDate is the message's INTERNALDATE, which a COPY keeps: with
	// the Message-ID it tells the copy apart in the destination (intents).
	InternalDate time.Time `json:",omitzero"`
}

// Key identifies the operation independently of when it happened, for the
// exactly-once check.
func (e *Entry) Key() string {
	return fmt.Sprintf("%s\x00%s\x00%d\x00%d\x00%s\x00%s", e.Account, e.Mailbox, e.UIDValidity, e.UID, e.Op, e.Target)
}

// IntentKey identifies the copy a COPY or MOVE of this message to Target
// makes: the key of an intent (Journal.Intend), the same for both.
func (e *Entry) IntentKey() string {
	c := *e
	c.Op = OpCopy
	return c.Key()
}

// Journal records applied changes durably. engine/state implements it.
//
// Copies need one more step to be exactly-once. A crash between the
// server's OK to a UID COPY (or MOVE) and Record would make a retry copy
// again, and only the destination can tell whether the copy happened.
// So the Executor records an intent (Intend) before it sends a COPY or a
// MOVE; Record of the copy or move settles it. An intent still pending
// after a crash is resolved by the engine, which looks for the message in
// the destination (by Message-ID and INTERNALDATE) before it acts on the
// source mailbox again: found, the copy is recorded as done; not found,
// the intent is dropped and the copy made again.
type Journal interface {
	// Applied returns, for each of keys (Entry.Key values) already
	// recorded, the Message-ID of the message the recorded change was made
	// to ("" when it had none). The Executor skips a change only when that
	// is the message it has now: a mailbox restored from a backup can
	// reuse a UID under the same UIDVALIDITY (against RFC 9051 §2.3.1.1)
	// for another message, which must not lose its changes.
	Applied(ctx context.Context, keys []string) (map[string]string, error)
	// Record appends entries durably (fsync'd) before returning, and
	// settles the intents of the copies and moves among them.
	Record(ctx context.Context, entries []Entry) error
	// Intend records durably, before the command is sent, that the
	// copies or moves in entries are about to be made (see above).
	Intend(ctx context.Context, entries []Entry) error
}
