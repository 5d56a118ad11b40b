package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Dashboard accounts, sessions and login throttling live in the default
// store, so that every commune's dashboard and every instance share them.

// Admin is a dashboard account. Commune "" is a province admin, who sees
// every commune; a commune admin sees theirs only.
type Admin struct {
	ID      int64
	Name    string
	Commune string
	// Hash is the bcrypt hash of the password; MustChange is set while it
	// is a one-time code, to be replaced at the first login.
	Hash       string
	MustChange bool
	CreatedAt  time.Time
}

// Province reports whether the account sees every commune.
func (a Admin) Province() bool { return a.Commune == "" }

// ErrAdminExists is returned when an account of that name exists.
var ErrAdminExists = errors.New("an admin account with this name already exists")

// CleanAdminName puts an account name in one form: trimmed, lower case.
func CleanAdminName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

const adminCols = `id, name, commune, hash, must_change, created_at`

func scanAdmin(sc scanner) (Admin, error) {
	var a Admin
	var created string
	err := sc.Scan(&a.ID, &a.Name, &a.Commune, &a.Hash, &a.MustChange, &created)
	a.CreatedAt = parseTime(created)
	return a, err
}

// AddAdmin creates an account with a bcrypt hash; mustChange marks the
// password as a one-time code.
func (db *DB) AddAdmin(ctx context.Context, name, commune, hash string, mustChange bool) (Admin, error) {
	name = CleanAdminName(name)
	if name == "" || len(name) > 64 || hash == "" {
		return Admin{}, errors.New("add admin: a name (at most 64 characters) and a password hash are required")
	}
	if commune != "" && !ValidSlug(commune) {
		return Admin{}, fmt.Errorf("add admin: commune %q: %w", commune, ErrBadSlug)
	}
	now := fmtTime(db.now())
	a := Admin{Name: name, Commune: commune, Hash: hash, MustChange: mustChange, CreatedAt: db.now()}
	err := db.Province().w.QueryRowContext(ctx, `INSERT INTO admin_accounts(name, commune, hash, must_change, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		name, commune, hash, mustChange, now, now).Scan(&a.ID)
	if isUniqueErr(err, "admin_accounts.name") {
		return Admin{}, fmt.Errorf("add admin %q: %w", name, ErrAdminExists)
	}
	if err != nil {
		return Admin{}, fmt.Errorf("add admin: %w", err)
	}
	return a, nil
}

// AdminByName returns an account, ErrNotFound if there is none.
func (db *DB) AdminByName(ctx context.Context, name string) (Admin, error) {
	a, err := scanAdmin(db.Province().r.QueryRowContext(ctx, `SELECT `+adminCols+` FROM admin_accounts WHERE name = ?`, CleanAdminName(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return Admin{}, ErrNotFound
	}
	if err != nil {
		return Admin{}, fmt.Errorf("read admin: %w", err)
	}
	return a, nil
}

// AdminByID returns an account, ErrNotFound if there is none.
func (db *DB) AdminByID(ctx context.Context, id int64) (Admin, error) {
	a, err := scanAdmin(db.Province().r.QueryRowContext(ctx, `SELECT `+adminCols+` FROM admin_accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Admin{}, ErrNotFound
	}
	if err != nil {
		return Admin{}, fmt.Errorf("read admin: %w", err)
	}
	return a, nil
}

// Admins lists the accounts by name.
func (db *DB) Admins(ctx context.Context) ([]Admin, error) {
	return queryAll(ctx, db.Province().r, "list admins", scanAdmin, `SELECT `+adminCols+` FROM admin_accounts ORDER BY name`)
}

// SetAdminPassword replaces an account's password hash (mustChange: it is
// a one-time code again) and ends its sessions.
func (db *DB) SetAdminPassword(ctx context.Context, name, hash string, mustChange bool) error {
	p := db.Province()
	return p.Tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `UPDATE admin_accounts SET hash = ?, must_change = ?, updated_at = ? WHERE name = ? RETURNING id`,
			hash, mustChange, fmtTime(p.now()), CleanAdminName(name)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("set admin password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM admin_sessions WHERE account_id = ?`, id); err != nil {
			return fmt.Errorf("set admin password: %w", err)
		}
		return nil
	})
}

// DeleteAdmin removes an account and its sessions.
func (db *DB) DeleteAdmin(ctx context.Context, name string) error {
	p := db.Province()
	return p.Tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `DELETE FROM admin_accounts WHERE name = ? RETURNING id`, CleanAdminName(name)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("delete admin: %w", err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM admin_sessions WHERE account_id = ?`, id)
		return err
	})
}

// AdminSession is a logged-in dashboard session.
type AdminSession struct {
	TokenHash string // hex SHA-256 of the cookie value
	AccountID int64  // 0: the single-password admin of a one-commune install
	Commune   string // the commune whose dashboard it shows
	CSRF      string
	ExpiresAt time.Time
}

// CreateAdminSession stores a session, dropping expired ones.
func (db *DB) CreateAdminSession(ctx context.Context, s AdminSession) error {
	p := db.Province()
	now := fmtTime(p.now())
	return p.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM admin_sessions WHERE expires_at <= ?`, now); err != nil {
			return fmt.Errorf("create admin session: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO admin_sessions(token_hash, account_id, commune, csrf, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			s.TokenHash, s.AccountID, s.Commune, s.CSRF, fmtTime(s.ExpiresAt), now); err != nil {
			return fmt.Errorf("create admin session: %w", err)
		}
		return nil
	})
}

// AdminSession returns the unexpired session with that token hash,
// ErrNotFound otherwise.
func (db *DB) AdminSession(ctx context.Context, tokenHash string, now time.Time) (AdminSession, error) {
	s := AdminSession{TokenHash: tokenHash}
	var exp string
	err := db.Province().r.QueryRowContext(ctx, `SELECT account_id, commune, csrf, expires_at FROM admin_sessions WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, fmtTime(now)).Scan(&s.AccountID, &s.Commune, &s.CSRF, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return AdminSession{}, ErrNotFound
	}
	if err != nil {
		return AdminSession{}, fmt.Errorf("read admin session: %w", err)
	}
	s.ExpiresAt = parseTime(exp)
	return s, nil
}

// SetSessionCommune changes the commune a session shows.
func (db *DB) SetSessionCommune(ctx context.Context, tokenHash, commune string) error {
	if _, err := db.Province().w.ExecContext(ctx, `UPDATE admin_sessions SET commune = ? WHERE token_hash = ?`, commune, tokenHash); err != nil {
		return fmt.Errorf("set session commune: %w", err)
	}
	return nil
}

// DeleteAdminSession ends a session.
func (db *DB) DeleteAdminSession(ctx context.Context, tokenHash string) error {
	if _, err := db.Province().w.ExecContext(ctx, `DELETE FROM admin_sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete admin session: %w", err)
	}
	return nil
}

// ReserveLoginAttempt counts a login attempt from addr at now and reports
// whether it may go ahead: at most max attempts per address within window
// (ClearLoginFailures forgets them after a success). It is one
// transaction, so concurrent guesses on any instance cannot all pass.
func (db *DB) ReserveLoginAttempt(ctx context.Context, addr string, now time.Time, max int, window time.Duration) (bool, error) {
	p := db.Province()
	ok := false
	err := p.Tx(ctx, func(tx *sql.Tx) error {
		ok = false
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE first_at <= ?`, fmtTime(now.Add(-window))); err != nil {
			return err
		}
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count FROM login_failures WHERE addr = ?`, addr).Scan(&n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if n >= max {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures(addr, count, first_at) VALUES (?, 1, ?)
			ON CONFLICT(addr) DO UPDATE SET count = login_failures.count + 1`, addr, fmtTime(now)); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("count login attempt: %w", err)
	}
	return ok, nil
}

// LoginFailures returns the attempts counted for addr.
func (db *DB) LoginFailures(ctx context.Context, addr string) (int, error) {
	var n int
	err := db.Province().r.QueryRowContext(ctx, `SELECT count FROM login_failures WHERE addr = ?`, addr).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// ClearLoginFailures forgets addr's attempts (after a successful login).
func (db *DB) ClearLoginFailures(ctx context.Context, addr string) error {
	_, err := db.Province().w.ExecContext(ctx, `DELETE FROM login_failures WHERE addr = ?`, addr)
	return err
}
