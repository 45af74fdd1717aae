package cluster

import (
	"hash/fnv"
	"slices"
)

// Rank orders members by their rendezvous (highest random weight) score
// for account, best first: Rank(a, m)[0] should own a. Every replica
// computes the same order from the same members, whatever their order;
// removing a member moves only the accounts it ranked first for, adding
// one takes from each about its share.
func Rank(account string, members []string) []string {
	out := slices.Clone(members)
	slices.SortFunc(out, func(a, b string) int {
		sa, sb := score(a, account), score(b, account)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		// Equal scores (never in practice): by name, so the order is total.
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
	return out
}

// Preferred returns the member that should own account ("" with none).
func Preferred(account string, members []string) string {
	best, bestScore := "", uint64(0)
	for _, m := range members {
		s := score(m, account)
		if best == "" || s > bestScore || (s == bestScore && m < best) {
			best, bestScore = m, s
		}
	}
	return best
}

// score hashes member and account together (FNV-1a, then the splitmix64
// finalizer so that nearby inputs spread over the whole range).
func score(member, account string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(member))
	h.Write([]byte{0})
	h.Write([]byte(account))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
