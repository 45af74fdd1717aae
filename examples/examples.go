// Package examples holds the sample configuration, Sieve rules and
// messages that `mailwarden demo` runs and the README walks through. They
// are ordinary files (read them, copy them); this package only embeds them
// into the binary so the demo works from anywhere.
package examples

import "embed"

// FS holds mailwarden.yaml, rules/ and messages/.
//
//go:embed mailwarden.yaml rules messages
var FS embed.FS
