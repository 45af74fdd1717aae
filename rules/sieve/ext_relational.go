package sieve

// relational (RFC 5231): the :value and :count match types are part of
// the matcher (match.go); comparator-i;ascii-numeric (RFC 4790 §9.1)
// enables that comparator.

func init() {
	registerExtension("relational", "comparator-i;ascii-numeric", "comparator-i;octet", "comparator-i;ascii-casemap", "comparator-i;unicode-casemap")
}
