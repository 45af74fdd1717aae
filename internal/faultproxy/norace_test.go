//go:build !race

package faultproxy_test

const raceEnabled = false
