package storage

import (
	"context"
	"database/sql"
	"fmt"
)

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(...any) error }

// queryAll runs a query on the read pool and scans every row with scan.
// Errors, including those met while iterating, are wrapped with what is
// being read ("list deliveries").
func queryAll[T any](ctx context.Context, db *sql.DB, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
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
