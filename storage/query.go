package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/colecommune/trolyso/storage/postgres"
)

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(...any) error }

// queryAll runs a query on the read pool and scans every row with scan.
// Errors, including those met while iterating, are wrapped with what is
// being read ("list deliveries").
func queryAll[T any](ctx context.Context, db *pool, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// groupConcat is the aggregate joining expr's values with sep (an SQL
// string literal): SQLite's group_concat, PostgreSQL's string_agg.
func (db *DB) groupConcat(expr, sep string) string {
	if db.pg {
		return "string_agg(" + expr + ", " + sep + ")"
	}
	return "group_concat(" + expr + ", " + sep + ")"
}

// pool is a connection pool as one commune's store sees it: on PostgreSQL
// every call made through it runs with that commune's schema as the
// connection's search_path (storage/postgres switches it when needed), so
// the same queries reach the commune's tables and no other's.
type pool struct {
	*sql.DB
	schema string // "" for the default schema
}

// scope returns ctx carrying the pool's schema.
func (p *pool) scope(ctx context.Context) context.Context {
	return postgres.WithSchema(ctx, p.schema)
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.DB.ExecContext(p.scope(ctx), query, args...)
}

func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.DB.QueryContext(p.scope(ctx), query, args...)
}

func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.DB.QueryRowContext(p.scope(ctx), query, args...)
}

func (p *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	return p.DB.BeginTx(p.scope(ctx), opts)
}

func (p *pool) Conn(ctx context.Context) (*sql.Conn, error) {
	return p.DB.Conn(p.scope(ctx))
}

func (p *pool) PingContext(ctx context.Context) error {
	return p.DB.PingContext(p.scope(ctx))
}

// greatest is the largest of its SQL arguments: SQLite's scalar max,
// PostgreSQL's GREATEST.
func (db *DB) greatest(args ...string) string {
	f := "max("
	if db.pg {
		f = "GREATEST("
	}
	return f + strings.Join(args, ", ") + ")"
}
