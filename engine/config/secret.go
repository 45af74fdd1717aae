package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// SecretTimeout bounds password_command and token_command.
const SecretTimeout = 30 * time.Second

// Secret returns the account's password, or its OAuth2 access token when
// oauth2 is configured, read now from the configured source:
//
//   - password_file / oauth2.token_file: the file's contents (re-read on
//     every call, and its mode re-checked);
//   - password_env: the variable's value;
//   - password_command / oauth2.token_command: the standard output of
//     `sh -c COMMAND`, run with a timeout of SecretTimeout (re-run on every
//     call, which is how OAuth2 tokens are refreshed).
//
// Surrounding white space (such as the trailing newline) is removed. An
// empty secret is an error. Error messages name the source and include a
// failed command's standard error (with anything it also printed on
// standard output redacted), never the secret or the standard output. A
// command that timed out is the only failure that wraps
// context.DeadlineExceeded: it may succeed later, while an unset variable,
// a missing or empty file or a failing command will not until the user
// acts.
func (a *Account) Secret(ctx context.Context) (string, error) {
	var (
		s   string
		err error
		src string
	)
	switch {
	case a.OAuth2 != nil && a.OAuth2.TokenCommand != "":
		src = "oauth2.token_command"
		s, err = runSecretCommand(ctx, a.OAuth2.TokenCommand)
	case a.OAuth2 != nil && a.OAuth2.TokenFile != "":
		src = "oauth2.token_file"
		s, err = readSecretFile(a.OAuth2.TokenFile)
	case a.PasswordFile != "":
		src = "password_file"
		s, err = readSecretFile(a.PasswordFile)
	case a.PasswordEnv != "":
		src = "password_env"
		v, ok := os.LookupEnv(a.PasswordEnv)
		if !ok {
			err = fmt.Errorf("environment variable %s is not set", a.PasswordEnv)
		}
		s = v
	case a.PasswordCommand != "":
		src = "password_command"
		s, err = runSecretCommand(ctx, a.PasswordCommand)
	default:
		return "", fmt.Errorf("account %s: no credentials configured", a.Name)
	}
	if err != nil {
		return "", fmt.Errorf("account %s: %s: %w", a.Name, src, err)
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("account %s: %s: the secret is empty", a.Name, src)
	}
	return s, nil
}

func readSecretFile(path string) (string, error) {
	// A FIFO or a device would block or never end: refuse it before
	// opening.
	if fi, err := os.Stat(path); err != nil {
		return "", err
	} else if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is accessible by group or others (mode %#o; chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	if fi.Size() > 64<<10 {
		return "", fmt.Errorf("%s is larger than 64 KiB", path)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, 64<<10)); err != nil {
		return "", err
	}
	return b.String(), nil
}

func runSecretCommand(ctx context.Context, command string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, SecretTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	var out bytes.Buffer
	stderr := &cappedBuffer{max: 4 << 10}
	cmd.Stdout = &out
	cmd.Stderr = stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", fmt.Errorf("command timed out after %v: %w", SecretTimeout, context.DeadlineExceeded)
		}
		msg := "command failed: " + err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg = "command failed: " + ee.ProcessState.String()
		}
		if s := stderrSummary(stderr.b.String(), out.String()); s != "" {
			msg += ": stderr: " + s
		}
		if ctx.Err() != nil { // cancelled by the caller: not the command's fault
			return "", fmt.Errorf("%s: %w", msg, ctx.Err())
		}
		return "", errors.New(msg)
	}
	return out.String(), nil
}

// stderrSummary makes a failed command's standard error fit one log line:
// lines joined with " / ", at most 300 bytes, and every line the command
// printed on standard output replaced by <redacted> (a command that echoes
// the secret to both must not leak it).
func stderrSummary(stderr, stdout string) string {
	for _, line := range strings.Split(stdout, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			stderr = strings.ReplaceAll(stderr, line, "<redacted>")
		}
	}
	var lines []string
	for _, line := range strings.Split(stderr, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	s := strings.Join(lines, " / ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}

// cappedBuffer keeps the first max bytes written to it and discards the
// rest (a command's standard error must not fill the memory).
type cappedBuffer struct {
	b   bytes.Buffer
	max int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
