package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
// empty secret is an error. Error messages name the source, never the
// secret or the command's output.
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
	if _, err := b.ReadFrom(f); err != nil {
		return "", err
	}
	return b.String(), nil
}

func runSecretCommand(ctx context.Context, command string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, SecretTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = nil // not captured: it might echo the secret
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", fmt.Errorf("command timed out after %v", SecretTimeout)
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("command failed: %v", ee.ProcessState)
		}
		return "", fmt.Errorf("command failed: %w", err)
	}
	return out.String(), nil
}
