package observe

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mailwarden/mailwarden/actions"
	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/engine/watch"
	"github.com/mailwarden/mailwarden/scheduler/jobs"
)

func fixedClock() func() time.Time {
	t := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	return func() time.Time { return t }
}

func TestReadinessFollowsWatcherStates(t *testing.T) {
	r := New(&Options{Version: "test", Now: fixedClock()})
	if ok, why := r.Ready(); !ok || len(why) != 0 {
		t.Fatalf("no watcher (schedules only): ready %v %v, want ready", ok, why)
	}
	a := r.Watcher("acct", "INBOX")
	b := r.Watcher("acct", "Lists")
	a.State(watch.StateIdle, nil, time.Time{})
	if ok, why := r.Ready(); ok || len(why) != 1 || !strings.HasPrefix(why[0], "acct/Lists: connecting") {
		t.Fatalf("one watcher connecting: %v %q", ok, why)
	}
	b.State(watch.StatePolling, nil, time.Time{})
	if ok, _ := r.Ready(); !ok {
		t.Fatal("idle and polling watchers: not ready")
	}
	down := errors.New("dial 127.0.0.1:143: connection refused")
	b.State(watch.StateRetrying, down, time.Date(2026, 12, 3, 9, 1, 0, 0, time.UTC))
	ok, why := r.Ready()
	if ok || len(why) != 1 || !strings.Contains(why[0], "retrying") || !strings.Contains(why[0], "connection refused") {
		t.Fatalf("retrying watcher: %v %q", ok, why)
	}
	b.Checkpoint(state.Checkpoint{UIDValidity: 7, LastUID: 42})
	st := r.Status()
	if len(st.Watchers) != 2 || st.Watchers[1].Mailbox != "Lists" || st.Watchers[1].LastUID != 42 ||
		st.Watchers[1].Reconnects != 1 || st.Watchers[1].NextAttempt.IsZero() || st.Watchers[1].LastError == "" {
		t.Errorf("status: %+v", st.Watchers)
	}
	if got := testutil.ToFloat64(r.m.state.WithLabelValues("acct", "Lists", "retrying")); got != 1 {
		t.Errorf("state{retrying} = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(r.m.state); n != 2 {
		t.Errorf("%d state series, want 2: one per watcher, its current state", n)
	}
	if got := testutil.ToFloat64(r.m.reconnects.WithLabelValues("acct", "Lists", imapconn.CauseOther)); got != 1 {
		t.Errorf("reconnects{other} = %v, want 1", got)
	}

	// A reload that no longer watches Lists forgets it.
	r.Forget(map[[2]string]bool{{"acct", "INBOX"}: true})
	if st := r.Status(); len(st.Watchers) != 1 {
		t.Errorf("after Forget: %+v", st.Watchers)
	}
	if ok, _ := r.Ready(); !ok {
		t.Error("after Forget the remaining idle watcher should make it ready")
	}
}

func TestCountsAndJobRuns(t *testing.T) {
	r := New(&Options{Version: "test", Now: fixedClock()})
	r.Evaluated("acct", "INBOX", OutcomeMatched, time.Millisecond)
	r.Evaluated("acct", "INBOX", OutcomeNoMatch, time.Millisecond)
	r.Evaluated("acct", "INBOX", OutcomeSkipped, 0)
	r.Evaluated("acct", "INBOX", OutcomeError, time.Millisecond)
	r.Applied([]actions.Entry{{Account: "acct", Rule: "boss", Op: actions.OpFlag}, {Account: "acct", Rule: "boss", Op: actions.OpFlag}})
	r.Acted("acct", "INBOX", 1, 10*time.Millisecond)
	r.JobRun(&jobs.Summary{Job: "arch", Kind: "archive", Acted: 3}, nil)
	r.JobRun(&jobs.Summary{Job: "arch", Kind: "archive"}, errors.New("boom"))
	r.JobRun(&jobs.Summary{Job: "bk", Kind: "backup", Acted: 20, Bytes: 4096}, nil)
	r.JobRun(&jobs.Summary{Job: "bk", Kind: "backup", Acted: 5, Bytes: 1000}, nil)
	r.JobRun(&jobs.Summary{Job: "trash", Kind: "expire", Acted: 2, HeldBack: 3}, nil)
	st := r.Status()
	want := Counts{Evaluated: 3, Matched: 1, Skipped: 1, Errors: 1, Actions: 2, Failed: 1}
	if st.Counts != want {
		t.Errorf("counts %+v, want %+v", st.Counts, want)
	}
	if len(st.Jobs) != 3 || st.Jobs[0].Error != "boom" || st.Jobs[0].LastSuccess.IsZero() {
		t.Errorf("jobs %+v", st.Jobs)
	}
	for _, c := range []struct {
		got  float64
		want float64
	}{
		{testutil.ToFloat64(r.m.actions.WithLabelValues("acct", "boss", "flag")), 2},
		{testutil.ToFloat64(r.m.jobRuns.WithLabelValues("arch", "archive", "success")), 1},
		{testutil.ToFloat64(r.m.jobRuns.WithLabelValues("arch", "archive", "failure")), 1},
		{testutil.ToFloat64(r.m.evaluated.WithLabelValues("acct", "INBOX", "skipped")), 1},
		{testutil.ToFloat64(r.m.jobMessages.WithLabelValues("bk", "acted")), 25},
		{testutil.ToFloat64(r.m.jobBytes.WithLabelValues("bk", "backup")), 5096},
		{testutil.ToFloat64(r.m.jobMessages.WithLabelValues("trash", "held_back")), 3},
	} {
		if c.got != c.want {
			t.Errorf("metric = %v, want %v", c.got, c.want)
		}
	}
	// A nil Registry takes every report and does nothing.
	var none *Registry
	none.Evaluated("a", "b", OutcomeMatched, 0)
	none.Applied(nil)
	none.JobRun(&jobs.Summary{}, nil)
	if none.Watcher("a", "b") != nil {
		t.Error("nil registry returned a reporter")
	}
}

func TestHandler(t *testing.T) {
	r := New(&Options{Version: "1.2.3", Now: fixedClock()})
	w := r.Watcher("acct", "INBOX")
	srv := httptest.NewServer(r.Handler(nil, true))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "acct/INBOX: connecting") {
		t.Errorf("/readyz while connecting: %d %q", code, body)
	}
	w.State(watch.StateIdle, nil, time.Time{})
	if code, body := get("/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("/readyz when idle: %d %q", code, body)
	}
	if code, body := get("/status"); code != http.StatusOK || !strings.Contains(body, `"dry_run": true`) || !strings.Contains(body, `"version": "1.2.3"`) {
		t.Errorf("/status: %d %s", code, body)
	}
	if code, body := get("/metrics"); code != http.StatusOK || !strings.Contains(body, `mailwarden_build_info{goversion=`) ||
		!strings.Contains(body, `mailwarden_watcher_state{account="acct",mailbox="INBOX",state="idle"} 1`) {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
	// Without a Controller there is nothing to POST to.
	resp, err := http.Post(srv.URL+"/jobs/run", "application/json", strings.NewReader(`{"name":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("POST /jobs/run served without a controller")
	}
}

// The heartbeat says, at info, what the daemon did since the last line.
func TestHeartbeat(t *testing.T) {
	r := New(&Options{Version: "test"})
	w := r.Watcher("acct", "INBOX")
	w.State(watch.StateIdle, nil, time.Time{})
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Heartbeat(ctx, 20*time.Millisecond, log); close(done) }()
	r.Evaluated("acct", "INBOX", OutcomeMatched, time.Millisecond)
	r.Applied([]actions.Entry{{Account: "acct", Rule: "r", Op: actions.OpMove}})
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "evaluated=1 matched=1 actions=1") {
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeat with the counts:\n%s", buf.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if !strings.Contains(buf.String(), "msg=heartbeat watchers=1 waiting_for_mail=1") {
		t.Errorf("heartbeat line: %s", buf.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A cluster replica without an etcd session is not ready, whatever its
// watchers say (it runs no account), and /readyz says why.
func TestReadinessOfAClusterReplica(t *testing.T) {
	r := New(&Options{Version: "test", Now: fixedClock()})
	cl := &ClusterStatus{Name: "mw-1", Healthy: true}
	r.SetCluster(func() *ClusterStatus { return cl })
	if ok, why := r.Ready(); !ok || len(why) != 0 {
		t.Fatalf("replica with a session: ready %v %q, want ready", ok, why)
	}
	cl = &ClusterStatus{Name: "mw-1", LastError: "grant a lease: context deadline exceeded"}
	ok, why := r.Ready()
	if ok || len(why) != 1 || why[0] != "cluster: no etcd session, so no account runs here: grant a lease: context deadline exceeded" {
		t.Fatalf("replica without a session: ready %v %q", ok, why)
	}
}
