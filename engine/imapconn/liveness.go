package imapconn

import (
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// Liveness. go-imap sets no read deadline between responses, so a server
// that stops answering (a hung process, a middlebox that still ACKs) would
// keep a command waiting for ever, and a peer that vanished is noticed only
// by TCP. Three guards, measured with internal/faultproxy:
//
//   - While a command is in flight (every call, and the wait for the end of
//     an IDLE after DONE), the server must send something at least every
//     ResponseTimeout; a watchdog closes the connection otherwise, and the
//     call fails with ErrStalled (temporary: the watcher reconnects). A big
//     FETCH that keeps streaming is never cut.
//   - TCP keepalive (KeepAlive idle, then probes every KeepAlive/2, 4 of
//     them) ends a connection whose peer vanished while nothing was sent
//     (IDLE): about 2.5 × KeepAlive.
//   - TCP_USER_TIMEOUT (Linux) makes data the peer never acknowledges fail
//     the connection after ResponseTimeout, instead of the ~15 minutes of
//     retransmissions (a DONE sent to a vanished peer).
//
// A stalled connection in IDLE is therefore noticed at the next IDLE
// refresh (the watcher's idle_refresh) plus ResponseTimeout at the latest.

// ErrStalled marks a command the server stopped answering: nothing came for
// Options.ResponseTimeout, and the connection was closed. Temporary.
var ErrStalled = errors.New("server stopped answering (no data within the response timeout)")

// activityConn records when data last arrived from the server.
type activityConn struct {
	net.Conn
	last atomic.Int64 // unix nanoseconds of the last successful read
}

func newActivityConn(c net.Conn) *activityConn {
	a := &activityConn{Conn: c}
	a.last.Store(time.Now().UnixNano())
	return a
}

func (a *activityConn) Read(p []byte) (int, error) {
	n, err := a.Conn.Read(p)
	if n > 0 {
		a.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// touch counts as data arriving: the caller finished with a message the
// server sent (FetchEach), so time spent on it is not the server's silence.
func (a *activityConn) touch() { a.last.Store(time.Now().UnixNano()) }

// lastRead is when data last arrived.
func (a *activityConn) lastRead() time.Time { return time.Unix(0, a.last.Load()) }

// watchdog closes the connection (through closeFn) when, while it runs,
// nothing arrives for timeout. stop ends it and reports whether it fired.
type watchdog struct {
	done    chan struct{}
	stopped chan struct{}
	fired   atomic.Bool
}

func startWatchdog(a *activityConn, timeout time.Duration, closeFn func()) *watchdog {
	w := &watchdog{done: make(chan struct{}), stopped: make(chan struct{})}
	start := time.Now()
	go func() {
		defer close(w.stopped)
		t := time.NewTimer(timeout)
		defer t.Stop()
		for {
			select {
			case <-w.done:
				return
			case now := <-t.C:
				since := a.lastRead()
				if since.Before(start) {
					since = start
				}
				if idle := now.Sub(since); idle >= timeout {
					w.fired.Store(true)
					closeFn()
					return
				} else {
					t.Reset(timeout - idle)
				}
			}
		}
	}()
	return w
}

// stop ends the watchdog and reports whether it closed the connection.
func (w *watchdog) stop() bool {
	close(w.done)
	<-w.stopped
	return w.fired.Load()
}

// userTimeout sets TCP_USER_TIMEOUT (Linux): unacknowledged data fails the
// connection after d. Elsewhere it does nothing.
func userTimeout(d time.Duration) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = setUserTimeout(int(fd), d) })
		if err != nil {
			return err
		}
		return serr
	}
}
