package imapconn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/mailwarden/mailwarden/actions"
)

var _ actions.Mailbox = (*Session)(nil)

// Session is a Client with one mailbox selected (RFC 9051 §6.3.2). It
// implements actions.Mailbox. Selecting another mailbox on the same Client
// ends this Session: its methods then fail.
type Session struct {
	c           *Client
	name        string
	uidValidity uint32
	uidNext     uint32
	readOnly    bool
	specialUse  map[string]string // lower-case attribute → mailbox; nil until listed
}

// Select selects mailbox read-write (RFC 9051 §6.3.2) and returns its
// Session.
func (c *Client) Select(ctx context.Context, mailbox string) (*Session, error) {
	return c.selectMailbox(ctx, mailbox, false)
}

// Examine selects mailbox read-only (EXAMINE, RFC 9051 §6.3.3): for dry
// runs and previews. Store, Move and UIDExpunge fail with ErrReadOnly
// without sending anything (Dovecot answers OK to a STORE in a read-only
// mailbox and changes nothing); Copy works; FETCH never sets \Seen.
func (c *Client) Examine(ctx context.Context, mailbox string) (*Session, error) {
	return c.selectMailbox(ctx, mailbox, true)
}

func (c *Client) selectMailbox(ctx context.Context, mailbox string, readOnly bool) (*Session, error) {
	verb := "select"
	if readOnly {
		verb = "examine"
	}
	var data *imap.SelectData
	err := c.call(ctx, func() (err error) {
		data, err = c.c.Select(mailbox, &imap.SelectOptions{ReadOnly: readOnly}).Wait()
		return err
	})
	if err != nil {
		// A failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2).
		c.mu.Lock()
		c.sel = nil
		c.mu.Unlock()
		return nil, fmt.Errorf("%s %q: %w", verb, mailbox, err)
	}
	s := &Session{c: c, name: mailbox, uidValidity: data.UIDValidity, uidNext: uint32(data.UIDNext), readOnly: readOnly}
	c.mu.Lock()
	c.sel = s
	c.mu.Unlock()
	return s, nil
}

// ReadOnly reports whether the Session came from Examine.
func (s *Session) ReadOnly() bool { return s.readOnly }

// Client returns the connection this Session runs on.
func (s *Session) Client() *Client { return s.c }

// Selected returns the mailbox name and its UIDVALIDITY (RFC 9051 §2.3.1.1).
func (s *Session) Selected() (name string, uidValidity uint32) { return s.name, s.uidValidity }

// UIDNext is the UIDNEXT the server announced at SELECT time (0 if it did
// not): a lower bound for the UID of the next message.
func (s *Session) UIDNext() uint32 { return s.uidNext }

// NumMessages is the current message count, kept up to date by EXISTS and
// EXPUNGE responses.
func (s *Session) NumMessages() uint32 {
	if mb := s.c.c.Mailbox(); mb != nil {
		return mb.NumMessages
	}
	return 0
}

// Caps reports MOVE (RFC 6851) and UIDPLUS (RFC 4315).
func (s *Session) Caps() actions.Caps {
	return actions.Caps{Move: s.c.caps.Has(imap.CapMove), UIDPlus: s.c.caps.Has(imap.CapUIDPlus)}
}

// Noop sends NOOP; see Client.Noop.
func (s *Session) Noop(ctx context.Context) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.c.Noop(ctx)
}

// checkWrite is check plus: the Session is not read-only.
func (s *Session) checkWrite(op string) error {
	if err := s.check(); err != nil {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("%s in %q: %w", op, s.name, ErrReadOnly)
	}
	return nil
}

// check fails when another Select replaced this Session.
func (s *Session) check() error {
	s.c.mu.Lock()
	cur := s.c.sel
	s.c.mu.Unlock()
	if cur != s {
		return fmt.Errorf("mailbox %q: session no longer selected", s.name)
	}
	return nil
}

// Store changes flags with UID STORE uids ±FLAGS.SILENT (RFC 9051 §6.4.6).
// Adding or removing no flags sends nothing; replacing with none clears all.
func (s *Session) Store(ctx context.Context, uids []uint32, op actions.StoreOp, flags []string) error {
	if len(uids) == 0 || (len(flags) == 0 && op != actions.StoreReplace) {
		return nil
	}
	if err := s.checkWrite("uid store"); err != nil {
		return err
	}
	set := uidSet(uids)
	sf := &imap.StoreFlags{Silent: true, Flags: toFlags(flags)}
	switch op {
	case actions.StoreAdd:
		sf.Op = imap.StoreFlagsAdd
	case actions.StoreRemove:
		sf.Op = imap.StoreFlagsDel
	case actions.StoreReplace:
		sf.Op = imap.StoreFlagsSet
	default:
		return fmt.Errorf("uid store: unknown op %d", int(op))
	}
	err := s.c.call(ctx, func() error { return s.c.c.Store(set, sf, nil).Close() })
	if err != nil {
		return fmt.Errorf("uid store %s %s%s %v: %w", set, op, ".SILENT", flags, err)
	}
	return nil
}

// Copy copies uids to dest with UID COPY (RFC 9051 §6.4.7) and returns the
// destination UIDs in the order of uids from COPYUID (RFC 4315 §3), 0 for a
// UID the server did not copy (already expunged); nil without COPYUID. A
// missing dest yields an error wrapping actions.ErrTryCreate.
func (s *Session) Copy(ctx context.Context, uids []uint32, dest string) ([]uint32, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	set := uidSet(uids)
	var data *imap.CopyData
	err := s.c.call(ctx, func() (err error) {
		data, err = s.c.c.Copy(set, dest).Wait()
		return err
	})
	if err != nil {
		return nil, wrapTryCreate(fmt.Sprintf("uid copy %s to %q", set, dest), err)
	}
	return mapCopyUIDs(uids, data.SourceUIDs, data.DestUIDs), nil
}

// Move moves uids to dest with UID MOVE (RFC 6851 §3.1) and returns the
// destination UIDs like Copy (COPYUID arrives in an untagged OK, RFC 6851
// §4.3). Without the MOVE capability it returns ErrNoMove and sends
// nothing: go-imap's fallback is unsafe (see the package doc).
func (s *Session) Move(ctx context.Context, uids []uint32, dest string) ([]uint32, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	if err := s.checkWrite("uid move"); err != nil {
		return nil, err
	}
	// Check both our view and go-imap's: its Move silently falls back to
	// COPY+STORE+EXPUNGE when it thinks MOVE is missing.
	if !s.c.caps.Has(imap.CapMove) || !s.c.c.Caps().Has(imap.CapMove) {
		return nil, fmt.Errorf("uid move to %q: %w", dest, ErrNoMove)
	}
	set := uidSet(uids)
	var src, dst imap.UIDSet
	err := s.c.call(ctx, func() error {
		data, err := s.c.c.Move(set, dest).Wait()
		if err == nil {
			src, _ = data.SourceUIDs.(imap.UIDSet)
			dst, _ = data.DestUIDs.(imap.UIDSet)
		}
		return err
	})
	if err != nil {
		return nil, wrapTryCreate(fmt.Sprintf("uid move %s to %q", set, dest), err)
	}
	return mapCopyUIDs(uids, src, dst), nil
}

// UIDExpunge expunges exactly uids with UID EXPUNGE (RFC 4315 §2.1). Without
// UIDPLUS it returns ErrNoUIDPlus: there is no plain EXPUNGE fallback.
func (s *Session) UIDExpunge(ctx context.Context, uids []uint32) error {
	if len(uids) == 0 {
		return nil
	}
	if err := s.checkWrite("uid expunge"); err != nil {
		return err
	}
	if !s.c.caps.Has(imap.CapUIDPlus) {
		return fmt.Errorf("uid expunge: %w", ErrNoUIDPlus)
	}
	set := uidSet(uids)
	if err := s.c.call(ctx, func() error { return s.c.c.UIDExpunge(set).Close() }); err != nil {
		return fmt.Errorf("uid expunge %s: %w", set, err)
	}
	return nil
}

// Create creates mailbox name (RFC 9051 §6.3.4). A mailbox that already
// exists is not an error ([ALREADYEXISTS], RFC 5530, or found by LIST).
func (s *Session) Create(ctx context.Context, name string) error {
	return s.c.Create(ctx, name)
}

// Create creates mailbox name; see Session.Create.
func (c *Client) Create(ctx context.Context, name string) error {
	err := c.call(ctx, func() error { return c.c.Create(name, nil).Wait() })
	if err == nil {
		return nil
	}
	var imapErr *imap.Error
	if errors.As(err, &imapErr) {
		if imapErr.Code == imap.ResponseCodeAlreadyExists {
			return nil
		}
		if imapErr.Type == imap.StatusResponseTypeNo {
			if ok, lerr := c.exists(ctx, name); lerr == nil && ok {
				return nil
			}
		}
	}
	return fmt.Errorf("create %q: %w", name, err)
}

// exists lists name exactly.
func (c *Client) exists(ctx context.Context, name string) (bool, error) {
	var l []*imap.ListData
	err := c.call(ctx, func() (err error) {
		l, err = c.c.List("", name, nil).Collect()
		return err
	})
	if err != nil {
		return false, err
	}
	for _, d := range l {
		if d.Mailbox == name && !slices.Contains(d.Attrs, imap.MailboxAttrNonExistent) {
			return true, nil
		}
	}
	return false, nil
}

// SpecialUse returns the mailbox carrying the special-use attribute attr
// (`\Trash`, RFC 6154 §2), listing all mailboxes once per Session with
// LIST "" "*" RETURN (SPECIAL-USE) (RFC 6154 §5.1) when the server has
// LIST-EXTENDED, else plain LIST, whose attributes include special-use ones.
// None found: an error wrapping actions.ErrNoSpecialUse.
func (s *Session) SpecialUse(ctx context.Context, attr string) (string, error) {
	if s.specialUse == nil {
		m, err := s.c.specialUse(ctx)
		if err != nil {
			return "", err
		}
		s.specialUse = m
	}
	if name, ok := s.specialUse[strings.ToLower(attr)]; ok {
		return name, nil
	}
	return "", fmt.Errorf("special-use %s: %w", attr, actions.ErrNoSpecialUse)
}

func (c *Client) specialUse(ctx context.Context) (map[string]string, error) {
	var opts *imap.ListOptions
	if c.caps.Has(imap.CapSpecialUse) && c.caps.Has(imap.CapListExtended) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	var l []*imap.ListData
	err := c.call(ctx, func() (err error) {
		l, err = c.c.List("", "*", opts).Collect()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list special-use: %w", err)
	}
	m := make(map[string]string)
	for _, d := range l {
		for _, a := range d.Attrs {
			k := strings.ToLower(string(a))
			if _, seen := m[k]; !seen && isSpecialUse(a) {
				m[k] = d.Mailbox
			}
		}
	}
	return m, nil
}

func isSpecialUse(a imap.MailboxAttr) bool {
	switch strings.ToLower(string(a)) {
	case `\all`, `\archive`, `\drafts`, `\flagged`, `\junk`, `\sent`, `\trash`, `\important`:
		return true
	}
	return false
}

// wrapTryCreate marks NO [TRYCREATE] (RFC 9051 §7.1) with
// actions.ErrTryCreate.
func wrapTryCreate(op string, err error) error {
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeTryCreate {
		return fmt.Errorf("%s: %w: %w", op, actions.ErrTryCreate, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// mapCopyUIDs turns COPYUID's source and destination sets (RFC 4315 §3:
// the n-th source UID became the n-th destination UID, in ascending source
// order) into destination UIDs in the order of uids. nil without COPYUID.
func mapCopyUIDs(uids []uint32, src, dst imap.UIDSet) []uint32 {
	if len(src) == 0 || len(dst) == 0 {
		return nil
	}
	s, ok1 := src.Nums()
	d, ok2 := dst.Nums()
	if !ok1 || !ok2 || len(s) != len(d) {
		return nil
	}
	m := make(map[uint32]uint32, len(s))
	for i := range s {
		m[uint32(s[i])] = uint32(d[i])
	}
	out := make([]uint32, len(uids))
	for i, u := range uids {
		out[i] = m[u]
	}
	return out
}

func uidSet(uids []uint32) imap.UIDSet {
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	return set
}

func toFlags(flags []string) []imap.Flag {
	out := make([]imap.Flag, len(flags))
	for i, f := range flags {
		out[i] = imap.Flag(f)
	}
	return out
}
