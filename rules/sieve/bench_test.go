package sieve

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mailwarden/mailwarden/rules"
)

// BenchmarkEvaluate measures evaluations per second of a realistic
// 30-rule script on already parsed messages (the daemon's hot path).
func BenchmarkEvaluate(b *testing.B) {
	src, err := os.ReadFile("testdata/bench/filters.sieve")
	if err != nil {
		b.Fatal(err)
	}
	s, err := Compile("filters.sieve", src, nil)
	if err != nil {
		b.Fatal(err)
	}
	paths, _ := filepath.Glob("testdata/msgs/*.eml")
	var msgs []*rules.Message
	for _, p := range paths {
		msgs = append(msgs, loadTestMessage(b, p))
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var p rules.Plan
		if _, err := s.Apply(ctx, msgs[i%len(msgs)], &p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}

// BenchmarkCompile measures compiling the same script.
func BenchmarkCompile(b *testing.B) {
	src, err := os.ReadFile("testdata/bench/filters.sieve")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compile("filters.sieve", src, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateParallel runs the same evaluations on every core.
func BenchmarkEvaluateParallel(b *testing.B) {
	src, err := os.ReadFile("testdata/bench/filters.sieve")
	if err != nil {
		b.Fatal(err)
	}
	s, err := Compile("filters.sieve", src, nil)
	if err != nil {
		b.Fatal(err)
	}
	paths, _ := filepath.Glob("testdata/msgs/*.eml")
	var msgs []*rules.Message
	for _, p := range paths {
		msgs = append(msgs, loadTestMessage(b, p))
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			var p rules.Plan
			if _, err := s.Apply(context.Background(), msgs[i%len(msgs)], &p); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}
