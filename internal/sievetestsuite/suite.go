// Package sievetestsuite runs Pigeonhole's .svtest files against
// mailwarden's Sieve implementation (rules/sieve). It implements the
// vnd.dovecot.testsuite extension of Pigeonhole's testsuite tool as a
// sieve.Dialect, so a .svtest file is parsed and validated by the
// project's own parser, and its messages are read by the daemon's own
// parser (engine/message).
//
// It is a test tool: only _test.go files import it (rules/sieve's
// TestSvtest runs every .svtest file under a directory).
//
// # What runs
//
// A .svtest file is a Sieve script that requires "vnd.dovecot.testsuite".
// It runs top to bottom against a default message; each `test "name" {…}`
// block is one test case, which fails when `test_fail` runs in it (the
// rest of the block is skipped) or when it raises a runtime error, and
// passes otherwise. The script's own actions (keep, fileinto…) and those
// of scripts it runs with test_script_run build one result, as in
// Pigeonhole; test_result_reset empties it.
//
// Commands and tests, as Pigeonhole 2.3 defines them:
//
//	test "name" { … }                      a test case (top level only)
//	test_fail "reason"                     fail the current test case
//	test_set "message" "…"                 the message (also "envelope.from", "envelope.to", …, kept but unused)
//	test_message :folder "Box" N           read message N (from 0) stored in Box; as a test, whether it exists
//	test_message :smtp N                   outgoing mail: there is none here, so false (or a failure)
//	test_result_action [:index N] keys     match the names of the result's actions (keep, store, discard)
//	test_result_execute                    store the result in the test mail store; false when a fileinto fails
//	test_result_reset                      empty the result
//	test_mailbox_create "Box"              create a mailbox in the test mail store (INBOX exists)
//	test_script_compile "file"             compile a script (relative to the .svtest file); false on errors
//	test_script_run [:append_result]       run it on the current message, into the result
//	test_error [:index N] keys             match the messages of the last compile or run errors
//	test_config_set "key" "value", test_config_unset "key", test_config_reload [:extension "x"]
//	                                       settings for later test_script_compile (a few map to Options)
//	test_binary_save "name", test_binary_load "name"
//	                                       keep and restore the compiled script
//	test_result_print, test_message_print  no output
//
// test_imap_metadata_set and test_multiscript fail their test case: the
// extensions they serve are not implemented. Include scripts resolve as
// in Pigeonhole's testsuite: personal ones in the "included" directory
// beside the .svtest file, global ones in "included-global".
package sievetestsuite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/rules"
	"github.com/mailwarden/mailwarden/rules/sieve"
)

// Extension is the name the testsuite is required by.
const Extension = "vnd.dovecot.testsuite"

// defaultMessage is the message a .svtest file starts with (Pigeonhole's).
const defaultMessage = "From: sender@example.com\nTo: recipient@example.org\nSubject: Frop!\n\nFriep!\n"

// FileResult is the outcome of one .svtest file.
type FileResult struct {
	File string
	// CompileError is set when the .svtest file itself did not compile;
	// none of its test cases ran then.
	CompileError error
	// RuntimeError is set when the file ended with a runtime error
	// outside a test case; the test cases before it ran.
	RuntimeError error
	Tests        []TestResult
}

// TestResult is the outcome of one test case.
type TestResult struct {
	Name   string
	Line   int
	Passed bool
	Reason string // why it failed
}

// Passed counts the test cases that passed.
func (r *FileResult) Passed() int {
	n := 0
	for _, t := range r.Tests {
		if t.Passed {
			n++
		}
	}
	return n
}

// failError is test_fail's way out of a test case.
type failError struct{ reason string }

func (e *failError) Error() string { return "test failed: " + e.reason }

// storedMsg is a message in the test mail store.
type storedMsg struct {
	raw   []byte
	flags []string
}

// suite is the state of one .svtest file's run.
type suite struct {
	file, dir string
	ctx       context.Context
	res       *FileResult
	cur       *TestResult // the test case running, nil outside one

	boxes    map[string][]storedMsg // the test mail store
	compiled *sieve.Script          // test_script_compile's script
	errs     []string               // messages of the last compile or run
	config   map[string]string      // test_config_set, pending reload
	opts     sieve.Options          // options test_script_compile uses
	binaries map[string]*sieve.Script
	envelope map[string]string
}

// RunFile runs the .svtest file at path.
func RunFile(ctx context.Context, path string) *FileResult {
	s := &suite{
		file: path, dir: filepath.Dir(path), ctx: ctx,
		res:      &FileResult{File: path},
		boxes:    map[string][]storedMsg{"INBOX": nil},
		config:   map[string]string{},
		binaries: map[string]*sieve.Script{},
		envelope: map[string]string{},
	}
	s.opts = sieve.Options{
		IncludePersonal: filepath.Join(s.dir, "included"),
		IncludeGlobal:   filepath.Join(s.dir, "included-global"),
		Location:        time.UTC,
		Duplicates:      sieve.NewMemoryDuplicateStore(),
	}
	src, err := os.ReadFile(path)
	if err != nil {
		s.res.CompileError = err
		return s.res
	}
	opts := s.opts
	opts.Dialect = s.dialect()
	opts.MaxActions = 100000 // a suite accumulates results across test cases
	script, err := sieve.Compile(path, src, &opts)
	if err != nil {
		s.res.CompileError = err
		return s.res
	}
	if _, err := script.Execute(ctx, s.parseMessage([]byte(defaultMessage), "INBOX", nil)); err != nil {
		var fe *failError
		if errors.As(err, &fe) {
			// A failure outside a test case fails the file.
			s.res.Tests = append(s.res.Tests, TestResult{Name: "(outside a test)", Reason: fe.reason})
		} else {
			s.res.RuntimeError = err
		}
	}
	return s.res
}

// parseMessage reads a message with the daemon's parser; mailboxexists
// and specialuse_exists ask the test mail store.
func (s *suite) parseMessage(raw []byte, mailbox string, flags []string) *rules.Message {
	m := message.Parse(raw, message.Meta{Mailbox: mailbox, Flags: flags})
	m.Mailboxes = store{s}
	return m
}

// store answers rules.Mailboxes from the test mail store, whose
// mailboxes carry no special-use attributes.
type store struct{ s *suite }

func (st store) MailboxExists(_ context.Context, name string) (bool, error) {
	_, ok := st.s.boxes[st.s.boxName(name)]
	return ok, nil
}

func (store) SpecialUseExists(context.Context, string, string) (bool, error) { return false, nil }

// finish records the current test case's outcome.
func (s *suite) finish(err error) {
	t := s.cur
	s.cur = nil
	var fe *failError
	switch {
	case err == nil:
		t.Passed = true
	case errors.As(err, &fe):
		t.Reason = fe.reason
	default:
		t.Reason = err.Error()
	}
	s.res.Tests = append(s.res.Tests, *t)
}

func (s *suite) dialect() *sieve.Dialect {
	str, list, num, none := sieve.ArgString, sieve.ArgStringList, sieve.ArgNumber, sieve.ArgNone
	cmd := func(sig sieve.Signature, exec func(*sieve.Call) error) *sieve.DialectCommand {
		return &sieve.DialectCommand{Signature: sig, Exec: exec}
	}
	tst := func(sig sieve.Signature, eval func(*sieve.Call) (bool, error)) *sieve.DialectTest {
		return &sieve.DialectTest{Signature: sig, Eval: eval}
	}
	messageSig := sieve.Signature{Tags: map[string]sieve.ArgKind{"folder": str, "smtp": none}, Args: []sieve.ArgKind{num}}
	return &sieve.Dialect{
		Extension: Extension,
		Commands: map[string]*sieve.DialectCommand{
			"test":                cmd(sieve.Signature{Args: []sieve.ArgKind{str}, Block: true, TopLevel: true}, s.test),
			"test_fail":           cmd(sieve.Signature{Args: []sieve.ArgKind{str}}, s.fail),
			"test_set":            cmd(sieve.Signature{Args: []sieve.ArgKind{str, str}}, s.set),
			"test_message":        cmd(messageSig, s.message),
			"test_message_print":  cmd(sieve.Signature{}, func(*sieve.Call) error { return nil }),
			"test_result_reset":   cmd(sieve.Signature{}, func(c *sieve.Call) error { c.ResetResult(); return nil }),
			"test_result_print":   cmd(sieve.Signature{}, func(*sieve.Call) error { return nil }),
			"test_mailbox_create": cmd(sieve.Signature{Args: []sieve.ArgKind{str}}, s.mailboxCreate),
			"test_config_set":     cmd(sieve.Signature{Args: []sieve.ArgKind{str, str}}, s.configSet),
			"test_config_unset":   cmd(sieve.Signature{Args: []sieve.ArgKind{str}}, s.configUnset),
			"test_config_reload":  cmd(sieve.Signature{Tags: map[string]sieve.ArgKind{"extension": str}}, s.configReload),
			"test_binary_save":    cmd(sieve.Signature{Args: []sieve.ArgKind{str}}, s.binarySave),
			"test_binary_load":    cmd(sieve.Signature{Args: []sieve.ArgKind{str}}, s.binaryLoad),
			"test_imap_metadata_set": cmd(sieve.Signature{Tags: map[string]sieve.ArgKind{"mailbox": str}, Args: []sieve.ArgKind{str, str}},
				func(*sieve.Call) error { return &failError{"test_imap_metadata_set: IMAP METADATA is not implemented"} }),
		},
		Tests: map[string]*sieve.DialectTest{
			"test_message":        tst(messageSig, func(c *sieve.Call) (bool, error) { return s.messageTest(c) }),
			"test_result_action":  tst(sieve.Signature{Tags: map[string]sieve.ArgKind{"index": num}, Match: true}, s.resultAction),
			"test_result_execute": tst(sieve.Signature{}, s.resultExecute),
			"test_script_compile": tst(sieve.Signature{Args: []sieve.ArgKind{str}}, s.scriptCompile),
			"test_script_run":     tst(sieve.Signature{Tags: map[string]sieve.ArgKind{"append_result": none}}, s.scriptRun),
			"test_error":          tst(sieve.Signature{Tags: map[string]sieve.ArgKind{"index": num}, Match: true}, s.errorTest),
			"test_multiscript": tst(sieve.Signature{Args: []sieve.ArgKind{list}},
				func(*sieve.Call) (bool, error) { return false, &failError{"test_multiscript is not implemented"} }),
		},
	}
}

// test runs one test case (a block).
func (s *suite) test(c *sieve.Call) error {
	if s.cur != nil {
		// A test case of a script under test (test_script_run of a
		// suite): part of the running test case.
		return c.Block()
	}
	s.cur = &TestResult{Name: c.Strings(0)[0], Line: c.Line()}
	err := c.Block()
	if errors.Is(err, sieve.ErrStop) {
		s.finish(nil)
		return err
	}
	s.finish(err)
	return nil
}

// fail is test_fail: it ends the current test case, or fails the file
// when it runs outside one.
func (s *suite) fail(c *sieve.Call) error {
	reason := c.Strings(0)[0]
	if s.cur == nil {
		s.res.Tests = append(s.res.Tests, TestResult{Name: fmt.Sprintf("(line %d)", c.Line()), Line: c.Line(), Reason: reason})
		return nil
	}
	return &failError{reason}
}

func (s *suite) set(c *sieve.Call) error {
	name, value := c.Strings(0)[0], c.Strings(1)[0]
	switch {
	case name == "message":
		c.SetMessage(s.parseMessage([]byte(value), "INBOX", nil))
	case strings.HasPrefix(name, "envelope."):
		// Kept: mailwarden has no envelope (the envelope test does not
		// compile), so nothing reads it.
		s.envelope[strings.TrimPrefix(name, "envelope.")] = value
	default:
		return c.Fail("test_set: unknown object %q", name)
	}
	return nil
}

// stored returns message n of the mailbox.
func (s *suite) stored(c *sieve.Call) (storedMsg, string, bool) {
	if c.Has("smtp") {
		return storedMsg{}, "", false // no outgoing mail here
	}
	box := c.Tag("folder")[0]
	msgs := s.boxes[s.boxName(box)]
	n := c.Number(0)
	if n < 0 || n >= int64(len(msgs)) {
		return storedMsg{}, box, false
	}
	return msgs[n], box, true
}

func (s *suite) message(c *sieve.Call) error {
	if !c.Has("smtp") && !c.Has("folder") {
		return c.Fail("test_message needs :folder or :smtp")
	}
	m, box, ok := s.stored(c)
	if !ok {
		if c.Has("smtp") {
			return &failError{fmt.Sprintf("no outgoing SMTP message with index %d (mailwarden sends no mail)", c.Number(0))}
		}
		return &failError{fmt.Sprintf("no message with index %d in mailbox %q", c.Number(0), box)}
	}
	c.SetMessage(s.parseMessage(m.raw, box, m.flags))
	return nil
}

func (s *suite) messageTest(c *sieve.Call) (bool, error) {
	m, box, ok := s.stored(c)
	if ok {
		c.SetMessage(s.parseMessage(m.raw, box, m.flags))
	}
	return ok, nil
}

// boxName returns the store's spelling of a mailbox name: INBOX is
// case-insensitive, also as the first level of a hierarchy ("Inbox.Junk"
// is "INBOX.Junk", as in Dovecot).
func (s *suite) boxName(name string) string {
	if len(name) >= 5 && strings.EqualFold(name[:5], "INBOX") && (len(name) == 5 || name[5] == '.' || name[5] == '/') {
		return "INBOX" + name[5:]
	}
	return name
}

func (s *suite) mailboxCreate(c *sieve.Call) error {
	name := s.boxName(c.Strings(0)[0])
	if _, ok := s.boxes[name]; !ok {
		s.boxes[name] = nil
	}
	return nil
}

// actionNames names the result's actions as Pigeonhole does: keep,
// store (fileinto), discard; duplicates merged, the implicit keep left
// out (it is not an action until the result is executed).
func actionNames(res *sieve.Result) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range res.Actions {
		if a.Implicit {
			continue
		}
		name, key := a.Type, a.Type
		switch a.Type {
		case "fileinto":
			name, key = "store", "store\x00"+a.Mailbox
			if strings.EqualFold(a.Mailbox, "INBOX") {
				name, key = "keep", "keep"
			}
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, name)
	}
	return out
}

func (s *suite) resultAction(c *sieve.Call) (bool, error) {
	names := actionNames(c.Result())
	if c.Has("index") {
		i := c.TagNumber("index")
		if i < 1 || i > int64(len(names)) {
			names = nil
		} else {
			names = names[i-1 : i]
		}
	}
	return c.Match(names)
}

// resultExecute stores the result in the test mail store: the kept
// message in INBOX, a copy in each fileinto mailbox (which must exist
// unless :create), nothing for discard. Duplicates store once, with the
// flags of the last.
func (s *suite) resultExecute(c *sieve.Call) (bool, error) {
	raw, err := c.Message().Raw()
	if err != nil {
		return false, c.Fail("test_result_execute: %v", err)
	}
	type delivery struct {
		box   string
		flags []string
	}
	var ds []delivery
	index := map[string]int{}
	ok := true
	s.errs = nil
	for _, a := range c.Result().Actions {
		box := ""
		switch a.Type {
		case "keep":
			box = "INBOX"
		case "fileinto":
			box = s.boxName(a.Mailbox)
			if _, exists := s.boxes[box]; !exists {
				if !a.Create {
					ok = false // as Pigeonhole, with its error text
					s.errs = append(s.errs, fmt.Sprintf("failed to store into mailbox '%s': Mailbox doesn't exist: %s", a.Mailbox, a.Mailbox))
					continue
				}
				s.boxes[box] = nil
			}
		default:
			continue
		}
		if i, dup := index[box]; dup {
			ds[i].flags = a.Flags
			continue
		}
		index[box] = len(ds)
		ds = append(ds, delivery{box, a.Flags})
	}
	for _, d := range ds {
		s.boxes[d.box] = append(s.boxes[d.box], storedMsg{raw: raw, flags: d.flags})
	}
	return ok, nil
}

// compileOpts are the options test_script_compile uses.
func (s *suite) compileOpts() *sieve.Options {
	o := s.opts
	return &o
}

func (s *suite) scriptCompile(c *sieve.Call) (bool, error) {
	path := filepath.Join(s.dir, c.Strings(0)[0])
	s.errs = nil
	src, err := os.ReadFile(path)
	if err != nil {
		s.errs = []string{err.Error()}
		return false, nil
	}
	// A script under test may itself be a test suite (Pigeonhole's
	// "subtests"), so the dialect stays available.
	o := s.compileOpts()
	o.Dialect = s.dialect()
	script, err := sieve.Compile(filepath.Base(path), src, o)
	if err != nil {
		var list sieve.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				s.errs = append(s.errs, e.Msg)
			}
		} else {
			s.errs = []string{err.Error()}
		}
		return false, nil
	}
	s.compiled = script
	return true, nil
}

func (s *suite) scriptRun(c *sieve.Call) (bool, error) {
	if s.compiled == nil {
		return false, c.Fail("test_script_run: no script compiled yet")
	}
	s.errs = nil
	if !c.Has("append_result") {
		c.ResetResult()
	}
	if err := c.Run(s.compiled); err != nil {
		var fe *failError
		if errors.As(err, &fe) {
			return false, err // a subtest failed
		}
		var re *sieve.RuntimeError
		if errors.As(err, &re) {
			s.errs = []string{re.Msg}
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func (s *suite) errorTest(c *sieve.Call) (bool, error) {
	errs := s.errs
	if c.Has("index") {
		i := c.TagNumber("index")
		if i < 1 || i > int64(len(errs)) {
			errs = nil
		} else {
			errs = errs[i-1 : i]
		}
	}
	return c.Match(errs)
}

func (s *suite) configSet(c *sieve.Call) error {
	s.config[c.Strings(0)[0]] = c.Strings(1)[0]
	return nil
}

func (s *suite) configUnset(c *sieve.Call) error {
	s.config[c.Strings(0)[0]] = ""
	return nil
}

// configReload applies the settings that have an equivalent in
// sieve.Options; others are ignored (their test cases may then fail).
func (s *suite) configReload(c *sieve.Call) error {
	for k, v := range s.config {
		n, _ := strconv.Atoi(v)
		switch k {
		case "sieve_variables_max_variable_size":
			s.opts.MaxVariableSize = n
		case "sieve_include_max_nesting_depth":
			s.opts.MaxIncludeDepth = n
		case "sieve_spamtest_max_value":
			f, _ := strconv.ParseFloat(v, 64)
			s.opts.SpamtestMax = f
		case "sieve_max_cpu_time":
			// Pigeonhole limits CPU time; mailwarden the wall clock.
			d, err := time.ParseDuration(v)
			if err != nil {
				d = time.Duration(n) * time.Second
			}
			s.opts.MaxRunTime = d
		}
	}
	return nil
}

func (s *suite) binarySave(c *sieve.Call) error {
	if s.compiled == nil {
		return c.Fail("test_binary_save: no script compiled yet")
	}
	s.binaries[c.Strings(0)[0]] = s.compiled
	return nil
}

func (s *suite) binaryLoad(c *sieve.Call) error {
	b, ok := s.binaries[c.Strings(0)[0]]
	if !ok {
		return &failError{fmt.Sprintf("test_binary_load: no binary %q", c.Strings(0)[0])}
	}
	s.compiled = b
	return nil
}
