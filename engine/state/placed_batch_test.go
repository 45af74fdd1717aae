package state

import "testing"

func TestMarkPlacedAllIsMarkPlacedInOneTransaction(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.MarkPlacedAll([]PlacedMark{
		{Account: "a", Mailbox: "Finance", DestUID: 7, Placement: Placement{Ruleset: "inbox", MessageID: "m1@x", From: "INBOX"}},
		{Account: "a", Mailbox: "Finance", Placement: Placement{Ruleset: "inbox", MessageID: "m2@x", From: "INBOX"}},
		{Account: "a", Mailbox: "Finance", DestUID: 9, Placement: Placement{Ruleset: "inbox", From: "INBOX"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		uid  uint32
		mid  string
		want bool
	}{{7, "m1@x", true}, {12, "m2@x", true}, {13, "m2@x", false}, {12, "m2@x", true}, {9, "", true}, {7, "other@x", false}, {8, "", false}} {
		p, ok, err := s.PlacedBy("a", "Finance", 1, tc.uid, tc.mid)
		if err != nil || ok != tc.want || ok && (p.Ruleset != "inbox" || p.Time.IsZero()) {
			t.Errorf("PlacedBy(%d, %q) = %+v, %v, %v; want found %v", tc.uid, tc.mid, p, ok, err, tc.want)
		}
	}
	if err := s.MarkPlacedAll(nil); err != nil {
		t.Error(err)
	}
}
