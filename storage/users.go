package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// User is a pseudonymous user of one channel.
type User struct {
	ID        int64
	Key       string
	Channel   string
	Active    bool
	CreatedAt time.Time
	LastSeen  time.Time
}

// TouchUser creates the user with the given key if needed, marks them
// active and seen now, and returns them.
func (db *DB) TouchUser(ctx context.Context, channel, key string) (User, error) {
	var u User
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = touchUser(ctx, tx, channel, key, db.now())
		return err
	})
	return u, err
}

func touchUser(ctx context.Context, tx *sql.Tx, channel, key string, now time.Time) (User, error) {
	if key == "" {
		return User{}, errors.New("touch user: empty key")
	}
	ts := fmtTime(now)
	var u User
	var created, seen string
	err := tx.QueryRowContext(ctx, `
		INSERT INTO users(key, channel, active, created_at, last_seen) VALUES (?, ?, 1, ?, ?)
		ON CONFLICT(key) DO UPDATE SET last_seen = excluded.last_seen, active = 1
		RETURNING id, key, channel, active, created_at, last_seen`,
		key, channel, ts, ts).Scan(&u.ID, &u.Key, &u.Channel, &u.Active, &created, &seen)
	if err != nil {
		return User{}, fmt.Errorf("touch user: %w", err)
	}
	u.CreatedAt, u.LastSeen = parseTime(created), parseTime(seen)
	return u, nil
}

// UserByKey looks a user up by key.
func (db *DB) UserByKey(ctx context.Context, key string) (User, error) {
	var u User
	var created, seen string
	err := db.r.QueryRowContext(ctx, `SELECT id, key, channel, active, created_at, last_seen FROM users WHERE key = ?`, key).
		Scan(&u.ID, &u.Key, &u.Channel, &u.Active, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("look up user: %w", err)
	}
	u.CreatedAt, u.LastSeen = parseTime(created), parseTime(seen)
	return u, nil
}

// SetActive marks a user active or inactive (for example after they
// blocked the bot or unfollowed the Official Account).
func (db *DB) SetActive(ctx context.Context, key string, active bool) error {
	db.users.forget(key) // the next exchange touches the row again
	res, err := db.exec(ctx, `UPDATE users SET active = ? WHERE key = ?`, active, key)
	if err != nil {
		return fmt.Errorf("set user active: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetAddress stores the platform address needed to deliver messages to a
// user (creating the user if needed). Only channels that must write first
// (reminders) call it.
func (db *DB) SetAddress(ctx context.Context, channel, key, address string) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		u, err := touchUser(ctx, tx, channel, key, db.now())
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO addresses(user_id, address, updated_at) VALUES (?, ?, ?)
			ON CONFLICT(user_id) DO UPDATE SET address = excluded.address, updated_at = excluded.updated_at`,
			u.ID, address, fmtTime(db.now()))
		if err != nil {
			return fmt.Errorf("set address: %w", err)
		}
		return nil
	})
}

// Address returns the stored delivery address of a user.
func (db *DB) Address(ctx context.Context, key string) (channel, address string, err error) {
	err = db.r.QueryRowContext(ctx, `SELECT u.channel, a.address FROM addresses a JOIN users u ON u.id = a.user_id WHERE u.key = ?`, key).Scan(&channel, &address)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("look up address: %w", err)
	}
	return channel, address, nil
}

// userTouchEvery is how often recording exchanges updates a user's row
// (last_seen, active): the upsert cost as much as the exchange itself.
const userTouchEvery = time.Minute

// maxCachedUsers bounds userCache.
const maxCachedUsers = 50000

// userCache remembers the row id of users whose row a committed exchange
// updated recently, so that the next exchanges skip the upsert. Marking a
// user inactive forgets them.
type userCache struct {
	mu sync.Mutex
	m  map[string]cachedUser
}

type cachedUser struct {
	id      int64
	touched time.Time
}

// fresh returns the id of key if its row was updated less than
// userTouchEvery before at, or 0.
func (c *userCache) fresh(key string, at time.Time) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.m[key]
	if !ok || at.Sub(u.touched) >= userTouchEvery {
		return 0, false
	}
	return u.id, false
}

func (c *userCache) put(key string, id int64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedUsers {
		c.m = make(map[string]cachedUser)
	}
	c.m[key] = cachedUser{id: id, touched: at}
}

func (c *userCache) forget(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}
