// Package message turns fetched message bytes into a [rules.Message].
//
// Parsing is lenient by design (DESIGN.md: "a malformed header or address
// never drops the message"): [Parse] never fails. It reads the header
// section line by line itself rather than through go-message's
// message.Read, which rejects a whole message for one bad line:
//
//   - The header ends at the first empty line (CRLF or bare LF); a message
//     with no empty line is all header.
//   - Folded lines are unfolded (RFC 5322 §2.2.3: the line break before
//     white space is removed). The white-space character that marks the
//     fold becomes a space, so "a CRLF TAB b" reads "a b", as in
//     Pigeonhole (Dovecot's header parser) and mail clients; any further
//     white space is kept. Sieve and expr rules see the same value.
//   - A line that is not "name: value" (no colon, or a name with white space
//     or control characters, such as an mbox "From " line) is skipped, and so
//     are its continuation lines. Obsolete white space before the colon is
//     accepted (RFC 5322 §4.5.8).
//   - 8-bit bytes are kept when they are valid UTF-8 (RFC 6532). Otherwise the
//     field is decoded with the charset declared in Content-Type when that
//     is a known charset, else as Windows-1252 (the usual origin of
//     undeclared 8-bit header bytes). Field.Raw therefore always
//     holds valid UTF-8, with RFC 2047 encoded words left as they are.
//   - Field.Value has RFC 2047 encoded words decoded with every charset
//     go-message knows. Adjacent encoded words in one charset are joined
//     before conversion, so a multi-byte character split across two words
//     (common in Shift_JIS and UTF-8 base64 subjects) survives. A broken
//     encoded word (bad base64, unknown charset) is kept as raw text.
//   - The Date field is parsed token by token (see [ParseDate]): a missing
//     zone means UTC, and single-digit days, missing seconds, named zones,
//     two-digit years and trailing comments are all accepted. An unusable
//     date leaves Message.Date zero.
//
// The returned Message owns a [mime.WordDecoder] that knows every charset,
// so display names in address fields decode too, and a CharsetReader
// (go-message's, the same function) that Sieve's body, mime and
// extracttext convert MIME body parts with.
package message
