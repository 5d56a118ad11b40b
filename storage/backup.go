package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/mattn/go-sqlite3"
)

// Backup copies the database to dest with SQLite's online backup API: a
// consistent snapshot taken while the server keeps reading and writing
// (WAL readers do not block writers). The copy is written next to dest and
// renamed into place once complete and checked, so dest is never a partial
// file. An existing dest is replaced.
func (db *DB) Backup(ctx context.Context, dest string) error {
	if dest == "" {
		return errors.New("back up database: empty destination")
	}
	if abs, err := filepath.Abs(dest); err == nil {
		if src, err := filepath.Abs(db.path); err == nil && abs == src {
			return errors.New("back up database: the destination is the database itself")
		}
	}
	if dir := filepath.Dir(dest); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("back up database: create folder: %w", err)
		}
	}
	tmp := dest + ".partial"
	os.Remove(tmp)
	defer os.Remove(tmp)
	if err := db.backupTo(ctx, tmp); err != nil {
		return fmt.Errorf("back up database to %s: %w", dest, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("back up database: %w", err)
	}
	return nil
}

func (db *DB) backupTo(ctx context.Context, path string) error {
	out, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath())
	if err != nil {
		return err
	}
	defer out.Close()
	dst, err := out.Conn(ctx)
	if err != nil {
		return err
	}
	defer dst.Close()
	src, err := db.r.Conn(ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	err = dst.Raw(func(d any) error {
		return src.Raw(func(s any) error {
			dc, ok1 := d.(*sqlite3.SQLiteConn)
			sc, ok2 := s.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("not a go-sqlite3 connection")
			}
			b, err := dc.Backup("main", sc, "main")
			if err != nil {
				return err
			}
			// One step copies every page under one read transaction: a
			// consistent snapshot even while the server writes.
			if _, err := b.Step(-1); err != nil {
				b.Finish()
				return err
			}
			return b.Finish()
		})
	})
	if err != nil {
		return err
	}
	var check string
	if err := dst.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&check); err != nil {
		return fmt.Errorf("check the copy: %w", err)
	}
	if check != "ok" {
		return fmt.Errorf("check the copy: %s", check)
	}
	return nil
}
