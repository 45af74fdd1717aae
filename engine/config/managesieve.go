package config

import (
	"net"
	"os"

	"go.yaml.in/yaml/v3"
)

// ManageSieve is the optional `managesieve:` section: the daemon's
// ManageSieve server (RFC 5804), through which mail clients edit each
// account's Sieve scripts. A rule set runs an account's active script
// with the step `- managesieve: active`.
type ManageSieve struct {
	// Listen is host:port (4190 is ManageSieve's port). A port alone
	// (":4190") listens on 127.0.0.1 only.
	Listen string
	// TLS is starttls (default) or implicit (TLS from the first byte),
	// both with cert_file and key_file, or none (insecure_plaintext and a
	// loopback listen address required).
	TLS               string
	CertFile, KeyFile string // PEM; absolute after Validate
	InsecurePlaintext bool
	// MaxScriptSize (bytes, default 256 KiB) and MaxScripts (per account,
	// default 50) bound what one account may store.
	MaxScriptSize int
	MaxScripts    int

	Pos Pos // the section
	pos map[string]Pos
}

// StepManageSieveActive is the only value of a `managesieve:` step.
const StepManageSieveActive = "active"

var manageSieveKeys = []string{"listen", "tls", "cert_file", "key_file", "insecure_plaintext", "max_script_size", "max_scripts"}

func (d *decoder) manageSieve(k, n *yaml.Node, c *Config) {
	m := &ManageSieve{Pos: d.pos(k)}
	m.pos = d.mapping(n, "managesieve", manageSieveKeys, func(key string, k, v *yaml.Node) {
		p := "managesieve." + key
		switch key {
		case "listen":
			m.Listen = d.str(k, v, p)
		case "tls":
			m.TLS = d.str(k, v, p)
		case "cert_file":
			m.CertFile = d.str(k, v, p)
		case "key_file":
			m.KeyFile = d.str(k, v, p)
		case "insecure_plaintext":
			m.InsecurePlaintext = d.boolean(k, v, p)
		case "max_script_size":
			m.MaxScriptSize = d.integer(k, v, p)
		case "max_scripts":
			m.MaxScripts = d.integer(k, v, p)
		}
	})
	c.ManageSieve = m
}

func (c *Config) manageSieveDefaults() {
	m := c.ManageSieve
	if m == nil {
		return
	}
	if m.TLS == "" {
		m.TLS = TLSStartTLS
	}
	m.CertFile = c.abs(m.CertFile)
	m.KeyFile = c.abs(m.KeyFile)
	if m.MaxScriptSize == 0 && m.pos["max_script_size"] == (Pos{}) {
		m.MaxScriptSize = 256 << 10
	}
	if m.MaxScripts == 0 && m.pos["max_scripts"] == (Pos{}) {
		m.MaxScripts = 50
	}
}

func (v *validator) manageSieve() {
	m := v.c.ManageSieve
	if m == nil {
		return
	}
	const path = "managesieve"
	if v.c.Cluster != nil {
		// Stored scripts live in the replica's state_dir; an account
		// owned by another replica would never run them.
		v.addAt(m.Pos, path, "remove managesieve: from the replicas' config, or run the accounts that need it in a separate, unclustered mailwarden",
			"not supported together with cluster: yet: scripts are stored per replica (state_dir/sieve), and an account owned by another replica would silently not run them")
	}
	host := ""
	if m.Listen == "" {
		v.addAt(m.Pos, path+".listen", `host:port such as "127.0.0.1:4190", or ":4190" for 127.0.0.1`, "missing")
	} else {
		h, port, err := net.SplitHostPort(m.Listen)
		if err == nil {
			_, err = net.LookupPort("tcp", port)
		}
		if err != nil {
			v.add(m.pos, path, "listen", `host:port such as "127.0.0.1:4190", or ":4190" for 127.0.0.1`, "invalid address %q: %v", m.Listen, err)
		} else if h == "" {
			m.Listen = net.JoinHostPort("127.0.0.1", port)
			h = "127.0.0.1"
		}
		host = h
	}
	switch m.TLS {
	case TLSStartTLS, TLSImplicit:
		for _, k := range []string{"cert_file", "key_file"} {
			f := m.CertFile
			if k == "key_file" {
				f = m.KeyFile
			}
			if f == "" {
				v.addAt(m.Pos, path+"."+k, "TLS needs the server's certificate and key (PEM); or tls: none with insecure_plaintext on a loopback address", "missing")
			} else if _, err := os.Stat(f); err != nil {
				v.add(m.pos, path, k, "", "%v", unwrapPathError(err))
			}
		}
		if m.InsecurePlaintext {
			v.add(m.pos, path, "insecure_plaintext", "remove it, or set tls: none", "only allowed with tls: none")
		}
	case TLSNone:
		if !m.InsecurePlaintext {
			v.add(m.pos, path, "tls", "use tls: starttls with cert_file and key_file, or add insecure_plaintext: true (loopback only)",
				"none sends passwords and scripts in clear text")
		} else if ip := net.ParseIP(host); host != "" && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			v.add(m.pos, path, "listen", "listen on 127.0.0.1, or use tls: starttls", "tls: none is allowed on a loopback address only, got %q", host)
		}
	default:
		v.enum(m.pos, path, "tls", m.TLS, []string{TLSStartTLS, TLSImplicit, TLSNone})
	}
	if m.MaxScriptSize < 0 || (m.pos["max_script_size"] != (Pos{}) && m.MaxScriptSize == 0) {
		v.add(m.pos, path, "max_script_size", "bytes, such as 262144", "must be positive, got %d", m.MaxScriptSize)
	}
	if m.MaxScripts < 0 || (m.pos["max_scripts"] != (Pos{}) && m.MaxScripts == 0) {
		v.add(m.pos, path, "max_scripts", "scripts per account, such as 50", "must be positive, got %d", m.MaxScripts)
	}
}
