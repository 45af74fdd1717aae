package maildir

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Folder is one Maildir folder found under a root.
type Folder struct {
	// Dir is the folder's directory.
	Dir string
	// Rel is Dir relative to the root, slash-separated: "" for the root,
	// ".Archive.2024" (Maildir++), "Archive/2024" (a plain tree).
	Rel string
	// Levels are the mailbox hierarchy levels it stands for (Levels);
	// nil for the root, INBOX.
	Levels []string
}

// isMaildir reports whether dir has a cur/ directory.
func isMaildir(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "cur"))
	return err == nil && fi.IsDir()
}

// Folders finds the Maildir folders under root, sorted by Rel: root itself
// when it is a Maildir (INBOX), its Maildir++ folders (".A.B"), and the
// folders of a plain tree (A/B/cur, as Dovecot's LAYOUT=fs and mbsync
// write them). A directory without cur/ is not a folder (a plain tree's
// parent may still hold folders); symbolic links are not followed.
func Folders(root string) ([]Folder, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "maildir", Path: root, Err: errors.New("not a directory")}
	}
	var out []Folder
	if isMaildir(root) {
		out = append(out, Folder{Dir: root})
	}
	var walk func(dir, rel string, top bool) error
	walk = func(dir, rel string, top bool) error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			n := e.Name()
			if !e.IsDir() || n == "cur" || n == "new" || n == "tmp" {
				continue
			}
			sub := filepath.Join(dir, n)
			r := n
			if rel != "" {
				r = rel + "/" + n
			}
			if strings.HasPrefix(n, ".") {
				// Maildir++ folders sit at the top only; other dot
				// directories (.notmuch, .git) are not mail.
				if top && isMaildir(sub) {
					out = append(out, Folder{Dir: sub, Rel: n, Levels: Levels(n)})
				}
				continue
			}
			if isMaildir(sub) {
				out = append(out, Folder{Dir: sub, Rel: r, Levels: Levels(r)})
			}
			if err := walk(sub, r, false); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, "", true); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Folder) int { return cmp.Compare(a.Rel, b.Rel) })
	return out, nil
}

// Entry is one message file of a folder.
type Entry struct {
	// Path is the file's path.
	Path string
	// Name is what its name says.
	Name FileName
	// Flags are its IMAP flags (FileName.Flags with the folder's
	// keywords).
	Flags []string
	// InternalDate is the file's modification time.
	InternalDate time.Time
	// Size is the file's size.
	Size int64
}

// Messages lists the message files of the folder (cur/ and new/; tmp/
// holds none yet), in the order they came from their server: by
// UIDVALIDITY and UID for names that carry them, then the others by date
// and name.
func (f Folder) Messages() ([]Entry, error) {
	kw, err := ReadKeywords(f.Dir)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, sub := range []string{"cur", "new"} {
		ents, err := os.ReadDir(filepath.Join(f.Dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // renamed by a reader meanwhile
			}
			if err != nil {
				return nil, err
			}
			fn := Parse(e.Name())
			out = append(out, Entry{Path: filepath.Join(f.Dir, sub, e.Name()), Name: fn, Flags: fn.Flags(kw),
				InternalDate: fi.ModTime(), Size: fi.Size()})
		}
	}
	slices.SortFunc(out, func(a, b Entry) int {
		ao, bo := a.Name.UID != 0, b.Name.UID != 0
		switch {
		case ao && bo:
			return cmp.Or(cmp.Compare(a.Name.UIDValidity, b.Name.UIDValidity), cmp.Compare(a.Name.UID, b.Name.UID))
		case ao:
			return -1
		case bo:
			return 1
		}
		return cmp.Or(a.InternalDate.Compare(b.InternalDate), cmp.Compare(a.Path, b.Path))
	})
	return out, nil
}
