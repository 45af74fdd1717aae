package maildir

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFolderName(t *testing.T) {
	for _, tt := range []struct {
		mailbox string
		delim   rune
		want    string
		levels  []string
	}{
		{"INBOX", '/', "", nil},
		{"inbox", '/', "", nil},
		{"Archive", '/', ".Archive", []string{"Archive"}},
		{"Archive/2024", '/', ".Archive.2024", []string{"Archive", "2024"}},
		{"INBOX.Sent", '.', ".INBOX.Sent", []string{"INBOX", "Sent"}},
		{"v1.2/notes", '/', `.v1\2e2.notes`, []string{"v1.2", "notes"}},
		{`a\b/~c`, '/', `.a\5cb.\7ec`, []string{`a\b`, "~c"}},
		{"a~b", '/', ".a~b", []string{"a~b"}},
		{"Entwürfe/Ölfelder", '/', ".Entwürfe.Ölfelder", []string{"Entwürfe", "Ölfelder"}},
		{"flat/name", 0, `.flat\2fname`, []string{"flat/name"}},
	} {
		got := FolderName(tt.mailbox, tt.delim)
		if got != tt.want {
			t.Errorf("FolderName(%q, %q) = %q, want %q", tt.mailbox, tt.delim, got, tt.want)
		}
		if l := Levels(got); !slices.Equal(l, tt.levels) {
			t.Errorf("Levels(%q) = %q, want %q", got, l, tt.levels)
		}
	}
	if got := Levels("Archive/2024"); !slices.Equal(got, []string{"Archive", "2024"}) {
		t.Errorf("plain tree levels = %q", got)
	}
	if got := MailboxName([]string{"Archive", "2024"}, '.'); got != "Archive.2024" {
		t.Errorf("MailboxName = %q", got)
	}
	if got := MailboxName(nil, '/'); got != "INBOX" {
		t.Errorf("MailboxName(nil) = %q", got)
	}
}

func TestParse(t *testing.T) {
	date := time.Unix(1700000000, 0)
	name := Build(date, 42, 7, hostName("mail.example.org"), 1234, "FSa")
	if name != "1700000000.V42U7.mail.example.org,S=1234:2,FSa" {
		t.Fatalf("Build = %q", name)
	}
	fn := Parse(name)
	if fn.UIDValidity != 42 || fn.UID != 7 || fn.Size != 1234 || fn.Letters != "FSa" || !fn.Time.Equal(date) ||
		fn.Base != "1700000000.V42U7.mail.example.org" {
		t.Errorf("Parse = %+v", fn)
	}
	// A name Dovecot wrote, with W= and no mailwarden unique part.
	fn = Parse("1275660208.M20P2332.host,S=1900,W=1933:2,RS")
	if fn.UID != 0 || fn.UIDValidity != 0 || fn.Size != 1900 || fn.Letters != "RS" {
		t.Errorf("Parse dovecot = %+v", fn)
	}
	// A bare qmail name.
	if fn := Parse("1275660208.12345.host"); fn.Size != -1 || fn.Letters != "" || fn.UID != 0 {
		t.Errorf("Parse bare = %+v", fn)
	}
	kw := &Keywords{}
	kw.names[0], kw.names[2] = "$Label1", "Junk"
	got := Parse("1.V1U1.h:2,DFPRSTacz").Flags(kw)
	want := []string{`\Draft`, `\Flagged`, `$Forwarded`, `\Answered`, `\Seen`, `\Deleted`, "$Label1", "Junk"}
	if !slices.Equal(got, want) {
		t.Errorf("Flags = %q, want %q", got, want)
	}
	if h := hostName("a/b:c,d"); h != `a\057b\072c\054d` {
		t.Errorf("hostName = %q", h)
	}
}

func put(t *testing.T, w *Writer, m *Message) string {
	t.Helper()
	name, dropped, err := w.Put(m)
	if err != nil || len(dropped) > 0 {
		t.Fatalf("Put uid %d: %v (dropped %q)", m.UID, err, dropped)
	}
	return name
}

// Written messages read back byte for byte, with their flags, keywords and
// internal dates, in a Maildir++ folder with its maildirfolder file.
func TestWriteAndRead(t *testing.T) {
	root := filepath.Join(t.TempDir(), "acct")
	ctx := context.Background()
	w, err := Open(ctx, root, "Archive/2024", '/', 99, &Options{Host: "backup"})
	if err != nil {
		t.Fatal(err)
	}
	d1 := time.Date(2024, 3, 1, 8, 30, 0, 0, time.UTC)
	d2 := time.Date(2024, 5, 2, 9, 0, 0, 0, time.UTC)
	raw1 := []byte("Message-ID: <one@x>\r\nSubject: one\r\n\r\nbody one\r\n")
	raw2 := []byte("Message-ID: <two@x>\r\n\r\nbody\r\nwith a bare \n LF kept\r\n")
	n1 := put(t, w, &Message{UIDValidity: 99, UID: 3, Flags: []string{`\Seen`, `\Flagged`, "$Label1", `\Recent`}, InternalDate: d1, Raw: raw1})
	n2 := put(t, w, &Message{UIDValidity: 99, UID: 10, Flags: []string{"Work", "$label1", `\Answered`}, InternalDate: d2, Raw: raw2})
	if n1 != "1709281800.V99U3.backup,S=47:2,FSa" || n2 != "1714640400.V99U10.backup,S=52:2,Rab" {
		t.Errorf("names %q %q", n1, n2)
	}
	if again := put(t, w, &Message{UIDValidity: 99, UID: 3, Raw: []byte("other")}); again != n1 {
		t.Errorf("second Put of uid 3 = %q", again)
	}
	if !w.Has(3) || !w.Has(10) || w.Has(4) || w.Count() != 2 {
		t.Error("Has")
	}
	if _, _, err := w.Put(&Message{UIDValidity: 98, UID: 1}); err == nil {
		t.Error("Put of another UIDVALIDITY accepted")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, ".Archive.2024")
	if _, err := os.Stat(filepath.Join(dir, "maildirfolder")); err != nil {
		t.Error(err)
	}
	if kw, _ := os.ReadFile(filepath.Join(dir, KeywordsFile)); string(kw) != "0 $Label1\n1 Work\n" {
		t.Errorf("dovecot-keywords = %q", kw)
	}
	folders, err := Folders(root)
	if err != nil || len(folders) != 1 || folders[0].Rel != ".Archive.2024" || !slices.Equal(folders[0].Levels, []string{"Archive", "2024"}) {
		t.Fatalf("Folders = %+v, %v", folders, err)
	}
	ents, err := folders[0].Messages()
	if err != nil || len(ents) != 2 {
		t.Fatalf("Messages = %+v, %v", ents, err)
	}
	for i, want := range []struct {
		raw   []byte
		date  time.Time
		flags []string
	}{{raw1, d1, []string{`\Flagged`, `\Seen`, "$Label1"}}, {raw2, d2, []string{`\Answered`, "$Label1", "Work"}}} {
		e := ents[i]
		b, _ := os.ReadFile(e.Path)
		if !bytes.Equal(b, want.raw) || !e.InternalDate.Equal(want.date) || !slices.Equal(e.Flags, want.flags) || e.Size != int64(len(want.raw)) {
			t.Errorf("entry %d: %q %v %q %d", i, b, e.InternalDate, e.Flags, e.Size)
		}
	}
}

// A writer killed after renaming files but before any checkpoint leaves
// them in cur/: the next Open finds them (Has), and removes the half
// written files it left in tmp/. A UIDVALIDITY change leaves the old
// files where they are.
func TestReopenAfterKill(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	w, err := Open(ctx, root, "INBOX", '/', 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	put(t, w, &Message{UIDValidity: 5, UID: 1, Raw: []byte("a")})
	w.cur.Close() // killed: no Sync, no Close
	half := filepath.Join(root, "tmp", Build(time.Now(), 5, 2, "h", 9, ""))
	os.WriteFile(half, []byte("half"), 0o600)
	foreign := filepath.Join(root, "tmp", "1.2.otherwriter")
	os.WriteFile(foreign, nil, 0o600)

	w, err = Open(ctx, root, "inbox", '/', 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Has(1) || w.Has(2) {
		t.Error("reopened writer does not see exactly uid 1")
	}
	if _, err := os.Stat(half); !errors.Is(err, os.ErrNotExist) {
		t.Error("half-written tmp file kept")
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Error("another program's tmp file removed")
	}
	w.Close()
	w, err = Open(ctx, root, "INBOX", '/', 6, nil)
	if err != nil {
		t.Fatal(err)
	}
	if w.Has(1) {
		t.Error("a new UIDVALIDITY sees the old uid 1")
	}
	put(t, w, &Message{UIDValidity: 6, UID: 1, Raw: []byte("b")})
	w.Close()
	if have, _ := Index(root, "INBOX", '/', 5); !have[1] || len(have) != 1 {
		t.Errorf("old generation = %v", have)
	}
	if have, _ := Index(root, "Nope", '/', 5); len(have) != 0 {
		t.Errorf("missing folder = %v", have)
	}
}

// One writer per folder: a second Open waits for the first to close.
func TestLock(t *testing.T) {
	root := t.TempDir()
	w, err := Open(context.Background(), root, "Trash", '/', 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := Open(ctx, root, "Trash", '/', 1, &Options{LockWait: 10 * time.Millisecond}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Open = %v, want a timeout", err)
	}
	other, err := Open(context.Background(), root, "Junk", '/', 1, nil)
	if err != nil {
		t.Fatalf("another folder: %v", err)
	}
	other.Close()
	done := make(chan error, 1)
	go func() {
		w2, err := Open(context.Background(), root, "Trash", '/', 1, &Options{LockWait: 10 * time.Millisecond})
		if err == nil {
			w2.Close()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	w.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// 26 keywords fit in a folder; the 27th is reported, not written.
func TestKeywordLimit(t *testing.T) {
	w, err := Open(context.Background(), t.TempDir(), "INBOX", '/', 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var kws []string
	for i := 0; i < 27; i++ {
		kws = append(kws, "k"+strings.Repeat("x", i))
	}
	name, dropped, err := w.Put(&Message{UIDValidity: 1, UID: 1, Flags: kws, Raw: []byte("x")})
	if err != nil || !slices.Equal(dropped, kws[26:]) || !strings.HasSuffix(name, ":2,abcdefghijklmnopqrstuvwxyz") {
		t.Errorf("name %q dropped %q err %v", name, dropped, err)
	}
}

// A plain tree (Dovecot LAYOUT=fs, mbsync) reads as folders too; dot
// directories below the top and non-Maildir directories are skipped.
func TestFoldersPlainTree(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"cur", "Archive/cur", "Archive/2024/cur", "Lists/linux/cur", ".notmuch/xapian", "Lists/.hidden/cur"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := Folders(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, MailboxName(f.Levels, '/'))
	}
	if want := []string{"INBOX", "Archive", "Archive/2024", "Lists/linux"}; !slices.Equal(got, want) {
		t.Errorf("folders = %q, want %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("1700000000.V42U7.host,S=12:2,FS")
	f.Add("1.2.3:2,")
	f.Add(",S=,:")
	f.Add("V1U1")
	f.Fuzz(func(t *testing.T, name string) {
		fn := Parse(name)
		if (fn.UID == 0) != (fn.UIDValidity == 0) {
			t.Fatalf("UID %d without UIDVALIDITY %d", fn.UID, fn.UIDValidity)
		}
		fn.Flags(nil)
	})
}

func FuzzFolderName(f *testing.F) {
	f.Add("Archive/2024")
	f.Add(`a.b\c/~d`)
	f.Add("\x00/.")
	f.Fuzz(func(t *testing.T, mailbox string) {
		if mailbox == "" || strings.EqualFold(mailbox, "INBOX") {
			return
		}
		got := Levels(FolderName(mailbox, '/'))
		if want := strings.Split(mailbox, "/"); !slices.Equal(got, want) {
			t.Fatalf("Levels(FolderName(%q)) = %q, want %q", mailbox, got, want)
		}
		if strings.Contains(FolderName(mailbox, '/')[1:], "/") {
			t.Fatalf("folder name of %q has a slash", mailbox)
		}
	})
}
