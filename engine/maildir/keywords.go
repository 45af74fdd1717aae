package maildir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// KeywordsFile is the name of a folder's keyword table, as Dovecot keeps
// it: one "<index> <keyword>" line per keyword, index 0 being the letter
// a (Dovecot's Maildir format documentation, "Keywords").
const KeywordsFile = "dovecot-keywords"

// MaxKeywords is how many keywords one folder's file names can carry: the
// letters a to z.
const MaxKeywords = 26

// Keywords is a folder's keyword table. The zero value (and nil) is empty.
type Keywords struct {
	names [MaxKeywords]string
}

// Name returns the keyword of index i, "" when none.
func (k *Keywords) Name(i int) string {
	if k == nil || i < 0 || i >= MaxKeywords {
		return ""
	}
	return k.names[i]
}

// index returns the index of keyword (compared case-insensitively, as
// IMAP keywords are, RFC 9051 §2.3.2), or -1.
func (k *Keywords) index(keyword string) int {
	for i, n := range k.names {
		if n != "" && strings.EqualFold(n, keyword) {
			return i
		}
	}
	return -1
}

// add gives keyword the first free index, or -1 when all 26 are taken.
func (k *Keywords) add(keyword string) int {
	for i, n := range k.names {
		if n == "" {
			k.names[i] = keyword
			return i
		}
	}
	return -1
}

// ReadKeywords reads dir's dovecot-keywords; a missing file is an empty
// table. Lines that do not parse are skipped (Dovecot does the same).
func ReadKeywords(dir string) (*Keywords, error) {
	k := &Keywords{}
	b, err := os.ReadFile(filepath.Join(dir, KeywordsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		num, name, ok := strings.Cut(sc.Text(), " ")
		i, err := strconv.Atoi(num)
		if !ok || err != nil || i < 0 || i >= MaxKeywords || name == "" {
			continue
		}
		k.names[i] = name
	}
	return k, nil
}

// write replaces dir's dovecot-keywords atomically: written in tmp,
// fsync'd, renamed into dir, and dir fsync'd.
func (k *Keywords) write(dir string) error {
	var b bytes.Buffer
	for i, n := range k.names {
		if n != "" {
			fmt.Fprintf(&b, "%d %s\n", i, n)
		}
	}
	tmp := filepath.Join(dir, "tmp", KeywordsFile+".mailwarden")
	if err := writeFileSync(tmp, b.Bytes()); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, KeywordsFile)); err != nil {
		return err
	}
	return syncDir(dir)
}
