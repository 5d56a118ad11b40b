package storage

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/colecommune/trolyso/storage/storagetest"
)

// The contract tests: every test of this package runs once per backend,
// on a real SQLite file and on a real PostgreSQL server, through
// forEachBackend. The PostgreSQL server is named by TROLYSO_TEST_POSTGRES
// (a URL; .ci/run starts one and sets it). Without it the PostgreSQL half
// is skipped with a loud message, and fails when CI is set
// (storagetest.ServerURL).

// testBackend opens stores of one backend for one (sub)test.
type testBackend struct {
	name string
	// Open opens the store at loc, as storage.Open: a SQLite file path, or
	// for PostgreSQL a schema derived from it (the same loc reopens the
	// same data).
	Open func(ctx context.Context, loc string, opts Options) (*DB, error)
}

// forEachBackend runs fn as a subtest per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, tb testBackend)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, testBackend{name: "sqlite", Open: Open})
	})
	t.Run("postgres", func(t *testing.T) {
		base := postgresTestURL(t)
		fn(t, testBackend{name: "postgres", Open: func(ctx context.Context, loc string, opts Options) (*DB, error) {
			u := schemaURL(t, base, loc)
			if opts.SchemaPrefix == "" {
				opts.SchemaPrefix = testSchema(loc) + "_"
			}
			return OpenURL(ctx, u, opts)
		}})
	})
}

// twoInstances opens the store at a new location in the test's folder
// twice, as two instances of the server would; both close when the test
// ends.
func (tb testBackend) twoInstances(t *testing.T, ctx context.Context, name string) (a, b *DB) {
	t.Helper()
	loc := filepath.Join(t.TempDir(), name)
	for _, db := range []**DB{&a, &b} {
		h, err := tb.Open(ctx, loc, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		*db = h
	}
	return a, b
}

func postgresTestURL(t *testing.T) string { return storagetest.ServerURL(t) }

func schemaURL(t *testing.T, _ string, loc string) string { return storagetest.URL(t, loc) }

func testSchema(loc string) string { return storagetest.Schema(loc) }

// isPostgres reports whether a test's store runs on PostgreSQL.
func isPostgres(db *DB) bool { return db.pg }

// execAll runs statements on the writer (tests that set up rows by hand).
func execAll(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", strings.TrimSpace(s), err)
		}
	}
}
