// Package bulkbench measures bulk rule application (`mailwarden apply`)
// against the server's floor and imapfilter, on the same mailbox, in one
// run (issue 8).
//
// # Model
//
// A corpus (internal/corpus, default 10 000 messages, seed 1, "now" = the
// start time) is written once as Maildir files into a template user of a
// private Dovecot 2.3 (internal/dovecottest, mail_fsync = never) and
// indexed with doveadm force-resync; the rules' destination mailboxes are
// created. Every run then gets a fresh user whose home is a copy of the
// template (message files hard-linked, indexes copied, times kept), so
// every run starts from the same, already indexed mailbox, and the page
// cache is equally warm for all.
//
// A round runs each tool once, in an order that rotates from round to
// round so that no tool always runs first or last:
//
//   - floor: a minimal go-imap v2 client in this process (Floor): LOGIN,
//     SELECT, one UID FETCH of UID, FLAGS, INTERNALDATE and
//     BODY.PEEK[HEADER.FIELDS (the rules' fields)], decisions in plain Go
//     (corpus.Reference.Decide), one UID STORE +FLAGS.SILENT (\Flagged),
//     one UID MOVE per destination (11), LOGOUT.
//   - apply: `mailwarden apply -c CFG --account bench --mailbox INBOX
//     --ruleset expr`, the binary built from this module, a fresh state
//     directory each run, the expr form of the rules.
//   - apply-sieve (-sieve): the same with the Sieve form.
//   - imapfilter (when installed; `make bench-deps`): imapfilter 2.8 with
//     the Lua form, one server-side UID SEARCH per condition.
//   - diagnostics: floor-hdr (-floor-header) is the floor fetching whole
//     headers (BODY.PEEK[HEADER], what mailwarden fetches) instead of
//     HEADER.FIELDS; apply-batch (-batch N) is apply --batch N (the engine
//     caps a batch at 1000 messages).
//
// Times are wall clock from process start to exit (for the floor: from
// dial to LOGOUT's reply). After every run the user's mailboxes are read
// back and compared message by message with corpus.Expect: per mailbox,
// the multiset of (internal date, RFC822.SIZE, flags). Any difference
// fails the benchmark: a fast wrong answer is not a result.
//
// With -trace (default), each tool runs once more through an
// internal/imaptrace proxy: the report lists the commands it sent, how
// long the server took for them (command to tagged reply, summed per
// command), bytes each way, and flags any plain EXPUNGE. The traced run's
// time is reported separately; the proxy is not in the timed runs.
//
// # Figures and goals
//
// The report gives min/median/max per tool, the CPU time of the tool's
// process, its peak RSS, and the ratios the issue states its goals in:
// apply/floor (goal ≤ 1.10) and imapfilter/apply (goal ≥ 2.00), from the
// medians of the same run and per round. The machine is shared and noisy:
// compare ratios within one run; the load average before and after is
// printed.
//
// # Running
//
//	make bench-deps      # once: apt-get install imapfilter (never part of make test)
//	make bench-apply     # = go run ./internal/bulkbench/cmd/mwbench apply -n 10000 -rounds 5
//	go run ./internal/bulkbench/cmd/mwbench apply -n 2000 -rounds 3 -sieve -imapfilter none
//
// The package test (TestRunSmall) runs the whole pipeline on 400
// messages, one round, and checks the floor's command budget and that
// mailwarden sends no plain EXPUNGE.
package bulkbench
