package engine_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/imapconn"
)

// A credential that retrying cannot fix stops the account's watchers with
// a permanent error that says why (a command's stderr included, never the
// secret), instead of being retried silently forever.
func TestCredentialErrorsArePermanent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, a *config.Account)
		why   string
	}{
		{"command fails", func(t *testing.T, a *config.Account) {
			a.PasswordEnv = ""
			a.PasswordCommand = "echo hunter2; echo 'Error: mail/imap is not in the password store.' >&2; exit 1"
		}, "password_command: command failed: exit status 1: stderr: Error: mail/imap is not in the password store."},
		{"file emptied", func(t *testing.T, a *config.Account) {
			p := filepath.Join(t.TempDir(), "pw")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			a.PasswordEnv = ""
			a.PasswordFile = p
		}, "password_file: the secret is empty"},
		{"variable unset", func(t *testing.T, a *config.Account) {
			a.PasswordEnv = "MW_TEST_NOT_SET"
		}, "password_env: environment variable MW_TEST_NOT_SET is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := memBackend(t, nil)
			s := &setup{accounts: []*backend{b}, watches: [][]string{{"INBOX:inbox", "Archive:inbox"}}, rulesets: testRules}
			cfg := s.config(t)
			// Changed after the load, which refuses what it can see: the
			// file or variable went away while the daemon runs, or the
			// command fails only now.
			tc.setup(t, &cfg.Accounts[0])
			d := s.startWith(t, cfg, nil)
			var err error
			select {
			case err = <-d.done:
				stopOnce.Store(d, true)
				d.store.Close()
			case <-time.After(10 * time.Second):
				t.Fatal("the engine kept retrying a credential that cannot work")
			}
			if !errors.Is(err, imapconn.ErrConfig) || !imapconn.IsPermanent(err) {
				t.Errorf("want a permanent configuration error, got %v", err)
			}
			got := strings.Split(err.Error(), "\n")
			slices.Sort(got)
			var want []string
			for _, mbox := range []string{"Archive", "INBOX"} {
				want = append(want, fmt.Sprintf("account %q mailbox %q: connect: dial 127.0.0.1:%d: get password: imap configuration error: account acct0: %s",
					"acct0", mbox, b.port, tc.why))
			}
			equal(t, "errors", got, want)
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the command's stdout leaked: %v", err)
			}
		})
	}
}
