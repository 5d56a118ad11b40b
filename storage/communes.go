package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/colecommune/trolyso/storage/postgres"
)

// A province deployment keeps each commune's data apart: every exchange,
// rating, survey, ticket, team, reminder and alert belongs to the commune
// whose store recorded it. The store Open/OpenURL return is the default
// one (a one-commune install keeps everything there) and holds what the
// province shares (which commune residents chose, admin accounts,
// sessions, leases); Commune returns a commune's own store: on PostgreSQL
// the same database with the commune's schema ("xa_<slug>"), on SQLite a
// file of its own beside the main one ("trolyso-<slug>.db"). Each runs the
// same queries as the default store, so a commune's store cannot reach
// another commune's rows whatever id it is given.

// slugRE is what a commune slug (its profile's file name) may be.
var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidSlug reports whether s can name a commune: lowercase ASCII letters
// and digits in groups joined by single hyphens, at most 40 characters.
func ValidSlug(s string) bool { return len(s) <= 40 && slugRE.MatchString(s) }

// ErrBadSlug is returned for a commune slug ValidSlug refuses.
var ErrBadSlug = errors.New("a commune slug is lowercase letters, digits and single hyphens, at most 40 characters")

type communeSet struct {
	mu sync.Mutex
	m  map[string]*DB
}

func (s *communeSet) closeAll() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, c := range s.m {
		errs = append(errs, c.Close())
	}
	s.m = nil
	return errors.Join(errs...)
}

// CommuneSlug is the commune this store belongs to ("" for the default
// store).
func (db *DB) CommuneSlug() string { return db.slug }

// Province returns the default store of a commune's store (itself for the
// default store).
func (db *DB) Province() *DB {
	if db.parent != nil {
		return db.parent
	}
	return db
}

// Commune returns the store of the commune slug, creating its tables on
// first use, and the default store itself for "". Stores are opened once
// and closed with the default store; they share its clock and its key for
// pseudonymous user keys, so a resident has one key in every commune.
func (db *DB) Commune(ctx context.Context, slug string) (*DB, error) {
	if slug == "" {
		return db.Province(), nil
	}
	if db.parent != nil {
		return db.parent.Commune(ctx, slug)
	}
	if !ValidSlug(slug) {
		return nil, fmt.Errorf("commune %q: %w", slug, ErrBadSlug)
	}
	db.communes.mu.Lock()
	defer db.communes.mu.Unlock()
	if c, ok := db.communes.m[slug]; ok {
		return c, nil
	}
	now := func() time.Time { return db.Now() }
	var c *DB
	if db.pg {
		schema := db.schemaPrefix + strings.ReplaceAll(slug, "-", "_")
		if err := postgres.Migrate(ctx, db.w.DB, schema, fmtTime(db.now())); err != nil {
			return nil, fmt.Errorf("open commune %s: %w", slug, err)
		}
		c = &DB{w: &pool{DB: db.w.DB, schema: schema}, r: &pool{DB: db.r.DB, schema: schema},
			path: db.path + "#" + schema, url: db.url, pg: true, Now: now}
	} else {
		var err error
		c, err = Open(ctx, communeFile(db.path, slug), Options{Secret: string(db.secret), Now: now})
		if err != nil {
			return nil, fmt.Errorf("open commune %s: %w", slug, err)
		}
	}
	c.secret, c.parent, c.slug, c.schemaPrefix = db.secret, db, slug, db.schemaPrefix
	if db.communes.m == nil {
		db.communes.m = map[string]*DB{}
	}
	db.communes.m[slug] = c
	return c, nil
}

// OpenCommune opens the store named by dsn (OpenURL) and returns the
// store of commune slug in it ("" for the default one); closing it closes
// the whole store (for commands that work on one commune).
func OpenCommune(ctx context.Context, dsn, slug string, opts Options) (*DB, error) {
	db, err := OpenURL(ctx, dsn, opts)
	if err != nil || slug == "" {
		return db, err
	}
	c, err := db.Commune(ctx, slug)
	if err != nil {
		db.Close()
		return nil, err
	}
	c.closeParent = true
	return c, nil
}

// communeFile is the SQLite file of a commune beside the main one:
// data/trolyso.db -> data/trolyso-<slug>.db.
func communeFile(main, slug string) string {
	ext := filepath.Ext(main)
	return strings.TrimSuffix(main, ext) + "-" + slug + ext
}

// OpenCommunes lists the communes whose store is open, sorted.
func (db *DB) OpenCommunes() []string {
	p := db.Province()
	p.communes.mu.Lock()
	defer p.communes.mu.Unlock()
	out := make([]string, 0, len(p.communes.m))
	for s := range p.communes.m {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// ResidentCommune is the commune a resident of a province deployment
// chose ("" while none), and whether they are choosing one now.
type ResidentCommune struct {
	Commune  string
	Choosing bool
}

// ResidentCommune returns userKey's choice (kept by the default store);
// the zero value when they never chose.
func (db *DB) ResidentCommune(ctx context.Context, userKey string) (ResidentCommune, error) {
	var rc ResidentCommune
	err := db.Province().r.QueryRowContext(ctx, `SELECT commune, choosing FROM resident_communes WHERE user_key = ?`, userKey).Scan(&rc.Commune, &rc.Choosing)
	if errors.Is(err, sql.ErrNoRows) {
		return ResidentCommune{}, nil
	}
	if err != nil {
		return ResidentCommune{}, fmt.Errorf("read resident's commune: %w", err)
	}
	return rc, nil
}

// SetResidentCommune records userKey's commune (ending any choosing).
func (db *DB) SetResidentCommune(ctx context.Context, userKey, slug string) error {
	if !ValidSlug(slug) {
		return fmt.Errorf("set resident's commune %q: %w", slug, ErrBadSlug)
	}
	_, err := db.Province().w.ExecContext(ctx, `INSERT INTO resident_communes(user_key, commune, choosing, updated_at) VALUES (?, ?, 0, ?)
		ON CONFLICT(user_key) DO UPDATE SET commune = excluded.commune, choosing = 0, updated_at = excluded.updated_at`, userKey, slug, fmtTime(db.now()))
	if err != nil {
		return fmt.Errorf("set resident's commune: %w", err)
	}
	return nil
}

// StartChoosingCommune marks userKey as choosing a commune (/doixa),
// keeping their current one until they pick another.
func (db *DB) StartChoosingCommune(ctx context.Context, userKey string) error {
	_, err := db.Province().w.ExecContext(ctx, `INSERT INTO resident_communes(user_key, commune, choosing, updated_at) VALUES (?, '', 1, ?)
		ON CONFLICT(user_key) DO UPDATE SET choosing = 1, updated_at = excluded.updated_at`, userKey, fmtTime(db.now()))
	if err != nil {
		return fmt.Errorf("start choosing a commune: %w", err)
	}
	return nil
}

// ResidentsByCommune counts the residents who chose each commune.
func (db *DB) ResidentsByCommune(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	rows, err := db.Province().r.QueryContext(ctx, `SELECT commune, count(*) FROM resident_communes WHERE commune <> '' GROUP BY commune`)
	if err != nil {
		return nil, fmt.Errorf("count residents by commune: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			return nil, fmt.Errorf("count residents by commune: %w", err)
		}
		out[c] = n
	}
	return out, rows.Err()
}
