package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/engine/config"
	"github.com/mailwarden/mailwarden/engine/observe"
	"github.com/mailwarden/mailwarden/engine/state"
	"github.com/mailwarden/mailwarden/internal/etcdtest"
	"github.com/mailwarden/mailwarden/internal/memimap"
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

// TestReplicaOverTLS: a replica whose cluster: section names a CA and a
// client certificate joins an etcd that serves clients over TLS only and
// requires client certificates, and takes its account; without the client
// certificate it gets no session, and says why.
func TestReplicaOverTLS(t *testing.T) {
	t.Setenv("MW_UNUSED", "x") // the account is never dialled: no engine runs
	dir := t.TempDir()
	cert, err := memimap.SelfSignedCert("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "etcd.pem"), filepath.Join(dir, "etcd-key.pem")
	if err := os.WriteFile(certFile, cert.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, cert.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	etcd := etcdtest.StartTLS(t, 1, &etcdtest.TLS{CertFile: certFile, KeyFile: keyFile, CAFile: certFile,
		Client: &tls.Config{RootCAs: cert.Pool, Certificates: []tls.Certificate{cert.TLS}}})
	ep := etcd.Endpoints()[0]
	if !strings.HasPrefix(ep, "https://") {
		t.Fatalf("endpoint %s is not TLS", ep)
	}

	replica := func(name, tlsKeys string) *replica {
		t.Helper()
		src := fmt.Sprintf("state_dir: state-%s\ncluster:\n  name: %s\n  lease_ttl: 2s\n  dial_timeout: 2s\n  endpoints: [%q]\n%saccounts:\n  - name: acct\n    host: 127.0.0.1\n    port: 1\n    tls: none\n    insecure_plaintext: true\n    username: u\n    password_env: MW_UNUSED\n",
			name, name, ep, tlsKeys)
		cfg, errs := config.Parse(filepath.Join(dir, name+".yaml"), dir, []byte(src))
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		store, err := state.Open(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		r, err := openReplica(cfg, store, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); r.node.Run(ctx, r) }()
		t.Cleanup(func() { cancel(); <-done; r.node.Close() })
		return r
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	good := replica("good", "  tls_ca_file: etcd.pem\n  tls_cert_file: etcd.pem\n  tls_key_file: etcd-key.pem\n")
	waitFor("the TLS replica to own acct", func() bool { return good.fence("acct") != nil })
	if st := good.status(); !st.Healthy || !slices.Equal(st.Owned, []string{"acct"}) || st.Owners["acct"] != "good" {
		t.Errorf("status of the TLS replica: %+v", st)
	}

	// The same CA, no client certificate: etcd refuses the handshake.
	bad := replica("bad", "  tls_ca_file: etcd.pem\n")
	waitFor("the replica without a client certificate to say why it has no session", func() bool { return bad.status().LastError != "" })
	if st := bad.status(); st.Healthy || len(st.Owned) != 0 || !strings.Contains(st.LastError, "client certificate") {
		t.Errorf("a replica without a client certificate: healthy %v, owns %v, last error %q (want it to name the client certificate)", st.Healthy, st.Owned, st.LastError)
	}

	// No CA: the system roots do not know etcd's certificate.
	noCA := replica("noca", "")
	waitFor("the replica without the CA to say why it has no session", func() bool { return noCA.status().LastError != "" })
	if st := noCA.status(); st.Healthy || !strings.Contains(st.LastError, "TLS handshake failed") || !strings.Contains(st.LastError, "tls_ca_file") {
		t.Errorf("a replica without the CA: healthy %v, last error %q (want the handshake's failure and a hint)", st.Healthy, st.LastError)
	}
}
