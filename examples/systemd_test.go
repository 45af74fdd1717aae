package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The systemd unit is valid (systemd-analyze verify prints nothing about
// it) and hardened (systemd-analyze security rates its exposure 2.0 or
// lower, "OK", where an unhardened service scores 9.6). Skipped where
// systemd-analyze is not installed (Debian: apt-get install systemd).
func TestSystemdUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd)")
	}
	src, err := os.ReadFile("systemd/mailwarden.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ExecStart=/usr/local/bin/mailwarden run -c %E/mailwarden/mailwarden.yaml\n",
		"ExecReload=/bin/kill -HUP $MAINPID\n",
		"Restart=on-failure\n",
		"StateDirectory=mailwarden\n",
		"ConfigurationDirectory=mailwarden\n",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	// verify checks that the programs exist: point ExecStart at one that
	// does (this test's binary) in a copy of the unit.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "mailwarden.service")
	if err := os.WriteFile(unit, []byte(strings.Replace(string(src), "ExecStart=/usr/local/bin/mailwarden", "ExecStart="+self, 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// verify exits 0 on warnings such as an unknown key: any line about
	// the unit is a failure.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "mailwarden") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}

	out, err = exec.Command(analyze, "security", "--offline=true", "--threshold=20", unit).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "offline") && strings.Contains(string(out), "unrecognized") {
			t.Skipf("this systemd-analyze cannot assess a unit offline (systemd 250 or later can)")
		}
		t.Errorf("systemd-analyze security: exposure above 2.0 (%v):\n%s", err, out)
	}
}
