package cluster

import (
	"context"
	"encoding/json"
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
	By  string    `json:"by"`
}

// ClaimTick claims job's scheduled run due at due on this account. It
// returns ok=false when that tick (or a later one) was already claimed,
// by this replica or another; otherwise the claim covers every tick after
// prev (zero when the job never ran here) up to due: a tick that came due
// while nobody owned the account runs now, once.
func (f *Fence) ClaimTick(ctx context.Context, job string, due time.Time) (prev time.Time, ok bool, err error) {
	key := f.n.k.tick(job, f.account)
	for range 3 {
		gctx, cancel := f.ctx(ctx)
		resp, err := f.n.client.Get(gctx, key)
		cancel()
		if err != nil {
			return time.Time{}, false, fmt.Errorf("read the job's last tick: %w", err)
		}
		var last Tick
		var rev int64
		if len(resp.Kvs) > 0 {
			rev = resp.Kvs[0].ModRevision
			if err := json.Unmarshal(resp.Kvs[0].Value, &last); err != nil {
				return time.Time{}, false, fmt.Errorf("job tick in etcd: %w", err)
			}
			if !last.Due.Before(due) {
				return last.Due, false, nil
			}
		}
		v, _ := json.Marshal(Tick{Due: due.UTC(), By: f.n.o.Name})
		tr, err := f.txn(ctx, []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", rev)}, clientv3.OpPut(key, string(v)))
		if err != nil {
			return time.Time{}, false, err
		}
		if tr.Succeeded {
			return last.Due, true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("claim the tick of job %q: the key kept changing", job)
}
