package sieve

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The corpus exercises every extension, command, test and tagged
// argument the package knows, so the differential test covers them all.
func TestCorpusCoversEverything(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.sieve"))
	var all strings.Builder
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all.Write(b)
		all.WriteByte('\n')
	}
	corpus := strings.ToLower(all.String())
	for _, e := range Extensions() {
		if !strings.Contains(corpus, `"`+e+`"`) {
			t.Errorf("no corpus script requires %q", e)
		}
	}
	word := func(w string) bool {
		return regexp.MustCompile(`(^|[^a-z_:])` + regexp.QuoteMeta(w) + `([^a-z_]|$)`).MatchString(corpus)
	}
	for name := range commands {
		if !word(name) {
			t.Errorf("no corpus script uses the command %s", name)
		}
	}
	for name := range tests {
		if !word(name) {
			t.Errorf("no corpus script uses the test %s", name)
		}
	}
	tags := []string{"is", "contains", "matches", "regex", "value", "count", "comparator", "all", "localpart", "domain",
		"user", "detail", "index", "last", "mime", "anychild", "type", "subtype", "contenttype", "param", "over", "under",
		"copy", "flags", "create", "specialuse", "raw", "content", "text", "zone", "originalzone", "lower", "upper",
		"lowerfirst", "upperfirst", "quotewildcard", "quoteregex", "length", "personal", "global", "once", "optional",
		"name", "first", "handle", "header", "uniqueid", "seconds", "percent"}
	for _, tag := range tags {
		if !strings.Contains(corpus, ":"+tag+" ") && !strings.Contains(corpus, ":"+tag+"\n") {
			t.Errorf("no corpus script uses the tag :%s", tag)
		}
	}
}
