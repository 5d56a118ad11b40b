package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// InboxItem is one delivery from a messaging platform (a Telegram update,
// a Zalo event) waiting to be answered.
type InboxItem struct {
	ID      int64
	Channel string
	// Key identifies the delivery on its platform (a Telegram update id, a
	// Zalo message id): a second delivery with the same key is ignored.
	Key string
	// Chat orders the items: one chat's items are answered one at a time,
	// in arrival order.
	Chat string
	// Payload is what answering needs, personal data redacted.
	Payload []byte
	// Attempts counts the start-ups that found the item still pending.
	Attempts   int
	ReceivedAt time.Time
}

// Inbox states.
const (
	InboxPending = "pending"
	InboxDone    = "done"
	InboxFailed  = "failed"
)

// AddInbox commits items in one transaction and reports, for each, whether
// it was new; an item whose channel and key are already stored (pending or
// done) is a redelivery and is not stored again. New items get their ID.
// Nothing is stored when an error is returned.
func (db *DB) AddInbox(ctx context.Context, items []InboxItem) ([]bool, error) {
	fresh := make([]bool, len(items))
	now := db.now()
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		for i := range items {
			it := &items[i]
			if it.ReceivedAt.IsZero() {
				it.ReceivedAt = now
			}
			err := tx.QueryRowContext(ctx, `INSERT INTO inbox(channel, event_key, chat, payload, received_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT(channel, event_key) DO NOTHING RETURNING id`,
				it.Channel, it.Key, it.Chat, string(it.Payload), fmtTime(it.ReceivedAt)).Scan(&it.ID)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				it.ID = 0
			case err != nil:
				return err
			default:
				fresh[i] = true
			}
		}
		return nil
	})
	if err != nil {
		for i := range items {
			items[i].ID = 0
		}
		return nil, fmt.Errorf("add to inbox: %w", err)
	}
	return fresh, nil
}

// InboxHas reports whether every key is stored for the channel (pending or
// handled).
func (db *DB) InboxHas(ctx context.Context, channel string, keys []string) (bool, error) {
	for _, k := range keys {
		var n int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM inbox WHERE channel = ? AND event_key = ?`, channel, k).Scan(&n); err != nil {
			return false, fmt.Errorf("look up inbox: %w", err)
		}
		if n == 0 {
			return false, nil
		}
	}
	return true, nil
}

// RecoverInbox returns the pending items of a channel in arrival order, at
// start-up: they were accepted but not answered before the process stopped.
// Each counts one more attempt; an item found pending after maxAttempts
// start-ups (it may be what stops the process) is marked failed instead,
// its payload deleted, and counted in failed.
func (db *DB) RecoverInbox(ctx context.Context, channel string, maxAttempts int) (items []InboxItem, failed int, err error) {
	now := fmtTime(db.now())
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE inbox SET attempts = attempts + 1 WHERE channel = ? AND state = 'pending'`, channel); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE inbox SET state = 'failed', payload = '', chat = '', handled_at = ?
			WHERE channel = ? AND state = 'pending' AND attempts > ?`, now, channel, maxAttempts)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		failed = int(n)
		rows, err := tx.QueryContext(ctx, `SELECT id, event_key, chat, payload, attempts, received_at FROM inbox
			WHERE channel = ? AND state = 'pending' ORDER BY id`, channel)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it := InboxItem{Channel: channel}
			var payload, received string
			if err := rows.Scan(&it.ID, &it.Key, &it.Chat, &payload, &it.Attempts, &received); err != nil {
				return err
			}
			it.Payload, it.ReceivedAt = []byte(payload), parseTime(received)
			items = append(items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("recover inbox: %w", err)
	}
	return items, failed, nil
}

// FinishInbox marks an item done (answered) or failed (it could not be
// answered and never will be), deleting its payload and chat.
func (db *DB) FinishInbox(ctx context.Context, id int64, state string) error {
	if state != InboxDone && state != InboxFailed {
		return fmt.Errorf("finish inbox item: bad state %q", state)
	}
	_, err := db.exec(ctx, `UPDATE inbox SET state = ?, payload = '', chat = '', handled_at = ? WHERE id = ? AND state = 'pending'`,
		state, fmtTime(db.now()), id)
	if err != nil {
		return fmt.Errorf("finish inbox item: %w", err)
	}
	return nil
}

// PruneInbox deletes a channel's handled items (done or failed) handled
// before t, and returns how many. Pending items are never pruned.
func (db *DB) PruneInbox(ctx context.Context, channel string, before time.Time) (int64, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM inbox WHERE channel = ? AND state <> 'pending' AND handled_at < ?`, channel, fmtTime(before))
	if err != nil {
		return 0, fmt.Errorf("prune inbox: %w", err)
	}
	return res.RowsAffected()
}

// InboxCounts returns how many items of a channel are in each state.
func (db *DB) InboxCounts(ctx context.Context, channel string) (map[string]int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT state, count(*) FROM inbox WHERE channel = ? GROUP BY state`, channel)
	if err != nil {
		return nil, fmt.Errorf("count inbox: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("count inbox: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}
