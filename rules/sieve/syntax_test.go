package sieve

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Golden tests for the lexer and the parser: testdata/syntax/NAME.sieve
// → NAME.tokens and NAME.tree (go test -run 'TestLexGolden|TestParseGolden' -update).

func dumpTokens(src string) string {
	toks, errs := lexAll("t.sieve", src)
	var b strings.Builder
	for _, t := range toks {
		fmt.Fprintf(&b, "%d:%d %s", t.pos.Line, t.pos.Col, t.kind)
		switch t.kind {
		case tIdent, tTag:
			fmt.Fprintf(&b, " %s", t.text)
		case tString:
			fmt.Fprintf(&b, " %q", t.text)
		case tNumber:
			fmt.Fprintf(&b, " %d", t.num)
		}
		b.WriteByte('\n')
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	return b.String()
}

func dumpTree(src string) string {
	var errs ErrorList
	nodes := parse("t.sieve", src, DefaultMaxNesting, &errs)
	var b strings.Builder
	var walk func(n *node, depth int)
	walk = func(n *node, depth int) {
		ind := strings.Repeat("  ", depth)
		fmt.Fprintf(&b, "%s%s @%d:%d", ind, n.name, n.pos.Line, n.pos.Col)
		for _, a := range n.args {
			switch a.kind {
			case aTag:
				fmt.Fprintf(&b, " :%s", a.tag)
			case aNumber:
				fmt.Fprintf(&b, " %d", a.num)
			case aString:
				fmt.Fprintf(&b, " %q", a.strs[0])
			default:
				fmt.Fprintf(&b, " %q", a.strs)
			}
		}
		if n.testList {
			b.WriteString(" (list)")
		}
		b.WriteByte('\n')
		for _, t := range n.tests {
			walk(t, depth+2)
		}
		if n.hasBlock {
			fmt.Fprintf(&b, "%s{\n", ind)
			for _, c := range n.block {
				walk(c, depth+1)
			}
			fmt.Fprintf(&b, "%s}\n", ind)
		}
	}
	for _, n := range nodes {
		walk(n, 0)
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "error: %s\n", e)
	}
	return b.String()
}

func goldenCompare(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func syntaxFiles(t *testing.T) []string {
	files, _ := filepath.Glob("testdata/syntax/*.sieve")
	if len(files) == 0 {
		t.Fatal("no syntax test files")
	}
	return files
}

func TestLexGolden(t *testing.T) {
	for _, f := range syntaxFiles(t) {
		src, _ := os.ReadFile(f)
		goldenCompare(t, strings.TrimSuffix(f, ".sieve")+".tokens", dumpTokens(string(src)))
	}
}

func TestParseGolden(t *testing.T) {
	for _, f := range syntaxFiles(t) {
		src, _ := os.ReadFile(f)
		goldenCompare(t, strings.TrimSuffix(f, ".sieve")+".tree", dumpTree(string(src)))
	}
}

func TestLexer(t *testing.T) {
	tests := []struct{ src, want string }{
		{`"a\"b\\c\q"`, `1:1 string "a\"b\\cq"`},
		{"text:\r\nx\r\n..y\r\n.\r\n", `1:1 string "x\r\n.y\r\n"`},
		// RFC 5228 §8.1: only a leading ".." loses a dot; lines end in
		// CRLF, in multi-line and quoted strings alike (as Pigeonhole).
		{"text:\n.x\n..y\n...z\n.\n", `1:1 string ".x\r\n.y\r\n..z\r\n"`},
		{"\"a\nb\r\nc\"", `1:1 string "a\r\nb\r\nc"`},
		{"10K 2m 3G 0", "1:1 number 10240\n1:5 number 2097152\n1:8 number 3221225472\n1:11 number 0"},
		{":Is", "1:1 tag is"},
		{"/* a */ # b\nkeep", "2:1 identifier keep"},
	}
	for _, tt := range tests {
		got := strings.TrimSuffix(dumpTokens(tt.src), "\n")
		got = strings.TrimSuffix(got, fmt.Sprintf("\n%s", lastLine(got)))
		if got != tt.want {
			t.Errorf("lex %q:\n got %q\nwant %q", tt.src, got, tt.want)
		}
	}
}

// lastLine returns the EOF token line of a dump.
func lastLine(s string) string {
	i := strings.LastIndexByte(s, '\n')
	return s[i+1:]
}

func TestLexErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`"abc`, `t.sieve:1:1: unterminated string (hint: close it with a double quote)`},
		{"/* x", `t.sieve:1:1: unterminated comment (hint: close it with "*/")`},
		{"99999999999999999999", `t.sieve:1:1: number 99999999999999999999 is too large`},
		{"12Q", `t.sieve:1:1: invalid number "12Q" (hint: numbers may only carry the quantifiers K, M or G)`},
		{"text: x\n.\n", `t.sieve:1:1: invalid multi-line string (hint: nothing but a comment may follow "text:" on its line)`},
		{"text:\nabc\n", `t.sieve:1:1: unterminated multi-line string (hint: end a multi-line string with a line holding only ".")`},
		{"@", `t.sieve:1:1: unexpected character "@"`},
		{": x", `t.sieve:1:1: invalid tag (hint: a tag is ":" followed by a name, e.g. ":is")`},
	}
	for _, tt := range tests {
		_, errs := lexAll("t.sieve", tt.src)
		if len(errs) == 0 || errs[0].Error() != tt.want {
			t.Errorf("lex %q: got %v, want %s", tt.src, errs, tt.want)
		}
	}
}
