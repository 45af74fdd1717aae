// Package faultproxy is a fault-injecting TCP proxy for tests: it sits on
// 127.0.0.1 between an IMAP client and server and breaks the connection
// in the ways real networks and servers do, at the moment a test chooses.
//
// # Model
//
// Start(upstream, opts) listens on a loopback port; every accepted
// connection gets its own connection to upstream and two pumps, one per
// direction. Unless Options.Opaque is set, the pumps follow the IMAP
// framing (lines and {n} literals, in both directions) without changing a
// byte: the client→server pump recognises each command by tag and verb
// ("a7 UID MOVE ..." is "UID MOVE"; DONE ends an IDLE and carries the
// IDLE's tag), and the server→client pump finds each command's tagged
// completion. Literal contents are never mistaken for commands or
// responses.
//
// A Fault is a Kind and a trigger:
//
//   - Reset: RST both ways (SO_LINGER 0).
//   - Stall: stop forwarding both ways, sockets open, no FIN or RST.
//     The proxy's kernel keeps ACKing and answers TCP keepalive probes,
//     exactly like a hung server process (or a middlebox that stopped
//     forwarding but still terminates TCP): keepalive cannot detect it,
//     only the client's own deadline can.
//   - Truncate: forward part of a response, then FIN to the client.
//   - Drip: forward server bytes a few at a time.
//   - Delay: pause one direction.
//
// Triggers are protocol-aware (Fault.On names a command; Fault.When says
// before the server sees it, just after, or Offset bytes into its
// response, and never later than just before the first byte of its
// tagged completion), byte-based (Fault.ServerBytes, which works on TLS) or
// time-based (Fault.After; a fault with no trigger hits the next
// connection). Faults are injected three ways:
//
//   - Next(f) queues a one-shot fault for the next matching event on any
//     connection;
//   - InjectAll(f) and KillAll() hit every open connection now;
//   - Options.Random injects faults at random, per command, from a
//     per-connection RNG seeded by Options.Seed and the connection number:
//     the same seed and command sequence give the same faults.
//
// Every injected fault is counted (Stats, by kind and command), kept
// (Events) and reported (Options.OnFault, Options.Logger).
//
// # Invariants
//
//   - Bytes are never altered, reordered or invented: a connection
//     carries a prefix of what was sent, then ends or stalls.
//   - An InResponse fault fires before the client has the command's
//     tagged completion, so the client cannot tell whether the command
//     took effect: exactly the uncertainty exactly-once code must handle.
//   - Memory per connection is bounded (two 32 KiB buffers, a few hundred
//     bytes of parser state), whatever the line or literal lengths. While
//     stalled for good, received bytes are discarded.
//   - Every goroutine (accept loop, two pumps per connection, After
//     timers) is owned: Close closes the listener and every socket, wakes
//     every wait and returns once all of them have returned.
//
// # Use
//
//	srv, _ := memimap.Start(nil)
//	p, _ := faultproxy.Start(srv.Addr(), nil)
//	defer p.Close()
//	p.Next(faultproxy.Fault{Kind: faultproxy.Reset, On: "UID MOVE", When: faultproxy.InResponse})
//	// dial 127.0.0.1:p.Port(): the next UID MOVE is executed by the server
//	// but its answer never arrives.
//
// Limits: the protocol-aware triggers need plaintext IMAP; a server text
// line ending in "{n}" that is not a literal (no real server sends one)
// would desynchronise the response parser until the next line end.
package faultproxy
