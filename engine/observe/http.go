package observe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mailwarden/mailwarden/engine/undo"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

// Controller carries out what a command asks the running daemon to do,
// with the daemon's own state file and connections. Each call gets a
// logger whose lines also reach the asking command, and a progress
// callback.
type Controller interface {
	// RunJob runs the scheduled job called name once, now.
	RunJob(ctx context.Context, req JobRequest, log *slog.Logger) (*jobs.Summary, error)
	// Apply runs a rule set over the mail already in a mailbox.
	Apply(ctx context.Context, req ApplyRequest, log *slog.Logger, progress func(jobs.Progress)) (*jobs.Summary, error)
	// Undo reverses what the daemon did, from its journal.
	Undo(ctx context.Context, req UndoRequest, log *slog.Logger) (*undo.Report, error)
}

// JobRequest asks for one run of a scheduled job (`mailwarden jobs run`).
type JobRequest struct {
	Name   string `json:"name"`
	DryRun bool   `json:"dry_run"`
}

// ApplyRequest asks for a rule set over a mailbox (`mailwarden apply`).
type ApplyRequest struct {
	Account string `json:"account"`
	Mailbox string `json:"mailbox"`
	Ruleset string `json:"ruleset"`
	DryRun  bool   `json:"dry_run"`
	Max     int    `json:"max"`
	Batch   int    `json:"batch"`
}

// UndoRequest asks for an undo (`mailwarden undo`).
type UndoRequest struct {
	Since   time.Time `json:"since"`
	Account string    `json:"account"`
	Mailbox string    `json:"mailbox"`
	Rule    string    `json:"rule"`
	DryRun  bool      `json:"dry_run"`
}

// Event is one line of a control response stream (NDJSON): a log line of
// the work, a progress report, or the result, which comes last.
type Event struct {
	Log      string         `json:"log,omitempty"`
	Progress *jobs.Progress `json:"progress,omitempty"`
	Summary  *jobs.Summary  `json:"summary,omitempty"`
	Undo     *undo.Report   `json:"undo,omitempty"`
	// Error is the work's error; with a Summary or Undo report it is the
	// error that came with it.
	Error string `json:"error,omitempty"`
	Done  bool   `json:"done,omitempty"`
}

// Handler serves the control interface: GET /metrics, /healthz, /readyz
// and /status, and, when ctl is not nil, POST /jobs/run, /apply and /undo,
// whose answer streams Events as the work goes on. dryRun says whether the
// daemon itself runs in dry run (Status.DryRun).
func (r *Registry) Handler(ctl Controller, dryRun bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		ok, why := r.Ready()
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:")
			for _, s := range why {
				fmt.Fprintln(w, " ", s)
			}
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		st := r.Status()
		st.DryRun = dryRun
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(st)
	})
	if ctl != nil {
		mux.HandleFunc("POST /jobs/run", func(w http.ResponseWriter, req *http.Request) {
			var jr JobRequest
			stream(w, req, &jr, func(ctx context.Context, s *streamer) Event {
				sum, err := ctl.RunJob(ctx, jr, s.logger())
				return Event{Summary: sum, Error: errText(err)}
			})
		})
		mux.HandleFunc("POST /apply", func(w http.ResponseWriter, req *http.Request) {
			var ar ApplyRequest
			stream(w, req, &ar, func(ctx context.Context, s *streamer) Event {
				sum, err := ctl.Apply(ctx, ar, s.logger(), s.progress)
				return Event{Summary: sum, Error: errText(err)}
			})
		})
		mux.HandleFunc("POST /undo", func(w http.ResponseWriter, req *http.Request) {
			var ur UndoRequest
			stream(w, req, &ur, func(ctx context.Context, s *streamer) Event {
				rep, err := ctl.Undo(ctx, ur, s.logger())
				return Event{Undo: rep, Error: errText(err)}
			})
		})
	}
	return mux
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// stream decodes the request into v, runs work, and streams its log lines
// and progress as Events, then the result. The work's context ends when
// the asking command goes away.
func stream(w http.ResponseWriter, req *http.Request, v any, work func(ctx context.Context, s *streamer) Event) {
	if err := json.NewDecoder(io.LimitReader(req.Body, 1<<20)).Decode(v); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	s := &streamer{w: w, enc: json.NewEncoder(w)}
	s.flusher, _ = w.(http.Flusher)
	res := work(req.Context(), s)
	res.Done = true
	s.send(res)
}

// streamer writes Events to one response, one goroutine at a time.
type streamer struct {
	mu      sync.Mutex
	w       io.Writer
	enc     *json.Encoder
	flusher http.Flusher
	last    time.Time // of the last progress event
}

func (s *streamer) send(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enc.Encode(ev)
	if s.flusher != nil {
		s.flusher.Flush()
	}
}

// progress forwards progress, at most ten times a second, and always the
// last of a mailbox.
func (s *streamer) progress(p jobs.Progress) {
	now := time.Now()
	if p.Done < p.Total && now.Sub(s.last) < 100*time.Millisecond {
		return
	}
	s.last = now
	s.send(Event{Progress: &p})
}

// logger returns a logger whose lines go to the asking command, as text.
func (s *streamer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(lineWriter{s}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// lineWriter turns each log line into an Event.
type lineWriter struct{ s *streamer }

func (l lineWriter) Write(p []byte) (int, error) {
	l.s.send(Event{Log: strings.TrimRight(string(p), "\n")})
	return len(p), nil
}

// ErrNotFound is returned by a Client call the daemon does not serve.
var ErrNotFound = errors.New("the running daemon does not offer this (is it an older mailwarden?)")
