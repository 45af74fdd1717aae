package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Cluster is the optional `cluster:` section: this process is one replica
// of several that share the accounts through etcd (engine/cluster). Each
// account is run by exactly one live replica; without the section,
// mailwarden is one process with its state file, as always.
type Cluster struct {
	// Name identifies this replica among the others (letters, digits,
	// '.', '_' and '-'; at most 64). Default: the host name.
	Name string
	// Endpoints are the etcd members' client URLs: "host:port",
	// "http://host:port" or "https://host:port". Required.
	Endpoints []string
	// LeaseTTL is how long a replica that stops answering keeps its
	// accounts: its etcd lease's time to live, whole seconds, 2s to 5m.
	// Default DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Prefix is the etcd key prefix every key lives under, so several
	// deployments can share one etcd. Default DefaultClusterPrefix;
	// always ends in "/" after Validate.
	Prefix string
	// DialTimeout bounds connecting to etcd. Default 5s.
	DialTimeout time.Duration
	// TLS to etcd: used when an endpoint is https:// or any of these is
	// set. TLSCAFile is the CA (PEM) that signed the members'
	// certificates (default: the system's); TLSCertFile and TLSKeyFile
	// a client certificate, both or neither. Absolute after Validate.
	TLSCAFile, TLSCertFile, TLSKeyFile string
	TLSServerName                      string

	Pos Pos // the section
	pos map[string]Pos
}

// Defaults of the cluster section.
const (
	DefaultLeaseTTL      = 10 * time.Second
	DefaultClusterPrefix = "/mailwarden/"
	DefaultDialTimeout   = 5 * time.Second
)

// TLS reports whether etcd is reached over TLS.
func (c *Cluster) TLS() bool {
	if c.TLSCAFile != "" || c.TLSCertFile != "" || c.TLSKeyFile != "" || c.TLSServerName != "" {
		return true
	}
	for _, e := range c.Endpoints {
		if strings.HasPrefix(e, "https://") {
			return true
		}
	}
	return false
}

var clusterKeys = []string{"name", "endpoints", "lease_ttl", "prefix", "dial_timeout",
	"tls_ca_file", "tls_cert_file", "tls_key_file", "tls_server_name"}

func (d *decoder) cluster(k, n *yaml.Node, c *Config) {
	cl := &Cluster{Pos: d.pos(k)}
	cl.pos = d.mapping(n, "cluster", clusterKeys, func(key string, k, v *yaml.Node) {
		p := "cluster." + key
		switch key {
		case "name":
			cl.Name = d.str(k, v, p)
		case "endpoints":
			if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
				cl.Endpoints = strings.Fields(strings.ReplaceAll(v.Value, ",", " "))
				return
			}
			d.list(k, v, p, func(j int, item *yaml.Node) {
				cl.Endpoints = append(cl.Endpoints, d.str(item, item, fmt.Sprintf("%s[%d]", p, j)))
			})
		case "lease_ttl":
			cl.LeaseTTL = d.duration(k, v, p)
		case "prefix":
			cl.Prefix = d.str(k, v, p)
		case "dial_timeout":
			cl.DialTimeout = d.duration(k, v, p)
		case "tls_ca_file":
			cl.TLSCAFile = d.str(k, v, p)
		case "tls_cert_file":
			cl.TLSCertFile = d.str(k, v, p)
		case "tls_key_file":
			cl.TLSKeyFile = d.str(k, v, p)
		case "tls_server_name":
			cl.TLSServerName = d.str(k, v, p)
		}
	})
	c.Cluster = cl
}

// clusterDefaults fills in the name, lease, prefix and timeout, and
// resolves the TLS files.
func (c *Config) clusterDefaults() {
	cl := c.Cluster
	if cl == nil {
		return
	}
	if cl.Name == "" && cl.pos["name"] == (Pos{}) {
		if h, err := os.Hostname(); err == nil {
			cl.Name = h
		}
	}
	if cl.LeaseTTL == 0 && cl.pos["lease_ttl"] == (Pos{}) {
		cl.LeaseTTL = DefaultLeaseTTL
	}
	if cl.DialTimeout == 0 && cl.pos["dial_timeout"] == (Pos{}) {
		cl.DialTimeout = DefaultDialTimeout
	}
	if cl.Prefix == "" && cl.pos["prefix"] == (Pos{}) {
		cl.Prefix = DefaultClusterPrefix
	}
	if strings.HasPrefix(cl.Prefix, "/") && !strings.HasSuffix(cl.Prefix, "/") {
		cl.Prefix += "/"
	}
	cl.TLSCAFile = c.abs(cl.TLSCAFile)
	cl.TLSCertFile = c.abs(cl.TLSCertFile)
	cl.TLSKeyFile = c.abs(cl.TLSKeyFile)
}

var replicaName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (v *validator) cluster() {
	cl := v.c.Cluster
	if cl == nil {
		return
	}
	const path = "cluster"
	if !replicaName.MatchString(cl.Name) {
		v.add(cl.pos, path, "name", "letters, digits, '.', '_' and '-', at most 64, unique among the replicas", "invalid replica name %q", cl.Name)
	}
	if len(cl.Endpoints) == 0 {
		v.addAt(cl.Pos, path+".endpoints", `the etcd members' client addresses, e.g. ["10.0.0.1:2379", "10.0.0.2:2379", "10.0.0.3:2379"]`, "missing")
	}
	schemes := map[string]bool{}
	for _, e := range cl.Endpoints {
		scheme, err := checkEndpoint(e)
		if err != nil {
			v.add(cl.pos, path, "endpoints", `host:port, http://host:port or https://host:port`, "invalid endpoint %q: %v", e, err)
			continue
		}
		schemes[scheme] = true
	}
	if schemes["http"] && cl.TLS() {
		v.add(cl.pos, path, "endpoints", "use https:// endpoints (or host:port) with TLS, or remove the tls_ keys", "http:// endpoint with TLS configured")
	}
	if cl.LeaseTTL < 2*time.Second || cl.LeaseTTL > 5*time.Minute || cl.LeaseTTL%time.Second != 0 {
		v.add(cl.pos, path, "lease_ttl", "whole seconds from 2s to 5m; 10s is the default: a replica that stops answering loses its accounts this long after",
			"invalid lease %v", cl.LeaseTTL)
	}
	if cl.DialTimeout <= 0 {
		v.add(cl.pos, path, "dial_timeout", "e.g. 5s", "must be positive, got %v", cl.DialTimeout)
	}
	if !strings.HasPrefix(cl.Prefix, "/") || strings.Contains(cl.Prefix, "//") {
		v.add(cl.pos, path, "prefix", `a key prefix such as "/mailwarden/"`, "must start with / and have no empty segment, got %q", cl.Prefix)
	}
	if (cl.TLSCertFile == "") != (cl.TLSKeyFile == "") {
		v.add(cl.pos, path, "tls_cert_file", "a client certificate needs both tls_cert_file and tls_key_file", "set both or neither")
	}
	for _, k := range []string{"tls_ca_file", "tls_cert_file", "tls_key_file"} {
		f := map[string]string{"tls_ca_file": cl.TLSCAFile, "tls_cert_file": cl.TLSCertFile, "tls_key_file": cl.TLSKeyFile}[k]
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			v.add(cl.pos, path, k, "", "%v", unwrapPathError(err))
		}
	}
}

// checkEndpoint checks one endpoint and returns its scheme ("" for a bare
// host:port).
func checkEndpoint(e string) (string, error) {
	scheme := ""
	hostport := e
	if strings.Contains(e, "://") {
		u, err := url.Parse(e)
		if err != nil {
			return "", err
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", fmt.Errorf("scheme %q: want http or https", u.Scheme)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			return "", fmt.Errorf("want only a scheme, host and port")
		}
		scheme, hostport = u.Scheme, u.Host
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", err
	}
	if host == "" {
		return "", fmt.Errorf("no host")
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return "", err
	}
	return scheme, nil
}
