package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
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
	// Attempts counts the times the item was taken over (TakeInbox): by
	// the next start-up, or by another instance, after its claim was lost.
	Attempts   int
	ReceivedAt time.Time
}

// InboxClaim is an instance's claim on the pending items it answers: no
// other instance takes them (TakeInbox) before Until, which the owner
// moves on while it runs (RenewInbox).
type InboxClaim struct {
	// Owner names the instance (storage/owner).
	Owner string
	Until time.Time
}

// Inbox states.
const (
	InboxPending = "pending"
	InboxDone    = "done"
	InboxFailed  = "failed"
)

// AddInbox commits items in one transaction, claimed by claim, and reports,
// for each, whether it was new; an item whose channel and key are already
// stored (pending or done) is a redelivery and is not stored again. New
// items get their ID. Nothing is stored when an error is returned.
func (db *DB) AddInbox(ctx context.Context, items []InboxItem, claim InboxClaim) ([]bool, error) {
	fresh := make([]bool, len(items))
	now := db.now()
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		for i := range items {
			it := &items[i]
			if it.ReceivedAt.IsZero() {
				it.ReceivedAt = now
			}
			err := tx.QueryRowContext(ctx, `INSERT INTO inbox(channel, event_key, chat, payload, received_at, owner, claim_until) VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT(channel, event_key) DO NOTHING RETURNING id`,
				it.Channel, it.Key, it.Chat, string(it.Payload), fmtTime(it.ReceivedAt), claim.Owner, claimTime(claim.Until)).Scan(&it.ID)
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

// claimTime is how claim expiries are stored: Unix microseconds (0: none).
func claimTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// inboxQuerier is a transaction or a pool.
type inboxQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// inboxWrite runs fn's statements: on SQLite in a write transaction (the
// single writer makes each statement atomic), on PostgreSQL each
// statement on its own (READ COMMITTED: FOR UPDATE SKIP LOCKED lets
// concurrent sweepers pass each other's rows instead of failing to
// serialize).
func (db *DB) inboxWrite(ctx context.Context, fn func(q inboxQuerier) error) error {
	if db.pg {
		if db.closed.Load() || (db.parent != nil && db.parent.closed.Load()) {
			return ErrClosed
		}
		return fn(db.w)
	}
	return db.Tx(ctx, func(tx *sql.Tx) error { return fn(tx) })
}

// TakeInbox takes over a channel's pending items whose claim expired at
// now, or whose owner is one of gone (known to be dead), at most limit of
// them, for claim: each counts one more attempt. An item already taken
// over maxAttempts times (it may be what kills its owners) is marked
// failed instead, its payload deleted, and counted in failed. Items of
// claim.Owner are not taken (it holds them). Two instances taking at once
// never take the same item. Items are returned in arrival order.
func (db *DB) TakeInbox(ctx context.Context, channel string, claim InboxClaim, now time.Time, gone []string, limit, maxAttempts int) (items []InboxItem, failed int, err error) {
	if limit <= 0 {
		return nil, 0, nil
	}
	cond := `channel = ? AND state = 'pending' AND owner <> ? AND (claim_until <= ?`
	args := []any{channel, claim.Owner, now.UnixMicro()}
	if len(gone) > 0 {
		cond += ` OR owner IN (?` + strings.Repeat(`, ?`, len(gone)-1) + `)`
		for _, g := range gone {
			args = append(args, g)
		}
	}
	cond += `)`
	lock := ""
	if db.pg {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	err = db.inboxWrite(ctx, func(q inboxQuerier) error {
		items, failed = nil, 0
		res, err := q.ExecContext(ctx, `UPDATE inbox SET state = 'failed', payload = '', chat = '', handled_at = ?
			WHERE id IN (SELECT id FROM inbox WHERE `+cond+` AND attempts >= ?`+lock+`)`,
			append(append([]any{fmtTime(now)}, args...), maxAttempts)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		failed = int(n)
		rows, err := q.QueryContext(ctx, `UPDATE inbox SET owner = ?, claim_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM inbox WHERE `+cond+` ORDER BY id LIMIT ?`+lock+`)
			RETURNING id, event_key, chat, payload, attempts, received_at`,
			append(append([]any{claim.Owner, claimTime(claim.Until)}, args...), limit)...)
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
		return nil, 0, fmt.Errorf("take over inbox items: %w", err)
	}
	slices.SortFunc(items, func(a, b InboxItem) int { return cmp.Compare(a.ID, b.ID) })
	return items, failed, nil
}

// RenewInbox moves claim.Owner's claims on a channel's pending items to
// claim.Until and returns the ids of the items it still holds.
func (db *DB) RenewInbox(ctx context.Context, channel string, claim InboxClaim) ([]int64, error) {
	var ids []int64
	err := db.inboxWrite(ctx, func(q inboxQuerier) error {
		ids = ids[:0]
		rows, err := q.QueryContext(ctx, `UPDATE inbox SET claim_until = ? WHERE channel = ? AND owner = ? AND state = 'pending' RETURNING id`,
			claimTime(claim.Until), channel, claim.Owner)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("renew inbox claims: %w", err)
	}
	return ids, nil
}

// ReleaseInbox ends owner's claims on a channel's pending items (it stops
// without answering them): the next TakeInbox, of any instance, takes them.
func (db *DB) ReleaseInbox(ctx context.Context, channel, owner string) error {
	if _, err := db.exec(ctx, `UPDATE inbox SET claim_until = 0 WHERE channel = ? AND owner = ? AND state = 'pending'`, channel, owner); err != nil {
		return fmt.Errorf("release inbox claims: %w", err)
	}
	return nil
}

// InboxOwners returns the owners, other than except, holding claims on a
// channel's pending items that have not expired at now.
func (db *DB) InboxOwners(ctx context.Context, channel, except string, now time.Time) ([]string, error) {
	return queryAll(ctx, db.r, "list inbox owners", func(r scanner) (string, error) {
		var o string
		err := r.Scan(&o)
		return o, err
	}, `SELECT DISTINCT owner FROM inbox WHERE channel = ? AND state = 'pending' AND owner <> ? AND claim_until > ?`, channel, except, now.UnixMicro())
}

// InboxAhead reports whether an item of chat that arrived before item id
// is still pending under a claim of another owner than owner (another
// instance answers it, or will take it over): per-chat order asks to
// wait for it.
func (db *DB) InboxAhead(ctx context.Context, channel, chat string, id int64, owner string) (bool, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM inbox WHERE channel = ? AND chat = ? AND state = 'pending' AND id < ? AND owner <> ? LIMIT 1) AS ahead`,
		channel, chat, id, owner).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up earlier inbox items: %w", err)
	}
	return n > 0, nil
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
