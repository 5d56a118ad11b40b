// Package storage keeps trolyso's data: users (by pseudonymous key),
// exchanges, ratings, teams, reminders and alerts. The domain types and the
// Store interface live here, with the queries, which are written once in
// the SQL that SQLite and PostgreSQL share and run on either backend:
//
//   - SQLite (the default, one commune on one machine): a file with one
//     writer connection with immediate transactions plus a read-only pool on
//     the same WAL file, so concurrent writers queue instead of failing with
//     "database is locked" (this package: db.go, batch.go, backup.go,
//     migrations/).
//   - PostgreSQL (a province deployment, several instances): storage/postgres
//     provides the pools, its own numbered migrations and serializable
//     transactions retried on conflicts, so that every transaction behaves
//     as under SQLite's single writer.
//
// OpenURL picks the backend from the database URL. The contract tests in
// this package run every test against both (a real SQLite file and a real
// PostgreSQL server; see backend_test.go).
package storage

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/colecommune/trolyso/storage/postgres"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// timeLayout is how times are stored: UTC, fixed width, so that text
// comparison orders them.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// DB is the store, on SQLite or PostgreSQL.
type DB struct {
	w      *pool  // SQLite: single writer connection, BEGIN IMMEDIATE; PostgreSQL: the pool
	r      *pool  // read-only pool
	secret []byte // key for pseudonymous user keys
	path   string // SQLite file, or the PostgreSQL URL without its password
	pg     bool   // PostgreSQL backend
	url    string // PostgreSQL URL (with its password: for LISTEN connections)
	// Now returns the current time; tests replace it.
	Now func() time.Time

	// users caches recently touched users (users.go).
	users userCache
	// pending holds the keys that may have a pending state (ratings.go).
	pending pendingKeys

	// com group-commits write transactions (storage/batch.go).
	com     *committer
	comOnce sync.Once

	// alertVersion counts changes to which alerts are current made
	// through this handle (storage/alerts.go).
	alertVersion atomic.Int64

	// The WAL is checkpointed in the background (checkpoints).
	ckStop chan struct{}
	ckDone chan struct{}
	ckOnce sync.Once

	// communes are the stores of a province deployment's communes, opened
	// by Commune (storage/communes.go); parent is set on those.
	communes communeSet
	parent   *DB
	slug     string
	// schemaPrefix names PostgreSQL commune schemas (Options.SchemaPrefix).
	schemaPrefix string
	// closeParent: closing this commune's store closes the default store
	// (OpenCommune).
	closeParent bool
	// closed is set by Close: writes then fail with ErrClosed (PostgreSQL;
	// SQLite's committer says so itself).
	closed atomic.Bool
}

// Options tune Open.
type Options struct {
	// Readers is the size of the read pool (default 4).
	Readers int
	// Secret keys the pseudonymous user keys. When empty, a random secret
	// is generated once and kept in the settings table.
	Secret string
	// Now is the clock every stored time is read from (default time.Now);
	// tests inject a fixed one.
	Now func() time.Time
	// CheckpointEvery is how often the WAL is checkpointed in the
	// background (default 1 s).
	CheckpointEvery time.Duration
	// MaxConns bounds the PostgreSQL pool (default 16).
	MaxConns int
	// SchemaPrefix starts the name of each commune's PostgreSQL schema
	// (default "xa_": the commune co-le lives in schema xa_co_le; with a
	// URL whose search_path names a schema S, "S_xa_").
	SchemaPrefix string
}

// OpenURL opens the store named by dsn: a postgres:// or postgresql:// URL
// opens PostgreSQL (storage/postgres), anything else is a SQLite file path.
func OpenURL(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if postgres.IsURL(dsn) {
		return openPostgres(ctx, dsn, opts)
	}
	return Open(ctx, dsn, opts)
}

func openPostgres(ctx context.Context, url string, opts Options) (*DB, error) {
	n := opts.MaxConns
	if n <= 0 {
		n = 16
	}
	w, err := postgres.OpenPool(ctx, url, n, false)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	db := &DB{w: &pool{DB: w}, path: postgres.Redact(url), url: url, pg: true, Now: now, schemaPrefix: opts.SchemaPrefix}
	if db.schemaPrefix == "" {
		// Communes live beside the default schema: xa_<slug> next to
		// public, <schema>_xa_<slug> when the URL names another schema.
		db.schemaPrefix = "xa_"
		if sp := postgres.SearchPath(url); sp != "" && !strings.ContainsAny(sp, ", ") {
			db.schemaPrefix = sp + "_xa_"
		}
	}
	if err := postgres.Migrate(ctx, w, "", fmtTime(db.now())); err != nil {
		w.Close()
		return nil, err
	}
	nr := opts.Readers
	if nr <= 0 {
		nr = 8
	}
	r, err := postgres.OpenPool(ctx, url, nr, true)
	if err != nil {
		w.Close()
		return nil, err
	}
	db.r = &pool{DB: r}
	if opts.Secret != "" {
		db.secret = []byte(opts.Secret)
	} else if db.secret, err = db.loadSecret(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Backend names the database engine: "sqlite" or "postgres".
func (db *DB) Backend() string {
	if db.pg {
		return "postgres"
	}
	return "sqlite"
}

// maxWALFrames is the WAL size (in 4 KiB pages, 32 MiB) beyond which the
// background checkpoint also starts the WAL over (see checkpoints); tests
// lower it.
var maxWALFrames = 8192

// Open opens (creating if needed) the SQLite file at path, applies pending
// migrations and returns the store.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open database: create folder: %w", err)
		}
	}
	// _stmt_cache_size keeps each connection's prepared statements, so
	// that the same query is not compiled again for every message.
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_synchronous=NORMAL&_stmt_cache_size=64"
	w, err := sql.Open("sqlite3", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	db := &DB{w: &pool{DB: w}, path: path, Now: now}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite3", base+"&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s for reading: %w", path, err)
	}
	n := opts.Readers
	if n <= 0 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db.r = &pool{DB: r}
	if opts.Secret != "" {
		db.secret = []byte(opts.Secret)
	} else if db.secret, err = db.loadSecret(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.loadPending(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// A commit that finds the WAL past its threshold checkpoints it on the
	// spot, copying pages and syncing files while every other write waits
	// behind it (the 100 ms+ stalls under load): the writer never
	// checkpoints; a background loop on a read connection does, and
	// checkpoints run alongside writes. (Should this connection ever be
	// reopened, it checkpoints as SQLite's default again: slower, still
	// correct.)
	if _, err := w.ExecContext(ctx, `PRAGMA wal_autocheckpoint = 0`); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	every := opts.CheckpointEvery
	if every <= 0 {
		every = time.Second
	}
	db.ckStop, db.ckDone = make(chan struct{}), make(chan struct{})
	go db.checkpoints(every)
	return db, nil
}

// checkpoints copies the WAL into the database file every interval until
// Close, without blocking writers (PASSIVE). Copying is not enough to keep
// the WAL small: a writer starts it over only when no reader is using it,
// which under steady load (a read or a write every millisecond) almost
// never happens — it grew by 26 MB a second at 1,500 messages/s, to 220 MB
// in 10 s. So once it passes maxWALFrames the checkpoint is a RESTART, on
// the writer connection: writes wait while the last frames are copied and
// the readers of the WAL finish (milliseconds), and the next write starts
// the WAL from the beginning.
func (db *DB) checkpoints(every time.Duration) {
	defer close(db.ckDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-db.ckStop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var busy, frames, copied int
		err := db.r.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
		if err == nil && frames >= maxWALFrames {
			db.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &copied)
		}
		cancel()
	}
}

// Close closes both connection pools (a commune's store opened by Commune
// only stops its own work: the pools belong to the province store, which
// closes every commune's store).
func (db *DB) Close() error {
	if db.closeParent {
		db.closeParent = false
		return db.parent.Close()
	}
	db.closed.Store(true)
	if db.ckStop != nil {
		db.ckOnce.Do(func() { close(db.ckStop) })
		<-db.ckDone
	}
	db.comOnce.Do(func() {}) // no committer may start after Close
	if db.com != nil {
		db.com.close()
	}
	var errs []error
	errs = append(errs, db.communes.closeAll())
	if db.parent != nil && db.pg {
		return errors.Join(errs...)
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	return errors.Join(errs...)
}

// Ping checks that the database answers (for /healthz).
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping %s database: %w", db.Backend(), err)
	}
	return nil
}

// Path returns the file the store lives in (for PostgreSQL, its URL
// without the password).
func (db *DB) Path() string { return db.path }

// Writer and Reader expose the connection pools to sibling packages' tests
// and to the statistics queries. Writes must go through Writer.
func (db *DB) Writer() *sql.DB { return db.w.DB }

// Reader returns the read-only pool.
func (db *DB) Reader() *sql.DB { return db.r.DB }

func (db *DB) now() time.Time { return db.Now().UTC() }

// Tx runs fn in a write transaction, committing if fn returns nil, and
// returns once the commit is done. Under load, concurrent calls share one
// transaction (each in a savepoint, so that one failing rolls back only its
// own changes; storage/batch.go), so fn may see the changes of calls made
// just before it. Never write through db inside fn (use tx): it would wait
// for itself.
//
// On PostgreSQL each call is a serializable transaction of its own, run
// again after a serialization failure (fn must set its results afresh
// each time): it behaves as if it had run alone, as under SQLite's single
// writer.
func (db *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.pg {
		if db.closed.Load() || (db.parent != nil && db.parent.closed.Load()) {
			return ErrClosed
		}
		return postgres.Tx(db.w.scope(ctx), db.w.DB, fn)
	}
	return db.writes().do(ctx, fn)
}

// exec runs one write statement through Tx (and its group commit).
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// txDirect runs fn in an immediate write transaction of its own.
func (db *DB) txDirect(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// Roll back on error and on panic, so the single writer is never left
	// holding an open transaction (Rollback after Commit is a no-op).
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	applied := map[int]bool{}
	rows, err := db.w.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: read versions: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: read versions: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	seen := map[int]string{}
	for _, name := range names {
		base := filepath.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("migrate: file %s must be named NNNN_name.sql", base)
		}
		if prev, dup := seen[v]; dup {
			return fmt.Errorf("migrate: %s and %s share version %d", prev, base, v)
		}
		seen[v] = base
		if applied[v] {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		err = db.txDirect(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)`, v, base, fmtTime(db.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: apply %s: %w", base, err)
		}
	}
	return nil
}

func (db *DB) loadSecret(ctx context.Context) ([]byte, error) {
	var s string
	err := db.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'user_key_secret'`).Scan(&s)
	if err == nil {
		return hex.DecodeString(s)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load user-key secret: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate user-key secret: %w", err)
	}
	s = hex.EncodeToString(b)
	if _, err := db.w.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES ('user_key_secret', ?) ON CONFLICT(key) DO NOTHING`, s); err != nil {
		return nil, fmt.Errorf("store user-key secret: %w", err)
	}
	// Another process may have won the race; read back what is stored.
	if err := db.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'user_key_secret'`).Scan(&s); err != nil {
		return nil, fmt.Errorf("load user-key secret: %w", err)
	}
	return hex.DecodeString(s)
}

// UserKey returns the pseudonymous key for a platform user id on a channel:
// "<channel>:" followed by a truncated HMAC-SHA256 of both. The same input
// always gives the same key; the platform id cannot be recovered from it.
func (db *DB) UserKey(channel, platformID string) string {
	m := hmac.New(sha256.New, db.secret)
	m.Write([]byte(channel))
	m.Write([]byte{0})
	m.Write([]byte(platformID))
	return channel + ":" + hex.EncodeToString(m.Sum(nil)[:12])
}

// Setting reads a value from the settings table.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting stores a value in the settings table.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("write setting %s: %w", key, err)
	}
	return nil
}
