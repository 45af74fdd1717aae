package bulkbench

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/mailwarden/mailwarden/internal/corpus"
)

// State is what a user's mailboxes hold after a run.
type State struct {
	Count, Flagged map[string]int
}

// Wanted is the end state a run must leave: per mailbox, the multiset of
// message fingerprints (internal date, RFC822.SIZE, flags).
type Wanted struct {
	fps map[string]map[string]int
	exp *corpus.Expectation
}

// Want computes the Wanted state from the corpus and its Expectation:
// each message where Expect puts it, with its original flags plus
// \Flagged where Expect flags it, and nothing else (no \Seen from a
// careless FETCH, no \Deleted left behind). The messages' bytes are not
// needed afterwards.
func Want(msgs []*corpus.Message, exp *corpus.Expectation) *Wanted {
	w := &Wanted{fps: map[string]map[string]int{}, exp: exp}
	for i, m := range msgs {
		mb := exp.Mailbox[i]
		flags := slices.Clone(m.Flags)
		if exp.Flagged[i] && !slices.Contains(flags, `\Flagged`) {
			flags = append(flags, `\Flagged`)
		}
		if w.fps[mb] == nil {
			w.fps[mb] = map[string]int{}
		}
		w.fps[mb][fingerprint(m.Internal.Unix(), int64(len(m.Raw)), flags)]++
	}
	return w
}

// Verify reads every mailbox of the user and checks it against want, per
// mailbox and message; that is stronger than the per-mailbox counts it
// also returns.
func Verify(addr, user, pass string, want *Wanted) (*State, error) {
	exp := want.exp

	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	boxes, err := c.List("", "*", nil).Collect()
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	st := &State{Count: map[string]int{}, Flagged: map[string]int{}}
	var problems []string
	seen := map[string]bool{}
	for _, b := range boxes {
		if slices.Contains(b.Attrs, imap.MailboxAttrNoSelect) {
			continue
		}
		seen[b.Mailbox] = true
		got, err := fingerprints(c, b.Mailbox)
		if err != nil {
			return nil, err
		}
		w := want.fps[b.Mailbox]
		for fp, n := range got {
			st.Count[b.Mailbox] += n
			if strings.Contains(fp, `\Flagged`) {
				st.Flagged[b.Mailbox] += n
			}
		}
		if d := diff(w, got); d != "" {
			problems = append(problems, fmt.Sprintf("%s: %d messages (%d flagged), want %d (%d flagged); %s",
				b.Mailbox, st.Count[b.Mailbox], st.Flagged[b.Mailbox], exp.Count[b.Mailbox], exp.FlaggedCount[b.Mailbox], d))
		}
	}
	for mb, n := range exp.Count {
		if !seen[mb] {
			problems = append(problems, fmt.Sprintf("%s: missing, want %d messages", mb, n))
		}
	}
	c.Logout().Wait()
	if len(problems) > 0 {
		sort.Strings(problems)
		return st, fmt.Errorf("end state differs from the rule set's:\n  %s", strings.Join(problems, "\n  "))
	}
	return st, nil
}

// fingerprints returns the multiset of message fingerprints in mailbox.
func fingerprints(c *imapclient.Client, mailbox string) (map[string]int, error) {
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return nil, fmt.Errorf("examine %s: %w", mailbox, err)
	}
	out := map[string]int{}
	if sel.NumMessages == 0 {
		return out, nil
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true, RFC822Size: true}).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", mailbox, err)
	}
	for _, m := range msgs {
		var flags []string
		for _, f := range m.Flags {
			flags = append(flags, string(f))
		}
		out[fingerprint(m.InternalDate.Unix(), m.RFC822Size, flags)]++
	}
	return out, nil
}

func fingerprint(internal, size int64, flags []string) string {
	var fs []string
	for _, f := range flags {
		if !strings.EqualFold(f, `\Recent`) {
			fs = append(fs, strings.ToLower(f))
		}
	}
	sort.Strings(fs)
	// Keep \Flagged recognisable for the flagged count.
	return fmt.Sprintf("%d/%d/%s", internal, size, strings.ReplaceAll(strings.Join(fs, " "), `\flagged`, `\Flagged`))
}

// diff describes how two multisets differ ("" when equal).
func diff(want, got map[string]int) string {
	missing, extra := 0, 0
	var examples []string
	for fp, n := range want {
		if d := n - got[fp]; d > 0 {
			if missing == 0 {
				examples = append(examples, "e.g. missing "+fp)
			}
			missing += d
		}
	}
	for fp, n := range got {
		if d := n - want[fp]; d > 0 {
			if extra == 0 {
				examples = append(examples, "e.g. unexpected "+fp)
			}
			extra += d
		}
	}
	if missing == 0 && extra == 0 {
		return ""
	}
	return fmt.Sprintf("%d expected messages missing, %d unexpected (%s)", missing, extra, strings.Join(examples, "; "))
}
