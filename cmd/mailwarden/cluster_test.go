package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine/observe"
)

// TestPrintCluster: status shows the replica's lease, the members and the
// owner of every account, this replica's marked, a gap said as such.
func TestPrintCluster(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	st := &observe.Status{Version: "v1", Started: now.Add(-time.Hour), Now: now, Ready: true, Cluster: &observe.ClusterStatus{
		Name: "mw-1", Healthy: true, Since: now.Add(-30 * time.Minute), Lease: "694d", TTL: 10 * time.Second, Remaining: 8 * time.Second,
		Members: []observe.ClusterMember{{Name: "mw-1", Version: "v1", Since: now.Add(-time.Hour)}, {Name: "mw-2", Version: "v1", Since: now.Add(-2 * time.Minute)}},
		Owners:  map[string]string{"b": "mw-2", "a": "mw-1", "c": ""}, Owned: []string{"a"},
	}}
	var out bytes.Buffer
	printStatus(&out, st)
	want := `mailwarden v1, up 1h0m0s: ready

cluster: replica mw-1, lease 694d (ttl 10s, 8s left), session up 30m0s, owns 1 of 3 accounts
  members: mw-1 (v1, up 1h0m0s), mw-2 (v1, up 2m0s)
  ACCOUNT  OWNER
  a        mw-1 (here)
  b        mw-2
  c        - (none: being taken over)
`
	if got, _, _ := strings.Cut(out.String(), "\nsince start"); got != want {
		t.Errorf("status:\n%s\nwant:\n%s", got, want)
	}

	st.Cluster.Healthy, st.Cluster.LastError, st.Cluster.LastErrorTime = false, "grant a lease: context deadline exceeded", now.Add(-5*time.Second)
	out.Reset()
	printStatus(&out, st)
	if !strings.Contains(out.String(), "cluster: replica mw-1 has NO etcd session: it runs no account\n  last error 5s ago: grant a lease: context deadline exceeded\n") {
		t.Errorf("status without a session:\n%s", out.String())
	}
}
