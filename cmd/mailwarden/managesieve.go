package main

import (
	"context"
	"log/slog"

	"github.com/mailwarden/mailwarden/engine"
	"github.com/mailwarden/mailwarden/engine/config"
)

// sieveServer runs the config's ManageSieve server (managesieve:) for the
// daemon, across reloads: each config gets a server of its own (the
// accounts its logins are checked against may have changed), on the
// configured address. A change of an account's active script is signalled
// on changed, and the daemon recompiles its rules.
type sieveServer struct {
	log     *slog.Logger
	compile *engine.CompileOptions
	changed chan struct{} // capacity 1: changes coalesce

	stop func()
	done chan struct{}
}

func newSieveServer(log *slog.Logger, compile *engine.CompileOptions) *sieveServer {
	return &sieveServer{log: log, compile: compile, changed: make(chan struct{}, 1)}
}

// start stops the running server, if any, and starts cfg's (none when the
// config has no managesieve: section).
func (s *sieveServer) start(cfg *config.Config) error {
	s.close()
	m := cfg.ManageSieve
	if m == nil {
		return nil
	}
	srv, err := engine.NewManageSieve(cfg, &engine.ManageSieveOptions{
		Compile: s.compile,
		Logger:  s.log,
		Changed: func(account string) {
			s.log.Info("managesieve: active script changed; recompiling the rules", "account", account)
			select {
			case s.changed <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		return err
	}
	ln, err := engine.ListenManageSieve(cfg)
	if err != nil {
		return err
	}
	s.log.Info("serving ManageSieve", "addr", ln.Addr().String(), "tls", m.TLS)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln); err != nil {
			s.log.Error("managesieve: server stopped", "err", err)
		}
	}()
	s.stop, s.done = cancel, done
	return nil
}

// close stops the running server and waits for its connections to end.
func (s *sieveServer) close() {
	if s.stop != nil {
		s.stop()
		<-s.done
		s.stop, s.done = nil, nil
	}
}
