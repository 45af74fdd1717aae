package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version overrides the version taken from the build info; a release
// build sets it with -ldflags "-X main.version=v1.2.3".
var version string

func cmdVersion(_ []string, stdout, _ io.Writer) int {
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionString(version, info))
	return exitOK
}

// versionString describes the binary: the version (override, else the main
// module's version as the go command stamped it: a tag for `go install
// …@v1.2.3`, a pseudo-version for a build in a git checkout, "devel"
// otherwise), then the commit, its time and whether the tree had
// uncommitted changes, when the build recorded them, and the Go version:
//
//	mailwarden v1.2.3 (commit 0123456789ab, 2026-01-02T03:04:05Z, modified, go1.26.8)
func versionString(override string, info *debug.BuildInfo) string {
	v := override
	if v == "" && info != nil && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	if v == "" {
		v = "devel"
	}
	if info == nil {
		return "mailwarden " + v
	}
	var details []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		details = append(details, "commit "+rev[:min(12, len(rev))])
	}
	if t := settings["vcs.time"]; t != "" {
		details = append(details, t)
	}
	if settings["vcs.modified"] == "true" {
		details = append(details, "modified")
	}
	if info.GoVersion != "" {
		details = append(details, info.GoVersion)
	}
	if len(details) == 0 {
		return "mailwarden " + v
	}
	return fmt.Sprintf("mailwarden %s (%s)", v, strings.Join(details, ", "))
}

// daemonVersion is the version the daemon reports (status, metrics):
// versionString without the program name.
func daemonVersion() string {
	info, _ := debug.ReadBuildInfo()
	return strings.TrimPrefix(versionString(version, info), "mailwarden ")
}
