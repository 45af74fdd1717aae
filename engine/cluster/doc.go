// Package cluster lets several mailwarden processes (replicas) share the
// accounts of one config through etcd, so that mail keeps being processed
// when a machine is lost. It is opt-in (the config's `cluster:` section);
// without it mailwarden is one process with its bbolt file.
//
// The model, all of it in etcd under one key prefix P:
//
//   - Membership. Each replica holds an etcd session: a lease of the
//     configured TTL kept alive by the client (client/v3/concurrency), and
//     the key P/members/NAME bound to it. A replica that dies, hangs or
//     loses etcd stops renewing; the lease expires after the TTL and every
//     key bound to it is gone.
//   - Ownership. An account is owned by exactly one live replica: the
//     owner holds P/owners/ACCOUNT, bound to its lease, created with a
//     transaction that succeeds only when the key does not exist
//     (CreateRevision == 0). Which replica should own an account is decided
//     by rendezvous hashing (Rank) over the live members, so every replica
//     computes the same answer from the same member list and a change of
//     members moves only the accounts it must. A replica claims the
//     accounts it ranks first for and that nobody holds; it drains (stops
//     the account's watchers and jobs, waits for them) and then deletes
//     the owner key of each account it holds but no longer ranks first for.
//   - Fencing. The owner key's ModRevision when it was claimed (the claim
//     revision) is the fencing token. Everything an owner writes for an
//     account goes through a transaction that compares the owner key's
//     ModRevision with it (Fence): checkpoints (P/checkpoints/ACCOUNT/
//     MAILBOX), copy intents (P/intents/ACCOUNT/...) and scheduled-job
//     ticks (P/ticks/JOB/ACCOUNT). A replica whose lease expired — killed,
//     paused past the TTL, cut off from etcd — finds the key gone or
//     re-created with another revision, and every such write fails, so it
//     cannot advance a checkpoint, start a copy or claim a tick.
//
// Invariants:
//
//   - At most one replica holds an account's owner key at any revision;
//     the holder acts on the account only while its session is alive, and
//     stops every watcher and job of the account before it deletes the key
//     (drain, then release). When its session ends it stops them all at
//     once, without waiting for etcd.
//   - A checkpoint in etcd advances only by a transaction of the current
//     owner, after the batch's actions were applied: a new owner catches up
//     from the last checkpoint an owner that was alive wrote.
//   - Exactly once across a failover. The IMAP server cannot be fenced: a
//     replica that lost its lease may still have a command in flight. So
//     every action must be safe to repeat. Flags are. Moves are by UID: a
//     message already moved is no longer in the source, and the new owner
//     neither finds it above the checkpoint nor moves it again. A copy
//     (fileinto :copy, or the copy half of a multi-destination fileinto)
//     is preceded by a fenced intent in etcd naming the message
//     (Message-ID, INTERNALDATE, destination). In a watched mailbox the
//     intent stays until the watcher's checkpoint passes the message (it
//     is deleted in the checkpoint's own transaction), settled or not: a
//     batch that copied and then died before its move leaves the message
//     above the checkpoint, copied. The new owner adopts the intents left
//     in etcd into its own journal and, before it acts on the mailbox,
//     looks for each copy in the destination by Message-ID (the engine's
//     copy recovery): found, it is recorded as made and not repeated; not
//     found, it is made. The one window left is a replica paused between
//     its fenced intent and the COPY reaching the server, then resumed
//     after its successor looked: a duplicate copy, never a lost message.
//     A scheduled sweep's copy of a message that stays where it is is
//     known only to the journal of the replica that made it (its intent
//     goes once settled), so a sweep run by the next owner copies it again.
//   - Scheduled jobs run on the owner of their account. Each run at a cron
//     tick claims the tick in etcd with a fenced transaction; a tick is
//     claimed once cluster-wide, and a claim covers the ticks since the
//     previous one (a tick that came due while nobody owned the account
//     runs with the next one, never twice). A run that finishes marks its
//     tick done (FinishTick); a tick claimed under an older claim revision
//     and not done — its claimer lost the account mid-run — is claimed
//     again, Resumed, by the next owner: jobs are idempotent (expire,
//     archive and quota pick what is still there), so the second run
//     finishes what the first began.
//   - The local state file keeps what is local: the journal used by undo,
//     loop-protection placements, Sieve's duplicate and send records. Each
//     replica has its own.
package cluster
