// Package duration parses the durations users write in the config file
// and in rule expressions: Go durations plus the units d (24h) and w
// (7×24h). It is one stdlib-only parser shared by engine/config (keys such
// as older_than) and rules/exprrule (the duration() function), so that
// "30d" means the same in both places.
package duration

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Hint is what a user is told when a duration does not parse.
const Hint = "e.g. 90s, 10m, 1h30m, 7d, 2w"

// Parse parses a Go duration ("1h30m", "90s") that may also use
// the units d (24h) and w (7×24h): "90d", "2w", "1d12h", "1.5d".
// Negative durations are refused.
func Parse(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if s == "0" {
		return 0, nil
	}
	if s[0] == '-' || s[0] == '+' {
		return 0, errors.New("a duration cannot be signed")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, errors.New("expected a number")
		}
		num := rest[:i]
		j := i
		for j < len(rest) && !(rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		unit := rest[i:j]
		rest = rest[j:]
		var d time.Duration
		switch unit {
		case "d", "w":
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, errors.New("bad number " + strconv.Quote(num))
			}
			h := 24.0
			if unit == "w" {
				h = 7 * 24
			}
			if f*h > 1e6 {
				return 0, errors.New("too long")
			}
			d = time.Duration(f * h * float64(time.Hour))
		case "":
			return 0, errors.New("missing unit in " + strconv.Quote(num))
		default:
			var err error
			if d, err = time.ParseDuration(num + unit); err != nil {
				return 0, errors.New("unknown unit " + strconv.Quote(unit))
			}
		}
		total += d
		if total < 0 {
			return 0, errors.New("too long")
		}
	}
	return total, nil
}
