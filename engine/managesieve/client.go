package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Client is a ManageSieve client (RFC 5804): `mailwarden sieve` and the
// tests use it against the daemon's server. It is not safe for concurrent
// use.
type Client struct {
	conn net.Conn
	r    *reader
	w    *bufio.Writer
	caps map[string]string
}

// Response is a server's final answer that was not OK.
type Response struct {
	Kind string // NO or BYE
	Code string // e.g. QUOTA/MAXSIZE, NONEXISTENT
	Msg  string
}

func (r *Response) Error() string {
	if r.Code != "" {
		return fmt.Sprintf("%s (%s) %s", r.Kind, r.Code, r.Msg)
	}
	return r.Kind + " " + r.Msg
}

// ClientOptions configure Dial.
type ClientOptions struct {
	// TLSConfig, when set, is used for STARTTLS (required when the server
	// offers STARTTLS, unless Plaintext).
	TLSConfig *tls.Config
	// Plaintext skips STARTTLS (loopback test servers only).
	Plaintext bool
	// Implicit starts TLS (with TLSConfig) before the greeting, for a
	// server that speaks TLS from the first byte.
	Implicit bool
	// Timeout bounds the dial and each exchange. Default 30 s.
	Timeout time.Duration
}

// DialClient connects to addr, reads the greeting and, unless Plaintext,
// upgrades with STARTTLS.
func DialClient(ctx context.Context, addr string, o *ClientOptions) (*Client, error) {
	if o == nil {
		o = &ClientOptions{}
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if o.Implicit {
		if o.TLSConfig == nil {
			conn.Close()
			return nil, errors.New("implicit TLS needs a TLS configuration")
		}
		tc := tls.Client(conn, o.TLSConfig)
		tc.SetDeadline(time.Now().Add(timeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("tls: %w", err)
		}
		conn = tc
	}
	c := &Client{}
	c.setup(conn)
	conn.SetDeadline(time.Now().Add(timeout))
	if err := c.readCaps(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if _, ok := c.caps["STARTTLS"]; ok && !o.Plaintext && !o.Implicit {
		if o.TLSConfig == nil {
			conn.Close()
			return nil, errors.New("the server offers STARTTLS: a TLS configuration is needed")
		}
		if _, err := c.cmd("STARTTLS"); err != nil {
			conn.Close()
			return nil, err
		}
		tc := tls.Client(conn, o.TLSConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("starttls: %w", err)
		}
		c.setup(tc)
		if err := c.readCaps(); err != nil {
			tc.Close()
			return nil, fmt.Errorf("capabilities after STARTTLS: %w", err)
		}
	}
	conn.SetDeadline(time.Time{})
	return c, nil
}

func (c *Client) setup(conn net.Conn) {
	c.conn = conn
	c.r = &reader{br: bufio.NewReader(conn), maxLine: 1 << 20, maxLiteral: 64 << 20}
	c.w = bufio.NewWriter(conn)
}

// Caps returns the capabilities the server announced last.
func (c *Client) Caps() map[string]string { return c.caps }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// readCaps reads capability lines up to the OK.
func (c *Client) readCaps() error {
	lines, err := c.response()
	if err != nil {
		return err
	}
	c.caps = map[string]string{}
	for _, l := range lines {
		if len(l) > 0 {
			k := strings.ToUpper(l[0])
			c.caps[k] = ""
			if len(l) > 1 {
				c.caps[k] = l[1]
			}
		}
	}
	return nil
}

// response reads data lines up to the final OK, NO or BYE.
func (c *Client) response() ([][]string, error) {
	var lines [][]string
	for {
		line, err := c.r.readLine()
		if err != nil {
			return nil, err
		}
		var toks []token
		rest, lit, err := c.r.tokens(line, &toks)
		for err == nil && lit >= 0 {
			buf := make([]byte, lit)
			if _, err = io.ReadFull(c.r.br, buf); err != nil {
				return nil, err
			}
			toks = append(toks, token{s: string(buf), quoted: true})
			var more string
			if more, err = c.r.readLine(); err == nil {
				rest, lit, err = c.r.tokens(more, &toks)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("bad response %q: %w", line, err)
		}
		_ = rest
		if len(toks) > 0 && !toks[0].quoted {
			switch kind := strings.ToUpper(toks[0].s); kind {
			case "OK":
				return lines, nil
			case "NO", "BYE":
				r := &Response{Kind: kind}
				for _, t := range toks[1:] {
					if !t.quoted && strings.HasPrefix(t.s, "(") {
						r.Code = strings.Trim(t.s, "()")
					} else if t.quoted {
						r.Msg = t.s
					}
				}
				return lines, r
			}
		}
		var fields []string
		for _, t := range toks {
			fields = append(fields, t.s)
		}
		lines = append(lines, fields)
	}
}

// cmd sends a command line (arguments already rendered) and reads the
// answer.
func (c *Client) cmd(line string) ([][]string, error) {
	c.w.WriteString(line + "\r\n")
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	return c.response()
}

// literal renders s as a client literal (RFC 5804 §4, non-synchronizing).
func literal(s string) string { return fmt.Sprintf("{%d+}\r\n%s", len(s), s) }

// Login authenticates with SASL PLAIN (RFC 4616).
func (c *Client) Login(user, password string) error { return c.LoginAs("", user, password) }

// LoginAs authenticates with SASL PLAIN as user, acting for authz (an
// administrator's login for a user's scripts; "" for user's own).
func (c *Client) LoginAs(authz, user, password string) error {
	resp := base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + password))
	_, err := c.cmd(`AUTHENTICATE "PLAIN" ` + quote(resp))
	return err
}

// List returns the account's scripts and the active one's name.
func (c *Client) List() (names []string, active string, err error) {
	lines, err := c.cmd("LISTSCRIPTS")
	if err != nil {
		return nil, "", err
	}
	for _, l := range lines {
		if len(l) == 0 {
			continue
		}
		names = append(names, l[0])
		if len(l) > 1 && strings.EqualFold(l[1], "ACTIVE") {
			active = l[0]
		}
	}
	return names, active, nil
}

// Get returns a script's source.
func (c *Client) Get(name string) (string, error) {
	lines, err := c.cmd("GETSCRIPT " + quote(name))
	if err != nil {
		return "", err
	}
	if len(lines) != 1 || len(lines[0]) != 1 {
		return "", errors.New("GETSCRIPT: unexpected answer")
	}
	return lines[0][0], nil
}

// Put stores a script.
func (c *Client) Put(name, src string) error {
	_, err := c.cmd("PUTSCRIPT " + quote(name) + " " + literal(src))
	return err
}

// Check compiles a script without storing it.
func (c *Client) Check(src string) error {
	_, err := c.cmd("CHECKSCRIPT " + literal(src))
	return err
}

// Activate makes name the active script ("" deactivates).
func (c *Client) Activate(name string) error {
	_, err := c.cmd("SETACTIVE " + quote(name))
	return err
}

// Delete deletes a script.
func (c *Client) Delete(name string) error {
	_, err := c.cmd("DELETESCRIPT " + quote(name))
	return err
}

// Rename renames a script.
func (c *Client) Rename(old, name string) error {
	_, err := c.cmd("RENAMESCRIPT " + quote(old) + " " + quote(name))
	return err
}

// HaveSpace asks whether a script of size bytes may be stored as name.
func (c *Client) HaveSpace(name string, size int) error {
	_, err := c.cmd("HAVESPACE " + quote(name) + " " + strconv.Itoa(size))
	return err
}

// Logout ends the session.
func (c *Client) Logout() error {
	_, err := c.cmd("LOGOUT")
	c.conn.Close()
	return err
}
