// Package corpus generates the realistic, reproducible INBOX that
// mailwarden's bulk benchmarks run on (issue 8), and the reference rule
// set that is applied to it, in every form the benchmark needs.
//
// # Model
//
// A Corpus of N messages (default 10 000) is a pure function of its
// Options: message i depends only on (Seed, N, Now, Span, MalformedRate,
// MaxAttachment, Recipient, i), so the same options give byte-identical
// messages in any order and on any machine (Message(i) == All()[i]).
// Internal dates increase with i over Span (default two years) before Now,
// denser towards Now.
//
// The mix is a personal INBOX: private mail (20 %), mail from the five
// VIPs (3 %), ten mailing lists (31 %; Google Groups, Mailman with its
// CRLF+TAB folded List-Id, vger, mlmmj/majordomo styles; eight of them in
// the rule set), newsletters (16 %, most with Precedence: bulk), invoices
// (6 %, "invoice" in English, German, French, Russian and Japanese
// subjects), other transactional mail (9 %), cron/monitoring mail (7 %)
// and spam (8 %, tagged by X-Spam-Flag and/or X-Spam-Status). Headers are
// as large as real ones (3-4 KB on average: Received chains, DKIM, ARC,
// Authentication-Results, Microsoft 365's X-MS-Exchange block); non-ASCII
// text is written in RFC 2047 encoded words (B and Q) in utf-8,
// iso-8859-1/-15, windows-1252/-1251, koi8-r, shift_jis, iso-2022-jp,
// gb2312 and euc-kr, bodies in the same charsets with 7bit, 8bit,
// quoted-printable or base64; about a fifth of private mail has base64
// attachments (PDF, images, Office files, calendar, CSV). About 1 % of the
// messages carry one deliberate defect (MalformedKinds: a header line
// without a colon, a broken MIME boundary, a bad or missing Date, bad
// encoded words, raw 8-bit header bytes, a missing From, a truncated body,
// a 3-12 KB header line, 8-bit bytes in a 7bit body). Messages start with
// realistic flags (\Seen by age, \Answered, 1.5 % \Flagged).
//
// # Invariants
//
//   - Every message has CRLF line ends only, so its RFC822.SIZE is
//     len(Raw) and WriteMaildir can name files with exact S= and W= sizes.
//   - Meta says, without parsing, what matters to the rules: category,
//     list, VIP, spam, invoice, bulk, initial \Flagged, defect. Expect
//     computes from Meta alone (not from the rules' conditions, not with
//     mailwarden's engine) where every message must end and which must be
//     flagged. The tests check that Reference.Decide over the parsed bytes,
//     and mailwarden's own engine running the expr and Sieve forms, agree
//     with Expect for every message.
//   - A defect never changes the outcome (MalformedKinds documents how);
//     no internal date lies within three days of Now-90d, where the tools'
//     different notions of "older than 90 days" (exact instant, server-day
//     BEFORE, the Date field in Sieve) could disagree.
//   - No From header of a non-VIP message contains a VIP address
//     (look-alike addresses and VIPs in Cc/Reply-To are there to catch
//     sloppy rules); no List-Id of the rule set is a substring of another.
//
// # Rule set
//
// Reference holds 13 rules (RuleSet): spam-flag and spam-status to Junk;
// vip adds \Flagged; eight list-* rules to Lists/<key>; invoice to
// Finance; bulk-old (Precedence: bulk, older than 90 days) to Trash. Rules
// run in order, a matching rule adds its flag, the first matching move
// wins and ends the rule set. ExprYAML, ImapfilterLua and Sieve render it
// for mailwarden (expr), imapfilter 2.8 (server-side UID SEARCHes) and
// mailwarden's Sieve steps; render.go explains how each form expresses
// the same conditions.
//
// # Use
//
//	c := corpus.New(&corpus.Options{N: 10000, Seed: 1, Now: time.Now()})
//	msgs := c.All()                         // ~300 MB for 10 000 messages
//	err := corpus.WriteMaildir(dir, msgs, uid, gid)   // then doveadm force-resync
//	want := corpus.Expect(msgs, now)        // per-mailbox counts and flags
//
// The benchmarks that use it are in internal/bulkbench (`make
// bench-apply`, `make bench-watchers`).
package corpus
