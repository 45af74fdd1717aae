// Package etcdtest runs private etcd members for tests: Debian's
// etcd-server (3.4), each member a child process of the test binary with
// its data in a temporary directory, listening on free 127.0.0.1 ports.
// The package's system service is never used or started (Debian's
// postinst may leave it stopped; that is fine here).
//
// Start skips the test when etcd is not installed, unless the CI
// environment variable is set: then it fails. The members can be killed
// (SIGKILL) and started again on the same data, so tests can take the
// cluster below quorum and bring it back.
package etcdtest

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mailwarden/mailwarden/internal/dovecottest"
)

// Bin is the etcd binary Debian's etcd-server installs.
const Bin = "/usr/bin/etcd"

// Available returns nil when etcd is installed, else the reason.
func Available() error {
	if _, err := os.Stat(Bin); err != nil {
		return fmt.Errorf("etcd not installed (%s missing); run .ci/install-test-deps.sh", Bin)
	}
	return nil
}

// Cluster is a set of private etcd members.
type Cluster struct {
	t       testing.TB
	dir     string
	members []*member
	tls     *TLS
	health  *http.Client
}

// TLS makes the members serve clients over TLS only (https:// endpoints)
// and require a client certificate signed by CAFile. The peers talk
// plain HTTP among themselves on 127.0.0.1.
type TLS struct {
	CertFile, KeyFile string // the members' server certificate
	CAFile            string // trusted for client certificates
	// Client is what the test's own health checks present.
	Client *tls.Config
}

type member struct {
	name             string
	client, peer     string // URLs
	dataDir, logFile string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts n members (1 or 3, say) and waits until they serve with a
// leader. They are killed when the test ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	return StartTLS(t, n, nil)
}

// StartTLS is Start with the client side over TLS when tc is not nil.
func StartTLS(t testing.TB, n int, tc *TLS) *Cluster {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("etcdtest: %v (CI is set, so this is a failure)", err)
		}
		t.Skipf("etcdtest: %v", err)
	}
	c := &Cluster{t: t, dir: t.TempDir(), tls: tc, health: &http.Client{Timeout: time.Second}}
	scheme := "http://"
	if tc != nil {
		scheme = "https://"
		c.health.Transport = &http.Transport{TLSClientConfig: tc.Client}
	}
	var initial []string
	for i := range n {
		m := &member{name: fmt.Sprintf("etcd%d", i+1), client: scheme + freeAddr(t), peer: "http://" + freeAddr(t)}
		m.dataDir = filepath.Join(c.dir, m.name)
		m.logFile = filepath.Join(c.dir, m.name+".log")
		c.members = append(c.members, m)
		initial = append(initial, m.name+"="+m.peer)
	}
	t.Cleanup(c.stopAll)
	for _, m := range c.members {
		if err := m.start(strings.Join(initial, ","), "new", tc); err != nil {
			t.Fatal(err)
		}
	}
	c.WaitHealthy(t)
	return c
}

// Endpoints are the members' client URLs.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, m := range c.members {
		out = append(out, m.client)
	}
	return out
}

// Kill kills member i (SIGKILL) and waits for it to exit.
func (c *Cluster) Kill(i int) {
	m := c.members[i]
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Restart starts member i again on its data (after Kill).
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	var initial []string
	for _, m := range c.members {
		initial = append(initial, m.name+"="+m.peer)
	}
	if err := c.members[i].start(strings.Join(initial, ","), "existing", c.tls); err != nil {
		c.t.Fatal(err)
	}
}

// WaitHealthy waits until every running member reports a healthy
// cluster (a leader, quorum), at most a minute.
func (c *Cluster) WaitHealthy(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for _, m := range c.members {
		if !m.running() {
			continue
		}
		for !healthy(c.health, m.client) {
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(m.logFile)
				t.Fatalf("etcd member %s not healthy after a minute; log tail:\n%s", m.name, tail(string(log), 3000))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func (m *member) running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cmd != nil
}

func (m *member) start(initial, state string, tc *TLS) error {
	logf, err := os.OpenFile(m.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(Bin,
		"--name", m.name,
		"--data-dir", m.dataDir,
		"--listen-client-urls", m.client, "--advertise-client-urls", m.client,
		"--listen-peer-urls", m.peer, "--initial-advertise-peer-urls", m.peer,
		"--initial-cluster", initial, "--initial-cluster-state", state,
		"--initial-cluster-token", "mailwarden-test",
		"--heartbeat-interval", "100", "--election-timeout", "1000",
		"--logger", "zap", "--log-outputs", "stderr")
	if tc != nil {
		cmd.Args = append(cmd.Args, "--cert-file", tc.CertFile, "--key-file", tc.KeyFile,
			"--client-cert-auth", "--trusted-ca-file", tc.CAFile)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := dovecottest.StartChild(cmd); err != nil {
		return fmt.Errorf("start etcd %s: %w", m.name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	m.mu.Lock()
	m.cmd, m.done = cmd, done
	m.mu.Unlock()
	return nil
}

func (c *Cluster) stopAll() {
	for i := range c.members {
		c.Kill(i)
	}
}

// healthy asks a member's /health (etcd answers {"health":"true"} when
// the cluster has a leader and the member can serve).
func healthy(cl *http.Client, clientURL string) bool {
	resp, err := cl.Get(clientURL + "/health")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var b [128]byte
	n, _ := resp.Body.Read(b[:])
	return resp.StatusCode == 200 && strings.Contains(string(b[:n]), `"health":"true"`)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
