package diag

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"subject", "from", "fileinto", "mailbox"}
	for _, tc := range []struct {
		in   string
		long int
		want string
	}{
		{"subjet", 6, "subject"},   // one deletion
		{"fileint", 6, "fileinto"}, // one insertion
		{"form", 6, "from"},        // one transposition
		{"FROM", 6, "from"},        // case-insensitive
		{"mailbxo", 6, "mailbox"},  // transposition, long name
		{"malbxo", 6, "mailbox"},   // two edits allowed from 6 characters
		{"malbxo", 8, ""},          // …but not from 8
		{"zzz", 6, ""},
	} {
		if got := Closest(tc.in, names, tc.long); got != tc.want {
			t.Errorf("Closest(%q, %d) = %q, want %q", tc.in, tc.long, got, tc.want)
		}
	}
}
