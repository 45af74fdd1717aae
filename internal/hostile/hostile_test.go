package hostile

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"
	"testing"
)

func digest(msgs []Message) [32]byte {
	h := sha256.New()
	for _, m := range msgs {
		m.WriteTo(h)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func TestDeterministic(t *testing.T) {
	a := Generate(&Options{N: 40, Seed: 3})
	b := Generate(&Options{N: 40, Seed: 3})
	if digest(a) != digest(b) {
		t.Fatal("same seed, different corpus")
	}
	// Any order, any number of times.
	if !bytes.Equal(a[21].Bytes(), b[21].Bytes()) || !bytes.Equal(a[21].Bytes(), a[21].Bytes()) {
		t.Fatal("Bytes not repeatable")
	}
	if digest(a) == digest(Generate(&Options{N: 40, Seed: 4})) {
		t.Fatal("seeds 3 and 4 gave the same corpus")
	}
	if n := len(Generate(nil)); n != DefaultN {
		t.Errorf("default N = %d", n)
	}
}

// longestLine is the longest LF-terminated line (a folded header field
// counts as one logical line).
func longestHeaderField(raw []byte) int {
	hdr, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	longest, cur := 0, 0
	for _, line := range bytes.Split(hdr, []byte("\r\n")) {
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			cur += len(line)
		} else {
			cur = len(line)
		}
		longest = max(longest, cur)
	}
	return longest
}

// Every hostile property the issue lists is really in the corpus.
func TestCoverage(t *testing.T) {
	msgs := Generate(&Options{N: 2 * len(Kinds) * 6, Seed: 1})
	var (
		kinds                              = map[string]int{}
		maxLine, maxFields, maxDepth, nuls int
		maxSize                            int
	)
	for _, m := range msgs {
		raw := m.Bytes()
		kinds[m.Kind]++
		maxLine = max(maxLine, longestHeaderField(raw))
		hdr, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
		maxFields = max(maxFields, bytes.Count(hdr, []byte("\r\n")))
		maxDepth = max(maxDepth, bytes.Count(raw, []byte("Content-Type: multipart/")))
		if bytes.IndexByte(raw, 0) >= 0 {
			nuls++
		}
		if m.ID != "" && !bytes.Contains(raw, []byte("<"+m.ID+">")) && m.Kind != "mutated" {
			t.Errorf("message %d (%s) lacks its Message-ID", m.Index, m.Kind)
		}
		maxSize = max(maxSize, len(raw))
	}
	for _, k := range append([]string{"mutated"}, Kinds...) {
		if kinds[k] == 0 {
			t.Errorf("kind %s missing", k)
		}
	}
	if maxLine < 1<<20 {
		t.Errorf("longest header field %d bytes, want ≥ 1 MiB", maxLine)
	}
	if maxFields < 10000 {
		t.Errorf("most header fields %d, want ≥ 10,000", maxFields)
	}
	if maxDepth < 1000 {
		t.Errorf("deepest multipart nesting %d, want ≥ 1000", maxDepth)
	}
	if nuls == 0 {
		t.Error("no message with NULs")
	}
	if maxSize > 4<<20 {
		t.Errorf("largest message %d bytes; only the huge one may exceed 4 MiB", maxSize)
	}
	t.Logf("%d messages: longest header field %d, most fields %d, deepest nesting %d, %d with NULs, largest %d bytes",
		len(msgs), maxLine, maxFields, maxDepth, nuls, maxSize)
}

// The huge message streams: its size is the attachment's base64 plus a
// small envelope, and the attachment decodes to HugeSize bytes.
func TestHugeStreams(t *testing.T) {
	const size = 3<<20 + 17 // not a multiple of the chunk or line size
	msgs := Generate(&Options{N: 2, Huge: true, HugeSize: size})
	h := msgs[len(msgs)-1]
	if h.Kind != "huge-attachment" || h.Index != 2 {
		t.Fatalf("last message %+v", h)
	}
	n, err := h.WriteTo(io.Discard)
	if err != nil || n < size*4/3 || n > size*4/3+size/28+4096 {
		t.Fatalf("WriteTo: %d bytes, %v", n, err)
	}
	raw := h.Bytes()
	if int64(len(raw)) != n {
		t.Fatalf("Bytes %d, WriteTo %d", len(raw), n)
	}
	_, body, _ := bytes.Cut(raw, []byte("Content-Transfer-Encoding: base64\r\n\r\n"))
	body, _, _ = bytes.Cut(body, []byte("--huge-boundary--"))
	dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", ""))
	if err != nil || len(dec) != size {
		t.Fatalf("attachment decodes to %d bytes, %v", len(dec), err)
	}
}
