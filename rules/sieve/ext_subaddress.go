package sieve

// subaddress (RFC 5233): the :user and :detail address parts, with "+" as
// the separator (addressPartOf in core.go).

func init() {
	registerExtension("subaddress")
}
