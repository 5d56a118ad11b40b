package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ZaloTokens is the Zalo OA token pair. ExpiresAt is zero when unknown
// (tokens given in the configuration).
type ZaloTokens struct {
	Access    string
	Refresh   string
	ExpiresAt time.Time
	UpdatedAt time.Time
}

// ZaloTokens returns the stored token pair, or ErrNotFound.
func (db *DB) ZaloTokens(ctx context.Context) (ZaloTokens, error) {
	var t ZaloTokens
	var exp, upd string
	err := db.r.QueryRowContext(ctx, `SELECT access_token, refresh_token, expires_at, updated_at FROM zalo_tokens WHERE id = 1`).
		Scan(&t.Access, &t.Refresh, &exp, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return ZaloTokens{}, ErrNotFound
	}
	if err != nil {
		return ZaloTokens{}, fmt.Errorf("read zalo tokens: %w", err)
	}
	t.ExpiresAt, t.UpdatedAt = parseTime(exp), parseTime(upd)
	return t, nil
}

// SaveZaloTokens replaces the stored token pair in one statement (the
// refresh token is single-use: the new pair must be stored before use).
func (db *DB) SaveZaloTokens(ctx context.Context, t ZaloTokens) error {
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = db.now()
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO zalo_tokens(id, access_token, refresh_token, expires_at, updated_at) VALUES (1, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET access_token = excluded.access_token, refresh_token = excluded.refresh_token,
			expires_at = excluded.expires_at, updated_at = excluded.updated_at`,
		t.Access, t.Refresh, optTime(t.ExpiresAt), fmtTime(t.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save zalo tokens: %w", err)
	}
	return nil
}

// SeedZaloTokens stores t only when no pair is stored yet (first start with
// tokens from the configuration) and returns the pair in force.
func (db *DB) SeedZaloTokens(ctx context.Context, t ZaloTokens) (ZaloTokens, error) {
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = db.now()
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO zalo_tokens(id, access_token, refresh_token, expires_at, updated_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
		t.Access, t.Refresh, optTime(t.ExpiresAt), fmtTime(t.UpdatedAt))
	if err != nil {
		return ZaloTokens{}, fmt.Errorf("seed zalo tokens: %w", err)
	}
	return db.ZaloTokens(ctx)
}

func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmtTime(t)
}

// ZaloUser is the messaging-window state of one Zalo user.
type ZaloUser struct {
	Key         string
	LastInbound time.Time
	Followed    bool
}

// ZaloInbound records that the Zalo user with key and platform id address
// wrote to (or followed) the OA at time at: the user is created or marked
// active, the delivery address is stored, and the messaging window opens.
// All in one transaction.
func (db *DB) ZaloInbound(ctx context.Context, key, address string, at time.Time) error {
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		u, err := touchUser(ctx, tx, "zalo", key, db.now())
		if err != nil {
			return err
		}
		if address != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO addresses(user_id, address, updated_at) VALUES (?, ?, ?)
				ON CONFLICT(user_id) DO UPDATE SET address = excluded.address, updated_at = excluded.updated_at`,
				u.ID, address, fmtTime(db.now())); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO zalo_users(user_key, last_inbound, followed) VALUES (?, ?, 1)
			ON CONFLICT(user_key) DO UPDATE SET last_inbound = CASE WHEN excluded.last_inbound > zalo_users.last_inbound THEN excluded.last_inbound ELSE zalo_users.last_inbound END, followed = 1`,
			key, fmtTime(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("record zalo inbound: %w", err)
	}
	return nil
}

// SetZaloFollowed records whether the user follows the OA (unfollow marks
// them not followed, and the user inactive).
func (db *DB) SetZaloFollowed(ctx context.Context, key string, followed bool) error {
	db.users.forget(key)
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO zalo_users(user_key, last_inbound, followed) VALUES (?, '', ?)
			ON CONFLICT(user_key) DO UPDATE SET followed = excluded.followed`, key, followed); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET active = ? WHERE key = ?`, followed, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("set zalo followed: %w", err)
	}
	return nil
}

// ZaloUser returns the messaging-window state of a user, or ErrNotFound.
func (db *DB) ZaloUser(ctx context.Context, key string) (ZaloUser, error) {
	u := ZaloUser{Key: key}
	var last string
	err := db.r.QueryRowContext(ctx, `SELECT last_inbound, followed FROM zalo_users WHERE user_key = ?`, key).Scan(&last, &u.Followed)
	if errors.Is(err, sql.ErrNoRows) {
		return ZaloUser{}, ErrNotFound
	}
	if err != nil {
		return ZaloUser{}, fmt.Errorf("read zalo user: %w", err)
	}
	u.LastInbound = parseTime(last)
	return u, nil
}

// SetZaloOffer stores the payloads of the choices last offered to a user,
// numbered from 1 in order; no payloads clears the offer.
func (db *DB) SetZaloOffer(ctx context.Context, key string, payloads []string) error {
	var err error
	if len(payloads) == 0 {
		_, err = db.w.ExecContext(ctx, `DELETE FROM zalo_offers WHERE user_key = ?`, key)
	} else {
		_, err = db.w.ExecContext(ctx, `INSERT INTO zalo_offers(user_key, payloads, created_at) VALUES (?, ?, ?)
			ON CONFLICT(user_key) DO UPDATE SET payloads = excluded.payloads, created_at = excluded.created_at`,
			key, strings.Join(payloads, "\n"), fmtTime(db.now()))
	}
	if err != nil {
		return fmt.Errorf("set zalo offer: %w", err)
	}
	return nil
}

// ZaloOffer returns the payloads last offered to a user and when, or
// ErrNotFound.
func (db *DB) ZaloOffer(ctx context.Context, key string) ([]string, time.Time, error) {
	var p, at string
	err := db.r.QueryRowContext(ctx, `SELECT payloads, created_at FROM zalo_offers WHERE user_key = ?`, key).Scan(&p, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read zalo offer: %w", err)
	}
	return strings.Split(p, "\n"), parseTime(at), nil
}
