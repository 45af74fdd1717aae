package sieve

// unavailable lists Sieve extensions mailwarden knows of but does not
// implement, each with the commands and tests it adds. `require` accepts
// them: a script written for several servers, or exported from one,
// often names more than it uses, and scripts should run as people have
// them (RFC 5228 §3.2 would fail the whole script; we fail only a use).
// A command or test of one is a compile error where it is used: with the
// reason from unsupported when there is one (notify, editheader), else naming its extension.
var unavailable = map[string][]string{
	// RFC 5435 (and the draft Cyrus and Fastmail still accept).
	"enotify": {"notify", "valid_notify_method", "notify_method_capability"},
	"notify":  {"notify", "denotify"},
	// RFC 5293: IMAP messages are immutable.
	"editheader": {"addheader", "deleteheader"},
	// RFC 6009, RFC 6134, RFC 8580, RFC 9042, RFC 5490 §4, RFC 5703 §5-6,
	// RFC 6558, RFC 9671, draft-ietf-sieve-imapflags.
	"envelope-dsn":       nil,
	"envelope-deliverby": nil,
	"redirect-dsn":       nil,
	"redirect-deliverby": nil,
	"extlists":           {"valid_ext_list"},
	"fcc":                nil,
	"mailboxid":          {"mailboxidexists"},
	"mboxmetadata":       {"metadata", "metadataexists"},
	"servermetadata":     {"servermetadata", "servermetadataexists"},
	"replace":            {"replace"},
	"enclose":            {"enclose"},
	"convert":            {"convert"},
	"processcalendar":    {"processcalendar"},
	"imapflags":          {"mark", "unmark"},
	// Vendor extensions of Dovecot (Pigeonhole), Cyrus (Fastmail) and
	// Proton.
	"vnd.dovecot.debug":       {"debug_log"},
	"vnd.dovecot.pipe":        {"pipe"},
	"vnd.dovecot.filter":      {"filter"},
	"vnd.dovecot.execute":     {"execute"},
	"vnd.dovecot.environment": nil,
	"vnd.dovecot.report":      {"report"},
	"vnd.cyrus.log":           {"log"},
	"vnd.cyrus.jmapquery":     {"jmapquery"},
	"vnd.cyrus.snooze":        {"snooze"},
	"snooze":                  {"snooze"},
	"vnd.proton.expire":       {"expire", "unexpire", "hasexpiration", "expiration"},
}

// unavailableFor returns the extension that defines the command or test
// name, or "" when none of unavailable does.
func unavailableFor(name string) string {
	best := ""
	for ext, names := range unavailable {
		for _, n := range names {
			// Several extensions may define a name (notify); report
			// the same one every time.
			if n == name && (best == "" || ext < best) {
				best = ext
			}
		}
	}
	return best
}
