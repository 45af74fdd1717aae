package cluster

import (
	"net/url"
	"strings"
)

// keys builds the etcd keys under one prefix. Account, mailbox and job
// names are path-escaped, so a '/' in a name cannot reach another key.
type keys struct{ prefix string }

func esc(s string) string { return url.PathEscape(s) }

func unesc(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

func (k keys) members() string             { return k.prefix + "members/" }
func (k keys) member(name string) string   { return k.members() + esc(name) }
func (k keys) owners() string              { return k.prefix + "owners/" }
func (k keys) owner(account string) string { return k.owners() + esc(account) }
func (k keys) checkpoint(account, mailbox string) string {
	return k.prefix + "checkpoints/" + esc(account) + "/" + esc(mailbox)
}
func (k keys) intents(account string) string { return k.prefix + "intents/" + esc(account) + "/" }
func (k keys) tick(job, account string) string {
	return k.prefix + "ticks/" + esc(job) + "/" + esc(account)
}

// name returns the escaped last segment of key after prefix, unescaped.
func name(key, prefix string) string { return unesc(strings.TrimPrefix(key, prefix)) }
