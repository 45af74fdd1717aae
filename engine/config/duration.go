package config

import (
	"time"

	"github.com/mailwarden/mailwarden/internal/duration"
)

// ParseDuration parses a Go duration ("1h30m", "90s") that may also use
// the units d (24h) and w (7×24h): "90d", "2w", "1d12h", "1.5d".
// Negative durations are refused. Rule expressions' duration() parses the
// same way (internal/duration).
func ParseDuration(s string) (time.Duration, error) { return duration.Parse(s) }
