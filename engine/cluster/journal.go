package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mailwarden/mailwarden/actions"
)

// Local is the replica's own journal (*state.Store): the changes it made
// and the copies it intends, plus the engine's view of pending copies.
type Local interface {
	actions.Journal
	PendingCopies(account, mailbox string) ([]actions.Entry, error)
	SettleCopies(found, missing []actions.Entry) error
}

// Journal is the journal of a clustered account: the local one, plus
// each copy intent written to etcd first, fenced, so that the next owner
// knows which copies this replica may have made (see the package doc).
// It implements actions.Journal and the engine's copy recovery
// (PendingCopies, SettleCopies).
type Journal struct {
	f     *Fence
	local Local
	log   *slog.Logger

	mu     sync.Mutex
	seq    int
	chunks map[string]map[string]bool // etcd key → intent keys not yet settled
	where  map[string]string          // intent key → etcd key
}

var _ actions.Journal = (*Journal)(nil)

// NewJournal returns the journal of f's account over local.
func NewJournal(f *Fence, local Local, log *slog.Logger) *Journal {
	if log == nil {
		log = f.n.log
	}
	return &Journal{f: f, local: local, log: log, chunks: map[string]map[string]bool{}, where: map[string]string{}}
}

// Applied implements actions.Journal (the local record).
func (j *Journal) Applied(ctx context.Context, keys []string) (map[string]string, error) {
	return j.local.Applied(ctx, keys)
}

// Intend writes the intents to etcd, fenced, then to the local journal.
// A replica that lost the account cannot write them, so it sends no copy.
func (j *Journal) Intend(ctx context.Context, entries []actions.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	v, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	j.mu.Lock()
	j.seq++
	key := j.f.n.k.intents(j.f.account) + strconv.FormatInt(j.f.rev, 10) + "-" + strconv.Itoa(j.seq)
	j.mu.Unlock()
	if err := j.f.put(ctx, key, string(v)); err != nil {
		return fmt.Errorf("record the copy intents in etcd: %w", err)
	}
	if err := j.local.Intend(ctx, entries); err != nil {
		return err
	}
	j.track(key, entries)
	return nil
}

func (j *Journal) track(key string, entries []actions.Entry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	set := j.chunks[key]
	if set == nil {
		set = map[string]bool{}
		j.chunks[key] = set
	}
	for i := range entries {
		k := entries[i].IntentKey()
		set[k] = true
		j.where[k] = key
	}
}

// Record implements actions.Journal: locally, then the intents it
// settles are dropped from etcd.
func (j *Journal) Record(ctx context.Context, entries []actions.Entry) error {
	if err := j.local.Record(ctx, entries); err != nil {
		return err
	}
	j.settle(ctx, entries)
	return nil
}

// PendingCopies implements the engine's copy recovery (local).
func (j *Journal) PendingCopies(account, mailbox string) ([]actions.Entry, error) {
	return j.local.PendingCopies(account, mailbox)
}

// SettleCopies implements the engine's copy recovery: locally, then the
// settled intents are dropped from etcd.
func (j *Journal) SettleCopies(found, missing []actions.Entry) error {
	if err := j.local.SettleCopies(found, missing); err != nil {
		return err
	}
	j.settle(context.Background(), append(append([]actions.Entry(nil), found...), missing...))
	return nil
}

// settle deletes the etcd chunks whose every intent is settled. A delete
// that fails leaves the chunk: the next owner then looks for those copies
// in their destinations again, which costs a search and is harmless.
func (j *Journal) settle(ctx context.Context, entries []actions.Entry) {
	var empty []string
	j.mu.Lock()
	for i := range entries {
		if entries[i].Op != actions.OpCopy && entries[i].Op != actions.OpMove {
			continue
		}
		k := entries[i].IntentKey()
		chunk, ok := j.where[k]
		if !ok {
			continue
		}
		delete(j.where, k)
		set := j.chunks[chunk]
		delete(set, k)
		if len(set) == 0 {
			delete(j.chunks, chunk)
			empty = append(empty, chunk)
		}
	}
	j.mu.Unlock()
	for _, chunk := range empty {
		if _, err := j.f.txn(ctx, nil, clientv3.OpDelete(chunk)); err != nil {
			j.log.Debug("settled copy intents stay in etcd", "account", j.f.account, "key", chunk, "err", err)
		}
	}
}

// Adopt takes over the copy intents that previous owners of the account
// left in etcd: they go into the local journal as pending, so that the
// engine looks for each copy in its destination (by Message-ID and
// INTERNALDATE) before it acts on the source mailbox, and they are
// dropped from etcd once settled here. Call it before the account's
// watchers and jobs start. It returns how many it adopted.
func (j *Journal) Adopt(ctx context.Context) (int, error) {
	gctx, cancel := j.f.ctx(ctx)
	resp, err := j.f.n.client.Get(gctx, j.f.n.k.intents(j.f.account), clientv3.WithPrefix())
	cancel()
	if err != nil {
		return 0, fmt.Errorf("read the copy intents in etcd: %w", err)
	}
	n := 0
	for _, kv := range resp.Kvs {
		var entries []actions.Entry
		if err := json.Unmarshal(kv.Value, &entries); err != nil {
			j.log.Warn("unreadable copy intents in etcd, skipped", "key", string(kv.Key), "err", err)
			continue
		}
		if err := j.local.Intend(ctx, entries); err != nil {
			return n, err
		}
		j.track(string(kv.Key), entries)
		n += len(entries)
	}
	return n, nil
}
