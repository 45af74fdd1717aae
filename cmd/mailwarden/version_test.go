package main

import (
	"debug/buildinfo"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "-buildmode", Value: "exe"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	for _, tt := range []struct {
		name     string
		override string
		info     *debug.BuildInfo
		want     string
	}{
		{"go install of a tag", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}},
			"mailwarden v1.2.3 (go1.26.8)"},
		{"build in a modified checkout", "", &debug.BuildInfo{GoVersion: "go1.26.8",
			Main: debug.Module{Version: "v0.0.0-20260102030405-0123456789ab+dirty"}, Settings: vcs},
			"mailwarden v0.0.0-20260102030405-0123456789ab+dirty (commit 0123456789ab, 2026-01-02T03:04:05Z, modified, go1.26.8)"},
		{"clean checkout without a version", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}},
			"mailwarden devel (commit abc, go1.26.8)"},
		{"ldflags override", "v9.9.9", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"mailwarden v9.9.9 (commit 0123456789ab, 2026-01-02T03:04:05Z, modified, go1.26.8)"},
		{"no build info", "", nil, "mailwarden devel"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionString(tt.override, tt.info); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A real build prints what its build info says (not a fixed "dev"), and
// -ldflags -X main.version still overrides the version.
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command twice")
	}
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	dir := t.TempDir()
	build := func(name string, args ...string) string {
		t.Helper()
		bin := filepath.Join(dir, name)
		out, err := exec.Command(goCmd, append(append([]string{"build", "-o", bin}, args...), ".")...).CombinedOutput()
		if err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		return bin
	}
	version := func(bin string) string {
		t.Helper()
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatalf("%s version: %v", bin, err)
		}
		return strings.TrimSpace(string(out))
	}

	plain := build("plain")
	info, err := buildinfo.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	got := version(plain)
	if want := versionString("", info); got != want {
		t.Errorf("version = %q, want %q (from the binary's build info)", got, want)
	}
	if !strings.Contains(got, info.GoVersion) {
		t.Errorf("version = %q lacks the Go version %s", got, info.GoVersion)
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && !strings.Contains(got, s.Value[:12]) {
			t.Errorf("version = %q lacks the commit %s", got, s.Value)
		}
	}

	release := build("release", "-ldflags", "-X main.version=v9.8.7")
	if got := version(release); !strings.HasPrefix(got, "mailwarden v9.8.7 (") {
		t.Errorf("with -X main.version=v9.8.7: %q", got)
	}
}
