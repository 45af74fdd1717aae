package maildir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Message is one message to write.
type Message struct {
	// UIDValidity and UID name the message on the server; both are
	// needed (they make the file name unique and let Has find it).
	UIDValidity, UID uint32
	// Flags are its IMAP flags and keywords; \Recent is never written.
	Flags []string
	// InternalDate becomes the file's modification time and the name's
	// time; zero means now.
	InternalDate time.Time
	// Raw is the whole message, written as it is.
	Raw []byte
}

// Options configure Open. Nil means defaults.
type Options struct {
	// Host is the host part of new file names. Default os.Hostname().
	Host string
	// LockWait is how often Open tries again while another writer holds
	// the folder. Default 100ms.
	LockWait time.Duration
}

// Writer writes the messages of one mailbox of one UIDVALIDITY into its
// folder. It holds the folder's lock until Close. It is not safe for
// concurrent use.
type Writer struct {
	dir         string
	cur         *os.File // locked; fsync'd by Sync
	uidValidity uint32
	host        string
	kw          *Keywords
	have        map[uint32]string // uid → file name, in cur/ or new/
	dirty       bool              // files renamed into cur/ since the last Sync
}

// Dir is the path of a mailbox's folder under an account's root.
func Dir(root, mailbox string, delim rune) string {
	return filepath.Join(root, FolderName(mailbox, delim))
}

// Open opens (creating it and root as needed, mode 0700) the folder of
// mailbox, whose hierarchy delimiter is delim, under the account root
// root, for writing messages of uidValidity. It waits for the folder's
// lock until ctx ends, removes what a killed writer left in tmp/, and
// reads which messages of uidValidity the folder has.
func Open(ctx context.Context, root, mailbox string, delim rune, uidValidity uint32, opts *Options) (*Writer, error) {
	if uidValidity == 0 {
		return nil, errors.New("maildir: UIDVALIDITY 0")
	}
	o := Options{LockWait: 100 * time.Millisecond}
	if opts != nil {
		o.Host = opts.Host
		if opts.LockWait > 0 {
			o.LockWait = opts.LockWait
		}
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	dir := Dir(root, mailbox, delim)
	if err := create(root, dir); err != nil {
		return nil, fmt.Errorf("maildir %s: %w", dir, err)
	}
	cur, err := os.Open(filepath.Join(dir, "cur"))
	if err != nil {
		return nil, err
	}
	if err := lock(ctx, cur, o.LockWait); err != nil {
		cur.Close()
		return nil, fmt.Errorf("maildir %s: lock: %w", dir, err)
	}
	w := &Writer{dir: dir, cur: cur, uidValidity: uidValidity, host: hostName(o.Host)}
	if err := w.init(); err != nil {
		cur.Close()
		return nil, fmt.Errorf("maildir %s: %w", dir, err)
	}
	return w, nil
}

func (w *Writer) init() error {
	if err := cleanTmp(w.dir); err != nil {
		return err
	}
	kw, err := ReadKeywords(w.dir)
	if err != nil {
		return err
	}
	w.kw = kw
	w.have, err = index(w.dir, w.uidValidity)
	return err
}

// create makes root and dir with cur, new and tmp (and maildirfolder in a
// subfolder), and fsyncs the directories whose entries it added, so that a
// checkpoint recorded later never covers a file whose directory a crash
// could lose.
func create(root, dir string) error {
	if err := mkdirAllSync(root); err != nil {
		return err
	}
	made := false
	mkdir := func(p string) error {
		err := os.Mkdir(p, 0o700)
		if err == nil {
			made = true
			return nil
		}
		if errors.Is(err, fs.ErrExist) {
			return nil
		}
		return err
	}
	if dir != root {
		if err := mkdir(dir); err != nil {
			return err
		}
		if made {
			if err := syncDir(root); err != nil {
				return err
			}
		}
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := mkdir(filepath.Join(dir, sub)); err != nil {
			return err
		}
	}
	if dir != root {
		// Maildir++: a folder says it is one.
		p := filepath.Join(dir, "maildirfolder")
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			if err := writeFileSync(p, nil); err != nil {
				return err
			}
			made = true
		}
	}
	if made {
		return syncDir(dir)
	}
	return nil
}

// mkdirAllSync is os.MkdirAll (mode 0700) that also fsyncs the parent of
// every directory it creates.
func mkdirAllSync(path string) error {
	path = filepath.Clean(path)
	var missing []string
	for p := path; ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := syncDir(filepath.Dir(missing[i])); err != nil {
			return err
		}
	}
	return nil
}

// cleanTmp removes from dir/tmp what a killed writer left: message files
// with mailwarden's names and the keywords file being replaced. Other
// programs' files are left alone.
func cleanTmp(dir string) error {
	ents, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if Parse(n).UID != 0 || n == KeywordsFile+".mailwarden" {
			if err := os.Remove(filepath.Join(dir, "tmp", n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// index lists the files of dir's cur/ and new/ that hold messages of
// uidValidity, by UID.
func index(dir string, uidValidity uint32) (map[uint32]string, error) {
	have := map[uint32]string{}
	for _, sub := range []string{"cur", "new"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if fn := Parse(e.Name()); fn.UID != 0 && fn.UIDValidity == uidValidity {
				have[fn.UID] = e.Name()
			}
		}
	}
	return have, nil
}

// Index returns the UIDs of the messages of uidValidity that the folder of
// mailbox under root holds, without creating or locking anything (for dry
// runs). A folder that does not exist holds none.
func Index(root, mailbox string, delim rune, uidValidity uint32) (map[uint32]bool, error) {
	have, err := index(Dir(root, mailbox, delim), uidValidity)
	if err != nil {
		return nil, err
	}
	out := make(map[uint32]bool, len(have))
	for u := range have {
		out[u] = true
	}
	return out, nil
}

// Dir returns the folder's directory.
func (w *Writer) Dir() string { return w.dir }

// Has reports whether the folder holds the message uid (of the Writer's
// UIDVALIDITY), written by this Writer or found on Open.
func (w *Writer) Has(uid uint32) bool {
	_, ok := w.have[uid]
	return ok
}

// Count is how many messages of the Writer's UIDVALIDITY the folder holds.
func (w *Writer) Count() int { return len(w.have) }

// Put writes m into cur/ (see the package invariants) and returns its file
// name, and the keywords it could not record because the folder's 26
// keyword letters are taken. A message the folder has already is not
// written again: its existing name is returned. The file survives a crash
// only after Sync.
func (w *Writer) Put(m *Message) (name string, dropped []string, err error) {
	if m.UIDValidity != w.uidValidity {
		return "", nil, fmt.Errorf("maildir %s: message of UIDVALIDITY %d in a writer of %d", w.dir, m.UIDValidity, w.uidValidity)
	}
	if m.UID == 0 {
		return "", nil, fmt.Errorf("maildir %s: message without UID", w.dir)
	}
	if n, ok := w.have[m.UID]; ok {
		return n, nil, nil
	}
	info, dropped, err := w.info(m.Flags)
	if err != nil {
		return "", dropped, err
	}
	date := m.InternalDate
	if date.IsZero() {
		date = time.Now()
	}
	name = Build(date, m.UIDValidity, m.UID, w.host, int64(len(m.Raw)), info)
	tmp := filepath.Join(w.dir, "tmp", name)
	if err := writeFileSync(tmp, m.Raw); err != nil {
		os.Remove(tmp)
		return "", dropped, fmt.Errorf("maildir %s: %w", w.dir, err)
	}
	if err := os.Chtimes(tmp, date, date); err != nil {
		os.Remove(tmp)
		return "", dropped, fmt.Errorf("maildir %s: %w", w.dir, err)
	}
	if err := os.Rename(tmp, filepath.Join(w.dir, "cur", name)); err != nil {
		os.Remove(tmp)
		return "", dropped, fmt.Errorf("maildir %s: %w", w.dir, err)
	}
	w.have[m.UID] = name
	w.dirty = true
	return name, dropped, nil
}

// info returns the sorted info letters of flags, adding keywords to the
// folder's table (written before it returns) as needed.
func (w *Writer) info(flags []string) (string, []string, error) {
	var b []byte
	var dropped []string
	added := false
	for _, f := range flags {
		if strings.EqualFold(f, `\Recent`) || f == "" {
			continue
		}
		if c := letterOf(f); c != 0 {
			b = append(b, c)
			continue
		}
		if strings.HasPrefix(f, `\`) {
			continue // an unknown system flag: nothing to write it as
		}
		i := w.kw.index(f)
		if i < 0 {
			if i = w.kw.add(f); i < 0 {
				dropped = append(dropped, f)
				continue
			}
			added = true
		}
		b = append(b, byte('a'+i))
	}
	if added {
		if err := w.kw.write(w.dir); err != nil {
			return "", dropped, fmt.Errorf("maildir %s: keywords: %w", w.dir, err)
		}
	}
	slices.Sort(b)
	return string(slices.Compact(b)), dropped, nil
}

// Sync fsyncs cur/: every file Put renamed there survives a crash from
// now on.
func (w *Writer) Sync() error {
	if !w.dirty {
		return nil
	}
	if err := w.cur.Sync(); err != nil {
		return fmt.Errorf("maildir %s: fsync cur: %w", w.dir, err)
	}
	w.dirty = false
	return nil
}

// Close syncs and releases the folder's lock.
func (w *Writer) Close() error {
	err := w.Sync()
	return errors.Join(err, w.cur.Close())
}

// writeFileSync creates (or truncates) path with b and fsyncs it.
func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir fsyncs a directory, so the entries added to it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
