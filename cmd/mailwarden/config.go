package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/rules/sieve"
)

// loaded is a config and its compiled runtime form.
type loaded struct {
	cfg *config.Config
	rt  *engine.Runtime
}

// loadAll reads the config file and compiles its rules and schedules. It
// returns every problem of all kinds at once: rule sets and schedules are
// compiled even when the rest of the file has errors, so one `check` shows
// everything.
func loadAll(path string, copts *engine.CompileOptions) (*loaded, []error) {
	cfg, errs := parseConfig(path)
	if cfg == nil {
		return nil, errs
	}
	rt, cerrs := engine.Compile(cfg, withSieveDirs(cfg, copts))
	errs = append(errs, cerrs...)
	if len(errs) > 0 {
		return nil, errs
	}
	return &loaded{cfg: cfg, rt: rt}, nil
}

// compileWithState is how commands that change mail compile cfg: Sieve's
// duplicate test (RFC 7352) remembers messages in the state file, so "seen
// before" survives restarts.
func compileWithState(cfg *config.Config, store *state.Store) *engine.CompileOptions {
	return withSieveDirs(cfg, &engine.CompileOptions{Sieve: &sieve.Options{Duplicates: store.Duplicates()}})
}

// withSieveDirs returns copts with the directories Sieve's include reads
// (the config's sieve.personal_dir and sieve.global_dir) filled in where
// copts leaves them empty. copts is not modified.
func withSieveDirs(cfg *config.Config, copts *engine.CompileOptions) *engine.CompileOptions {
	var c engine.CompileOptions
	if copts != nil {
		c = *copts
	}
	var so sieve.Options
	if c.Sieve != nil {
		so = *c.Sieve
	}
	if so.IncludePersonal == "" {
		so.IncludePersonal = cfg.Sieve.PersonalDir
	}
	if so.IncludeGlobal == "" {
		so.IncludeGlobal = cfg.Sieve.GlobalDir
	}
	c.Sieve = &so
	return &c
}

// parseConfig reads and validates the config file. The Config may be
// non-nil together with errors (usable only to report more of them).
func parseConfig(path string) (*config.Config, []error) {
	if path == "" {
		return nil, []error{errors.New("no config file: pass -c FILE (see examples/mailwarden.yaml)")}
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{err}
	}
	if len(src) > config.MaxFileSize {
		return nil, []error{fmt.Errorf("%s: file is %d bytes, more than %d", path, len(src), config.MaxFileSize)}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, []error{err}
	}
	cfg, cerrs := config.Parse(path, filepath.Dir(abs), src)
	var errs []error
	errs = append(errs, cerrs...)
	return cfg, errs
}

// printErrors prints one error per line and a count.
func printErrors(w io.Writer, errs []error) {
	for _, err := range errs {
		fmt.Fprintln(w, err)
	}
	if len(errs) > 1 {
		fmt.Fprintf(w, "%d errors\n", len(errs))
	}
}
