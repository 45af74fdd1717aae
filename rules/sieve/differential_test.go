package sieve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/internal/sieveoracle"
)

// The differential test runs every script of testdata/corpus against every
// message of testdata/msgs, with mailwarden's interpreter and with
// Pigeonhole's sieve-test (the oracle), and compares the normalised
// results (see normalize). The oracle's answers are stored as golden files
// (testdata/corpus/NAME.expected) so the comparison also runs where
// sieve-test is not installed; when it is, the goldens are checked against
// it too. Regenerate the goldens with: go test ./rules/sieve -run
// TestDifferential -update

var update = flag.Bool("update", false, "rewrite the golden files from the oracle")

const (
	corpusDir = "testdata/corpus"
	msgsDir   = "testdata/msgs"
)

// deviations are the deliberate differences from Pigeonhole, keyed by
// "script" (every message) or "script x message", with the reason. The
// package documentation lists them too.
var deviations = map[string]string{
	"unsupported_reject":                   rejectDeviation,
	"ereject_basic":                        "Pigeonhole 2.3.19 does not know ereject (RFC 5429); here it is skipped like reject: " + rejectDeviation,
	"err_header_name_colon":                "a header name that cannot be a field name (\"subject:\") is a compile error with a hint; Pigeonhole accepts it and never matches",
	"regex_quoteregex":                     "we implement the :quoteregex modifier of draft-ietf-sieve-regex; Pigeonhole 2.3 does not know it",
	"err_date_part":                        "an unknown date part is a compile error with a hint; Pigeonhole accepts it and the test never matches",
	"err_date_zone":                        "an invalid :zone is a compile error with a hint; Pigeonhole accepts it",
	"fep_nested":                           "Pigeonhole 2.3.19 aborts nested foreverypart loops (\"program crossed loop boundary\", a bug); we run them as RFC 5703 §3 describes (the inner loop visits the descendants of the outer loop's part)",
	"fileinto_empty_runtime":               "fileinto of an empty mailbox name (built from variables) is a runtime error, so the message is kept; Pigeonhole records fileinto \"\"",
	"edge_received_index":                  "date :index/:last select the Nth field as RFC 5260 §6 says; Pigeonhole 2.3.19 ignores :index in the date test and always uses the first field",
	"body_is_empty x digest":               digestDeviation,
	"mime_default_type x digest":           digestDeviation,
	"mime_disposition_type x digest":       digestDeviation,
	"specialuse_fileinto":                  "Pigeonhole 2.3.19 does not implement special-use (RFC 8579); TestSpecialUse covers ours",
	"specialuse_exists":                    "Pigeonhole 2.3.19 does not implement special-use (RFC 8579); TestSpecialUse covers ours",
	"addr_counts x addr-torture":           addrJunkDeviation,
	"addr_all_values x addr-torture":       addrJunkDeviation,
	"addr_domain_values x addr-torture":    addrUTF8Deviation,
	"addr_localpart_values x addr-torture": addrUTF8Deviation,
	"fileinto_copy_then_move":              "fileinto :copy \"A\" then fileinto \"A\": the second fileinto still cancels the implicit keep (RFC 5228 §4.1, RFC 3894 §3); Pigeonhole merges it into the :copy action and keeps the message",
	"fileinto_dup_create":                  "duplicate fileinto of one mailbox may create it if any of them said :create; Pigeonhole keeps the first one's :create",
	"var_string_default_comparator":        "the string test compares with i;ascii-casemap unless told otherwise (RFC 5228 §2.7.3, RFC 5229 §5); Pigeonhole 2.3.19 defaults to i;octet there",
	"regex_utf8_dot x encoded-words":       "regular expressions work on UTF-8 characters (\".\" is one character); Pigeonhole's POSIX regex works on bytes, captures half a character and fails at fileinto",
	"matches_star_question":                ":matches does full wildcard matching (\"a*b?c\" matches \"abxc-abyc\", RFC 5228 §2.7.1); Pigeonhole 2.3.19 misses matches where \"?\" follows a \"*\" segment",
	"var_self_assign":                      "set \"v\" \"${v}\" keeps the value (RFC 5229 §4); Pigeonhole 2.3.19 empties the variable when the value is exactly a reference to itself",
	"imapsieve_environment":                "the imapsieve environment items (RFC 6785 §4) exist here; sieve-test runs outside IMAP and rejects the extension (TestIMAPSieveEnvironment covers ours)",
	"index_count_selected":                 "header :count with :index counts the selected field, 1 when it exists (RFC 5260 §6); Pigeonhole 2.3.19 counts 1 only when a field after it exists (off by one)",
	"index_across_names x digest":          digestDeviation,
	"mime_anychild_name_order x digest":    digestDeviation,
	"extracttext_modifier x charsets":      "extracttext :first cuts at a character boundary; Pigeonhole 2.3.19 keeps the octets of half a Cyrillic character, and fileinto of that invalid UTF-8 name fails",
	"comparator_unicode_casemap":           "i;unicode-casemap (RFC 5051) exists here; Pigeonhole 2.3.19 does not know it (Pigeonhole 2.4 added it); TestUnicodeCasemap covers ours",
	"var_matches_question x charsets":      "\"?\" captures one whole character; Pigeonhole 2.3.19 captures half of a multi-byte first character (${1} is invalid UTF-8), and fileinto of the name fails",
}

const (
	addrJunkDeviation = "after an element with junk behind a complete address (\"a@b.example garbage\") Pigeonhole stops reading the address list; we take that address and read on, so later addresses still match"
	addrUTF8Deviation = "UTF-8 addresses (RFC 6532) are addresses for us (:localpart and :domain see them); Pigeonhole 2.3 treats them as invalid, visible to :all only"
)

const envelopeDeviation = "the message lacks Return-Path or Delivered-To: mailwarden's envelope (sieve.envelope_from_headers) has no value for that part, where sieve-test, given no envelope, makes one up (sender@example.com, or from the To field)"

const rejectDeviation = "reject is never carried out: mail handled here is already delivered (RFC 6785 §3.11); with unsupported: skip the message is kept, where Pigeonhole refuses it"

const digestDeviation = "multipart/digest parts without headers default to message/rfc822 (RFC 2046 §5.1.5) for every test; Pigeonhole's :anychild does not see inside them and body :text counts them as empty text/plain parts"

// oracleMailboxes are the mailboxes the oracle's configuration has: only
// INBOX and the ones below, none with a special-use attribute.
type oracleMailboxes struct{}

func (oracleMailboxes) MailboxExists(_ context.Context, name string) (bool, error) {
	return name == "INBOX" || name == "Lists" || name == "Archive", nil
}

func (oracleMailboxes) SpecialUseExists(context.Context, string, string) (bool, error) {
	return false, nil
}

// testOptions are the Options the corpus runs with, matching the oracle's
// configuration (messages see oracleMailboxes).
func testOptions() *Options {
	return &Options{
		IncludePersonal: "testdata/include/personal",
		IncludeGlobal:   "testdata/include/global",
		Location:        time.UTC,
		Now:             func() time.Time { return time.Date(2024, 3, 15, 13, 45, 30, 0, time.UTC) },
		Duplicates:      NewMemoryDuplicateStore(),
		// redirect and vacation record what they would send, envelope
		// reads Return-Path and Delivered-To (the oracle is given the
		// same envelope, see envelopeArgs), reject is skipped.
		Submission:          true,
		EnvelopeFromHeaders: true,
		SkipUnsupported:     true,
		UserAddresses:       []string{"bob@example.org"},
	}
}

// envelopeArgs gives sieve-test the envelope mailwarden reads from msg's
// header (EnvelopeFromHeaders): -f from the Return-Path, -r and -a from
// Delivered-To. Without those fields sieve-test makes one up from From
// and To, which mailwarden does not (the envelope deviations).
func envelopeArgs(t testing.TB, msgPath string) []string {
	m := loadTestMessage(t, msgPath)
	var args []string
	if from, null, ok := envelopeValue(m, "from"); ok {
		if null {
			from = ""
		}
		args = append(args, "-f", from)
	}
	if to, _, ok := envelopeValue(m, "to"); ok {
		args = append(args, "-r", to, "-a", to)
	}
	return args
}

func oracleConfig() sieveoracle.Config {
	return sieveoracle.Config{
		PersonalDir: "testdata/include/personal",
		GlobalDir:   "testdata/include/global",
		Mailboxes:   []string{"Lists", "Archive"},
		Plugin: []string{
			"sieve_extensions = +spamtest +spamtestplus +virustest +vacation-seconds",
			"sieve_spamtest_status_type = score",
			"sieve_spamtest_status_header = X-Spam-Score: (-?[0-9]+(\\.[0-9]+)?)",
			"sieve_spamtest_max_value = 10",
			"sieve_virustest_status_type = text",
			"sieve_virustest_status_header = X-Virus-Score: ([0-9])",
			"sieve_virustest_text_value1 = 1",
			"sieve_virustest_text_value2 = 2",
			"sieve_virustest_text_value3 = 3",
			"sieve_virustest_text_value4 = 4",
			"sieve_virustest_text_value5 = 5",
		},
	}
}

type corpus struct {
	scripts []string // names without .sieve
	msgs    []string // names without .eml
}

func loadCorpus(t testing.TB) corpus {
	var c corpus
	ss, _ := filepath.Glob(filepath.Join(corpusDir, "*.sieve"))
	for _, s := range ss {
		c.scripts = append(c.scripts, strings.TrimSuffix(filepath.Base(s), ".sieve"))
	}
	ms, _ := filepath.Glob(filepath.Join(msgsDir, "*.eml"))
	for _, m := range ms {
		c.msgs = append(c.msgs, strings.TrimSuffix(filepath.Base(m), ".eml"))
	}
	if len(c.scripts) == 0 || len(c.msgs) == 0 {
		t.Fatal("empty corpus")
	}
	return c
}

const compileErrorLine = "compile error"

// golden is one script's expected outputs: message → joined lines.
type golden map[string]string

func readGolden(script string) (golden, error) {
	b, err := os.ReadFile(filepath.Join(corpusDir, script+".expected"))
	if err != nil {
		return nil, err
	}
	g := golden{}
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			k, v = strings.TrimSuffix(l, ":"), ""
		}
		g[k] = v
	}
	return g, nil
}

func writeGolden(script string, g golden) error {
	keys := make([]string, 0, len(g))
	for k := range g {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "# Pigeonhole sieve-test results for %s.sieve, one message a line (go test -run TestDifferential -update)\n", script)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, g[k])
	}
	return os.WriteFile(filepath.Join(corpusDir, script+".expected"), []byte(b.String()), 0o644)
}

func joinLines(l []string) string { return strings.Join(l, " | ") }

// ours runs mailwarden's interpreter and renders the result as a line.
func ours(s *Script, cerr error, msgPath string, t testing.TB) string {
	if cerr != nil {
		return compileErrorLine
	}
	m := loadTestMessage(t, msgPath)
	m.Mailboxes = oracleMailboxes{}
	res, err := s.Execute(context.Background(), m)
	var pe interface{ Error() string }
	if err != nil && !errors.As(err, &pe) {
		t.Fatalf("execute: %v", err)
	}
	return joinLines(normalize(res, err))
}

func TestDifferential(t *testing.T) {
	c := loadCorpus(t)
	type pair struct{ script, msg string }
	ourOut := map[pair]string{}
	for _, sn := range c.scripts {
		src, err := os.ReadFile(filepath.Join(corpusDir, sn+".sieve"))
		if err != nil {
			t.Fatal(err)
		}
		s, cerr := Compile(sn+".sieve", src, testOptions())
		for _, mn := range c.msgs {
			ourOut[pair{sn, mn}] = ours(s, cerr, filepath.Join(msgsDir, mn+".eml"), t)
		}
	}

	// The oracle, when installed.
	oracle, err := sieveoracle.New(oracleConfig())
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the Sieve oracle is unavailable: %v", err)
		}
		if *update {
			t.Fatalf("-update needs the oracle: %v", err)
		}
		t.Logf("oracle unavailable (%v): comparing with the stored golden files only", err)
	} else {
		defer oracle.Close()
	}
	oracleOut := map[pair]string{}
	if oracle != nil {
		start := time.Now()
		var mu sync.Mutex
		var wg sync.WaitGroup
		msgs := map[string][]byte{}
		args := map[string][]string{}
		for _, mn := range c.msgs {
			msgs[mn], _ = os.ReadFile(filepath.Join(msgsDir, mn+".eml"))
			args[mn] = envelopeArgs(t, filepath.Join(msgsDir, mn+".eml"))
		}
		errCh := make(chan error, 1)
		for _, sn := range c.scripts {
			src, _ := os.ReadFile(filepath.Join(corpusDir, sn+".sieve"))
			for _, mn := range c.msgs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := oracle.Run(context.Background(), src, msgs[mn], args[mn]...)
					if err != nil {
						select {
						case errCh <- fmt.Errorf("%s x %s: %w", sn, mn, err):
						default:
						}
						return
					}
					line := joinLines(r.Lines)
					if r.CompileError != "" {
						line = compileErrorLine
					}
					mu.Lock()
					oracleOut[pair{sn, mn}] = line
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
		select {
		case err := <-errCh:
			t.Fatal(err)
		default:
		}
		t.Logf("oracle: %d runs in %v", len(oracleOut), time.Since(start).Round(time.Millisecond))
	}

	agree, deviate, fail := 0, 0, 0
	for _, sn := range c.scripts {
		g, gerr := readGolden(sn)
		if oracle != nil {
			ng := golden{}
			for _, mn := range c.msgs {
				ng[mn] = oracleOut[pair{sn, mn}]
			}
			if *update {
				if err := writeGolden(sn, ng); err != nil {
					t.Fatal(err)
				}
				g, gerr = ng, nil
			} else if gerr == nil {
				for _, mn := range c.msgs {
					if g[mn] != ng[mn] {
						t.Errorf("%s x %s: golden file is stale:\n golden: %s\n oracle: %s", sn, mn, g[mn], ng[mn])
					}
				}
			} else {
				g, gerr = ng, nil
			}
		}
		if gerr != nil {
			t.Errorf("%s: no golden file (%v); run with the oracle and -update", sn, gerr)
			continue
		}
		for _, mn := range c.msgs {
			want, got := g[mn], ourOut[pair{sn, mn}]
			if want == got {
				agree++
				continue
			}
			reason, ok := deviationFor(sn, mn)
			if !ok && strings.HasPrefix(sn, "envelope_") && len(envelopeArgs(t, filepath.Join(msgsDir, mn+".eml"))) < 6 {
				reason, ok = envelopeDeviation, true
			}
			if ok {
				deviate++
				t.Logf("deviation %s x %s (%s):\n ours:   %s\n oracle: %s", sn, mn, reason, got, want)
				continue
			}
			fail++
			t.Errorf("%s x %s:\n ours:   %s\n oracle: %s", sn, mn, got, want)
		}
	}
	t.Logf("differential: %d scripts x %d messages = %d pairs: %d agree, %d documented deviations, %d failures",
		len(c.scripts), len(c.msgs), len(c.scripts)*len(c.msgs), agree, deviate, fail)
}

func deviationFor(script, msg string) (string, bool) {
	if r, ok := deviations[script+" x "+msg]; ok {
		return r, true
	}
	r, ok := deviations[script]
	return r, ok
}
