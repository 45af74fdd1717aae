package sieve

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Fuzz targets: never a panic, never a hang. Seeds are the corpus.

func corpusSeeds(f *testing.F) []string {
	files, _ := filepath.Glob("testdata/corpus/*.sieve")
	var out []string
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			out = append(out, string(b))
		}
	}
	return out
}

func FuzzLex(f *testing.F) {
	for _, s := range corpusSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		defer watchdog(5 * time.Second)()
		toks, _ := lexAll("f.sieve", src)
		if len(toks) == 0 || toks[len(toks)-1].kind != tEOF {
			t.Fatal("no EOF token")
		}
		prev := position{1, 1}
		for _, tk := range toks {
			if tk.pos.Line < prev.Line || (tk.pos.Line == prev.Line && tk.pos.Col < prev.Col) {
				t.Fatalf("position went back: %v after %v", tk.pos, prev)
			}
			prev = tk.pos
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range corpusSeeds(f) {
		f.Add(s)
	}
	opts := &Options{IncludePersonal: "testdata/include/personal", IncludeGlobal: "testdata/include/global"}
	f.Fuzz(func(t *testing.T, src string) {
		defer watchdog(5 * time.Second)()
		s, err := Compile("f.sieve", []byte(src), opts)
		if err == nil && s == nil {
			t.Fatal("nil script without error")
		}
		if err != nil {
			list, ok := err.(ErrorList)
			if !ok || len(list) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			for _, e := range list {
				if e.Line < 1 || e.Col < 1 {
					t.Fatalf("unlocated error %q", e)
				}
			}
		}
	})
}

func FuzzEval(f *testing.F) {
	msgs, _ := filepath.Glob("testdata/msgs/*.eml")
	var raw [][]byte
	for _, p := range msgs {
		b, _ := os.ReadFile(p)
		raw = append(raw, b)
	}
	for i, s := range corpusSeeds(f) {
		f.Add(s, raw[i%len(raw)])
	}
	opts := &Options{IncludePersonal: "testdata/include/personal", IncludeGlobal: "testdata/include/global", Duplicates: NewMemoryDuplicateStore()}
	f.Fuzz(func(t *testing.T, src string, msg []byte) {
		defer watchdog(10 * time.Second)()
		s, err := Compile("f.sieve", []byte(src), opts)
		if err != nil {
			return
		}
		m := parseTestMessage(msg)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		res, err := s.Execute(ctx, m)
		if res == nil {
			t.Fatalf("nil result (err %v)", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("evaluation took %v", d)
		}
		p := res.Plan(m, "f.sieve")
		if p.Remove && len(p.Deliveries) == 0 {
			t.Fatal("plan removes the original without a delivery")
		}
	})
}

// watchdog crashes the fuzz worker when one input runs longer than d, so
// that the fuzzer records the input as a failure instead of stalling.
func watchdog(d time.Duration) (stop func()) {
	timer := time.AfterFunc(d, func() { panic("fuzz input ran longer than " + d.String()) })
	return func() { timer.Stop() }
}
