// Package sieve is mailwarden's own Sieve (RFC 5228) implementation:
// lexer, parser, validator and interpreter. A compiled [Script] records
// decisions as a [rules.Plan]; it never talks to a server.
//
// See the package documentation at the end of development for the full
// model; this is a working core.
package sieve
