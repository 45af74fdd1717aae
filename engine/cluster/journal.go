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
	"github.com/mailwarden/mailwarden/engine/state"
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
// knows which copies this replica made or may have made (see the package
// doc). It implements actions.Journal and the engine's copy recovery
// (PendingCopies, SettleCopies).
//
// How long an intent stays in etcd depends on its source mailbox. In a
// watched one, until the watcher's checkpoint passes its UID (deleted in
// the checkpoint's own transaction, Checkpoints): a batch that copied a
// message and then died before its move leaves the message above the
// checkpoint, and the next owner must learn that the copy was made even
// though it was settled here. Elsewhere (a job's mailbox), until it is
// settled here.
type Journal struct {
	f       *Fence
	local   Local
	log     *slog.Logger
	watched map[string]bool

	mu     sync.Mutex
	seq    int
	chunks map[string]*chunk // etcd key → what it holds
	where  map[string]string // intent key → etcd key (not yet settled)
}

// chunk is one Intend call's entries in etcd: one source mailbox.
type chunk struct {
	mailbox     string
	uidValidity uint32
	maxUID      uint32
	pending     map[string]bool // intent keys not yet settled here
}

var _ actions.Journal = (*Journal)(nil)

// NewJournal returns the journal of f's account over local; watched are
// the account's watched mailboxes (as configured).
func NewJournal(f *Fence, local Local, log *slog.Logger, watched []string) *Journal {
	if log == nil {
		log = f.n.log
	}
	j := &Journal{f: f, local: local, log: log, watched: map[string]bool{}, chunks: map[string]*chunk{}, where: map[string]string{}}
	for _, m := range watched {
		j.watched[m] = true
	}
	return j
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
	c := j.chunks[key]
	if c == nil {
		c = &chunk{mailbox: entries[0].Mailbox, uidValidity: entries[0].UIDValidity, pending: map[string]bool{}}
		j.chunks[key] = c
	}
	for i := range entries {
		k := entries[i].IntentKey()
		c.pending[k] = true
		c.maxUID = max(c.maxUID, entries[i].UID)
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

// settle marks intents settled, and deletes the etcd chunks of unwatched
// mailboxes whose every intent is. A delete that fails leaves the chunk:
// the next owner then looks for those copies in their destinations
// again, which costs a search and is harmless.
func (j *Journal) settle(ctx context.Context, entries []actions.Entry) {
	var empty []string
	j.mu.Lock()
	for i := range entries {
		if entries[i].Op != actions.OpCopy && entries[i].Op != actions.OpMove {
			continue
		}
		k := entries[i].IntentKey()
		key, ok := j.where[k]
		if !ok {
			continue
		}
		delete(j.where, k)
		c := j.chunks[key]
		delete(c.pending, k)
		if len(c.pending) == 0 && !j.watched[c.mailbox] {
			delete(j.chunks, key)
			empty = append(empty, key)
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

// maxPassedPerTxn bounds the deletes one checkpoint transaction carries
// (etcd allows 128 operations per transaction by default).
const maxPassedPerTxn = 100

// passed returns the etcd chunks of mailbox that checkpoint cp has passed:
// every UID at or below cp.LastUID (or of an older UIDVALIDITY, void).
func (j *Journal) passed(mailbox string, cp state.Checkpoint) []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []string
	for key, c := range j.chunks {
		if c.mailbox == mailbox && (c.uidValidity != cp.UIDValidity || c.maxUID <= cp.LastUID) {
			out = append(out, key)
			if len(out) == maxPassedPerTxn {
				break
			}
		}
	}
	return out
}

// forget drops chunks deleted from etcd.
func (j *Journal) forget(keys []string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, key := range keys {
		if c := j.chunks[key]; c != nil {
			for k := range c.pending {
				delete(j.where, k)
			}
		}
		delete(j.chunks, key)
	}
}
