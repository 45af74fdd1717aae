//go:build race

package soak

// raceEnabled: this test binary is built with -race; the daemon is too, by default.
const raceEnabled = true
