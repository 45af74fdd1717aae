package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/message"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dovecottest.StopShared()
	if quotaSrv != nil {
		quotaSrv.Stop()
	}
	os.Exit(code)
}

// now is the jobs' clock in every test: ages are measured against it.
var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 0, 0, 0, time.UTC) }

// account is one test user on an IMAP server.
type account struct {
	host       string
	port       int
	user, pass string
}

func dovecotAccount(t *testing.T, srv *dovecottest.Server) *account {
	user, pass := srv.NewUser(t)
	return &account{host: srv.Host, port: srv.Port, user: user, pass: pass}
}

func (a *account) client(t testing.TB) *imapconn.Client {
	t.Helper()
	c, err := imapconn.Dial(context.Background(), &imapconn.Options{Host: a.host, Port: a.port, Username: a.user,
		TLS: imapconn.TLSNone, InsecurePlaintext: true,
		Auth: imapconn.Password{Password: func(context.Context) (string, error) { return a.pass, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// msg is a message to seed: id, internal date, flags, extra body bytes.
type msg struct {
	id    string
	date  time.Time
	flags []string
	from  string
	subj  string
	pad   int
}

func (m msg) raw() []byte {
	var b bytes.Buffer
	from := m.from
	if from == "" {
		from = "someone@example.net"
	}
	subj := m.subj
	if subj == "" {
		subj = "about " + m.id
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: me@example.org\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s>\r\n\r\nHello.\r\n",
		from, subj, m.date.Format(time.RFC1123Z), m.id)
	for i := 0; i < m.pad/64; i++ {
		b.WriteString(strings.Repeat("x", 62) + "\r\n")
	}
	return b.Bytes()
}

func (a *account) seed(t *testing.T, mailbox string, msgs ...msg) {
	t.Helper()
	c := a.client(t)
	for _, m := range msgs {
		if _, err := c.Append(context.Background(), mailbox, m.flags, m.date, m.raw()); err != nil {
			if errors.Is(err, actions.ErrTryCreate) {
				if err := c.Create(context.Background(), mailbox); err != nil {
					t.Fatal(err)
				}
				if _, err = c.Append(context.Background(), mailbox, m.flags, m.date, m.raw()); err == nil {
					continue
				}
			}
			t.Fatalf("append %s to %s: %v", m.id, mailbox, err)
		}
	}
	c.Close()
}

// contents lists "message-id[flags]" of mailbox, sorted; nil when it is
// empty or does not exist.
func (a *account) contents(t *testing.T, mailbox string) []string {
	t.Helper()
	c := a.client(t)
	defer c.Close()
	sess, err := c.Examine(context.Background(), mailbox)
	if err != nil {
		return nil
	}
	fs, err := sess.FetchNew(context.Background(), 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		m := message.Parse(f.Raw, message.Meta{HeaderOnly: true})
		flags := slices.DeleteFunc(slices.Clone(f.Flags), func(s string) bool { return s == `\Recent` })
		slices.Sort(flags)
		out = append(out, fmt.Sprintf("%s[%s]", m.MessageID(), strings.Join(flags, " ")))
	}
	slices.Sort(out)
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// daemon is a config with one account and its schedules, ready to run jobs.
type daemon struct {
	cfg   *config.Config
	rt    *engine.Runtime
	jobs  map[string]jobs.Job
	env   *jobs.Env
	store *state.Store
}

type tWriter struct {
	mu sync.Mutex
	t  *testing.T
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// setup loads a config for a with the given YAML after `schedules:` (and
// optional rulesets) and builds its jobs; opts may tune them.
func setup(t *testing.T, a *account, schedules, rulesets string, opts *engine.JobOptions) *daemon {
	t.Helper()
	dir := t.TempDir()
	y := fmt.Sprintf("state_dir: %s\naccounts:\n  - name: acct\n    host: %s\n    port: %d\n    tls: none\n    insecure_plaintext: true\n    username: %s\n    password_env: MW_JOBS_TEST_PASS\n",
		filepath.Join(dir, "state"), a.host, a.port, a.user)
	if rulesets != "" {
		y += "rulesets:\n" + rulesets
	}
	y += "schedules:\n" + schedules
	t.Setenv("MW_JOBS_TEST_PASS", a.pass)
	path := filepath.Join(dir, "mailwarden.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", y, err)
	}
	rt, errs := engine.Compile(cfg, nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	store, err := state.Open(cfg.StateDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if opts == nil {
		opts = &engine.JobOptions{}
	}
	opts.Now = func() time.Time { return now }
	if testing.Verbose() {
		opts.Logger = slog.New(slog.NewTextHandler(&tWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts.Dial = engine.NewDialer(cfg, opts.Logger)
	opts.Store = store
	d := &daemon{cfg: cfg, rt: rt, jobs: map[string]jobs.Job{}, env: engine.JobEnv(opts), store: store}
	for _, s := range rt.Schedules {
		d.jobs[s.Name()] = s.Job
	}
	return d
}

func (d *daemon) run(t *testing.T, name string) *jobs.Summary {
	t.Helper()
	sum, err := jobs.Run(context.Background(), d.env, d.jobs[name])
	if err != nil {
		t.Fatalf("job %s: %v", name, err)
	}
	return sum
}

func checkSum(t *testing.T, sum *jobs.Summary, matched, acted int, capped bool) {
	t.Helper()
	if sum.Matched != matched || sum.Acted != acted || sum.Capped != capped || sum.Failed != 0 {
		t.Errorf("summary: matched %d acted %d capped %v failed %d; want %d %d %v 0 (%+v)",
			sum.Matched, sum.Acted, sum.Capped, sum.Failed, matched, acted, capped, sum)
	}
}

type actionsEntry = actions.Entry
