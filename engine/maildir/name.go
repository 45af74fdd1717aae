package maildir

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// IMAP flags with a Maildir letter (https://cr.yp.to/proto/maildir.html,
// "info semantics"). $Forwarded (RFC 5788) is the keyword Maildir's P
// ("passed") stands for in mutt, notmuch and mbsync.
var letters = []struct {
	letter byte
	flag   string
}{
	{'D', `\Draft`},
	{'F', `\Flagged`},
	{'P', `$Forwarded`},
	{'R', `\Answered`},
	{'S', `\Seen`},
	{'T', `\Deleted`},
}

// letterOf returns the Maildir letter of an IMAP system flag (or of
// $Forwarded), 0 for a keyword.
func letterOf(flag string) byte {
	for _, l := range letters {
		if strings.EqualFold(l.flag, flag) {
			return l.letter
		}
	}
	return 0
}

// flagOf returns the IMAP flag of an upper-case Maildir letter, "" for one
// without a meaning.
func flagOf(c byte) string {
	for _, l := range letters {
		if l.letter == c {
			return l.flag
		}
	}
	return ""
}

// FileName is what a message file's name says. Parse reads any Maildir
// name; only mailwarden's carry UIDValidity and UID.
type FileName struct {
	// Base is the name up to the first "," or ":": what stays when
	// readers change the flags.
	Base string
	// Time is the first dot-separated field (Unix seconds), zero when
	// it is not a number.
	Time time.Time
	// UIDValidity and UID come from a unique part "V<n>U<n>"; 0 otherwise.
	UIDValidity, UID uint32
	// Size is the ",S=" field, -1 when absent.
	Size int64
	// Letters are the info letters after ":2," (upper case: flags, lower
	// case: keywords by dovecot-keywords index), as written.
	Letters string
}

// Build returns the file name of a message of uidValidity and uid with the
// given internal date, size and info letters (sorted by the caller), on
// host.
func Build(date time.Time, uidValidity, uid uint32, host string, size int64, lettersSorted string) string {
	return fmt.Sprintf("%d.V%dU%d.%s,S=%d:2,%s", date.Unix(), uidValidity, uid, host, size, lettersSorted)
}

// Parse reads a Maildir file name. It never fails: what does not parse is
// left zero (Size -1).
func Parse(name string) FileName {
	fn := FileName{Size: -1}
	rest, info, hasInfo := strings.Cut(name, ":")
	if hasInfo {
		// "2,FLAGS" is the only info kind in use; "1,..." is experimental.
		if l, ok := strings.CutPrefix(info, "2,"); ok {
			fn.Letters = l
		}
	}
	base, fields, _ := strings.Cut(rest, ",")
	fn.Base = base
	for _, f := range strings.Split(fields, ",") {
		if v, ok := strings.CutPrefix(f, "S="); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				fn.Size = n
			}
		}
	}
	parts := strings.SplitN(base, ".", 3)
	if sec, err := strconv.ParseInt(parts[0], 10, 64); err == nil && sec >= 0 {
		fn.Time = time.Unix(sec, 0)
	}
	if len(parts) >= 2 {
		fn.UIDValidity, fn.UID = parseUnique(parts[1])
	}
	return fn
}

// parseUnique reads "V<uidvalidity>U<uid>"; zeros when s is not that.
func parseUnique(s string) (uidValidity, uid uint32) {
	v, ok := strings.CutPrefix(s, "V")
	if !ok {
		return 0, 0
	}
	vs, us, ok := strings.Cut(v, "U")
	if !ok {
		return 0, 0
	}
	vn, err1 := strconv.ParseUint(vs, 10, 32)
	un, err2 := strconv.ParseUint(us, 10, 32)
	if err1 != nil || err2 != nil || vn == 0 || un == 0 {
		return 0, 0
	}
	return uint32(vn), uint32(un)
}

// Flags returns the IMAP flags of the name's letters: system flags for
// upper-case letters, keywords for lower-case ones looked up in kw (a
// folder's dovecot-keywords; a letter it does not name is dropped).
// Letters with no IMAP meaning are dropped.
func (fn FileName) Flags(kw *Keywords) []string {
	var out []string
	for i := 0; i < len(fn.Letters); i++ {
		c := fn.Letters[i]
		switch {
		case c >= 'A' && c <= 'Z':
			if f := flagOf(c); f != "" && !slices.Contains(out, f) {
				out = append(out, f)
			}
		case c >= 'a' && c <= 'z':
			if k := kw.Name(int(c - 'a')); k != "" && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// hostName returns the host part of new file names: the host name with
// "/" and ":" written \057 and \072, as the Maildir specification asks,
// and "," (which would start a field) as \054.
func hostName(h string) string {
	if h == "" {
		h = "localhost"
	}
	return strings.NewReplacer("/", `\057`, ":", `\072`, ",", `\054`).Replace(h)
}
