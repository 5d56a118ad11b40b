package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// CopyCount is what copying did to one table.
type CopyCount struct {
	Table  string `json:"table"`
	Source int    `json:"source"` // rows in the source
	Copied int    `json:"copied"` // added now
	Had    int    `json:"had"`    // copied by an earlier run (or already there)
	Merged int    `json:"merged"` // matched an existing row (same user key, village, seeded reminder or run slot)
	// Skipped rows could not be copied: the row they belong to was not
	// (see Note).
	Skipped int `json:"skipped"`
}

// CopyReport is the outcome of CopyFrom.
type CopyReport struct {
	Source string      `json:"source"`
	Tables []CopyCount `json:"tables"`
	// Rekeyed counts residents whose pseudonymous key was recomputed with
	// this store's secret (those with a delivery address); Kept those
	// whose key could not be (web chat sessions), kept as they were.
	Rekeyed int `json:"rekeyed"`
	Kept    int `json:"kept"`
}

// copySpec says how one table is copied.
type copySpec struct {
	table string
	// id is the surrogate key: rows get new ids here, recorded in
	// copied_rows. "" for tables keyed by a reference or a natural key
	// (inserted with ON CONFLICT DO NOTHING).
	id string
	// refs maps a column to the table whose ids it holds.
	refs map[string]string
	// natural are columns that identify a row already here (matched, not
	// copied): a resident's key, a village, a seeded reminder, a run slot.
	natural []string
	// keys are columns holding a resident's key; recipients hold
	// "user:<key>" or "group:<team id>"; teamList holds "teams:1,2".
	keys       []string
	recipients []string
	teamList   []string
	// skip leaves rows out (settings: the user-key secret stays this
	// store's).
	skip func(row map[string]any) bool
}

// copySpecs lists the tables in an order where every row comes after the
// rows it refers to. Not copied: Zalo tokens and processed event ids (they
// belong to one OA and one process), the alert sender lease, the
// migration records.
var copySpecs = []copySpec{
	{table: "settings", skip: func(r map[string]any) bool { return r["key"] == "user_key_secret" }},
	{table: "users", id: "id", natural: []string{"key"}, keys: []string{"key"}},
	{table: "addresses", refs: map[string]string{"user_id": "users"}},
	{table: "exchanges", id: "id", refs: map[string]string{"user_id": "users"}},
	{table: "ratings", refs: map[string]string{"exchange_id": "exchanges", "user_id": "users"}},
	{table: "surveys", id: "id", refs: map[string]string{"user_id": "users"}},
	{table: "survey_offers", refs: map[string]string{"user_id": "users"}},
	{table: "pending_states", keys: []string{"user_key"}},
	{table: "teams", id: "id", natural: []string{"village"}},
	{table: "team_members", id: "id", refs: map[string]string{"team_id": "teams", "user_id": "users"}, natural: []string{"user_id"}},
	{table: "reminders", id: "id", natural: []string{"seed_key"}, teamList: []string{"target"}},
	{table: "reminder_seeds"},
	{table: "reminder_runs", id: "id", refs: map[string]string{"reminder_id": "reminders"}, natural: []string{"reminder_id", "scheduled_for"}},
	{table: "reminder_deliveries", id: "id", refs: map[string]string{"run_id": "reminder_runs", "user_id": "users", "team_id": "teams", "ack_user": "users"},
		recipients: []string{"recipient"}, natural: []string{"run_id", "recipient"}},
	{table: "zalo_users", keys: []string{"user_key"}},
	{table: "zalo_offers", keys: []string{"user_key"}},
	{table: "llm_usage"},
	{table: "alert_jobs", id: "id"},
	{table: "alert_subscribers", refs: map[string]string{"user_id": "users", "unsub_job": "alert_jobs"}},
	{table: "alert_offers", refs: map[string]string{"user_id": "users"}},
	{table: "alert_deliveries", id: "id", refs: map[string]string{"job_id": "alert_jobs", "user_id": "users", "team_id": "teams"},
		recipients: []string{"recipient"}},
	{table: "tickets", id: "id", refs: map[string]string{"user_id": "users"}},
	{table: "ticket_messages", id: "id", refs: map[string]string{"ticket_id": "tickets"}},
	{table: "ticket_posts", refs: map[string]string{"ticket_id": "tickets"}},
	{table: "handoff_outbox", id: "id", refs: map[string]string{"ticket_id": "tickets", "message_id": "ticket_messages"}},
	{table: "kb_publishes", id: "id", refs: map[string]string{"ticket_id": "tickets"}},
}

// CopyFrom copies src's data (a commune's SQLite file, say) into db (the
// commune's store in the province database) in one transaction: exchanges,
// ratings, surveys, teams and members, reminders with their runs and
// deliveries, alerts, tickets and the rest (copySpecs). Copying again adds
// only rows added to src since: every copied row's new id is recorded.
// Residents keep their identity: a key that src computed from a platform
// id it kept (a Telegram or Zalo address) is recomputed with db's secret.
func (db *DB) CopyFrom(ctx context.Context, src *DB) (CopyReport, error) {
	sum := sha256.Sum256(src.secret)
	rep := CopyReport{Source: "sqlite:" + hex.EncodeToString(sum[:8])}
	if db.pg == src.pg && db.path == src.path && db.slug == src.slug {
		return rep, errors.New("copy: source and destination are the same store")
	}
	rekey, err := src.rekeyMap(ctx, db, &rep)
	if err != nil {
		return rep, err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return rep, fmt.Errorf("copy: %w", err)
	}
	defer tx.Rollback()
	ids := map[string]map[int64]int64{} // table -> old id -> new id
	rows, err := tx.QueryContext(ctx, `SELECT tbl, old_id, new_id FROM copied_rows WHERE source = ?`, rep.Source)
	if err != nil {
		return rep, fmt.Errorf("copy: read earlier copies: %w", err)
	}
	for rows.Next() {
		var tbl string
		var o, n int64
		if err := rows.Scan(&tbl, &o, &n); err != nil {
			rows.Close()
			return rep, fmt.Errorf("copy: read earlier copies: %w", err)
		}
		if ids[tbl] == nil {
			ids[tbl] = map[int64]int64{}
		}
		ids[tbl][o] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("copy: read earlier copies: %w", err)
	}
	for _, spec := range copySpecs {
		c, err := copyTable(ctx, src, tx, spec, rep.Source, ids, rekey)
		if err != nil {
			return rep, fmt.Errorf("copy %s: %w", spec.table, err)
		}
		rep.Tables = append(rep.Tables, c)
	}
	if err := tx.Commit(); err != nil {
		return rep, fmt.Errorf("copy: commit: %w", err)
	}
	return rep, nil
}

// rekeyMap maps src's user keys to db's: recomputed where src's key is
// the one it computes from the stored address (counted in rep.Rekeyed),
// kept as they are otherwise (rep.Kept, when the secrets differ).
func (src *DB) rekeyMap(ctx context.Context, db *DB, rep *CopyReport) (map[string]string, error) {
	m := map[string]string{}
	same := string(src.secret) == string(db.secret)
	rows, err := src.r.QueryContext(ctx, `SELECT u.key, u.channel, COALESCE(a.address, '') FROM users u LEFT JOIN addresses a ON a.user_id = u.id`)
	if err != nil {
		return nil, fmt.Errorf("copy: read users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, channel, addr string
		if err := rows.Scan(&key, &channel, &addr); err != nil {
			return nil, fmt.Errorf("copy: read users: %w", err)
		}
		switch {
		case same:
			m[key] = key
		case addr != "" && src.UserKey(channel, addr) == key:
			m[key] = db.UserKey(channel, addr)
			rep.Rekeyed++
		default:
			m[key] = key
			rep.Kept++
		}
	}
	return m, rows.Err()
}

func copyTable(ctx context.Context, src *DB, tx *sql.Tx, spec copySpec, source string, ids map[string]map[int64]int64, rekey map[string]string) (CopyCount, error) {
	c := CopyCount{Table: spec.table}
	order := ""
	if spec.id != "" {
		order = " ORDER BY " + spec.id
	}
	rows, err := src.r.QueryContext(ctx, `SELECT * FROM `+spec.table+order)
	if err != nil {
		return c, err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return c, err
	}
	var all []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return c, err
		}
		r := make(map[string]any, len(cols))
		for i, col := range cols {
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			r[col] = vals[i]
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, err
	}
	if ids[spec.table] == nil {
		ids[spec.table] = map[int64]int64{}
	}
	mine := ids[spec.table]
	var insCols []string
	for _, col := range cols {
		if col != spec.id || spec.id == "" {
			insCols = append(insCols, col)
		}
	}
	insert := `INSERT INTO ` + spec.table + `(` + strings.Join(insCols, ", ") + `) VALUES (` + placeholders(len(insCols)) + `)`
	if spec.id != "" {
		insert += ` RETURNING ` + spec.id
	} else {
		insert += ` ON CONFLICT DO NOTHING`
	}
rowLoop:
	for _, r := range all {
		c.Source++
		if spec.skip != nil && spec.skip(r) {
			c.Source--
			continue
		}
		var old int64
		if spec.id != "" {
			old = asInt(r[spec.id])
			if _, done := mine[old]; done {
				c.Had++
				continue
			}
		}
		for col, to := range spec.refs {
			if r[col] == nil {
				continue
			}
			n, ok := ids[to][asInt(r[col])]
			if !ok {
				c.Skipped++
				continue rowLoop
			}
			r[col] = n
		}
		for _, col := range spec.keys {
			if k, ok := r[col].(string); ok && rekey[k] != "" {
				r[col] = rekey[k]
			}
		}
		for _, col := range spec.recipients {
			s, _ := r[col].(string)
			kind, ref := ParseRecipient(s)
			switch kind {
			case "user":
				if rekey[ref] != "" {
					r[col] = "user:" + rekey[ref]
				}
			case "group":
				n, ok := ids["teams"][asInt(ref)]
				if !ok {
					c.Skipped++
					continue rowLoop
				}
				r[col] = "group:" + strconv.FormatInt(n, 10)
			}
		}
		for _, col := range spec.teamList {
			s, _ := r[col].(string)
			if list, ok := strings.CutPrefix(s, "teams:"); ok {
				var out []string
				for _, id := range strings.Split(list, ",") {
					if n, ok := ids["teams"][asInt(strings.TrimSpace(id))]; ok {
						out = append(out, strconv.FormatInt(n, 10))
					}
				}
				r[col] = "teams:" + strings.Join(out, ",")
			}
		}
		if spec.id != "" && len(spec.natural) > 0 {
			n, found, err := findNatural(ctx, tx, spec, r)
			if err != nil {
				return c, err
			}
			if found {
				mine[old] = n
				c.Merged++
				if err := recordCopy(ctx, tx, source, spec.table, old, n); err != nil {
					return c, err
				}
				continue
			}
		}
		args := make([]any, len(insCols))
		for i, col := range insCols {
			args[i] = r[col]
		}
		if spec.id == "" {
			res, err := tx.ExecContext(ctx, insert, args...)
			if err != nil {
				return c, err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				c.Copied++
			} else {
				c.Had++
			}
			continue
		}
		var n int64
		if err := tx.QueryRowContext(ctx, insert, args...).Scan(&n); err != nil {
			return c, err
		}
		mine[old] = n
		c.Copied++
		if err := recordCopy(ctx, tx, source, spec.table, old, n); err != nil {
			return c, err
		}
	}
	return c, nil
}

// findNatural looks for a row here with the same natural key as r (all
// natural columns not NULL).
func findNatural(ctx context.Context, tx *sql.Tx, spec copySpec, r map[string]any) (int64, bool, error) {
	var where []string
	var args []any
	for _, col := range spec.natural {
		if r[col] == nil {
			return 0, false, nil
		}
		where = append(where, col+` = ?`)
		args = append(args, r[col])
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT `+spec.id+` FROM `+spec.table+` WHERE `+strings.Join(where, ` AND `), args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

func recordCopy(ctx context.Context, tx *sql.Tx, source, table string, old, n int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO copied_rows(source, tbl, old_id, new_id) VALUES (?, ?, ?, ?)`, source, table, old, n)
	return err
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}
