package imapconn

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
)

// FuzzTracerNeverLeaks: whatever the password and however the writes are
// chunked, neither it nor its SASL encoding reaches the trace.
func FuzzTracerNeverLeaks(f *testing.F) {
	f.Add("pass", uint8(3), uint8(200))
	f.Add(`a "quoted\ secret`, uint8(1), uint8(7))
	f.Add("ünïcödé-secret", uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, secret string, cut1, cut2 uint8) {
		if len(secret) < 4 || strings.ContainsAny(secret, "\r\n") {
			return
		}
		ir := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + secret))
		stream := "T1 LOGIN alice \"" + secret + "\"\r\n" +
			"T2 LOGIN alice {" + strconv.Itoa(len(secret)) + "}\r\n" + secret + "\r\n" +
			"T3 AUTHENTICATE PLAIN " + ir + "\r\n" +
			"T4 AUTHENTICATE PLAIN\r\n" + ir + "\r\n" +
			"T5 NOOP\r\n"
		server := []string{"T1 OK\r\n", "+ \r\n", "T2 OK\r\n", "T3 OK\r\n", "+ \r\n", "T4 OK\r\n", "T5 OK\r\n"}
		var buf bytes.Buffer
		tr := &tracer{w: &buf}
		b := []byte(stream)
		c1, c2 := int(cut1)%len(b), int(cut2)%len(b)
		if c1 > c2 {
			c1, c2 = c2, c1
		}
		// Interleave server lines between client chunks, as a worst case
		// for the ordering: the client side is always traced first.
		tr.client(b[:c1])
		tr.server([]byte(server[0]))
		tr.client(b[c1:c2])
		for _, s := range server[1:] {
			tr.server([]byte(s))
		}
		tr.client(b[c2:])
		out := buf.String()
		if strings.Contains(out, secret) || strings.Contains(out, ir) {
			t.Fatalf("trace leaks the secret:\n%s", out)
		}
		if !strings.Contains(out, "C: T5 NOOP") {
			t.Fatalf("trace lost the NOOP after authentication:\n%s", out)
		}
	})
}
