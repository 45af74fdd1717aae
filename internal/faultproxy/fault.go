package faultproxy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is what a fault does to a connection.
type Kind int

const (
	// Reset aborts both sides with a TCP RST (SO_LINGER 0): the client
	// reads ECONNRESET, the server loses the connection.
	Reset Kind = iota + 1
	// Stall stops forwarding in both directions and keeps both sockets
	// open: no FIN, no RST, and the proxy's kernel still ACKs what the
	// client sends and answers its keepalive probes. The client must
	// notice by itself, with its own deadline. Fault.Duration 0 stalls
	// until the connection is closed; then everything received meanwhile
	// is discarded, so the client's writes never block.
	Stall
	// Truncate forwards what came before the fault point, then closes the
	// client side gracefully (FIN: the client reads EOF mid-response) and
	// the server side at once.
	Truncate
	// Drip forwards server→client bytes Fault.Chunk at a time, one chunk
	// per Fault.Interval.
	Drip
	// Delay pauses forwarding in one direction for Fault.Duration: the
	// client→server direction when the fault fires OnCommand, else the
	// server→client direction.
	Delay
)

// Kinds lists every fault kind.
var Kinds = []Kind{Reset, Stall, Truncate, Drip, Delay}

func (k Kind) String() string {
	switch k {
	case Reset:
		return "reset"
	case Stall:
		return "stall"
	case Truncate:
		return "truncate"
	case Drip:
		return "drip"
	case Delay:
		return "delay"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Phase says where, relative to its command, a protocol-aware fault fires.
type Phase int

const (
	// OnCommand fires when the client's command is recognised, before any
	// byte of it reaches the server: the server never sees the command
	// (unless the fault lets it through later, as Delay does).
	OnCommand Phase = iota
	// AfterCommand fires right after the command's first line was
	// forwarded, before the server answered: the server may or may not
	// have read and executed it.
	AfterCommand
	// InResponse fires inside the server's response to the command (all
	// the server sends from the command until its tagged completion),
	// after Fault.Offset bytes of it were forwarded, and in any case
	// before the first byte of the tagged completion: the client never
	// learns the command's outcome from this connection.
	InResponse
)

func (p Phase) String() string {
	switch p {
	case OnCommand:
		return "on-command"
	case AfterCommand:
		return "after-command"
	case InResponse:
		return "in-response"
	}
	return "Phase(" + strconv.Itoa(int(p)) + ")"
}

// Special Fault.Offset values for InResponse.
const (
	// AtEnd fires just before the tagged completion: the client has all
	// the untagged data but not the final OK. (Cutting inside the tagged
	// line is not enough: go-imap completes a command as soon as it has
	// read "tag OK text", before the CRLF.)
	AtEnd = -1
	// AtRandom draws the offset from the connection's seeded RNG: with
	// equal chances before the first byte, within the first 64 bytes,
	// within the first 64 KiB, or AtEnd.
	AtRandom = -2
)

// Fault describes one fault and its trigger. The trigger is one of:
//
//   - On (protocol-aware, plaintext IMAP only): the next client command
//     whose Name equals On (case-insensitive; "*" matches any command),
//     with When and Offset saying where relative to the command;
//   - ServerBytes: the first connection whose server→client byte count
//     reaches ServerBytes (works on TLS or any opaque bytes);
//   - neither: the next connection accepted.
//
// After delays the fault by that long once its trigger is reached
// (forwarding goes on normally meanwhile): "stall 100 ms into the IDLE".
type Fault struct {
	Kind Kind

	// On is the command name: "IDLE", "DONE", "FETCH", "UID FETCH",
	// "UID MOVE", "UID COPY", "UID STORE", "UID EXPUNGE", "SELECT",
	// "LOGIN", ... or "*".
	On     string
	When   Phase
	Offset int // InResponse: response bytes forwarded before the fault; AtEnd; AtRandom

	ServerBytes int64

	After time.Duration

	// Duration: for Stall, how long it lasts (0: until the connection is
	// closed); for Drip, how long it lasts (0: until the end of the
	// command's response for protocol triggers, else for good); for
	// Delay, the pause (0: 1 s).
	Duration time.Duration
	// Chunk and Interval pace a Drip: Chunk bytes (default 4) every
	// Interval (default 5 ms).
	Chunk    int
	Interval time.Duration
}

func (f Fault) String() string {
	var b strings.Builder
	b.WriteString(f.Kind.String())
	switch {
	case f.On != "":
		fmt.Fprintf(&b, " %s %s", f.When, f.On)
		if f.When == InResponse {
			switch f.Offset {
			case AtEnd:
				b.WriteString(" at end")
			case AtRandom:
				b.WriteString(" at random")
			default:
				fmt.Fprintf(&b, " at byte %d", f.Offset)
			}
		}
	case f.ServerBytes > 0:
		fmt.Fprintf(&b, " at server byte %d", f.ServerBytes)
	}
	if f.After > 0 {
		fmt.Fprintf(&b, " after %v", f.After)
	}
	if f.Duration > 0 {
		fmt.Fprintf(&b, " for %v", f.Duration)
	}
	if f.Kind == Drip {
		fmt.Fprintf(&b, " %d bytes/%v", f.Chunk, f.Interval)
	}
	return b.String()
}

func (f Fault) validate(opaque bool) error {
	switch {
	case !slices.Contains(Kinds, f.Kind):
		return fmt.Errorf("faultproxy: unknown fault kind %d", int(f.Kind))
	case f.On != "" && f.ServerBytes > 0:
		return errors.New("faultproxy: a fault has one trigger: On or ServerBytes, not both")
	case f.On != "" && opaque:
		return errors.New("faultproxy: On needs plaintext IMAP; this proxy is Opaque (use ServerBytes or After)")
	case f.When < OnCommand || f.When > InResponse:
		return fmt.Errorf("faultproxy: unknown phase %d", int(f.When))
	case f.Offset < AtRandom:
		return fmt.Errorf("faultproxy: bad offset %d", f.Offset)
	case f.After < 0 || f.Duration < 0 || f.Interval < 0 || f.Chunk < 0 || f.ServerBytes < 0:
		return errors.New("faultproxy: negative duration, interval, chunk or byte count")
	}
	return nil
}

// withDefaults fills Drip and Delay parameters and draws a random offset.
func (f Fault) withDefaults(rng *rand.Rand) Fault {
	if f.Kind == Drip {
		if f.Chunk <= 0 {
			f.Chunk = 4
		}
		if f.Interval <= 0 {
			f.Interval = 5 * time.Millisecond
		}
	}
	if f.Kind == Delay && f.Duration <= 0 {
		f.Duration = time.Second
	}
	if f.When == InResponse && f.Offset == AtRandom && rng != nil {
		switch rng.IntN(4) {
		case 0:
			f.Offset = 0
		case 1:
			f.Offset = 1 + rng.IntN(63)
		case 2:
			f.Offset = 64 + rng.IntN(64<<10-64)
		default:
			f.Offset = AtEnd
		}
	}
	return f
}

// DefaultRandomCommands are the commands Random faults target by default:
// the ones a watcher and the actions executor send.
var DefaultRandomCommands = []string{
	"IDLE", "DONE", "FETCH", "UID FETCH", "MOVE", "UID MOVE", "COPY", "UID COPY",
	"STORE", "UID STORE", "EXPUNGE", "UID EXPUNGE", "UID SEARCH", "SELECT", "NOOP",
}

// Random configures random faults. Every draw comes from a per-connection
// RNG seeded from Options.Seed and the connection's number, and all draws
// for a command happen when the command is seen: the same seed and the
// same command sequence on a connection give the same faults.
type Random struct {
	// Probability is the chance that a command (or, Opaque, a
	// server→client read) gets a fault. 0 disables random faults.
	Probability float64
	// Commands are the command names that may get a fault. Default
	// DefaultRandomCommands.
	Commands []string
	// Kinds are the kinds drawn from, uniformly. Default Kinds.
	Kinds []Kind
	// StallFor is how long a random Stall lasts; 0 means until the
	// connection is closed: the client must notice by itself, which
	// engine/watch does not do yet (TestWatcherRecoversFromStall), so a
	// soak with forever-stalls hangs watchers until that is fixed.
	StallFor time.Duration
	// MaxDelay bounds a random Delay (uniform in 1 ms..MaxDelay).
	// Default 200 ms.
	MaxDelay time.Duration
}

// draw builds a random fault for cmd (protocol mode) or for an opaque
// chunk (cmd nil).
func (r *Random) draw(rng *rand.Rand, cmd *Command) Fault {
	kinds := r.Kinds
	if len(kinds) == 0 {
		kinds = Kinds
	}
	f := Fault{Kind: kinds[rng.IntN(len(kinds))]}
	if cmd != nil {
		f.On = cmd.Name
		f.When = Phase(rng.IntN(3))
		if f.When == InResponse {
			f.Offset = AtRandom
		}
	}
	switch f.Kind {
	case Stall:
		f.Duration = r.StallFor
	case Delay:
		maxDelay := r.MaxDelay
		if maxDelay <= 0 {
			maxDelay = 200 * time.Millisecond
		}
		f.Duration = time.Millisecond + time.Duration(rng.Int64N(int64(max(maxDelay-time.Millisecond, 1))))
	case Drip:
		f.Chunk = 1 + rng.IntN(64)
		f.Interval = time.Millisecond * time.Duration(1+rng.IntN(5))
	}
	return f.withDefaults(rng)
}

func (r *Random) matches(name string) bool {
	cmds := r.Commands
	if cmds == nil {
		cmds = DefaultRandomCommands
	}
	for _, c := range cmds {
		if c == "*" || strings.EqualFold(c, name) {
			return true
		}
	}
	return false
}

// Event is one injected fault, as reported to Options.OnFault and by
// Proxy.Events.
type Event struct {
	Conn    int     // connection number, from 1 in accept order
	Fault   Fault   // with defaults filled and a random offset drawn
	Command Command // the triggering command; zero for byte, time and InjectAll triggers
	Random  bool    // chosen by random mode
	Time    time.Time
}

func (e Event) String() string {
	s := fmt.Sprintf("conn %d: %s", e.Conn, e.Fault)
	if e.Command.Name != "" {
		s += fmt.Sprintf(" (%s %s, command %d)", e.Command.Tag, e.Command.Name, e.Command.Seq)
	}
	if e.Random {
		s += " [random]"
	}
	return s
}

// Key counts faults by kind and command ("" for faults without one).
type Key struct {
	Kind    Kind
	Command string
}

// Stats are the proxy's counters.
type Stats struct {
	Accepted int // connections accepted
	Active   int // connections open now
	Commands int // client commands recognised
	Faults   map[Key]int
}

// Total is the number of faults injected.
func (s Stats) Total() int {
	n := 0
	for _, v := range s.Faults {
		n += v
	}
	return n
}

// ByKind is the number of faults of kind k.
func (s Stats) ByKind(k Kind) int {
	n := 0
	for key, v := range s.Faults {
		if key.Kind == k {
			n += v
		}
	}
	return n
}

// ByCommand is the number of faults triggered by command name (upper
// case, "UID MOVE"); "" counts those without a command.
func (s Stats) ByCommand(name string) int {
	n := 0
	for key, v := range s.Faults {
		if key.Command == name {
			n += v
		}
	}
	return n
}
