package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/colecommune/trolyso/storage/postgres"
)

// The contract tests: every test of this package runs once per backend,
// on a real SQLite file and on a real PostgreSQL server, through
// forEachBackend. The PostgreSQL server is named by TROLYSO_TEST_POSTGRES
// (a URL; .ci/run starts one and sets it). Without it the PostgreSQL half
// is skipped with a loud message, and fails when CI is set.

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

// postgresTestURL returns the URL of the PostgreSQL server for tests, or
// skips the test (fails it under CI) when there is none.
func postgresTestURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TROLYSO_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TROLYSO_TEST_POSTGRES is not set: CI must start PostgreSQL (.ci/run) for the contract tests")
		}
		t.Skip("!!! POSTGRESQL TEST NOT RUN: set TROLYSO_TEST_POSTGRES=postgres://… (see .ci/run) to run the contract tests on PostgreSQL")
	}
	return u
}

var schemas sync.Map // loc -> schema URL, created once per test location

// schemaURL creates (once) a schema for loc on the server at base and
// returns base with its search_path set to it; the schema is dropped when
// the test ends.
func schemaURL(t *testing.T, base, loc string) string {
	t.Helper()
	if v, ok := schemas.Load(loc); ok {
		return v.(string)
	}
	schema := testSchema(loc)
	admin, err := postgres.OpenPool(context.Background(), base, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE; CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		schemas.Delete(loc)
		a, err := postgres.OpenPool(context.Background(), base, 1, false)
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`)
		// Commune schemas (Options.SchemaPrefix) made by the test.
		rows, err := a.Query(`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)`, schema+"_")
		if err != nil {
			return
		}
		var more []string
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				more = append(more, n)
			}
		}
		rows.Close()
		for _, n := range more {
			a.Exec(`DROP SCHEMA IF EXISTS ` + n + ` CASCADE`)
		}
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	s := pu.String()
	schemas.Store(loc, s)
	return s
}

// testSchema is the PostgreSQL schema a test location's data live in.
func testSchema(loc string) string {
	sum := sha256.Sum256([]byte(loc))
	return "t_" + hex.EncodeToString(sum[:8])
}

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
