package imapconn_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/mailwarden/mailwarden/engine/imapconn"
	"github.com/mailwarden/mailwarden/internal/memimap"
)

// The watcher's loop: catch up from the checkpoint, IDLE until EXISTS,
// stop IDLE, fetch what is new, repeat. Updates is drained before each
// fetch, so an arrival during the fetch wakes the next wait at once.
func ExampleSession_Idle() {
	srv, err := memimap.Start(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := imapconn.Dial(ctx, &imapconn.Options{
		Host: "127.0.0.1", Port: srv.Port(),
		TLS: imapconn.TLSNone, InsecurePlaintext: true, // loopback test server only
		Username: "user",
		Auth:     imapconn.Password{Password: func(context.Context) (string, error) { return "pass", nil }},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Logout(ctx)
	s, err := c.Select(ctx, "INBOX")
	if err != nil {
		log.Fatal(err)
	}

	var checkpoint uint32
	go func() { // a delivery, later
		time.Sleep(50 * time.Millisecond)
		srv.Append("user", "INBOX", []byte("Subject: hello\r\n\r\nhi\r\n"), nil, time.Time{})
	}()
	for round := 0; round < 2; round++ {
		select { // drain before fetching
		case <-c.Updates():
		default:
		}
		msgs, err := s.FetchNew(ctx, checkpoint, 100, false)
		if err != nil {
			log.Fatal(err)
		}
		for _, m := range msgs {
			fmt.Printf("uid %d: %q\n", m.UID, m.Raw)
			checkpoint = m.UID
		}
		if round == 1 {
			break
		}
		idle, err := s.Idle(ctx)
		if err != nil { // ErrNoIdle: poll with Noop instead
			log.Fatal(err)
		}
		select {
		case <-c.Updates():
		case <-c.Closed():
			log.Fatal("connection lost")
		case <-time.After(10 * time.Minute): // re-IDLE periodically
		}
		if err := idle.Stop(); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// uid 1: "Subject: hello\r\n\r\n"
}
