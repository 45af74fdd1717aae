package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mailwarden/mailwarden/engine/state"
)

// Fence is this replica's claim on one account: every write for the
// account goes through a transaction that holds only while the owner
// key is still this claim (its ModRevision is the claim's revision).
type Fence struct {
	n       *Node
	account string
	key     string
	rev     int64
	since   time.Time
	dead    atomic.Bool
}

// Account is the account this fence guards.
func (f *Fence) Account() string { return f.account }

// Revision is the claim's revision, the fencing token.
func (f *Fence) Revision() int64 { return f.rev }

// Since is when the claim was made.
func (f *Fence) Since() time.Time { return f.since }

// Valid reports whether this replica still believes it owns the account.
// Only a fenced write proves it; this is the cheap local check.
func (f *Fence) Valid() bool { return !f.dead.Load() }

func (f *Fence) invalidate() { f.dead.Store(true) }

// timeout bounds one request.
func (f *Fence) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, f.n.o.DialTimeout)
}

// txn commits ops when the owner key is still this claim (and every
// extra comparison holds), and returns ErrFenced when it is not.
func (f *Fence) txn(ctx context.Context, extra []clientv3.Cmp, ops ...clientv3.Op) (*clientv3.TxnResponse, error) {
	if !f.Valid() {
		return nil, fmt.Errorf("account %q: %w", f.account, ErrFenced)
	}
	ctx, cancel := f.ctx(ctx)
	defer cancel()
	cmps := append([]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(f.key), "=", f.rev)}, extra...)
	resp, err := f.n.client.Txn(ctx).If(cmps...).Then(ops...).
		Else(clientv3.OpGet(f.key)).Commit()
	if err != nil {
		return nil, fmt.Errorf("account %q: etcd: %w", f.account, err)
	}
	if !resp.Succeeded {
		if r := resp.Responses[0].GetResponseRange(); r == nil || len(r.Kvs) == 0 || r.Kvs[0].ModRevision != f.rev {
			f.invalidate()
			f.n.poke()
			return resp, fmt.Errorf("account %q: %w", f.account, ErrFenced)
		}
	}
	return resp, nil
}

// Put writes key=value if this is still the owner.
func (f *Fence) put(ctx context.Context, key, value string) error {
	_, err := f.txn(ctx, nil, clientv3.OpPut(key, value))
	return err
}

// Checkpoint reads the account's checkpoint of mailbox from etcd.
func (f *Fence) Checkpoint(ctx context.Context, mailbox string) (state.Checkpoint, bool, error) {
	ctx, cancel := f.ctx(ctx)
	defer cancel()
	resp, err := f.n.client.Get(ctx, f.n.k.checkpoint(f.account, mailbox))
	if err != nil {
		return state.Checkpoint{}, false, fmt.Errorf("read the checkpoint from etcd: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return state.Checkpoint{}, false, nil
	}
	var cp state.Checkpoint
	if err := json.Unmarshal(resp.Kvs[0].Value, &cp); err != nil {
		return state.Checkpoint{}, false, fmt.Errorf("checkpoint in etcd: %w", err)
	}
	return cp, true, nil
}

// SetCheckpoint writes the account's checkpoint of mailbox, fenced, and
// deletes the keys in drop in the same transaction.
func (f *Fence) SetCheckpoint(ctx context.Context, mailbox string, cp state.Checkpoint, drop ...string) error {
	if cp.Updated.IsZero() {
		cp.Updated = time.Now()
	}
	v, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	ops := []clientv3.Op{clientv3.OpPut(f.n.k.checkpoint(f.account, mailbox), string(v))}
	for _, k := range drop {
		ops = append(ops, clientv3.OpDelete(k))
	}
	if _, err := f.txn(ctx, nil, ops...); err != nil {
		return fmt.Errorf("advance the checkpoint: %w", err)
	}
	return nil
}

// Checkpoints is a Fence seen as the watchers' checkpoint store
// (engine/watch.Checkpoints). A checkpoint missing in etcd is taken from
// Seed when it has one (a single-process install turned into a cluster
// goes on from where its state file was), and written to etcd. When
// Journal is set, the copy intents a checkpoint passes are deleted from
// etcd in the checkpoint's transaction.
type Checkpoints struct {
	Fence *Fence
	Seed  interface {
		Checkpoint(account, mailbox string) (state.Checkpoint, bool, error)
	}
	Journal *Journal
}

// Checkpoint implements watch.Checkpoints.
func (c *Checkpoints) Checkpoint(account, mailbox string) (state.Checkpoint, bool, error) {
	if err := c.same(account); err != nil {
		return state.Checkpoint{}, false, err
	}
	cp, ok, err := c.Fence.Checkpoint(context.Background(), mailbox)
	if err != nil || ok || c.Seed == nil {
		return cp, ok, err
	}
	if cp, ok, err = c.Seed.Checkpoint(account, mailbox); err != nil || !ok {
		return cp, ok, err
	}
	return cp, true, c.Fence.SetCheckpoint(context.Background(), mailbox, cp)
}

// SetCheckpoint implements watch.Checkpoints.
func (c *Checkpoints) SetCheckpoint(account, mailbox string, cp state.Checkpoint) error {
	if err := c.same(account); err != nil {
		return err
	}
	var drop []string
	if c.Journal != nil {
		drop = c.Journal.passed(mailbox, cp)
	}
	if err := c.Fence.SetCheckpoint(context.Background(), mailbox, cp, drop...); err != nil {
		return err
	}
	if c.Journal != nil {
		c.Journal.forget(drop)
	}
	return nil
}

func (c *Checkpoints) same(account string) error {
	if account != c.Fence.account {
		return fmt.Errorf("cluster: checkpoint of account %q through the fence of %q", account, c.Fence.account)
	}
	return nil
}

// Tick is the last scheduled run of a job on an account, as claimed.
type Tick struct {
	Due time.Time `json:"due"`
	// Prev is the tick the claim followed (zero for the first): the claim
	// covers the ticks after Prev up to Due.
	Prev time.Time `json:"prev,omitzero"`
	By   string    `json:"by"`
	// Rev is the claimer's claim revision on the account: a claim made
	// under another revision than the current owner's was made by a
	// replica that has since lost the account.
	Rev int64 `json:"rev"`
	// Done: the run finished (FinishTick).
	Done bool `json:"done"`
}

// Claim is the outcome of ClaimTick.
type Claim struct {
	// OK: this replica runs the tick now.
	OK bool
	// Prev is the tick the claim follows (zero when the job never ran on
	// the account): the claim covers the ticks after it up to the one
	// claimed, so ticks that came due while nobody owned the account run
	// now, once, with this one.
	Prev time.Time
	// Resumed: the tick had been claimed by a replica that lost the
	// account before its run finished; this replica runs it again (jobs
	// are idempotent: a run finishes what a cut-short one began).
	Resumed bool
	// Unfinished is the earlier tick this claim also covers because its
	// run never finished (zero when the last claimed tick did): Prev is
	// then the tick before that one.
	Unfinished time.Time
}

// LastTick returns job's last claimed tick on this account.
func (f *Fence) LastTick(ctx context.Context, job string) (Tick, bool, error) {
	gctx, cancel := f.ctx(ctx)
	defer cancel()
	resp, err := f.n.client.Get(gctx, f.n.k.tick(job, f.account))
	if err != nil {
		return Tick{}, false, fmt.Errorf("read the job's last tick: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return Tick{}, false, nil
	}
	var t Tick
	if err := json.Unmarshal(resp.Kvs[0].Value, &t); err != nil {
		return Tick{}, false, fmt.Errorf("job tick in etcd: %w", err)
	}
	return t, true, nil
}

// ClaimTick claims job's scheduled run due at due on this account, with
// a fenced transaction, so that a tick is claimed once cluster-wide. It
// refuses (OK false) a tick already claimed — a later one, or this one
// unless its claimer lost the account before finishing (then it is
// Resumed).
func (f *Fence) ClaimTick(ctx context.Context, job string, due time.Time) (Claim, error) {
	key := f.n.k.tick(job, f.account)
	due = due.UTC()
	for range 3 {
		gctx, cancel := f.ctx(ctx)
		resp, err := f.n.client.Get(gctx, key)
		cancel()
		if err != nil {
			return Claim{}, fmt.Errorf("read the job's last tick: %w", err)
		}
		var last Tick
		var rev int64
		if len(resp.Kvs) > 0 {
			rev = resp.Kvs[0].ModRevision
			if err := json.Unmarshal(resp.Kvs[0].Value, &last); err != nil {
				return Claim{}, fmt.Errorf("job tick in etcd: %w", err)
			}
		}
		next := Tick{Due: due, Prev: last.Due, By: f.n.o.Name, Rev: f.rev}
		c := Claim{OK: true, Prev: last.Due}
		if !last.Done && last.Due.Before(due) && !last.Due.IsZero() {
			// The last claimed tick never finished: its run failed,
			// was cut short, or its claim's answer was lost (a
			// transaction applied while the client timed out, as when
			// quorum is lost). This claim covers it too.
			next.Prev, c.Prev, c.Unfinished = last.Prev, last.Prev, last.Due
		}
		switch {
		case last.Due.After(due):
			return Claim{}, nil
		case last.Due.Equal(due):
			if last.Done || last.Rev == f.rev {
				return Claim{}, nil
			}
			next.Prev, c.Prev, c.Resumed = last.Prev, last.Prev, true
		}
		v, _ := json.Marshal(next)
		tr, err := f.txn(ctx, []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", rev)}, clientv3.OpPut(key, string(v)))
		if err != nil {
			return Claim{}, err
		}
		if tr.Succeeded {
			return c, nil
		}
	}
	return Claim{}, fmt.Errorf("claim the tick of job %q: the key kept changing", job)
}

// ErrTickMoved is FinishTick's answer when the tick's claim is not this
// ownership's any more: a later tick was claimed, or the tick was claimed
// under an earlier ownership of the account (the run straddled a lost
// session). The run is not marked done; the account's next run covers
// its tick again.
var ErrTickMoved = errors.New("the tick's claim is no longer this ownership's")

// FinishTick records that this replica's run of job's tick due finished.
// It returns nil only when the tick is marked done in etcd.
func (f *Fence) FinishTick(ctx context.Context, job string, due time.Time) error {
	key := f.n.k.tick(job, f.account)
	gctx, cancel := f.ctx(ctx)
	resp, err := f.n.client.Get(gctx, key)
	cancel()
	if err != nil {
		return fmt.Errorf("read the job's last tick: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return ErrTickMoved
	}
	var t Tick
	if err := json.Unmarshal(resp.Kvs[0].Value, &t); err != nil {
		return fmt.Errorf("job tick in etcd: %w", err)
	}
	if !t.Due.Equal(due.UTC()) || t.Rev != f.rev {
		return ErrTickMoved
	}
	if t.Done {
		return nil
	}
	t.Done = true
	v, _ := json.Marshal(t)
	tr, err := f.txn(ctx, []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", resp.Kvs[0].ModRevision)}, clientv3.OpPut(key, string(v)))
	if err != nil {
		return err
	}
	if !tr.Succeeded {
		return ErrTickMoved // claimed anew since it was read
	}
	return nil
}
