package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/oauth"
)

// cmdAuth is `mailwarden auth login|status`: the one interactive step of
// built-in OAuth2. The daemon only ever refreshes what login stored.
func cmdAuth(args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, `Usage: mailwarden auth login  -c FILE [--flow device|loopback] [--no-check] ACCOUNT
       mailwarden auth status -c FILE [ACCOUNT]

login signs ACCOUNT in with its oauth2 provider (device code, or a browser
redirect to 127.0.0.1), stores the refresh token in state_dir/oauth
(mode 0600) and, unless --no-check, logs in to the IMAP server with it.
status shows which accounts have a token and until when it is valid.`)
	}
	if len(args) == 0 || (args[0] != "login" && args[0] != "status") {
		usage()
		return exitUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("auth "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = usage
	path := fs.String("c", "", "config file")
	flow := fs.String("flow", "", "login: device or loopback (default: the provider's)")
	noCheck := fs.Bool("no-check", false, "login: do not log in to the IMAP server afterwards")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	// Flags may follow the account name: auth login ACCOUNT -c FILE.
	var positional []string
	for fs.NArg() > 0 {
		positional = append(positional, fs.Arg(0))
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return exitUsage
		}
	}
	cfg, errs := parseConfig(*path)
	if len(errs) > 0 {
		printErrors(stderr, errs)
		return exitFail
	}
	if sub == "status" {
		return authStatus(cfg, positional, stdout, stderr)
	}
	if len(positional) != 1 {
		usage()
		return exitUsage
	}
	a := cfg.Account(positional[0])
	switch {
	case a == nil:
		fmt.Fprintf(stderr, "mailwarden auth login: no account %q in %s\n", positional[0], *path)
		return exitFail
	case !a.OAuth2.Builtin():
		fmt.Fprintf(stderr, "mailwarden auth login: account %s has no oauth2 provider (hint: set oauth2: {provider: google|microsoft|generic, client_id: ...})\n", a.Name)
		return exitFail
	}
	p, s, err := engine.OAuthProvider(a)
	if err != nil {
		fmt.Fprintln(stderr, "mailwarden auth login:", err)
		return exitFail
	}
	if *flow != "" {
		p.Flow = *flow
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	store := oauth.NewStore(cfg.StateDir)
	l := &oauth.Login{Account: a.Name, Provider: p, Settings: s, Store: store, Prompt: func(pr oauth.Prompt) {
		switch pr.Flow {
		case oauth.FlowDevice:
			fmt.Fprintf(stdout, "To sign in account %s (%s), open\n\n    %s\n\nand enter the code\n\n    %s\n\n", a.Name, p.Name, pr.URL, pr.UserCode)
			if pr.CompleteURL != "" {
				fmt.Fprintf(stdout, "(or open %s)\n", pr.CompleteURL)
			}
			if !pr.Expires.IsZero() {
				fmt.Fprintf(stdout, "The code is valid until %s. Waiting...\n", pr.Expires.Local().Format("15:04"))
			}
		default:
			fmt.Fprintf(stdout, "To sign in account %s (%s), open this address in a browser on this machine:\n\n    %s\n\nWaiting for the browser to come back...\n", a.Name, p.Name, pr.URL)
		}
	}}
	tok, err := l.Run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "mailwarden auth login: account %s: %v\n", a.Name, err)
		return exitFail
	}
	fmt.Fprintf(stdout, "Signed in. The token is stored in %s (mode 0600); the access token is valid until %s and is refreshed as needed.\n",
		store.Path(a.Name), tok.Expiry.Local().Format(time.DateTime))
	if *noCheck {
		return exitOK
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c, err := engine.NewDialer(cfg, nil)(cctx, a.Name)
	if err != nil {
		fmt.Fprintf(stderr, "mailwarden auth login: account %s: the IMAP server refused the token: %v\n", a.Name, err)
		return exitFail
	}
	c.Logout(cctx)
	fmt.Fprintf(stdout, "Logged in to %s as %s with %s.\n", c.Addr(), a.Username, a.OAuth2.Mechanism)
	return exitOK
}

func authStatus(cfg *config.Config, names []string, stdout, stderr io.Writer) int {
	store := oauth.NewStore(cfg.StateDir)
	code := exitOK
	for i := range cfg.Accounts {
		a := &cfg.Accounts[i]
		if !a.OAuth2.Builtin() || len(names) > 0 && !contains(names, a.Name) {
			continue
		}
		tok, err := store.Load(a.Name)
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "%s\t%s\tnot signed in: %v\n", a.Name, a.OAuth2.Provider, err)
			code = exitFail
		case tok.RefreshToken == "":
			fmt.Fprintf(stdout, "%s\t%s\tno refresh token (run `mailwarden auth login %s`)\n", a.Name, a.OAuth2.Provider, a.Name)
			code = exitFail
		default:
			fmt.Fprintf(stdout, "%s\t%s\tsigned in; access token valid until %s\n", a.Name, a.OAuth2.Provider, tok.Expiry.Local().Format(time.DateTime))
		}
	}
	return code
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
