package memimap

import (
	"time"

	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// idlePoll is how often an IDLE session polls its mailbox for changes.
const idlePoll = 10 * time.Millisecond

// session is imapmemserver's session (login, then the user's session)
// with one change: IDLE polls.
//
// imapmemserver's IDLE (SessionTracker.Idle) registers for updates only
// after the server has sent "+ idling", and does not poll once registered:
// a message appended in between is announced only with the next change,
// so a watcher could sit on new mail. Polling every idlePoll while idling
// cannot miss anything and costs nothing measurable in tests and the demo.
type session struct {
	*imapmemserver.UserSession // nil until Login
	srv                        *Server
}

var _ imapserver.SessionIMAP4rev2 = (*session)(nil)

func (s *session) Login(username, password string) error {
	u, err := s.srv.user(username)
	if err != nil {
		return imapserver.ErrAuthFailed
	}
	if err := u.Login(username, password); err != nil {
		return err
	}
	s.UserSession = imapmemserver.NewUserSession(u)
	return nil
}

func (s *session) Close() error {
	if s.UserSession == nil {
		return nil
	}
	return s.UserSession.Close()
}

// Idle implements RFC 2177 by polling; see the type's doc.
func (s *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	t := time.NewTicker(idlePoll)
	defer t.Stop()
	for {
		if err := s.UserSession.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-t.C:
		}
	}
}
