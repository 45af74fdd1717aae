package imapconn

import "context"

// Dialer connects to a configured account, by the account's name, and
// returns the authenticated connection. The daemon builds one from its
// config (engine.NewDialer) and hands it to everything that connects: the
// watchers, the jobs and undo. Tests substitute their own.
type Dialer func(ctx context.Context, account string) (*Client, error)
