package message

import (
	"strconv"
	"strings"
	"time"
)

// ParseDate parses a Date header value leniently, token by token.
//
// Accepted beyond RFC 5322 §3.3: a missing day of week or one that does
// not match, single-digit days and hours, missing seconds, a missing zone
// (UTC), named zones (RFC 5322 §4.3 obsolete zones plus common ones such as
// CET or PST; unknown names count as UTC), "+01:00" offsets, two- and
// three-digit years (RFC 5322 §4.3), comments anywhere ("(PDT)"), the
// asctime and date(1) forms ("Mon Jan  2 15:04:05 MST 2006") and ISO 8601
// ("2006-01-02T15:04:05Z", "2006-01-02 15:04:05").
func ParseDate(s string) (time.Time, bool) {
	s = stripComments(s)
	if t, err := time.Parse(time.RFC3339, strings.TrimSpace(s)); err == nil {
		return t, true
	}
	var (
		day, month, year = -1, -1, -1
		hour, min, sec   int
		nsec             int
		haveTime         bool
		offset           = 0
		haveZone         bool
	)
	s = strings.Map(func(r rune) rune {
		if r == ',' {
			return ' '
		}
		return r
	}, s)
	toks := strings.Fields(s)
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		switch {
		case tok == "":
		case strings.ContainsRune(tok, ':') && isDigit(tok[0]):
			if haveTime {
				continue
			}
			// ISO "15:04:05Z" / "15:04:05+01:00" glued forms.
			t := tok
			if k := strings.IndexAny(t, "Zz+-"); k > 0 {
				if off, ok := parseOffset(t[k:]); ok && !haveZone {
					offset, haveZone = off, true
				}
				t = t[:k]
			}
			h, m, sc, ns, ok := parseClock(t)
			if !ok {
				return time.Time{}, false
			}
			hour, min, sec, nsec, haveTime = h, m, sc, ns, true
		case (tok[0] == '+' || tok[0] == '-') && len(tok) > 1 && isDigit(tok[1]):
			if off, ok := parseOffset(tok); ok && !haveZone {
				offset, haveZone = off, true
			}
		case isDigit(tok[0]) && strings.Count(tok, "-") == 2:
			// ISO date "2006-01-02" (maybe "2006-01-02T15:04:05").
			d := tok
			if k := strings.IndexAny(d, "Tt"); k > 0 {
				toks = append(toks[:i+1], append([]string{d[k+1:]}, toks[i+1:]...)...)
				d = d[:k]
			}
			p := strings.Split(d, "-")
			if len(p) != 3 {
				return time.Time{}, false
			}
			y, e1 := strconv.Atoi(p[0])
			mo, e2 := strconv.Atoi(p[1])
			dd, e3 := strconv.Atoi(p[2])
			if e1 != nil || e2 != nil || e3 != nil {
				return time.Time{}, false
			}
			year, month, day = y, mo, dd
		case allDigits(tok):
			n, err := strconv.Atoi(tok)
			if err != nil {
				return time.Time{}, false
			}
			switch {
			case day < 0 && len(tok) <= 2 && n >= 1 && n <= 31:
				day = n
			case year < 0:
				year = fixYear(n, len(tok))
			case day < 0:
				day = n
			}
		case isLetter(tok[0]):
			word := strings.TrimRight(tok, ".")
			if mo := monthOf(word); mo > 0 && month < 0 {
				month = mo
				continue
			}
			if isWeekday(word) {
				continue
			}
			if off, ok := zoneOffset(word); ok {
				if !haveZone {
					offset, haveZone = off, true
				}
				continue
			}
			// "GMT+0100", "UTC+1"
			if k := strings.IndexAny(word, "+-"); k > 0 {
				if off, ok := parseOffset(word[k:]); ok && !haveZone {
					offset, haveZone = off, true
				}
			}
			// Any other word (an unknown zone name, "at") is ignored.
		}
	}
	if day < 1 || month < 1 || year < 0 {
		return time.Time{}, false
	}
	if day > 31 || month > 12 || hour > 23 || min > 59 || sec > 60 {
		return time.Time{}, false
	}
	if sec == 60 { // leap second
		sec = 59
	}
	loc := time.UTC
	if haveZone && offset != 0 {
		loc = time.FixedZone("", offset)
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, loc)
	if t.Day() != day { // 31 Feb
		return time.Time{}, false
	}
	_ = haveTime
	return t, true
}

func stripComments(s string) string {
	if !strings.ContainsRune(s, '(') {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '(':
			depth++
			b.WriteByte(' ')
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func parseClock(t string) (h, m, s, ns int, ok bool) {
	parts := strings.Split(t, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, 0, 0, false
	}
	var err error
	if h, err = strconv.Atoi(parts[0]); err != nil {
		return 0, 0, 0, 0, false
	}
	if m, err = strconv.Atoi(parts[1]); err != nil {
		return 0, 0, 0, 0, false
	}
	if len(parts) == 3 {
		sp := parts[2]
		if k := strings.IndexByte(sp, '.'); k >= 0 {
			frac := sp[k+1:]
			sp = sp[:k]
			if len(frac) > 9 {
				frac = frac[:9]
			}
			if f, err := strconv.Atoi(frac); err == nil && len(frac) > 0 {
				for i := len(frac); i < 9; i++ {
					f *= 10
				}
				ns = f
			}
		}
		if s, err = strconv.Atoi(sp); err != nil {
			return 0, 0, 0, 0, false
		}
	}
	return h, m, s, ns, h >= 0 && m >= 0 && s >= 0
}

// parseOffset parses "+0100", "-07:00", "+1", "Z".
func parseOffset(z string) (int, bool) {
	if z == "Z" || z == "z" {
		return 0, true
	}
	if len(z) < 2 || (z[0] != '+' && z[0] != '-') {
		return 0, false
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	d := strings.ReplaceAll(z[1:], ":", "")
	if !allDigits(d) {
		return 0, false
	}
	var h, m int
	switch len(d) {
	case 1, 2:
		h, _ = strconv.Atoi(d)
	case 3:
		h, _ = strconv.Atoi(d[:1])
		m, _ = strconv.Atoi(d[1:])
	case 4:
		h, _ = strconv.Atoi(d[:2])
		m, _ = strconv.Atoi(d[2:])
	default:
		return 0, false
	}
	if h > 14 || m > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

// fixYear applies RFC 5322 §4.3: two-digit years below 50 are 20xx, other
// two- and three-digit years add 1900.
func fixYear(n, digits int) int {
	switch {
	case digits <= 2 && n < 50:
		return 2000 + n
	case digits <= 3:
		return 1900 + n
	}
	return n
}

var months = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

func monthOf(w string) int {
	if len(w) < 3 {
		return 0
	}
	p := strings.ToLower(w[:3])
	for i, m := range months {
		if p == m {
			return i + 1
		}
	}
	return 0
}

func isWeekday(w string) bool {
	if len(w) < 3 {
		return false
	}
	switch strings.ToLower(w[:3]) {
	case "mon", "tue", "wed", "thu", "fri", "sat", "sun":
		return true
	}
	return false
}

// zones are the named zones seen in Date headers: RFC 5322 §4.3 obsolete
// zones plus common abbreviations. Military single letters other than Z
// are treated as UTC, as RFC 5322 §4.3 advises.
var zones = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
	"EST": -5 * 3600, "EDT": -4 * 3600,
	"CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600,
	"PST": -8 * 3600, "PDT": -7 * 3600,
	"AKST": -9 * 3600, "AKDT": -8 * 3600, "HST": -10 * 3600,
	"BST": 3600, "IST": 3600, "WEST": 3600, "CET": 3600, "MET": 3600,
	"CEST": 2 * 3600, "MEST": 2 * 3600, "EET": 2 * 3600, "EEST": 3 * 3600,
	"MSK": 3 * 3600, "JST": 9 * 3600, "KST": 9 * 3600,
	"AEST": 10 * 3600, "AEDT": 11 * 3600, "NZST": 12 * 3600, "NZDT": 13 * 3600,
}

func zoneOffset(w string) (int, bool) {
	if off, ok := zones[strings.ToUpper(w)]; ok {
		return off, true
	}
	if len(w) == 1 { // military zones
		return 0, true
	}
	return 0, false
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
