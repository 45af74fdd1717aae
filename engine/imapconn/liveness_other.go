//go:build !linux

package imapconn

import "time"

func setUserTimeout(int, time.Duration) error { return nil }
