//go:build race

package faultproxy_test

// raceEnabled: go test -race. See TestTruncateMidLiteral.
const raceEnabled = true
