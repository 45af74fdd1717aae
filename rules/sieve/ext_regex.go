package sieve

// regex (draft-ietf-sieve-regex-01): the :regex match type (match.go) and
// the :quoteregex modifier of set. Expressions are Go's RE2: POSIX ERE
// syntax with leftmost-longest semantics where the expression is ERE,
// RE2 syntax otherwise; there is no backtracking, so no expression can
// hang the daemon. Options.MaxRegexSize bounds their length.

func init() {
	registerExtension("regex")
}
