package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const clusterBase = `accounts:
  - name: a
    host: imap.example.com
    username: me
    password_env: MW_PASS
`

func TestClusterSection(t *testing.T) {
	src := "cluster:\n  name: mw-1\n  endpoints: [\"127.0.0.1:2379\", \"http://127.0.0.1:22379\"]\n  lease_ttl: 15s\n  prefix: /mw/prod\n" + clusterBase
	dir := writeDir(t, src)
	cfg, errs := Parse("mailwarden.yaml", dir, []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	cl := cfg.Cluster
	if cl == nil {
		t.Fatal("no cluster section")
	}
	if cl.Name != "mw-1" || !slices.Equal(cl.Endpoints, []string{"127.0.0.1:2379", "http://127.0.0.1:22379"}) ||
		cl.LeaseTTL != 15*time.Second || cl.Prefix != "/mw/prod/" || cl.DialTimeout != DefaultDialTimeout || cl.TLS() {
		t.Errorf("cluster = %+v", cl)
	}
}

func TestClusterDefaults(t *testing.T) {
	src := "cluster:\n  endpoints: 127.0.0.1:2379, 127.0.0.1:2380\n" + clusterBase
	dir := writeDir(t, src)
	cfg, errs := Parse("mailwarden.yaml", dir, []byte(src))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	cl := cfg.Cluster
	if cl.Name == "" || cl.LeaseTTL != DefaultLeaseTTL || cl.Prefix != DefaultClusterPrefix || len(cl.Endpoints) != 2 {
		t.Errorf("cluster = %+v", cl)
	}
	if cfg2, _ := Parse("mailwarden.yaml", dir, []byte(clusterBase)); cfg2.Cluster != nil {
		t.Error("no cluster: section, but Cluster is set")
	}
}

func TestClusterErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"missing endpoints, bad name", "cluster:\n  name: \"mw 1\"\n", []string{
			`mailwarden.yaml:2:3: cluster.name: invalid replica name "mw 1" (hint: letters, digits, '.', '_' and '-', at most 64, unique among the replicas)`,
			`mailwarden.yaml:1:1: cluster.endpoints: missing (hint: the etcd members' client addresses, e.g. ["10.0.0.1:2379", "10.0.0.2:2379", "10.0.0.3:2379"])`,
		}},
		{"bad values", "cluster:\n  name: a\n  endpoints: [\"ftp://h:1\", \"h\", \"http://h:2379\"]\n  lease_ttl: 1500ms\n  prefix: mw\n  dial_timeout: 0s\n  tls_cert_file: pass\n  lease: 3s\n", []string{
			`mailwarden.yaml:8:3: cluster.lease: unknown key (hint: known keys are name, endpoints, lease_ttl, prefix, dial_timeout, tls_ca_file, tls_cert_file, tls_key_file, tls_server_name)`,
			`mailwarden.yaml:3:3: cluster.endpoints: invalid endpoint "ftp://h:1": scheme "ftp": want http or https (hint: host:port, http://host:port or https://host:port)`,
			`mailwarden.yaml:3:3: cluster.endpoints: invalid endpoint "h": address h: missing port in address (hint: host:port, http://host:port or https://host:port)`,
			`mailwarden.yaml:3:3: cluster.endpoints: http:// endpoint with TLS configured (hint: use https:// endpoints (or host:port) with TLS, or remove the tls_ keys)`,
			`mailwarden.yaml:4:3: cluster.lease_ttl: invalid lease 1.5s (hint: whole seconds from 2s to 5m; 10s is the default: a replica that stops answering loses its accounts this long after)`,
			`mailwarden.yaml:6:3: cluster.dial_timeout: must be positive, got 0s (hint: e.g. 5s)`,
			`mailwarden.yaml:5:3: cluster.prefix: must start with / and have no empty segment, got "mw" (hint: a key prefix such as "/mailwarden/")`,
			`mailwarden.yaml:7:3: cluster.tls_cert_file: set both or neither (hint: a client certificate needs both tls_cert_file and tls_key_file)`,
		}},
		{"with managesieve", "cluster:\n  name: a\n  endpoints: [\"h:2379\"]\nmanagesieve:\n  listen: 127.0.0.1:4190\n  tls: none\n  insecure_plaintext: true\n", []string{
			`mailwarden.yaml:4:1: managesieve: not supported together with cluster: yet: scripts are stored per replica (state_dir/sieve), and an account owned by another replica would silently not run them (hint: remove managesieve: from the replicas' config, or run the accounts that need it in a separate, unclustered mailwarden)`,
		}},
		{"missing CA file", "cluster:\n  name: a\n  endpoints: [\"https://h:2379\"]\n  tls_ca_file: ca.pem\n", []string{
			`mailwarden.yaml:4:3: cluster.tls_ca_file: DIR/ca.pem: no such file or directory`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src + clusterBase
			dir := writeDir(t, src)
			_, errs := Parse("mailwarden.yaml", dir, []byte(src))
			var got []string
			for _, e := range errs {
				got = append(got, strings.ReplaceAll(e.Error(), dir, "DIR"))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}
