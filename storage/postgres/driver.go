// Package postgres is trolyso's PostgreSQL backend: the connection pools
// (pgx), the numbered PostgreSQL migrations, serializable transactions that
// are retried on conflicts, and LISTEN/NOTIFY. The storage package runs the
// same queries on it as on SQLite: this package's connections accept
// SQLite-style placeholders ("?" and "?NNN") and Go bool arguments (stored
// as 0/1 like in the SQLite schema), so that one set of queries serves both
// backends and the contract tests hold them to the same behaviour.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsURL reports whether s names a PostgreSQL database (postgres:// or
// postgresql://) rather than a SQLite file.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// OpenPool opens a pool of at most maxConns connections to the database at
// url. With readOnly, every transaction of the pool is read-only (the
// counterpart of SQLite's query_only read pool).
func OpenPool(ctx context.Context, url string, maxConns int, readOnly bool) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", redact(err))
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	// Times are stored as fixed-width UTC text by the storage package;
	// the session time zone only matters for now() in reports.
	cfg.RuntimeParams["timezone"] = "UTC"
	// One round trip per query, no per-connection statement cache: a
	// province's queries differ per commune (their tables are qualified
	// with its schema), so a cache of prepared statements would mostly
	// miss and pay Parse and Describe round trips each time.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	db := sql.OpenDB(connector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s: %w", Redact(url), err)
	}
	return db, nil
}

// SearchPath returns the search_path a database URL sets ("" when it
// sets none).
func SearchPath(url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return ""
	}
	return cfg.RuntimeParams["search_path"]
}

// Redact removes the password from a database URL, for logs and errors.
func Redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return url
	}
	userinfo := rest[:at]
	if user, _, hasPw := strings.Cut(userinfo, ":"); hasPw {
		return scheme + "://" + user + ":xxxxx@" + rest[at+1:]
	}
	return url
}

// redact drops a parse error's echo of the URL (which may hold a password).
func redact(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("invalid database URL")
	}
	return err
}

// Retryable reports whether err is a serialization failure or a deadlock:
// the transaction did nothing and may simply be run again.
func Retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// IsUniqueViolation reports whether err is a unique-constraint violation
// of the named constraint (any when constraint is "").
func IsUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return constraint == "" || pe.ConstraintName == constraint
	}
	return false
}

// connector wraps pgx's so that every connection rewrites placeholders.
type connector struct{ inner driver.Connector }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: cn}, nil
}

func (c connector) Driver() driver.Driver { return c.inner.Driver() }

// conn rewrites each query's placeholders before handing it to pgx, turns
// bool arguments into 0/1, and sets the connection's search_path to the
// schema the call's context names (WithSchema) when it differs from the
// one in force, outside transactions (a transaction keeps the schema it
// began with).
type conn struct {
	driver.Conn
	cur  string // search_path in force; "" = the session's default
	inTx bool
	// txSchema is the schema of the transaction in progress: its queries
	// are qualified with it whatever their context says.
	txSchema string
}

type schemaKey struct{}

// WithSchema returns ctx naming the schema that queries made with it run
// in ("" for the connection's default search_path).
func WithSchema(ctx context.Context, schema string) context.Context {
	if schema == "" && ctx.Value(schemaKey{}) == nil {
		return ctx
	}
	return context.WithValue(ctx, schemaKey{}, schema)
}

func schemaOf(ctx context.Context) string {
	s, _ := ctx.Value(schemaKey{}).(string)
	return s
}

// use switches the connection to ctx's schema if needed.
func (c *conn) use(ctx context.Context) error {
	want := schemaOf(ctx)
	if c.inTx || want == c.cur {
		return nil
	}
	q := `RESET search_path`
	if want != "" {
		q = `SET search_path TO ` + pgx.Identifier{want}.Sanitize()
	}
	if _, err := c.inner().ExecContext(ctx, q, nil); err != nil {
		return fmt.Errorf("set search_path: %w", err)
	}
	c.cur = want
	return nil
}

type pgxConn interface {
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
}

func (c *conn) inner() pgxConn { return c.Conn.(pgxConn) }

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(Rebind(query))
}

// rewrite readies a query for pgx: a commune's tables qualified with its
// schema (qualify), or else the connection's search_path switched to it,
// and the placeholders rebound.
func (c *conn) rewrite(ctx context.Context, query string) (string, error) {
	schema := schemaOf(ctx)
	if c.inTx {
		schema = c.txSchema
	}
	if schema != "" {
		if q, ok := qualify(query, schema); ok {
			return Rebind(q), nil
		}
	}
	if err := c.use(ctx); err != nil {
		return "", err
	}
	return Rebind(query), nil
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	q, err := c.rewrite(ctx, query)
	if err != nil {
		return nil, err
	}
	return c.inner().PrepareContext(ctx, q)
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	q, err := c.rewrite(ctx, query)
	if err != nil {
		return nil, err
	}
	return c.inner().ExecContext(ctx, q, args)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, err := c.rewrite(ctx, query)
	if err != nil {
		return nil, err
	}
	return c.inner().QueryContext(ctx, q, args)
}

// BeginTx starts a transaction whose queries belong to ctx's schema (a
// schema change inside it sets its own search_path: SET LOCAL).
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	schema := schemaOf(ctx)
	if schema == "" {
		if err := c.use(ctx); err != nil {
			return nil, err
		}
	}
	tx, err := c.inner().BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx, c.txSchema = true, schema
	return &connTx{tx, c}, nil
}

// connTx ends the connection's transaction state with the transaction.
type connTx struct {
	driver.Tx
	c *conn
}

func (t *connTx) Commit() error {
	t.c.inTx, t.c.txSchema = false, ""
	return t.Tx.Commit()
}

func (t *connTx) Rollback() error {
	t.c.inTx, t.c.txSchema = false, ""
	return t.Tx.Rollback()
}

func (c *conn) Ping(ctx context.Context) error { return c.inner().Ping(ctx) }

func (c *conn) ResetSession(ctx context.Context) error { return c.inner().ResetSession(ctx) }

// CheckNamedValue stores Go bools as 0/1, as the SQLite schema does; the
// rest goes through database/sql's default conversion.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		if b {
			nv.Value = int64(1)
		} else {
			nv.Value = int64(0)
		}
		return nil
	}
	return driver.ErrSkip
}

// Rebind turns SQLite-style placeholders into PostgreSQL's: "?NNN" becomes
// "$NNN" and each bare "?" the next number. Quoted strings, quoted
// identifiers and comments are left alone.
func Rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case ch == '\'' || ch == '"':
			j := i + 1
			for j < len(query) {
				if query[j] == ch {
					if j+1 < len(query) && query[j+1] == ch { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(query) {
				j = len(query) - 1
			}
			b.WriteString(query[i : j+1])
			i = j
		case ch == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j])
			i += j - 1
		case ch == '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			if j > i+1 {
				b.WriteByte('$')
				b.WriteString(query[i+1 : j])
				i = j - 1
			} else {
				n++
				fmt.Fprintf(&b, "$%d", n)
			}
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}
