package maildir

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// AccountRoot is the Maildir++ root of account's backups under the
// directory dir: dir/<account>, with "/" in the name written \2f and a
// leading "." \2e, so that it stays one visible directory.
func AccountRoot(dir, account string) string {
	name := strings.ReplaceAll(account, "/", `\2f`)
	if strings.HasPrefix(name, ".") {
		name = `\2e` + name[1:]
	}
	return filepath.Join(dir, name)
}

// FolderName returns the directory, relative to an account's root, that
// holds mailbox, whose hierarchy delimiter is delim (0: flat): "" for
// INBOX (the root itself), ".Archive.2024" for Archive/2024. Characters
// Maildir++ cannot hold in a level are escaped as Dovecot's listescape
// plugin does (\NN, hex).
func FolderName(mailbox string, delim rune) string {
	if strings.EqualFold(mailbox, "INBOX") {
		return ""
	}
	levels := []string{mailbox}
	if delim != 0 {
		levels = strings.Split(mailbox, string(delim))
	}
	var b strings.Builder
	for _, l := range levels {
		b.WriteByte('.')
		b.WriteString(escapeLevel(l))
	}
	return b.String()
}

// escapeLevel escapes one hierarchy level for a Maildir++ directory name.
func escapeLevel(l string) string {
	var b strings.Builder
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c == '.' || c == '/' || c == '\\' || c < 0x20 || c == 0x7f || c == '~' && i == 0:
			fmt.Fprintf(&b, `\%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapeLevel undoes escapeLevel (and Dovecot's listescape); a "\" not
// followed by two hex digits is kept.
func unescapeLevel(l string) string {
	if !strings.Contains(l, `\`) {
		return l
	}
	var b strings.Builder
	for i := 0; i < len(l); i++ {
		if l[i] == '\\' && i+2 < len(l) {
			if n, err := strconv.ParseUint(l[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(l[i])
	}
	return b.String()
}

// Levels returns the mailbox hierarchy levels a folder directory name
// stands for: nil for the root (INBOX), [Archive 2024] for
// ".Archive.2024" (Maildir++), and for a directory of a plain tree (fs
// layout, given as a slash-separated path relative to the root) its path
// elements.
func Levels(rel string) []string {
	rel = filepath.ToSlash(rel)
	if rel == "" || rel == "." {
		return nil
	}
	if strings.HasPrefix(rel, ".") && !strings.Contains(rel, "/") {
		var out []string
		for _, l := range strings.Split(rel[1:], ".") {
			out = append(out, unescapeLevel(l))
		}
		return out
	}
	var out []string
	for _, l := range strings.Split(rel, "/") {
		out = append(out, unescapeLevel(l))
	}
	return out
}

// MailboxName joins levels with the server's delimiter (INBOX for none).
func MailboxName(levels []string, delim rune) string {
	if len(levels) == 0 {
		return "INBOX"
	}
	if delim == 0 {
		delim = '/'
	}
	return strings.Join(levels, string(delim))
}
