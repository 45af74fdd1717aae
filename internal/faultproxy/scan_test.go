package faultproxy

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// clientStream is what go-imap and other clients send, with the traps:
// literals (synchronising and LITERAL+) whose content looks like
// commands, IDLE/DONE, a SASL exchange, lower-case verbs.
const clientStream = "a1 CAPABILITY\r\n" +
	"a2 LOGIN {4}\r\nuser {4}\r\npass\r\n" +
	"a3 select INBOX\r\n" +
	"a4 APPEND INBOX (\\Seen) {35+}\r\nSubject: x\r\n\r\na9 UID MOVE 1 Trash\r\n\r\n" +
	"a5 IDLE\r\nDONE\r\n" +
	"a6 UID FETCH 1:* (UID FLAGS BODY.PEEK[])\r\n" +
	"a7 UID MOVE 1,3:5 \"Archive\"\r\n" +
	"a8 uid store 2 +FLAGS.SILENT (\\Flagged)\r\n" +
	"a10 AUTHENTICATE PLAIN\r\nAHVzZXIAcGFzcw==\r\n" +
	"a11 UID EXPUNGE 7\r\n" +
	"a12 NOOP\r\n"

var clientWant = []Command{
	{"a1", "CAPABILITY", 1}, {"a2", "LOGIN", 2}, {"a3", "SELECT", 3}, {"a4", "APPEND", 4},
	{"a5", "IDLE", 5}, {"a5", "DONE", 6}, {"a6", "UID FETCH", 7}, {"a7", "UID MOVE", 8},
	{"a8", "UID STORE", 9}, {"a10", "AUTHENTICATE", 10}, {"a11", "UID EXPUNGE", 11}, {"a12", "NOOP", 12},
}

// scanClient feeds stream in the given chunk sizes (cycled) and returns
// the commands and the bytes passed on.
func scanClient(stream []byte, sizes []int) ([]Command, []byte) {
	var sc cmdScanner
	var cmds []Command
	var out []byte
	for i := 0; len(stream) > 0; i++ {
		n := len(stream)
		if len(sizes) > 0 {
			n = min(n, max(1, sizes[i%len(sizes)]))
		}
		for _, pc := range sc.feed(stream[:n]) {
			if pc.cmd != nil {
				cmds = append(cmds, *pc.cmd)
			}
			out = append(out, pc.data...)
		}
		stream = stream[n:]
	}
	return cmds, out
}

func TestCommandScanner(t *testing.T) {
	for _, sizes := range [][]int{nil, {1}, {2}, {3, 7}, {5, 1, 13}, {64}, {1000}} {
		cmds, out := scanClient([]byte(clientStream), sizes)
		if !reflect.DeepEqual(cmds, clientWant) {
			t.Errorf("chunks %v: commands\n%v\nwant\n%v", sizes, cmds, clientWant)
		}
		if string(out) != clientStream {
			t.Errorf("chunks %v: bytes changed:\n%q", sizes, out)
		}
	}
}

// The first bytes of a command are held until its verb is known, and no
// longer: a command line cut after "a1 UID" is not passed on yet.
func TestCommandScannerHoldsUntilVerb(t *testing.T) {
	var sc cmdScanner
	if got := sc.feed([]byte("a1 UID")); len(got) != 0 {
		t.Fatalf("passed on %q before the verb was known", got[0].data)
	}
	if got := sc.feed([]byte(" MO")); len(got) != 0 {
		t.Fatalf("passed on %q before the verb was complete", got[0].data)
	}
	got := sc.feed([]byte("VE 1 Trash\r\na2 NOOP\r\n"))
	if len(got) != 2 || got[0].cmd == nil || got[0].cmd.Name != "UID MOVE" || string(got[0].data) != "a1 UID MOVE 1 Trash\r\n" ||
		got[1].cmd == nil || got[1].cmd.Name != "NOOP" {
		for _, pc := range got {
			t.Logf("piece %q %+v", pc.data, pc.cmd)
		}
		t.Fatal("wrong pieces")
	}
	// A very long first word is not held for ever.
	long := bytes.Repeat([]byte("x"), maxHold+10)
	if got := sc.feed(long); len(got) != 1 || got[0].cmd != nil || len(got[0].data) != len(long) {
		t.Fatalf("long junk: %d pieces", len(got))
	}
}

func TestLiteralSize(t *testing.T) {
	for in, want := range map[string]int64{
		"a {5}\r\n": 5, "a {5+}\r\n": 5, "a {5-}\n": 5, "a ~{12}\r\n": 12, "{0}\r\n": 0,
		"a {}\r\n": -1, "a {x}\r\n": -1, "a 5}\r\n": -1, "a {5} \r\n": -1, "}\r\n": -1,
		"a {12345678901234567890}\r\n": -1,
	} {
		n, ok := literalSize([]byte(in))
		if !ok {
			n = -1
		}
		if n != want {
			t.Errorf("literalSize(%q) = %d, want %d", in, n, want)
		}
	}
}

const serverStream = "* OK IMAP4rev1 ready\r\n" +
	"A1 OK [CAPABILITY IMAP4rev1 IDLE] done\r\n" +
	"+ idling\r\n" +
	"* 3 EXISTS\r\n" +
	"* 1 FETCH (UID 5 BODY[] {24}\r\nA2 OK fake\r\nA2 NO fake\r\n)\r\n" +
	"A2 OK FETCH completed\r\n" +
	"* BYE going away\r\n" +
	"A3 bad command\r\n"

func TestResponseScanner(t *testing.T) {
	type end struct {
		pos         int
		tag, status string
	}
	var want []end
	pos := 0
	for _, l := range []struct{ line, tag, status string }{
		{"* OK IMAP4rev1 ready\r\n", "", ""},
		{"A1 OK [CAPABILITY IMAP4rev1 IDLE] done\r\n", "A1", "OK"},
		{"+ idling\r\n", "", ""},
		{"* 3 EXISTS\r\n", "", ""},
		{"* 1 FETCH (UID 5 BODY[] {24}\r\nA2 OK fake\r\nA2 NO fake\r\n)\r\n", "", ""},
		{"A2 OK FETCH completed\r\n", "A2", "OK"},
		{"* BYE going away\r\n", "", "BYE"},
		{"A3 bad command\r\n", "A3", "BAD"},
	} {
		pos += len(l.line)
		want = append(want, end{pos, l.tag, l.status})
	}
	for _, size := range []int{1, 2, 5, 17, 1000} {
		var sc respScanner
		var got []end
		for off := 0; off < len(serverStream); off += size {
			chunk := serverStream[off:min(off+size, len(serverStream))]
			ends, _ := sc.feed([]byte(chunk))
			for _, e := range ends {
				got = append(got, end{off + e.pos, e.tag, e.status})
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("chunk %d:\n got %v\nwant %v", size, got, want)
		}
	}
}

// Split invariance: however the stream is cut into reads, the scanners
// see the same commands and line ends and pass on the same bytes.
func FuzzScanners(f *testing.F) {
	f.Add([]byte(clientStream), uint64(1))
	f.Add([]byte(serverStream), uint64(2))
	f.Add([]byte("a1 APPEND x {3}\r\nabc {2}\r\nxy\r\nDONE\r\n"), uint64(3))
	f.Add([]byte("a1 IDLE\nDONE\na2 UID\r\n{999999999999}\r\n"), uint64(4))
	f.Fuzz(func(t *testing.T, stream []byte, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 0))
		sizes := make([]int, 1+rng.IntN(8))
		for i := range sizes {
			sizes[i] = 1 + rng.IntN(40)
		}
		whole, wholeOut := scanClient(stream, nil)
		cut, cutOut := scanClient(stream, sizes)
		if !reflect.DeepEqual(whole, cut) {
			t.Fatalf("commands differ with chunks %v:\n%v\n%v", sizes, whole, cut)
		}
		// Only a trailing unclassified line may be held back.
		if !bytes.HasPrefix(stream, wholeOut) || !bytes.Equal(wholeOut, cutOut) {
			t.Fatalf("bytes passed on differ: %q vs %q", wholeOut, cutOut)
		}
		if rest := stream[len(wholeOut):]; len(rest) >= maxHold || bytes.IndexByte(rest, '\n') >= 0 {
			t.Fatalf("held back %d bytes (%q)", len(rest), rest)
		}
		for _, c := range whole {
			if c.Name == "" || strings.ContainsAny(c.Name, "\r\n") || strings.ContainsAny(c.Tag, " \r\n") {
				t.Fatalf("bad command %+v", c)
			}
		}
		endsOf := func(sizes []int) string {
			var sc respScanner
			var b strings.Builder
			off := 0
			for i := 0; off < len(stream); i++ {
				n := len(stream) - off
				if len(sizes) > 0 {
					n = min(n, sizes[i%len(sizes)])
				}
				ends, _ := sc.feed(stream[off : off+n])
				for _, e := range ends {
					fmt.Fprintf(&b, "%d %s %s|", off+e.pos, e.tag, e.status)
				}
				off += n
			}
			return b.String()
		}
		if a, b := endsOf(nil), endsOf(sizes); a != b {
			t.Fatalf("line ends differ with chunks %v:\n%s\n%s", sizes, a, b)
		}
	})
}
