// Package exprrule implements rules written as expr-lang expressions
// (github.com/expr-lang/expr), compiled and type-checked once at load.
//
// A rule is a boolean expression ("when") and a list of actions. When the
// expression is true for a message, the actions are recorded in the
// message's [rules.Plan]; with "stop" the rule set ends there for that
// message. Evaluation never talks to a server.
//
// # Environment
//
// The expression sees these names (and nothing else; an unknown name is a
// compile error with a "did you mean" hint):
//
//	subject        string     decoded Subject ("" when absent)
//	from           address    first From address (zero value when none)
//	to, cc         []address  all To / Cc addresses, in order, across repeated fields
//	reply_to       []address  all Reply-To addresses
//	header(name)   string     first field called name, decoded ("" when absent); name is case-insensitive
//	headers(name)  []string   every field called name, decoded, in order
//	has_header(n)  bool       whether a field called n exists
//	list_id        string     the id inside <> of List-Id, lower-cased ("golang-nuts.googlegroups.com"); "" when absent
//	message_id     string     Message-ID without <> ("" when absent)
//	date           time.Time  the Date header (zero time when absent or unusable)
//	internal_date  time.Time  IMAP INTERNALDATE (file mtime for .eml input)
//	age            duration   now - internal_date (now is Options.Now, default time.Now)
//	size           int        message size in bytes (RFC822.SIZE)
//	flags          []string   current flags and keywords (`\Seen`, `vip`)
//	has_flag(f)    bool       whether the message has flag f (case-insensitive, as IMAP flags are)
//	number(s)      float      the decimal number at the start of s, 0 when none: number(header("X-Spam-Score")) >= 5
//	mailbox        string     the mailbox the message is in ("INBOX")
//	account        string     the account name from the config
//
// An address has the fields
//
//	.address  "local@domain" with the domain lower-cased (the local part as written)
//	.name     decoded display name ("" when none)
//	.domain   domain, lower-cased
//	.local    local part, as written
//
// so comparisons read naturally:
//
//	from.address == "boss@example.com"
//	from.domain in ["example.com", "example.org"]
//	"team@example.com" in map(to, .address)
//	any(to, .domain == "example.com") || any(cc, .domain == "example.com")
//	list_id == "golang-nuts.googlegroups.com"
//	subject matches "(?i)\\binvoice\\b" && size < 5 * 1024 * 1024
//	has_header("List-Unsubscribe") && !has_flag("\\Flagged")
//	age > duration("30d")
//
// Everything else is expr's own language (https://expr-lang.org): the
// operators ==, !=, <, in, not in, contains, startsWith, endsWith, matches,
// and, or, not, ?:, ??; and builtins such as lower, upper, trim, split, len,
// any, all, none, filter, map, count, duration, now, date. duration() is the
// config file's: Go durations plus d (days) and w (weeks), "30d", "2w",
// "1d12h" (expr's own accepts Go's units only). String comparisons
// are case-sensitive: write lower(subject) contains "invoice", or a regex
// with (?i). The `matches` operator uses Go's RE2 syntax (linear time, no
// back-references); a constant pattern is compiled, and its syntax checked,
// when the rule is compiled.
//
// # Limits
//
// Expressions are type-checked against the environment and must yield a
// boolean, so a typo or a type mismatch is a load-time error, never a
// runtime one. Every part that does not depend on the message
// (duration("30x"), int("n/a")) is evaluated at load too, and one that
// fails is a load-time error located at that part: at run time it would
// fail for every message. Parts that depend on the message are not tried
// on made-up mail; such a runtime error fails only the messages it occurs
// for, which keeps them where they are (the rule set's contract). The expression size is capped by Options.MaxNodes (default
// 1000 AST nodes; DESIGN.md "rules run sandboxed with limits"), and expr's
// VM caps the memory one evaluation may allocate.
//
// # Actions
//
//	move: MAILBOX     copy to MAILBOX (created when missing) and remove the original
//	copy: MAILBOX     copy to MAILBOX (created when missing), keep the original
//	flag: FLAG        add a flag in place; `\Seen`-style names are system flags,
//	                  any other atom is a keyword (a label)
//	unflag: FLAG      remove a flag in place
//	delete: true      move to the special-use Trash mailbox (RFC 6154); never expunges
//
// MAILBOX may be a special-use attribute (`\Junk`, `\Archive`, `\Trash`),
// which the executor resolves on the server. Several moves copy the message
// to each mailbox and remove the original once.
package exprrule
