package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/internal/dovecottest"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

const (
	masterUser = "admin"
	masterPass = "master-secret"
)

// adminConfig writes a config holding one template account over users
// (a command printing user1..userN) that logs in with the Dovecot master
// user's one credential, as login ("user*admin") or authzid, and one
// archive schedule over the template.
func adminConfig(t *testing.T, srv *dovecottest.Server, users int, login string, extra string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin.pw"), []byte(masterPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`state_dir: state
accounts:
  - template: staff
    users_command: "seq -f 'user%%g' 1 %d"
    host: 127.0.0.1
    port: %d
    tls: none
    insecure_plaintext: true
%s
    password_file: admin.pw
%s
schedules:
  - name: archive-all
    cron: "@daily"
    accounts: [staff]
    job: archive
    mailbox: INBOX
    older_than: 365d
    by: date
    to: "Archive/{year}"
    skip_flagged: false
`, users, srv.Port, login, extra)
	path := filepath.Join(dir, "mailwarden.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func masterServer(t *testing.T) *dovecottest.Server {
	return dovecottest.Start(t, &dovecottest.Options{MasterUser: masterUser, MasterPassword: masterPass, Connections: 64})
}

// One admin credential reaches every user's mailbox, both ways Dovecot
// offers: the master user login "user*admin", and SASL PLAIN with the user
// as authorization identity (RFC 4616); a wrong master password is a
// permanent failure.
func TestDovecotMasterUser(t *testing.T) {
	srv := masterServer(t)
	srv.Save(t, "user7", "INBOX", []byte("Subject: for user7\r\n\r\nhi\r\n"))
	for name, login := range map[string]string{
		"separator": `    username: "{user}*admin"`,
		"authzid":   "    username: admin\n    authorize_as: \"{user}\"",
	} {
		t.Run(name, func(t *testing.T) {
			cfg := adminConfig(t, srv, 8, login, "")
			dial := engine.NewDialer(cfg, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := dial(ctx, "user7")
			if err != nil {
				t.Fatal(err)
			}
			st, err := c.Status(ctx, "INBOX")
			c.Logout(ctx)
			if err != nil || st.Messages != 1 {
				t.Fatalf("user7's INBOX through the master user: %+v, %v; want user7's 1 message", st, err)
			}
			a := cfg.Account("user7")
			a.PasswordFile = filepath.Join(t.TempDir(), "wrong")
			os.WriteFile(a.PasswordFile, []byte("wrong\n"), 0o600)
			if _, err := dial(ctx, "user7"); !imapconn.IsPermanent(err) {
				t.Fatalf("wrong master password: err = %v, want permanent", err)
			}
		})
	}
}

// The proof: 200 users from a template, one credential (the
// master user), one schedule entry; the archive job moves each user's old
// mail into Archive/<year> and leaves the new mail, for every user.
func TestTemplateArchive200Users(t *testing.T) {
	const users = 200
	srv := masterServer(t)
	cfg := adminConfig(t, srv, users, "    username: admin\n    authorize_as: \"{user}\"", "    max_connections: 8")
	if len(cfg.Accounts) != users {
		t.Fatalf("%d accounts from the template, want %d", len(cfg.Accounts), users)
	}
	dial := engine.NewDialer(cfg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Seed: two messages from 2020 and one from now in each INBOX, through
	// the admin credential (eight users at a time, the budget).
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, users)
	sem := make(chan struct{}, 8)
	for i := range cfg.Accounts {
		name := cfg.Accounts[i].Name
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(ctx, name)
			if err != nil {
				errs <- err
				return
			}
			defer c.Logout(ctx)
			for j, date := range []string{"Mon, 06 Jan 2020 10:00:00 +0000", "Tue, 07 Jan 2020 10:00:00 +0000", time.Now().Format(time.RFC1123Z)} {
				raw := fmt.Sprintf("From: a@example.org\r\nTo: %s@example.org\r\nDate: %s\r\nMessage-ID: <%d.%s@example.org>\r\nSubject: m%d\r\n\r\nbody\r\n", name, date, j, name, j)
				if _, err := c.Append(ctx, "INBOX", nil, time.Time{}, []byte(raw)); err != nil {
					errs <- fmt.Errorf("%s: %w", name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("seeded %d users × 3 messages in %v", users, time.Since(start).Round(time.Millisecond))

	rt, cerrs := engine.Compile(cfg, nil)
	if len(cerrs) > 0 {
		t.Fatal(cerrs)
	}
	env := engine.JobEnv(&engine.JobOptions{Dial: dial})
	start = time.Now()
	sum, err := jobs.Run(ctx, env, rt.Schedule("archive-all").Job)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("archive over %d users with one config entry and one credential: %v (%d moved)", sum.Accounts, took.Round(time.Millisecond), sum.Acted)
	if sum.Accounts != users || sum.Acted != 2*users {
		t.Fatalf("summary: %d accounts, %d acted; want %d and %d", sum.Accounts, sum.Acted, users, 2*users)
	}
	// Every user's mail is where it belongs, on the server.
	for _, u := range []string{"user1", "user77", "user200"} {
		for box, want := range map[string]string{"INBOX": "INBOX messages=1\n", "Archive/2020": "Archive/2020 messages=2\n"} {
			if out := srv.Doveadm(t, "mailbox", "status", "-u", u, "messages", box); out != want {
				t.Errorf("%s %s: doveadm mailbox status: %q, want %q", u, box, out, want)
			}
		}
	}
}
