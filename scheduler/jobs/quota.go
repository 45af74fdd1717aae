package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mailwarden/mailwarden/rules"
)

// Quota keeps an account under its storage quota.
//
// It reads the STORAGE usage and limit of INBOX's quota root (GETQUOTAROOT,
// RFC 9208 §4.3). When usage is at least High percent of the limit it removes
// messages for good (actions.Executor.Expunge, RFC 4315 §2.1) from the
// Prune mailboxes, in order and oldest first (by internal date) within each,
// until usage is at most Low percent, re-reading the quota after every
// batch. Messages flagged \Flagged are never pruned. WarnOnly logs the
// overrun and removes nothing. A server without QUOTA is an error wrapping
// ErrNoQuota. With BackupFirst, each batch is saved in that backup first
// and only what it holds is removed (as for Expire).
type Quota struct {
	Spec
	High, Low float64 // percent
	Prune     []PruneSpec
	WarnOnly  bool
	// BackupFirst, when set, is the backup every removed message must be
	// in first.
	BackupFirst *Backup
}

// PruneSpec is one mailbox the quota job may remove mail from.
type PruneSpec struct {
	Mailbox   string        // a name or a special-use attribute
	OlderThan time.Duration // 0: any age
}

func (q *Quota) JobSpec() *Spec { return &q.Spec }
func (q *Quota) Kind() string   { return "quota" }

func (q *Quota) runAccount(ctx context.Context, r *run) error {
	used, limit, err := r.conn.Quota(ctx)
	if err != nil {
		return fmt.Errorf("quota: %w", err)
	}
	if limit <= 0 {
		return fmt.Errorf("quota: the server reports a limit of %d: %w", limit, ErrNoQuota)
	}
	r.sum.QuotaUsed += used
	r.sum.QuotaLimit += limit
	if r.env.Quota != nil {
		r.env.Quota(r.account, used, limit)
	}
	pct := func(u int64) float64 { return float64(u) * 100 / float64(limit) }
	log := r.log.With("limit", limit)
	if pct(used) < q.High {
		log.Debug("quota below high; nothing to do", "used", used, "percent", round1(pct(used)), "high", q.High)
		r.sum.QuotaAfter += used
		return nil
	}
	target := int64(q.Low * float64(limit) / 100)
	if q.WarnOnly {
		log.Warn("over quota (warn_only: nothing removed)", "used", used, "percent", round1(pct(used)), "high", q.High,
			"low", q.Low, "to_free", used-target)
		r.sum.QuotaAfter += used
		return nil
	}
	log.Info("over quota; pruning", "used", used, "percent", round1(pct(used)), "high", q.High, "low", q.Low, "to_free", used-target)
	now := r.env.now()
	cur := used
	var skipped []error
	for _, p := range q.Prune {
		if cur <= target || r.sum.Capped {
			break
		}
		mb, err := r.conn.Select(ctx, p.Mailbox)
		if err != nil {
			if ctx.Err() != nil {
				r.sum.QuotaAfter += cur
				return err
			}
			// A listed mailbox that does not exist (no Junk here) is
			// skipped: the next one may free enough.
			log.Warn("cannot prune this mailbox; trying the next", "mailbox", p.Mailbox, "err", err)
			skipped = append(skipped, err)
			continue
		}
		cur, err = q.prune(ctx, r, mb, p, now, cur, target)
		if err != nil {
			r.sum.QuotaAfter += cur
			return err
		}
	}
	r.sum.QuotaAfter += cur
	if cur > target && !r.sum.Capped {
		log.Warn("still over low after pruning every listed mailbox", "used", cur, "percent", round1(pct(cur)), "low", q.Low)
		return errors.Join(skipped...)
	}
	return nil
}

// prune removes the oldest messages of one mailbox until usage is at most
// target, and returns the usage then.
func (q *Quota) prune(ctx context.Context, r *run, mb Mailbox, p PruneSpec, now time.Time, used, target int64) (int64, error) {
	s := &Search{NotFlags: []string{rules.FlagFlagged}}
	ag := age{olderThan: p.OlderThan}
	cutoff := ag.cutoff(now)
	if p.OlderThan > 0 {
		ag.search(cutoff, s)
	}
	uids, err := mb.Search(ctx, s)
	if err != nil {
		return used, err
	}
	// Oldest first needs the internal dates of all candidates: fetch
	// headers batch by batch, keep only what ordering and removal need.
	var cands []*rules.Message
	err = r.scan(ctx, mb, p.Mailbox, uids, Want{Fields: rules.FetchFields()}, false, func(m *rules.Message) error {
		if p.OlderThan <= 0 || ag.old(m, cutoff) {
			cands = append(cands, m.Slim())
		}
		return nil
	}, func() (bool, error) { return false, nil })
	if err != nil {
		return used, err
	}
	slices.SortStableFunc(cands, func(a, b *rules.Message) int {
		return cmp.Or(a.InternalDate.Compare(b.InternalDate), cmp.Compare(a.UID, b.UID))
	})
	for len(cands) > 0 && used > target {
		if r.remaining() <= 0 {
			r.capReached(p.Mailbox)
			break
		}
		// Take the oldest until they cover what is still to free.
		var take []*rules.Message
		var freed int64
		for _, m := range cands {
			if freed >= used-target || len(take) >= r.env.batch() || len(take) >= r.remaining() {
				break
			}
			take = append(take, m)
			freed += m.Size
		}
		cands = cands[len(take):]
		r.sum.Matched += len(take)
		take, berr := r.backupFirst(ctx, q.BackupFirst, mb, p.Mailbox, take)
		freed = 0
		for _, m := range take {
			freed += m.Size
		}
		if err := errors.Join(berr, r.expunge(ctx, mb, take)); err != nil {
			return used, err
		}
		if r.exec.DryRun() {
			used -= freed // nothing was removed: estimate
		} else if u, _, err := r.conn.Quota(ctx); err != nil {
			return used, fmt.Errorf("re-read quota: %w", err)
		} else {
			used = u
		}
		r.log.Debug("pruned", "mailbox", p.Mailbox, "messages", len(take), "bytes", freed, "used", used)
		r.progress(p.Mailbox, len(take), len(take)+len(cands))
		if err := ctx.Err(); err != nil {
			return used, err
		}
	}
	return used, nil
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }
