package actions

import (
	"context"
	"errors"
)

// Mailbox is what the Executor needs from an IMAP session that has one
// mailbox selected. engine/imapconn implements it over go-imap; tests use an
// in-process server. Every method works on UIDs of the selected mailbox and
// sends exactly one IMAP command (unless documented otherwise), so the
// Executor decides batching.
type Mailbox interface {
	// Caps reports the server capabilities that change how mail is moved.
	Caps() Caps
	// Selected returns the name of the selected mailbox and its UIDVALIDITY.
	Selected() (name string, uidValidity uint32)

	// Store changes flags: UID STORE uids +FLAGS.SILENT / -FLAGS.SILENT /
	// FLAGS.SILENT (RFC 9051 §6.4.6).
	Store(ctx context.Context, uids []uint32, op StoreOp, flags []string) error
	// Copy copies uids to dest (UID COPY, RFC 9051 §6.4.7) and returns
	// what the server's COPYUID said (RFC 4315 §3), the zero Copied
	// without one. A missing dest yields an error wrapping ErrTryCreate.
	Copy(ctx context.Context, uids []uint32, dest string) (Copied, error)
	// Move moves uids to dest with UID MOVE (RFC 6851). Only called when
	// Caps().Move. Returns COPYUID like Copy. A missing dest yields an
	// error wrapping ErrTryCreate.
	Move(ctx context.Context, uids []uint32, dest string) (Copied, error)
	// UIDExpunge expunges exactly uids (RFC 4315 §2.1). Only called when
	// Caps().UIDPlus. There is deliberately no plain EXPUNGE.
	UIDExpunge(ctx context.Context, uids []uint32) error
	// Create creates mailbox name (RFC 9051 §6.3.4); an existing mailbox is
	// not an error.
	Create(ctx context.Context, name string) error
	// SpecialUse returns the name of the mailbox carrying the special-use
	// attribute attr (`\Trash`, RFC 6154), or an error wrapping
	// ErrNoSpecialUse when none does.
	SpecialUse(ctx context.Context, attr string) (string, error)
}

// Copied is what a server's COPYUID (RFC 4315 §3) said of a COPY or MOVE:
// the destination's UIDVALIDITY and the new UIDs, in the order of the
// source UIDs given (0 for one the server did not copy). The zero value
// means the server did not say.
type Copied struct {
	UIDValidity uint32
	UIDs        []uint32
}

// Caps are the capabilities the Executor cares about.
type Caps struct {
	Move    bool // RFC 6851 MOVE
	UIDPlus bool // RFC 4315 UIDPLUS (UID EXPUNGE, COPYUID)
}

// StoreOp is the kind of flag change.
type StoreOp int

const (
	StoreAdd     StoreOp = iota // +FLAGS
	StoreRemove                 // -FLAGS
	StoreReplace                // FLAGS
)

func (op StoreOp) String() string {
	switch op {
	case StoreAdd:
		return "+FLAGS"
	case StoreRemove:
		return "-FLAGS"
	default:
		return "FLAGS"
	}
}

var (
	// ErrTryCreate marks a COPY/MOVE that failed because the destination
	// does not exist (NO [TRYCREATE], RFC 9051 §7.1).
	ErrTryCreate = errors.New("destination mailbox does not exist")
	// ErrNoSpecialUse marks a special-use lookup that found no mailbox.
	ErrNoSpecialUse = errors.New("no mailbox has this special-use attribute")
)
