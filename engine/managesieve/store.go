package managesieve

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Errors of the Store, answered with their RFC 5804 response codes.
var (
	ErrNoScript = errors.New("no such script")                                              // NONEXISTENT
	ErrExists   = errors.New("a script with that name exists")                              // ALREADYEXISTS
	ErrActive   = errors.New("the active script cannot be deleted; activate another first") // ACTIVE
	ErrBadName  = errors.New("script names are 1 to 128 characters of UTF-8, without control characters")
)

// Store keeps scripts as files: <dir>/<account>/<name>.sieve, each written
// to a temporary file, synced and renamed, so a crash leaves the old or the
// new script, never half of one. The active script's name is in the file
// "active" beside them (written the same way; absent: none is active).
// A Store is safe for concurrent use.
type Store struct {
	dir string
	mu  sync.Mutex
}

// NewStore returns the store rooted at dir (state_dir/sieve). Directories
// are made when first written.
func NewStore(dir string) *Store { return &Store{dir: dir} }

// Script is one stored script.
type Script struct {
	Name   string
	Active bool
}

// validName checks a script name (RFC 5804 §1.6: UTF-8, no control
// characters, no U+2028/U+2029).
func validName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 128 || !utf8.ValidString(name) {
		return ErrBadName
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			return ErrBadName
		}
	}
	return nil
}

// AccountDir is the directory of account's scripts: include :personal
// reads there, so stored scripts can include one another.
func (s *Store) AccountDir(account string) string {
	return filepath.Join(s.dir, url.PathEscape(account))
}

func (s *Store) path(account, name string) string {
	return filepath.Join(s.AccountDir(account), url.PathEscape(name)+".sieve")
}

// ScriptPath is where the script name of account is stored.
func (s *Store) ScriptPath(account, name string) string { return s.path(account, name) }

// List lists account's scripts, sorted by name.
func (s *Store) List(account string) ([]Script, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.list(account)
}

func (s *Store) list(account string) ([]Script, error) {
	ents, err := os.ReadDir(s.AccountDir(account))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	active, err := s.active(account)
	if err != nil {
		return nil, err
	}
	var out []Script
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name(), ".sieve")
		if !ok || e.IsDir() {
			continue
		}
		name, err := url.PathUnescape(base)
		if err != nil {
			continue
		}
		out = append(out, Script{Name: name, Active: name == active})
	}
	slices.SortFunc(out, func(a, b Script) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Get returns the source of a script.
func (s *Store) Get(account, name string) ([]byte, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.path(account, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoScript
	}
	return b, err
}

// Put stores a script (new or replacing one of the same name).
func (s *Store) Put(account, name string, src []byte) error {
	if err := validName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return writeAtomic(s.path(account, name), src)
}

// Delete removes a script; the active one cannot be deleted.
func (s *Store) Delete(account, name string) error {
	if err := validName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if active, err := s.active(account); err != nil {
		return err
	} else if active == name {
		return ErrActive
	}
	err := os.Remove(s.path(account, name))
	if errors.Is(err, os.ErrNotExist) {
		return ErrNoScript
	}
	return err
}

// Rename renames a script, keeping it active if it was.
func (s *Store) Rename(account, old, name string) error {
	if err := validName(old); err != nil {
		return err
	}
	if err := validName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(s.path(account, name)); err == nil {
		return ErrExists
	}
	if err := os.Rename(s.path(account, old), s.path(account, name)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return ErrNoScript
		}
		return err
	}
	if active, err := s.active(account); err == nil && active == old {
		return writeAtomic(filepath.Join(s.AccountDir(account), "active"), []byte(name))
	}
	return nil
}

// SetActive makes name the active script; "" makes none active.
func (s *Store) SetActive(account, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	file := filepath.Join(s.AccountDir(account), "active")
	if name == "" {
		err := os.Remove(file)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := validName(name); err != nil {
		return err
	}
	if _, err := os.Stat(s.path(account, name)); err != nil {
		return ErrNoScript
	}
	return writeAtomic(file, []byte(name))
}

// Active returns the name of account's active script and its path ("",
// "" when none is active).
func (s *Store) Active(account string) (name, path string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, err = s.active(account)
	if err != nil || name == "" {
		return "", "", err
	}
	return name, s.path(account, name), nil
}

func (s *Store) active(account string) (string, error) {
	b, err := os.ReadFile(filepath.Join(s.AccountDir(account), "active"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(b)), err
}

// writeAtomic writes data to path through a synced temporary file and a
// rename, then syncs the directory.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
