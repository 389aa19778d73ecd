package boltstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Compact rewrites the database at path into a new file holding only what
// is live, and puts it in the old one's place: bbolt reuses freed pages but
// never gives them back, so a file that once held many records stays that
// large. It takes the database's lock (ErrInUse while a server holds it,
// after opts.Timeout), keeps the original until the copy is complete and
// synced, and gives the copy mode 0600. A copy no smaller than the file
// is dropped, and the file kept. It returns the sizes before and after.
func Compact(path string, opts Options) (before, after int64, err error) {
	st, err := Open(path, opts)
	if err != nil {
		return 0, 0, err
	}
	// The lock is held until the new file is in place: a server starting
	// meanwhile waits, and then finds the new file (see Open).
	defer st.db.Close()
	info, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	before = info.Size()
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".compact-*")
	if err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmpPath)
		}
	}()
	if err := os.Chmod(tmpPath, 0o600); err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	dst, err := bolt.Open(tmpPath, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := bolt.Compact(dst, st.db, 64<<20); err != nil {
		dst.Close()
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	copied, err := os.Stat(tmpPath)
	if err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if copied.Size() >= before {
		// Nothing to gain (a file of few free pages, or of records
		// larger than a page, which a copy packs no better): keep it.
		return before, before, nil
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return 0, 0, fmt.Errorf("compact %s: replace it with the compacted copy: %w", path, err)
	}
	done = true
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // the rename is durable once the directory is
		d.Close()
	}
	if info, err = os.Stat(path); err != nil {
		return before, 0, err
	}
	return before, info.Size(), nil
}

// sameFile reports whether path is still the file statted as was: false
// when it was replaced (a compaction) or removed meanwhile.
func sameFile(path string, was fs.FileInfo) bool {
	now, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	return err == nil && os.SameFile(was, now)
}
