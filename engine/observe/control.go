package observe

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mailwarden/mailwarden/engine/undo"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// SocketName is the control socket's name inside state_dir.
const SocketName = "mailwarden.sock"

// SocketPath is where the daemon of stateDir listens for commands.
func SocketPath(stateDir string) string { return filepath.Join(stateDir, SocketName) }

// ListenSocket opens the control socket of stateDir (mode 0600: only the
// daemon's user may talk to it). A socket file left by a daemon that died
// is replaced; one a live daemon answers on is an error.
func ListenSocket(stateDir string) (net.Listener, error) {
	path := SocketPath(stateDir)
	if len(path) >= 104 { // sun_path is 108 bytes on Linux, 104 on BSDs
		return nil, fmt.Errorf("control socket %s: path longer than the %d bytes a unix socket allows (use a shorter state_dir)", path, 103)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another mailwarden is running on this state_dir", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	old := syscall.Umask(0o077)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

// Serve serves h on ln until ctx is done, then shuts down, waiting at most
// a few seconds for requests in flight.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	<-done
	return nil
}

// ErrNoDaemon is returned by Dial when no daemon runs on the state_dir.
var ErrNoDaemon = errors.New("no mailwarden daemon is running on this state_dir")

// Client talks to a running daemon over its control socket.
type Client struct {
	hc   *http.Client
	path string
}

// Dial returns a client of the daemon running on stateDir, or an error
// wrapping ErrNoDaemon when none answers there.
func Dial(stateDir string) (*Client, error) {
	path := SocketPath(stateDir)
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w (%s: %v)", ErrNoDaemon, path, err)
	}
	c.Close()
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
	return &Client{hc: hc, path: path}, nil
}

// Status asks the daemon for its status.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://mailwarden/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask the daemon (%s): %w", c.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("daemon answered %s", resp.Status)
	}
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("daemon's status: %w", err)
	}
	return &st, nil
}

// Handlers receive what a streamed call reports while it runs.
type Handlers struct {
	// Log gets each log line of the work (nil drops them).
	Log func(line string)
	// Progress gets progress reports (nil drops them).
	Progress func(jobs.Progress)
}

// RunJob asks the daemon to run a scheduled job now.
func (c *Client) RunJob(ctx context.Context, r JobRequest, h Handlers) (*jobs.Summary, error) {
	ev, err := c.call(ctx, "/jobs/run", r, h)
	if err != nil {
		return nil, err
	}
	return ev.Summary, errOf(ev)
}

// Apply asks the daemon to run a rule set over a mailbox.
func (c *Client) Apply(ctx context.Context, r ApplyRequest, h Handlers) (*jobs.Summary, error) {
	ev, err := c.call(ctx, "/apply", r, h)
	if err != nil {
		return nil, err
	}
	return ev.Summary, errOf(ev)
}

// Undo asks the daemon to undo.
func (c *Client) Undo(ctx context.Context, r UndoRequest, h Handlers) (*undo.Report, error) {
	ev, err := c.call(ctx, "/undo", r, h)
	if err != nil {
		return nil, err
	}
	return ev.Undo, errOf(ev)
}

// RemoteError is an error the daemon reported for the work it did.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return e.Msg }

func errOf(ev *Event) error {
	if ev.Error == "" {
		return nil
	}
	return &RemoteError{Msg: ev.Error}
}

// call posts body to path and reads the event stream to its end.
func (c *Client) call(ctx context.Context, path string, body any, h Handlers) (*Event, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://mailwarden"+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask the daemon (%s): %w", c.path, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return nil, ErrNotFound
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("daemon answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("daemon's answer: %w", err)
		}
		switch {
		case ev.Done:
			return &ev, nil
		case ev.Log != "" && h.Log != nil:
			h.Log(ev.Log)
		case ev.Progress != nil && h.Progress != nil:
			h.Progress(*ev.Progress)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("daemon's answer: %w", err)
	}
	return nil, errors.New("the daemon's answer ended before the result (did it stop?)")
}
