package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Rating errors.
var (
	// ErrNotYours: the exchange belongs to another user.
	ErrNotYours = errors.New("exchange belongs to another user")
	// ErrNotRatable: only answers (band "answer") can be rated.
	ErrNotRatable = errors.New("exchange is not an answer")
)

// Rating is a resident's 👍 (+1) or 👎 (-1) on one answer.
type Rating struct {
	ExchangeID int64
	UserKey    string
	Value      int
	Reason     string
	Comment    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// RateResult says what a Rate call changed.
type RateResult struct {
	// Previous is the value before the call (0 when there was none).
	Previous int
	// EntryID is the knowledge-base entry of the rated answer.
	EntryID string
}

// Rate records userKey's rating (+1 or -1) of exchange id in one immediate
// transaction. The exchange must exist (ErrNotFound), belong to userKey
// (ErrNotYours) and be an answer (ErrNotRatable). Rating again replaces the
// value; the same value twice changes nothing. Changing to +1 clears the
// 👎 reason and comment.
func (db *DB) Rate(ctx context.Context, userKey string, id int64, value int) (RateResult, error) {
	if value != 1 && value != -1 {
		return RateResult{}, fmt.Errorf("rate exchange %d: value %d is not +1 or -1", id, value)
	}
	var res RateResult
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		userID, err := ownExchange(ctx, tx, userKey, id, &res.EntryID)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT value FROM ratings WHERE exchange_id = ?`, id).Scan(&res.Previous)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if res.Previous == value {
			return nil // double tap
		}
		now := fmtTime(db.now())
		_, err = tx.ExecContext(ctx, `INSERT INTO ratings(exchange_id, user_id, value, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(exchange_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
				reason = CASE WHEN excluded.value = 1 THEN '' ELSE ratings.reason END,
				comment = CASE WHEN excluded.value = 1 THEN '' ELSE ratings.comment END`,
			id, userID, value, now, now)
		return err
	})
	if err != nil {
		return RateResult{}, fmt.Errorf("rate exchange %d: %w", id, err)
	}
	return res, nil
}

// ownExchange checks that exchange id exists, belongs to userKey and is an
// answer, returning the user's id.
func ownExchange(ctx context.Context, tx *sql.Tx, userKey string, id int64, entryID *string) (int64, error) {
	var userID int64
	var key, band string
	err := tx.QueryRowContext(ctx, `SELECT e.user_id, u.key, e.band, e.entry_id FROM exchanges e JOIN users u ON u.id = e.user_id WHERE e.id = ?`, id).
		Scan(&userID, &key, &band, entryID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	if userKey == "" || key != userKey {
		return 0, ErrNotYours
	}
	if band != "answer" {
		return 0, ErrNotRatable
	}
	return userID, nil
}

// SetRatingReason stores the reason of userKey's 👎 on exchange id. It
// fails with ErrNotFound when there is no 👎 rating of theirs.
func (db *DB) SetRatingReason(ctx context.Context, userKey string, id int64, reason string) error {
	return db.updateNegative(ctx, userKey, id, "reason", reason)
}

// SetRatingComment stores the (already redacted) comment of userKey's 👎 on
// exchange id.
func (db *DB) SetRatingComment(ctx context.Context, userKey string, id int64, comment string) error {
	return db.updateNegative(ctx, userKey, id, "comment", comment)
}

func (db *DB) updateNegative(ctx context.Context, userKey string, id int64, column, v string) error {
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var entry string
		if _, err := ownExchange(ctx, tx, userKey, id, &entry); err != nil {
			return err
		}
		// column is one of two constants chosen above, never user input.
		res, err := tx.ExecContext(ctx, `UPDATE ratings SET `+column+` = ?, updated_at = ? WHERE exchange_id = ? AND value = -1`, v, fmtTime(db.now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set rating %s of exchange %d: %w", column, id, err)
	}
	return nil
}

// RatingOf returns the rating of exchange id.
func (db *DB) RatingOf(ctx context.Context, id int64) (Rating, error) {
	var r Rating
	var created, updated string
	err := db.r.QueryRowContext(ctx, `SELECT r.exchange_id, u.key, r.value, r.reason, r.comment, r.created_at, r.updated_at
		FROM ratings r JOIN users u ON u.id = r.user_id WHERE r.exchange_id = ?`, id).
		Scan(&r.ExchangeID, &r.UserKey, &r.Value, &r.Reason, &r.Comment, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Rating{}, ErrNotFound
	}
	if err != nil {
		return Rating{}, fmt.Errorf("read rating: %w", err)
	}
	r.CreatedAt, r.UpdatedAt = parseTime(created), parseTime(updated)
	return r, nil
}

// Survey is one answer to the service-satisfaction survey.
type Survey struct {
	ID        int64
	UserKey   string
	Channel   string
	Service   string // entry id or "khac"
	Level     int    // 5 = Rất hài lòng … 1 = Rất không hài lòng
	Comment   string
	CreatedAt time.Time
}

// SurveyService is the survey's service id for "another service".
const SurveyService = "khac"

// RecordSurvey stores a survey answer. A second answer by the same user for
// the same service within window (a double tap, or a changed mind) updates
// the level of the first instead of adding one. It returns the survey id.
func (db *DB) RecordSurvey(ctx context.Context, channel, userKey, service string, level int, window time.Duration) (int64, error) {
	if level < 1 || level > 5 {
		return 0, fmt.Errorf("record survey: level %d out of 1–5", level)
	}
	if service == "" {
		return 0, errors.New("record survey: empty service")
	}
	var id int64
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		now := db.now()
		u, err := touchUser(ctx, tx, channel, userKey, now)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM surveys WHERE user_id = ? AND service = ? AND created_at >= ? ORDER BY id DESC LIMIT 1`,
			u.ID, service, fmtTime(now.Add(-window))).Scan(&id)
		switch {
		case err == nil:
			_, err = tx.ExecContext(ctx, `UPDATE surveys SET level = ?, updated_at = ? WHERE id = ?`, level, fmtTime(now), id)
			return err
		case errors.Is(err, sql.ErrNoRows):
			return tx.QueryRowContext(ctx, `INSERT INTO surveys(user_id, channel, service, level, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				u.ID, channel, service, level, fmtTime(now), fmtTime(now)).Scan(&id)
		default:
			return err
		}
	})
	if err != nil {
		return 0, fmt.Errorf("record survey: %w", err)
	}
	return id, nil
}

// SetSurveyComment stores the (already redacted) comment of userKey's
// survey id.
func (db *DB) SetSurveyComment(ctx context.Context, userKey string, id int64, comment string) error {
	res, err := db.exec(ctx, `UPDATE surveys SET comment = ?, updated_at = ? WHERE id = ? AND user_id = (SELECT id FROM users WHERE key = ?)`,
		comment, fmtTime(db.now()), id, userKey)
	if err != nil {
		return fmt.Errorf("set survey comment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set survey comment: %w", ErrNotFound)
	}
	return nil
}

// SurveyByID returns one survey.
func (db *DB) SurveyByID(ctx context.Context, id int64) (Survey, error) {
	s, err := scanSurvey(db.r.QueryRowContext(ctx, `SELECT `+surveyCols+` FROM surveys s JOIN users u ON u.id = s.user_id WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Survey{}, ErrNotFound
	}
	if err != nil {
		return Survey{}, fmt.Errorf("read survey: %w", err)
	}
	return s, nil
}

const surveyCols = `s.id, u.key, s.channel, s.service, s.level, s.comment, s.created_at`

func scanSurvey(sc scanner) (Survey, error) {
	var s Survey
	var created string
	err := sc.Scan(&s.ID, &s.UserKey, &s.Channel, &s.Service, &s.Level, &s.Comment, &created)
	s.CreatedAt = parseTime(created)
	return s, err
}

// OfferSurvey decides whether the survey may be offered to userKey now:
// not when it was offered, or answered, less than every before now. When it may,
// the offer is recorded (in the same transaction) and true returned.
func (db *DB) OfferSurvey(ctx context.Context, channel, userKey string, now time.Time, every time.Duration) (bool, error) {
	var ok bool
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		u, err := touchUser(ctx, tx, channel, userKey, now)
		if err != nil {
			return err
		}
		since := fmtTime(now.Add(-every))
		var recent int
		err = tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM survey_offers WHERE user_id = ?1 AND offered_at > ?2) +
			(SELECT count(*) FROM surveys WHERE user_id = ?1 AND created_at > ?2)`, u.ID, since).Scan(&recent)
		if err != nil {
			return err
		}
		if recent > 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO survey_offers(user_id, offered_at) VALUES (?, ?)
			ON CONFLICT(user_id) DO UPDATE SET offered_at = excluded.offered_at`, u.ID, fmtTime(now))
		ok = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("offer survey: %w", err)
	}
	return ok, nil
}

// Pending is what a user's next free text means, until Expires.
type Pending struct {
	Kind    string
	Data    string
	Expires time.Time
}

// SetPending stores (replacing any other) the pending state of userKey.
func (db *DB) SetPending(ctx context.Context, userKey string, p Pending) error {
	db.pending.add(userKey) // before the write: never absent while stored
	_, err := db.exec(ctx, `INSERT INTO pending_states(user_key, kind, data, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(user_key) DO UPDATE SET kind = excluded.kind, data = excluded.data, expires_at = excluded.expires_at`,
		userKey, p.Kind, p.Data, fmtTime(p.Expires))
	if err != nil {
		return fmt.Errorf("set pending state: %w", err)
	}
	return nil
}

// TakePending removes and returns userKey's pending state if it has not
// expired at now; ok is false when there is none. Expired states are
// removed too. Taking is atomic: of two concurrent calls only one gets it.
func (db *DB) TakePending(ctx context.Context, userKey string, now time.Time) (p Pending, ok bool, err error) {
	var expires string
	v := db.pending.version(userKey)
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `DELETE FROM pending_states WHERE user_key = ? RETURNING kind, data, expires_at`, userKey).
			Scan(&p.Kind, &p.Data, &expires)
	})
	if errors.Is(err, sql.ErrNoRows) {
		db.pending.forget(userKey, v)
		return Pending{}, false, nil
	}
	if err != nil {
		return Pending{}, false, fmt.Errorf("take pending state: %w", err)
	}
	db.pending.forget(userKey, v)
	p.Expires = parseTime(expires)
	if !now.Before(p.Expires) {
		return Pending{}, false, nil
	}
	return p, true, nil
}

// HasPending reports whether userKey has a pending state (cheap check used
// before TakePending on every free-text message). Pending states are
// written only by the server, through this DB, so a key it never gave one
// (or whose state was taken) has none and needs no query; others are read
// from the read pool.
func (db *DB) HasPending(ctx context.Context, userKey string) (bool, error) {
	// On PostgreSQL other instances set pending states too: always ask.
	if !db.pg && !db.pending.has(userKey) {
		return false, nil
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM pending_states WHERE user_key = ?`, userKey).Scan(&n); err != nil {
		return false, fmt.Errorf("check pending state: %w", err)
	}
	return n > 0, nil
}

// ClearPending removes userKey's pending state.
func (db *DB) ClearPending(ctx context.Context, userKey string) error {
	v := db.pending.version(userKey)
	if _, err := db.exec(ctx, `DELETE FROM pending_states WHERE user_key = ?`, userKey); err != nil {
		return fmt.Errorf("clear pending state: %w", err)
	}
	db.pending.forget(userKey, v)
	return nil
}

// pendingKeys holds the user keys that may have a pending state, each with
// the generation of its last SetPending: a take or clear forgets a key only
// if no state was set for it meanwhile.
type pendingKeys struct {
	mu   sync.Mutex
	gen  uint64
	keys map[string]uint64
}

func (p *pendingKeys) add(key string) {
	p.mu.Lock()
	if p.keys == nil {
		p.keys = map[string]uint64{}
	}
	p.gen++
	p.keys[key] = p.gen
	p.mu.Unlock()
}

// version returns the generation of key (0: no state).
func (p *pendingKeys) version(key string) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[key]
}

// forget removes key if its generation is still v.
func (p *pendingKeys) forget(key string, v uint64) {
	p.mu.Lock()
	if p.keys[key] == v {
		delete(p.keys, key)
	}
	p.mu.Unlock()
}

func (p *pendingKeys) has(key string) bool { return p.version(key) != 0 }

// loadPending fills db.pending from the table (states survive a restart).
func (db *DB) loadPending(ctx context.Context) error {
	rows, err := db.r.QueryContext(ctx, `SELECT user_key FROM pending_states`)
	if err != nil {
		return fmt.Errorf("load pending states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return fmt.Errorf("load pending states: %w", err)
		}
		db.pending.add(k)
	}
	return rows.Err()
}
