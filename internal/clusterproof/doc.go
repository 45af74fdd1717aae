// Package clusterproof is issue 14's proof that replicas sharing accounts
// through etcd process every message exactly once while machines fail.
// Everything runs on 127.0.0.1 and is started by the test: three private
// etcd members (internal/etcdtest), one private Dovecot with 30 accounts
// (internal/dovecottest), and three mailwarden replicas, each the real
// binary built by the test and run as a child process with its own state
// directory.
//
// While mail keeps arriving in every account's INBOX, the test SIGKILLs a
// replica (and starts it again), pauses another with SIGSTOP past the
// lease TTL and resumes it, kills one etcd member (quorum holds), then
// kills two (quorum lost) and restarts them (quorum regained). Every
// message is copied to Copies and moved to Done by the rules, so a
// duplicate or a loss shows on the server: at the end each delivered
// Message-ID must be exactly once in Copies, once in Done, and nowhere in
// INBOX. A scheduled job (@every 5s, every account) must claim each tick
// of each account once: the replicas' logs of claimed ticks must form one
// unbroken chain per account, never the same tick twice. Failover times
// (fault to the first message of each moved account being processed) are
// measured and reported, never asserted beyond a generous deadline.
//
// `make test` runs the short version (TTL 4s, a minute or two); `make
// cluster-proof` the long one (TTL 10s, several rounds of every fault).
package clusterproof
