package sieve

import (
	"fmt"
	"sort"
	"strings"
)

// normalize renders a Result in the line format of the oracle (Pigeonhole's
// sieve-test, see internal/sieveoracle): keep [flags="…"],
// fileinto "X" [create] [flags="…"], discard, error. Like Pigeonhole it
// prints explicit keep, implicit keep and fileinto "INBOX" all as keep,
// and merges duplicates.
func normalize(res *Result, execErr error) []string {
	if execErr != nil {
		// RFC 5228 §2.10.6: the actions are discarded and the message
		// kept, as Apply does (and as Pigeonhole reports it).
		return []string{"error", "keep"}
	}
	type entry struct {
		line  string
		key   string
		flags []string
		mbox  string
		creat bool
	}
	var out []*entry
	find := func(key string) *entry {
		for _, e := range out {
			if e.key == key {
				return e
			}
		}
		return nil
	}
	actions := res.Actions
	for _, a := range actions {
		switch a.Type {
		case "keep":
			if a.Implicit && execErr != nil {
				continue
			}
			if e := find("keep"); e != nil {
				if !a.Implicit {
					e.flags = a.Flags
				}
				continue
			}
			out = append(out, &entry{key: "keep", flags: a.Flags})
		case "fileinto":
			key := "fileinto\x00" + a.Mailbox
			if a.Mailbox == "INBOX" {
				key = "keep"
			}
			if e := find(key); e != nil {
				e.flags = a.Flags
				e.creat = e.creat || a.Create
				continue
			}
			out = append(out, &entry{key: key, flags: a.Flags, mbox: a.Mailbox, creat: a.Create})
		case "discard":
			if find("discard") == nil {
				out = append(out, &entry{key: "discard", line: "discard"})
			}
		case "redirect":
			// Pigeonhole prints the redirect whatever happens to it at
			// execution (our Declined loop check).
			key := "redirect\x00" + canonicalAddress(a.Address)
			if find(key) == nil {
				out = append(out, &entry{key: key, line: "redirect " + quote(a.Address)})
			}
		case "reject", "ereject":
			out = append(out, &entry{key: a.Type, line: a.Type + " " + quote(a.Reason)})
		case "vacation":
			// What Pigeonhole prints before executing: the period; its
			// reply rules (our Declined) apply at execution.
			l := "vacation"
			if a.Vacation != nil {
				l += fmt.Sprintf(" seconds=%d", a.Vacation.Period)
			}
			out = append(out, &entry{key: "vacation", line: l})
		}
	}
	var lines []string
	for _, e := range out {
		switch {
		case e.key == "keep":
			lines = append(lines, "keep"+fmtFlags(e.flags))
		case e.line != "":
			lines = append(lines, e.line)
		default:
			l := "fileinto " + quote(e.mbox)
			if e.creat {
				l += " create"
			}
			lines = append(lines, l+fmtFlags(e.flags))
		}
	}
	if execErr != nil {
		lines = append(lines, "error", "keep")
	}
	return lines
}

func fmtFlags(flags []string) string {
	if len(flags) == 0 {
		return ""
	}
	f := append([]string(nil), flags...)
	sort.Strings(f)
	var dedup []string
	for i, x := range f {
		if i == 0 || x != f[i-1] {
			dedup = append(dedup, x)
		}
	}
	return " flags=" + quote(strings.Join(dedup, " "))
}

func quote(s string) string {
	// sieve-test prints control characters in names as "?".
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return fmt.Sprintf(`"%s"`, s)
}
