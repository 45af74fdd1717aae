package sieve

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A mailbox name that is not UTF-8 is a runtime error: the message is
// kept (RFC 5228 §2.10.6), as in Pigeonhole.
func TestFileintoInvalidName(t *testing.T) {
	for _, src := range []string{
		"require [\"fileinto\", \"variables\", \"encoded-character\"];\nset \"m\" \"${hex:ff}rop\";\nfileinto \"${m}\";",
		"require [\"fileinto\", \"variables\", \"encoded-character\"];\nset \"m\" \"a${hex:c3}\";\nfileinto \"${m}\";",
	} {
		s := mustCompile(t, src, nil)
		res, err := s.Execute(context.Background(), testMsg())
		var re *RuntimeError
		if !errors.As(err, &re) || !strings.Contains(re.Msg, "fileinto: invalid mailbox name") {
			t.Errorf("%q: err = %v", src, err)
		}
		if got := strings.Join(normalize(res, err), " | "); got != "error | keep" {
			t.Errorf("%q: %s", src, got)
		}
	}
}
