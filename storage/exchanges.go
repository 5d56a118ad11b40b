package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Exchange is one question and how it was handled. Question must already
// be redacted (bot/privacy) when it is recorded.
type Exchange struct {
	ID         int64
	UserKey    string
	Channel    string
	Question   string
	Normalized string
	Band       string
	EntryID    string
	Score      float64
	Candidates []string
	// AnswerMode is "base" (the entry's own text), "composed" (LLM) or
	// "fallback" (LLM tried, base text sent).
	AnswerMode string
	CreatedAt  time.Time

	// userID is the user's row id, once known to the write.
	userID int64
	// touched is set when the write updated the user's row.
	touched bool
}

// RecordExchange stores an exchange (creating its user if needed) and
// returns its id. CreatedAt defaults to now.
func (db *DB) RecordExchange(ctx context.Context, ex *Exchange) (int64, error) {
	if ex.CreatedAt.IsZero() {
		ex.CreatedAt = db.now()
	}
	if ex.AnswerMode == "" {
		ex.AnswerMode = "base"
	}
	// The write works on a copy: a caller that gives up (ctx) must not
	// share memory with a write still in progress. Concurrent calls are
	// group-committed (storage/batch.go); the call returns after the commit
	// that holds this row.
	cp := *ex
	err := db.Tx(ctx, func(tx *sql.Tx) error { return db.insertExchange(context.Background(), tx, &cp) })
	if err != nil {
		return 0, fmt.Errorf("record exchange: %w", err)
	}
	if cp.touched { // committed: the id may be reused without a lookup
		db.users.put(cp.UserKey, cp.userID, cp.CreatedAt)
	}
	ex.ID = cp.ID
	return ex.ID, nil
}

// insertExchange writes one exchange (creating its user if needed) and
// sets ex.ID. A user whose row was updated less than userTouchEvery before
// (by a committed exchange of this process) is not updated again.
func (db *DB) insertExchange(ctx context.Context, tx *sql.Tx, ex *Exchange) error {
	// The cache of recently touched users is this process's: on
	// PostgreSQL, where another instance may have marked the user
	// inactive, every exchange touches the row.
	ex.userID, ex.touched = 0, false
	if !db.pg {
		ex.userID, ex.touched = db.users.fresh(ex.UserKey, ex.CreatedAt)
	}
	if ex.userID == 0 {
		u, err := touchUser(ctx, tx, ex.Channel, ex.UserKey, ex.CreatedAt)
		if err != nil {
			return err
		}
		ex.userID, ex.touched = u.ID, true
	}
	return tx.QueryRowContext(ctx, `INSERT INTO exchanges(user_id, channel, question, normalized, band, entry_id, score, candidates, answer_mode, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		ex.userID, ex.Channel, ex.Question, ex.Normalized, ex.Band, ex.EntryID, ex.Score,
		strings.Join(ex.Candidates, ","), ex.AnswerMode, fmtTime(ex.CreatedAt)).Scan(&ex.ID)
}

// SetAnswerMode updates how an exchange was answered (after an LLM attempt).
func (db *DB) SetAnswerMode(ctx context.Context, id int64, mode string) error {
	if _, err := db.w.ExecContext(ctx, `UPDATE exchanges SET answer_mode = ? WHERE id = ?`, mode, id); err != nil {
		return fmt.Errorf("set answer mode: %w", err)
	}
	return nil
}

// Exchange returns one exchange by id.
func (db *DB) Exchange(ctx context.Context, id int64) (Exchange, error) {
	var ex Exchange
	var cands, created string
	err := db.r.QueryRowContext(ctx, `SELECT e.id, u.key, e.channel, e.question, e.normalized, e.band, e.entry_id, e.score, e.candidates, e.answer_mode, e.created_at
		FROM exchanges e JOIN users u ON u.id = e.user_id WHERE e.id = ?`, id).
		Scan(&ex.ID, &ex.UserKey, &ex.Channel, &ex.Question, &ex.Normalized, &ex.Band, &ex.EntryID, &ex.Score, &cands, &ex.AnswerMode, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Exchange{}, ErrNotFound
	}
	if err != nil {
		return Exchange{}, fmt.Errorf("read exchange: %w", err)
	}
	if cands != "" {
		ex.Candidates = strings.Split(cands, ",")
	}
	ex.CreatedAt = parseTime(created)
	return ex, nil
}

// CountExchanges returns how many exchanges were recorded in [from, to).
func (db *DB) CountExchanges(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM exchanges WHERE created_at >= ? AND created_at < ?`, fmtTime(from), fmtTime(to)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count exchanges: %w", err)
	}
	return n, nil
}
