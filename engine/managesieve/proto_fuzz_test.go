package managesieve

import (
	"bufio"
	"strings"
	"testing"
)

// FuzzReadCommand: the command reader never panics, never returns more
// than its limits allow, and a command it accepts survives being written
// back with quote and read again.
func FuzzReadCommand(f *testing.F) {
	for _, s := range []string{
		"LISTSCRIPTS\r\n",
		"PUTSCRIPT \"a\" {5+}\r\nkeep;\r\n",
		"PUTSCRIPT {1}\r\na {0+}\r\n\r\n",
		"AUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\n",
		"NOOP \"t\\\"a\\\\g\"\r\n",
		"HAVESPACE \"x\" 99999999999999999999\r\n",
		"X {99999999999+}\r\n",
		"\"quoted\" first\r\n",
		"A \"unterminated\r\n",
		"B {3}\r\nab",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := &reader{br: bufio.NewReader(strings.NewReader(in)), maxLine: 1 << 10, maxLiteral: 1 << 10}
		name, args, err := r.readCommand()
		if err != nil {
			return
		}
		var b strings.Builder
		b.WriteString(name)
		for _, a := range args {
			if a.over {
				return // dropped: nothing to write back
			}
			if len(a.s) > 1<<10 && !a.quoted {
				t.Fatalf("an atom of %d bytes passed a 1 KiB line limit", len(a.s))
			}
			b.WriteString(" ")
			if a.quoted {
				b.WriteString(quote(a.s))
			} else {
				b.WriteString(a.s)
			}
		}
		b.WriteString("\r\n")
		r2 := &reader{br: bufio.NewReader(strings.NewReader(b.String())), maxLine: 1 << 20, maxLiteral: 1 << 20}
		name2, args2, err := r2.readCommand()
		if err != nil || name2 != name || len(args2) != len(args) {
			t.Fatalf("%q read back from %q as %q %v (%v)", in, b.String(), name2, args2, err)
		}
		for i := range args {
			if args2[i].s != args[i].s {
				t.Fatalf("argument %d: %q became %q", i, args[i].s, args2[i].s)
			}
		}
	})
}
