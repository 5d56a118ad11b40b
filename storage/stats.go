package storage

import (
	"context"
	"fmt"
	"math"
	"time"
)

// AnswerRow is one answer given in a period with its rating, if any; the
// statistics (bot/stats) aggregate these.
type AnswerRow struct {
	ExchangeID int64
	EntryID    string
	Channel    string
	AnswerMode string
	CreatedAt  time.Time
	// Rating is +1, -1, or 0 when the answer was not rated.
	Rating  int
	Reason  string
	Comment string
}

// AnswerRows returns the answers (band "answer") given in [from, to),
// oldest first, with their ratings.
func (db *DB) AnswerRows(ctx context.Context, from, to time.Time) ([]AnswerRow, error) {
	return queryAll(ctx, db.r, "read answers", func(sc scanner) (AnswerRow, error) {
		var a AnswerRow
		var created string
		err := sc.Scan(&a.ExchangeID, &a.EntryID, &a.Channel, &a.AnswerMode, &created, &a.Rating, &a.Reason, &a.Comment)
		a.CreatedAt = parseTime(created)
		return a, err
	}, `SELECT e.id, e.entry_id, e.channel, e.answer_mode, e.created_at,
			coalesce(r.value, 0), coalesce(r.reason, ''), coalesce(r.comment, '')
		FROM exchanges e LEFT JOIN ratings r ON r.exchange_id = e.id
		WHERE e.band = 'answer' AND e.created_at >= ? AND e.created_at < ?
		ORDER BY e.created_at, e.id`, fmtTime(from), fmtTime(to))
}

// Surveys returns the service surveys answered in [from, to), oldest first.
func (db *DB) Surveys(ctx context.Context, from, to time.Time) ([]Survey, error) {
	return queryAll(ctx, db.r, "read surveys", scanSurvey, `SELECT `+surveyCols+`
		FROM surveys s JOIN users u ON u.id = s.user_id
		WHERE s.created_at >= ? AND s.created_at < ? ORDER BY s.created_at, s.id`, fmtTime(from), fmtTime(to))
}

// Unanswered is a group of declined questions with the same normalised text.
type Unanswered struct {
	Text     string    // normalised text
	Example  string    // the latest question as typed (redacted)
	Count    int       // how many times it was asked
	LastSeen time.Time // when it was last asked
}

// UnansweredQuestions groups the questions the bot declined in [from, to)
// by normalised text, most asked first (then most recent), at most limit
// groups (all when limit <= 0).
func (db *DB) UnansweredQuestions(ctx context.Context, from, to time.Time, limit int) ([]Unanswered, error) {
	if limit <= 0 {
		limit = math.MaxInt32 // all (PostgreSQL refuses a negative LIMIT)
	}
	return queryAll(ctx, db.r, "read unanswered questions", func(sc scanner) (Unanswered, error) {
		var u Unanswered
		var last string
		err := sc.Scan(&u.Text, &u.Count, &last, &u.Example)
		u.LastSeen = parseTime(last)
		return u, err
	}, `SELECT t, count(*), max(created_at),
			(SELECT question FROM exchanges x WHERE x.band = 'decline' AND (CASE WHEN x.normalized = '' THEN lower(x.question) ELSE x.normalized END) = g.t
				AND x.created_at >= ?1 AND x.created_at < ?2 ORDER BY x.created_at DESC LIMIT 1)
		FROM (SELECT CASE WHEN normalized = '' THEN lower(question) ELSE normalized END AS t, created_at
			FROM exchanges WHERE band = 'decline' AND created_at >= ?1 AND created_at < ?2) g
		GROUP BY t ORDER BY count(*) DESC, max(created_at) DESC LIMIT ?3`, fmtTime(from), fmtTime(to), limit)
}

// BandCounts returns how many exchanges of each band were recorded in
// [from, to).
func (db *DB) BandCounts(ctx context.Context, from, to time.Time) (map[string]int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT band, count(*) FROM exchanges WHERE created_at >= ? AND created_at < ? GROUP BY band`, fmtTime(from), fmtTime(to))
	if err != nil {
		return nil, fmt.Errorf("count bands: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var b string
		var n int
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("count bands: %w", err)
		}
		out[b] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count bands: %w", err)
	}
	return out, nil
}
