package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Lease is who runs a job until when.
type Lease struct {
	Owner     string
	ExpiresAt time.Time
}

// AcquireLease takes (or renews) the lease name for owner until now+ttl.
// It reports false while another owner's lease has not expired. A lease is
// this store's: a commune's reminders are leased in the commune's store.
func (db *DB) AcquireLease(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error) {
	held := false
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		held = false
		var cur, exp string
		err := tx.QueryRowContext(ctx, `SELECT owner, expires_at FROM leases WHERE name = ?`, name).Scan(&cur, &exp)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case cur != owner && parseTime(exp).After(now):
			return nil
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO leases(name, owner, expires_at) VALUES (?, ?, ?)
			ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at`, name, owner, fmtTime(now.Add(ttl))); err != nil {
			return err
		}
		held = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return held, nil
}

// ReleaseLease gives up owner's lease (nothing if another owns it).
func (db *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// TakeOverLease gives owner the lease name held by from, whose process is
// known to be gone (it has not expired yet). False if it changed hands
// meanwhile.
func (db *DB) TakeOverLease(ctx context.Context, name, owner, from string, now time.Time, ttl time.Duration) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE leases SET owner = ?, expires_at = ? WHERE name = ? AND owner = ?`, owner, fmtTime(now.Add(ttl)), name, from)
	if err != nil {
		return false, fmt.Errorf("take over lease %s: %w", name, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// LeaseOf returns the lease name as stored (expired or not), ErrNotFound
// if there is none.
func (db *DB) LeaseOf(ctx context.Context, name string) (Lease, error) {
	var l Lease
	var exp string
	err := db.r.QueryRowContext(ctx, `SELECT owner, expires_at FROM leases WHERE name = ?`, name).Scan(&l.Owner, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, ErrNotFound
	}
	if err != nil {
		return Lease{}, fmt.Errorf("read lease %s: %w", name, err)
	}
	l.ExpiresAt = parseTime(exp)
	return l, nil
}

// TakeTurn reserves the next send slot of the pacing name (a bot), shared
// by every instance on this database: at most one slot every `every`, none
// before a pause (PausePacing) ends. It returns when the slot is (now or
// later); the caller waits until then and sends. One statement: concurrent
// callers on any instance get distinct slots.
func (db *DB) TakeTurn(ctx context.Context, name string, now time.Time, every time.Duration) (time.Time, error) {
	p := db.Province()
	n, step := now.UnixMicro(), every.Microseconds()
	if _, err := p.w.ExecContext(ctx, `INSERT INTO pacing(name, next_at, paused_until) VALUES (?, 0, 0) ON CONFLICT(name) DO NOTHING`, name); err != nil {
		return time.Time{}, fmt.Errorf("take a send turn: %w", err)
	}
	var next int64
	err := p.w.QueryRowContext(ctx, `UPDATE pacing SET next_at = `+p.greatest("next_at", "paused_until", "CAST(?1 AS BIGINT)")+` + CAST(?2 AS BIGINT)
		WHERE name = ?3 RETURNING next_at`, n, step, name).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("take a send turn: %w", err)
	}
	return time.UnixMicro(next - step).UTC(), nil
}

// PausePacing holds every instance's sends of name until until (after a
// 429 with retry_after).
func (db *DB) PausePacing(ctx context.Context, name string, until time.Time) error {
	p := db.Province()
	u := until.UnixMicro()
	_, err := p.w.ExecContext(ctx, `INSERT INTO pacing(name, next_at, paused_until) VALUES (?1, 0, CAST(?2 AS BIGINT))
		ON CONFLICT(name) DO UPDATE SET paused_until = `+p.greatest("pacing.paused_until", "CAST(?2 AS BIGINT)"), name, u)
	if err != nil {
		return fmt.Errorf("pause sends: %w", err)
	}
	return nil
}
