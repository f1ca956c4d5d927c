package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrBackupUnsupported is returned by Backup on a database other than
// SQLite, whose servers have their own tools for it (pg_dump or
// pg_basebackup, mariadb-dump or mariabackup).
var ErrBackupUnsupported = errors.New("store: Backup copies SQLite databases only; use the database server's backup tools")

// Backup writes a consistent copy of an SQLite database to path while the
// app keeps serving: SQLite's VACUUM INTO reads one snapshot of the
// database, in a read transaction that writers in WAL mode do not wait
// for, so the copy holds every write committed before it began and none
// that committed after. It writes to a temporary file beside path, syncs
// it and renames it over path, so path is always either the previous copy
// or the complete new one. The copy is compacted, has no -wal file of its
// own and is readable by its owner only, like the database. ctx bounds the
// copy (it is interrupted when ctx ends, and nothing is left behind).
//
// The copy holds everything, the password hashes and, unless
// ihoprauth.Config.Secret is set, the key of the code hashes too: keep it as
// safe as the database. To restore, stop the app, replace the database
// file with the copy, delete the database's -wal and -shm files, and start
// the app again. On other databases Backup returns ErrBackupUnsupported.
func (s *Store) Backup(ctx context.Context, path string) (err error) {
	if s.db.Dialector.Name() != "sqlite" {
		return ErrBackupUnsupported
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := s.notOwnFile(ctx, abs); err != nil {
		return err
	}
	// An empty file of our own, 0600: VACUUM INTO accepts an empty file,
	// and never replaces one that holds data.
	tmp, err := os.CreateTemp(filepath.Dir(abs), filepath.Base(abs)+".tmp-*")
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	name := tmp.Name()
	tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(name)
		}
	}()
	if err := s.db.WithContext(ctx).Exec("VACUUM INTO ?", name).Error; err != nil {
		return s.wrap("backup", err)
	}
	if err := syncFile(name); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := os.Rename(name, abs); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := syncFile(filepath.Dir(abs)); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// notOwnFile refuses a target that is the database's own file or one of
// its -wal, -shm and -journal files: renaming the copy over the database
// while it is open would leave its WAL to be replayed onto another file.
func (s *Store) notOwnFile(ctx context.Context, target string) error {
	var file string
	err := s.db.WithContext(ctx).Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Row().Scan(&file)
	if err != nil {
		return s.wrap("backup: the database's file", err)
	}
	if file == "" {
		return nil // an in-memory database has none
	}
	to, _ := os.Stat(target)
	for _, own := range []string{file, file + "-wal", file + "-shm", file + "-journal"} {
		same := filepath.Clean(own) == target
		if fi, err := os.Stat(own); err == nil && to != nil {
			same = same || os.SameFile(fi, to)
		}
		if same {
			return fmt.Errorf("store: backup: %s is the database's own file; copy it elsewhere", target)
		}
	}
	return nil
}

// syncFile flushes the file or directory at path to stable storage.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
