package rules

import "strings"

// System flags (RFC 9051 §2.3.2) and the special-use mailbox attributes
// (RFC 6154 §2) that rules may name.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
	// FlagRecent is RFC 3501's session flag: set by the server, never by a
	// client (RFC 9051 removed it).
	FlagRecent = `\Recent`

	Trash   = `\Trash`
	Archive = `\Archive`
	Junk    = `\Junk`
	Sent    = `\Sent`
	Drafts  = `\Drafts`
	All     = `\All`
	Flagged = `\Flagged`
)

var systemFlags = []string{FlagSeen, FlagAnswered, FlagFlagged, FlagDeleted, FlagDraft, FlagRecent}

// CanonicalFlag returns flag with a system flag in its canonical case
// (`\seen` → `\Seen`). Keywords are returned unchanged: IMAP compares them
// case-insensitively but servers keep the case they were first given.
func CanonicalFlag(flag string) string {
	if strings.HasPrefix(flag, `\`) {
		for _, s := range systemFlags {
			if strings.EqualFold(s, flag) {
				return s
			}
		}
	}
	return flag
}

// CanonicalFlags canonicalises every flag and drops case-insensitive
// duplicates, keeping the first spelling.
func CanonicalFlags(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		f = CanonicalFlag(f)
		if f != "" && !containsFold(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// IsSpecialUse reports whether mailbox names a special-use attribute
// (`\Trash`) rather than a mailbox.
func IsSpecialUse(mailbox string) bool { return strings.HasPrefix(mailbox, `\`) }

// ValidKeyword reports whether s can be an IMAP keyword: an atom
// (RFC 9051 §9 flag-keyword) with no backslash.
func ValidKeyword(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// ValidFlag reports whether s is a system flag or a valid keyword.
func ValidFlag(s string) bool {
	if strings.HasPrefix(s, `\`) {
		for _, f := range systemFlags {
			if strings.EqualFold(f, s) {
				return true
			}
		}
		return false
	}
	return ValidKeyword(s)
}
