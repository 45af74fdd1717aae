package soak

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// direct is a connection straight to Dovecot, never through a proxy: the
// deliverer's and the census's. It serialises its callers.
type direct struct {
	addr, user, pass string

	mu sync.Mutex
	c  *imapclient.Client
}

func newDirect(addr, user, pass string) *direct {
	return &direct{addr: addr, user: user, pass: pass}
}

func (d *direct) client() (*imapclient.Client, error) {
	if d.c != nil {
		return d.c, nil
	}
	c, err := imapclient.DialInsecure(d.addr, nil)
	if err != nil {
		return nil, fmt.Errorf("dial dovecot: %w", err)
	}
	if err := c.Login(d.user, d.pass).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("login: %w", err)
	}
	d.c = c
	return c, nil
}

// do runs fn on the connection, dialling again once if the connection
// broke (nothing here goes through the proxy, so that is rare).
func (d *direct) do(fn func(c *imapclient.Client) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var c *imapclient.Client
		if c, err = d.client(); err != nil {
			continue
		}
		if err = fn(c); err == nil {
			return nil
		}
		// A NO is an answer, not a broken connection.
		if _, isIMAP := err.(*imap.Error); isIMAP {
			return err
		}
		d.c.Close()
		d.c = nil
	}
	return err
}

func (d *direct) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c != nil {
		d.c.Logout().Wait()
		d.c.Close()
		d.c = nil
	}
}

// create creates mailbox, ignoring "already exists".
func (d *direct) create(mailbox string) error {
	return d.do(func(c *imapclient.Client) error {
		err := c.Create(mailbox, nil).Wait()
		if e, ok := err.(*imap.Error); ok && e.Code == imap.ResponseCodeAlreadyExists {
			return nil
		}
		return err
	})
}

// appendMsg delivers raw into mailbox with internal date at (zero: now) and
// returns its UID (APPENDUID, RFC 4315).
func (d *direct) appendMsg(mailbox string, raw []byte, at time.Time) (uint32, error) {
	var uid uint32
	err := d.do(func(c *imapclient.Client) error {
		cmd := c.Append(mailbox, int64(len(raw)), &imap.AppendOptions{Time: at})
		if _, err := cmd.Write(raw); err != nil {
			cmd.Close()
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		data, err := cmd.Wait()
		if err != nil {
			return err
		}
		uid = uint32(data.UID)
		return nil
	})
	return uid, err
}

// count is the number of messages in mailbox, and how many of them are
// not flagged \Deleted.
func (d *direct) count(mailbox string) (all, live int, err error) {
	err = d.do(func(c *imapclient.Client) error {
		sd, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			return err
		}
		all = int(sd.NumMessages)
		if all == 0 {
			live = 0
			return nil
		}
		res, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
		if err != nil {
			return err
		}
		live = len(res.AllUIDs())
		return nil
	})
	return all, live, err
}

// Location is one copy of a message on the server.
type Location struct {
	Mailbox string
	UID     uint32
	Flags   []string
}

func (l Location) String() string {
	return fmt.Sprintf("%s UID %d (%s)", l.Mailbox, l.UID, strings.Join(l.Flags, " "))
}

func (l Location) has(flag string) bool {
	return slices.ContainsFunc(l.Flags, func(f string) bool { return strings.EqualFold(f, flag) })
}

// census lists every message of every mailbox by Message-ID (without <>).
func (d *direct) census() (map[string][]Location, error) {
	out := map[string][]Location{}
	err := d.do(func(c *imapclient.Client) error {
		clear(out)
		boxes, err := c.List("", "*", nil).Collect()
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		for _, b := range boxes {
			if slices.Contains(b.Attrs, imap.MailboxAttrNoSelect) || slices.Contains(b.Attrs, imap.MailboxAttrNonExistent) {
				continue
			}
			sd, err := c.Select(b.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
			if err != nil {
				return fmt.Errorf("examine %q: %w", b.Mailbox, err)
			}
			if sd.NumMessages == 0 {
				continue
			}
			var all imap.SeqSet
			all.AddRange(1, 0) // 1:*
			msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
			if err != nil {
				return fmt.Errorf("fetch %q: %w", b.Mailbox, err)
			}
			for _, m := range msgs {
				id := ""
				if m.Envelope != nil {
					id = m.Envelope.MessageID
				}
				flags := make([]string, len(m.Flags))
				for i, f := range m.Flags {
					flags[i] = string(f)
				}
				out[id] = append(out[id], Location{Mailbox: b.Mailbox, UID: uint32(m.UID), Flags: flags})
			}
		}
		return nil
	})
	return out, err
}

// message builds a small RFC 5322 message.
func message(id, from, subject string, date time.Time, body string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: soak@soak.example\r\n")
	fmt.Fprintf(&b, "Subject: %s\r\n", subject)
	fmt.Fprintf(&b, "Message-ID: <%s>\r\n", id)
	fmt.Fprintf(&b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(body)
	b.WriteString("\r\n")
	return b.Bytes()
}
