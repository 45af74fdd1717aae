package cluster

import (
	"fmt"
	"slices"
	"testing"
)

func TestRankIsOrderIndependent(t *testing.T) {
	a := Rank("acct", []string{"r1", "r2", "r3"})
	b := Rank("acct", []string{"r3", "r1", "r2"})
	if !slices.Equal(a, b) {
		t.Fatalf("rank depends on input order: %v vs %v", a, b)
	}
	if Preferred("acct", []string{"r2", "r3", "r1"}) != a[0] {
		t.Fatalf("Preferred = %q, Rank[0] = %q", Preferred("acct", []string{"r2", "r3", "r1"}), a[0])
	}
	if Preferred("acct", nil) != "" {
		t.Fatal("Preferred with no members is not empty")
	}
}

func TestRankSpreadsAndMovesLittle(t *testing.T) {
	members := []string{"mw-1", "mw-2", "mw-3"}
	var accounts []string
	for i := range 3000 {
		accounts = append(accounts, fmt.Sprintf("user%d@example.com", i))
	}
	count := map[string]int{}
	before := map[string]string{}
	for _, a := range accounts {
		o := Preferred(a, members)
		count[o]++
		before[a] = o
	}
	for _, m := range members {
		// 1,000 expected each; a fair hash stays well within ±15%.
		if count[m] < 850 || count[m] > 1150 {
			t.Errorf("%s owns %d of 3000 accounts: %v", m, count[m], count)
		}
	}
	// mw-2 leaves: only its accounts move, spread over the other two.
	moved := 0
	for _, a := range accounts {
		o := Preferred(a, []string{"mw-1", "mw-3"})
		if before[a] != "mw-2" && o != before[a] {
			t.Fatalf("%s moved from %s to %s though its owner stayed", a, before[a], o)
		}
		if before[a] == "mw-2" {
			moved++
		}
	}
	if moved != count["mw-2"] {
		t.Fatalf("moved %d, want %d", moved, count["mw-2"])
	}
	// mw-4 joins: it takes about a quarter, each from its old owner only.
	took := 0
	for _, a := range accounts {
		o := Preferred(a, append(members, "mw-4"))
		if o != before[a] {
			if o != "mw-4" {
				t.Fatalf("%s moved from %s to %s, not to the new member", a, before[a], o)
			}
			took++
		}
	}
	if took < 600 || took > 900 {
		t.Errorf("the fourth member took %d of 3000 accounts, want about 750", took)
	}
}
