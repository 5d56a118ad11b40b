// Package storagetest gives tests a real PostgreSQL database: a schema of
// its own on the server named by TROLYSO_TEST_POSTGRES (.ci/run starts
// one), dropped when the test ends. Without that variable the test is
// skipped with a loud message, or fails when CI is set: the contract and
// multi-instance tests must run on CI.
package storagetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/colecommune/trolyso/storage/postgres"
)

// ServerURL returns the URL of the PostgreSQL server for tests, or skips
// the test (fails it under CI) when there is none.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TROLYSO_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TROLYSO_TEST_POSTGRES is not set: CI must start PostgreSQL (.ci/run) for the PostgreSQL tests")
		}
		t.Skip("!!! POSTGRESQL TEST NOT RUN: set TROLYSO_TEST_POSTGRES=postgres://… (see .ci/run) to run it")
	}
	return u
}

var schemas sync.Map // loc -> URL

// Schema is the schema a test location's data live in; commune schemas
// of that store start with Schema(loc)+"_" (storage.Options.SchemaPrefix).
func Schema(loc string) string {
	sum := sha256.Sum256([]byte(loc))
	return "t_" + hex.EncodeToString(sum[:8])
}

// URL returns a database URL whose default schema is fresh for loc (the
// same loc gives the same schema until the test ends, when it and its
// commune schemas are dropped).
func URL(t testing.TB, loc string) string {
	t.Helper()
	base := ServerURL(t)
	if v, ok := schemas.Load(loc); ok {
		return v.(string)
	}
	schema := Schema(loc)
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
		rows, err := a.Query(`SELECT nspname FROM pg_namespace WHERE nspname = $1 OR starts_with(nspname, $2)`, schema, schema+"_")
		if err != nil {
			return
		}
		var all []string
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				all = append(all, n)
			}
		}
		rows.Close()
		for _, n := range all {
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
