package corpus

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// MaildirName is the file name message m gets in a Maildir cur/ directory,
// in Dovecot's format (https://doc.dovecot.org/admin_manual/mailbox_formats/maildir/):
//
//	<unix time>.M<index>P1Q<index>.corpus,S=<file size>,W=<RFC822 size>:2,<flags>
//
// S= is the size of the file as written (LF line ends), W= the size with
// CRLF line ends (RFC822.SIZE), so Dovecot never has to read the file for
// either. The time prefix makes Dovecot assign UIDs in internal-date
// order; the name depends only on the message, so a loaded Maildir is as
// reproducible as the corpus.
func MaildirName(m *Message) string {
	lf := len(m.Raw) - bytes.Count(m.Raw, []byte("\r\n"))
	return fmt.Sprintf("%d.M%dP1Q%d.corpus,S=%d,W=%d:2,%s", m.Internal.Unix(), m.Index, m.Index, lf, len(m.Raw), maildirFlags(m.Flags))
}

// maildirFlags maps IMAP system flags to Maildir info letters, sorted
// (D draft, F flagged, R replied, S seen, T trashed).
func maildirFlags(flags []string) string {
	var out []string
	for _, f := range flags {
		switch strings.ToLower(f) {
		case `\draft`:
			out = append(out, "D")
		case `\flagged`:
			out = append(out, "F")
		case `\answered`:
			out = append(out, "R")
		case `\seen`:
			out = append(out, "S")
		case `\deleted`:
			out = append(out, "T")
		}
	}
	sort.Strings(out)
	return strings.Join(out, "")
}

// WriteMaildir writes msgs into the Maildir folder dir (creating dir, cur,
// new and tmp): each file via tmp/ and a rename into cur/, with LF line
// ends (as Dovecot stores mail), its modification time set to the internal
// date (Dovecot's INTERNALDATE for Maildir) and owned by uid:gid (-1 keeps
// the writer's). Run `doveadm force-resync` on the mailbox afterwards so
// that Dovecot indexes it before anything is timed.
func WriteMaildir(dir string, msgs []*Message, uid, gid int) error {
	for _, sub := range []string{"", "cur", "new", "tmp"} {
		p := filepath.Join(dir, sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return err
		}
		if uid >= 0 {
			if err := os.Chown(p, uid, gid); err != nil {
				return err
			}
		}
	}
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	next := make(chan *Message, 64)
	for range max(2, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range next {
				if err := writeOne(dir, m, uid, gid); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for _, m := range msgs {
		next <- m
	}
	close(next)
	wg.Wait()
	return first
}

func writeOne(dir string, m *Message, uid, gid int) error {
	name := MaildirName(m)
	tmp := filepath.Join(dir, "tmp", name)
	lf := bytes.ReplaceAll(m.Raw, []byte("\r\n"), []byte("\n"))
	if err := os.WriteFile(tmp, lf, 0o600); err != nil {
		return err
	}
	if uid >= 0 {
		if err := os.Chown(tmp, uid, gid); err != nil {
			return err
		}
	}
	if err := os.Chtimes(tmp, m.Internal, m.Internal); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "cur", name))
}
