package sieve

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

// date and currentdate (RFC 5260 §4, §5) and index (RFC 5260 §6, the
// :index/:last tags of header, address and date).

func init() {
	registerExtension("date", "index")
	registerTest("date", "date", compileDate)
	registerTest("currentdate", "date", compileDate)
}

var dateParts = []string{"year", "month", "day", "date", "julian", "hour", "minute", "second", "time", "iso8601", "std11", "zone", "weekday"}

type dateTest struct {
	current  bool
	header   *str
	part     string
	zone     *time.Location // fixed :zone
	zoneStr  *str           // :zone built from variables
	original bool
	m        *matcher
	idx      index
}

func compileDate(c *compiler, n *node) test {
	cur := n.name == "currentdate"
	tags := join(comparatorTags, matchTypeTags, []tagSpec{{name: "zone", val: vString, group: "zone"}})
	want := []vKind{vString, vStringList}
	if !cur {
		tags = join(tags, indexTags, []tagSpec{{name: "originalzone", group: "zone"}})
		want = []vKind{vString, vString, vStringList}
	}
	p, ok := c.args(n, tags, want)
	if !ok || !c.leafTest(n) {
		return nil
	}
	t := &dateTest{current: cur, original: p.has("originalzone"), idx: c.index(p)}
	i := 0
	if !cur {
		t.header = c.str(p.pos[0].strs[0], p.pos[0].pos)
		i = 1
	}
	pa := p.pos[i]
	t.part = strings.ToLower(pa.strs[0])
	if !containsString(dateParts, t.part) {
		c.errorf(pa.pos, c.didYouMean(t.part, dateParts), "unknown date part %q", pa.strs[0])
	}
	if z, a := p.str("zone"); a != nil {
		zs := c.str(z, a.pos)
		if zs.constant() {
			loc, ok := parseZone(z)
			if !ok {
				c.errorf(a.pos, `a zone is "+hhmm" or "-hhmm", e.g. "+0100"`, "invalid time zone %q", z)
			}
			t.zone = loc
		} else {
			t.zoneStr = zs
		}
	}
	t.m = c.matcher(n, p, p.pos[i+1])
	return t
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// parseZone parses an RFC 5260 §4.1 zone "+hhmm"/"-hhmm".
func parseZone(z string) (*time.Location, bool) {
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return nil, false
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil || h > 23 || m > 59 || !isDigit(z[1]) {
		return nil, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone(z, off), true
}

func (t *dateTest) eval(r *run) (bool, error) {
	var dates []time.Time
	if t.current {
		now := time.Now()
		if o := r.root.opts; o != nil && o.Now != nil {
			now = o.Now()
		}
		dates = []time.Time{now}
	} else {
		name := r.expand(t.header)
		// Without :index the date comes from the first field of that
		// name (as in Pigeonhole; a message has one Date).
		var field *rules.Field
		hdrs := [1][]rules.Field{r.m.Header.Fields()}
		t.idx.eachField([]string{name}, hdrs[:], func(_ int, f *rules.Field) bool {
			field = f
			return true
		})
		if field != nil {
			v := field.Value
			if strings.EqualFold(name, "received") {
				// RFC 5322 §3.6.7: the date of a Received field follows its
				// last ";".
				if i := strings.LastIndexByte(v, ';'); i >= 0 {
					v = v[i+1:]
				}
			}
			d, ok := parseDate(v)
			if ok {
				dates = append(dates, d)
			}
		}
	}
	var values []string
	for _, d := range dates {
		switch {
		case t.zone != nil:
			d = d.In(t.zone)
		case t.zoneStr != nil:
			loc, ok := parseZone(r.expand(t.zoneStr))
			if !ok {
				// RFC 5260 §4.1: an invalid zone from variables makes the
				// test fail.
				return false, nil
			}
			d = d.In(loc)
		case t.original && !t.current:
			// keep the header's own zone (RFC 5260 §4.1 :originalzone)
		default:
			d = d.In(r.root.location())
		}
		values = append(values, datePart(d, t.part))
	}
	return t.m.matchValues(r, values)
}

func (s *Script) location() *time.Location {
	if s.opts != nil && s.opts.Location != nil {
		return s.opts.Location
	}
	return time.Local
}

// parseDate parses an RFC 5322 date leniently: comments and a missing day
// of week are fine.
func parseDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '('); i > 0 {
		v = strings.TrimSpace(v[:i])
	}
	d, err := mail.ParseDate(v)
	if err != nil {
		return time.Time{}, false
	}
	return d, true
}

// datePart formats one RFC 5260 §4.2 date part.
func datePart(d time.Time, part string) string {
	switch part {
	case "year":
		return fmt.Sprintf("%04d", d.Year())
	case "month":
		return fmt.Sprintf("%02d", int(d.Month()))
	case "day":
		return fmt.Sprintf("%02d", d.Day())
	case "date":
		return d.Format("2006-01-02")
	case "julian":
		// Modified Julian Day: days since 1858-11-17.
		y, m, dd := d.Date()
		day := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
		mjdEpoch := time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC)
		return strconv.FormatInt(int64(day.Sub(mjdEpoch).Hours()/24), 10)
	case "hour":
		return fmt.Sprintf("%02d", d.Hour())
	case "minute":
		return fmt.Sprintf("%02d", d.Minute())
	case "second":
		return fmt.Sprintf("%02d", d.Second())
	case "time":
		return d.Format("15:04:05")
	case "iso8601":
		return d.Format("2006-01-02T15:04:05Z07:00")
	case "std11":
		return d.Format("Mon, 02 Jan 2006 15:04:05 -0700")
	case "zone":
		return d.Format("-0700")
	case "weekday":
		return strconv.Itoa(int(d.Weekday()))
	}
	return ""
}
