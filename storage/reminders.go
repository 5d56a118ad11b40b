package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Reminder is a scheduled message to the teams. Cron and Template are
// validated by the caller (bot/remind/spec) before they are stored.
type Reminder struct {
	ID       int64
	Name     string
	Cron     string
	Target   string // "all", "teams:1,2" or "groups"
	Template string
	Enabled  bool
	// SeedKey marks a seeded default ("" for reminders admins added).
	SeedKey string
	// Anchor: due slots are looked for strictly after it.
	Anchor    time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Delivery states.
const (
	DeliveryPending       = "pending"
	DeliverySending       = "sending"
	DeliverySent          = "sent"
	DeliveryFailed        = "failed"
	DeliveryBlocked       = "blocked"
	DeliveryUndeliverable = "undeliverable"
	DeliveryUnknown       = "unknown" // was being sent when the process stopped
	DeliverySkipped       = "skipped" // run resumed too late
)

// Run statuses.
const (
	RunRunning = "running"
	RunDone    = "done"
)

// Run is one execution of a reminder for one scheduled slot.
type Run struct {
	ID           int64
	ReminderID   int64
	ReminderName string
	ScheduledFor time.Time
	StartedAt    time.Time
	FinishedAt   time.Time
	Late         bool
	Status       string
}

// Delivery is one recipient of a run: a member (UserKey set) or a team's
// group chat (Recipient "group:<team id>").
type Delivery struct {
	ID          int64
	RunID       int64
	Recipient   string
	UserID      int64
	UserKey     string
	Channel     string // the user's channel; "" for group deliveries
	TeamID      int64
	Village     string
	MemberID    int64
	DisplayName string
	Text        string
	State       string
	Error       string
	SentAt      time.Time
	AckAt       time.Time
	NudgedAt    time.Time
}

// Group reports whether the delivery goes to a team's group chat.
func (d Delivery) Group() bool { return strings.HasPrefix(d.Recipient, "group:") }

// Label is how admins see the recipient.
func (d Delivery) Label() string {
	var who string
	switch {
	case d.Group():
		who = "nhóm chung"
	case d.DisplayName != "":
		who = d.DisplayName
	case d.MemberID != 0:
		who = "thành viên #" + strconv.FormatInt(d.MemberID, 10)
	default:
		who = "người nhận #" + strconv.FormatInt(d.ID, 10)
	}
	if d.Village != "" {
		return d.Village + " – " + who
	}
	return who
}

// NewDelivery is a recipient planned when a run starts.
type NewDelivery struct {
	Recipient string // "user:<key>" or "group:<team id>"
	UserID    int64  // 0 for groups
	TeamID    int64
	Text      string
}

// Reminder errors.
var (
	// ErrNotRecipient: someone tried to acknowledge another's delivery.
	ErrNotRecipient = errors.New("not the recipient of this delivery")
)

func nullTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	return parseTime(s.String)
}

const reminderCols = `id, name, cron, target, template, enabled, COALESCE(seed_key, ''), anchor, created_at, updated_at`

func scanReminder(sc scanner) (Reminder, error) {
	var r Reminder
	var anchor, created, updated string
	err := sc.Scan(&r.ID, &r.Name, &r.Cron, &r.Target, &r.Template, &r.Enabled, &r.SeedKey, &anchor, &created, &updated)
	r.Anchor, r.CreatedAt, r.UpdatedAt = parseTime(anchor), parseTime(created), parseTime(updated)
	return r, err
}

// AddReminder stores a new reminder; it is due from now on.
func (db *DB) AddReminder(ctx context.Context, r *Reminder) error {
	return db.Tx(ctx, func(tx *sql.Tx) error { return addReminder(ctx, tx, r, db.now()) })
}

func addReminder(ctx context.Context, tx *sql.Tx, r *Reminder, now time.Time) error {
	if strings.TrimSpace(r.Name) == "" || r.Cron == "" || r.Template == "" {
		return errors.New("add reminder: name, cron and template are required")
	}
	if r.Target == "" {
		r.Target = "all"
	}
	r.Anchor, r.CreatedAt, r.UpdatedAt = now, now, now
	var seed any
	if r.SeedKey != "" {
		seed = r.SeedKey
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO reminders(name, cron, target, template, enabled, seed_key, anchor, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		strings.TrimSpace(r.Name), r.Cron, r.Target, r.Template, r.Enabled, seed, fmtTime(now), fmtTime(now), fmtTime(now)).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("add reminder: %w", err)
	}
	return nil
}

// SeedReminders adds each default whose SeedKey was never seeded before and
// returns how many it added. A default an admin deleted stays deleted.
func (db *DB) SeedReminders(ctx context.Context, defaults []Reminder) (int, error) {
	added := 0
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		added = 0 // the transaction may run again (PostgreSQL)
		now := db.now()
		for _, d := range defaults {
			if d.SeedKey == "" {
				return errors.New("seed reminders: default without a seed key")
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO reminder_seeds(seed_key, seeded_at) VALUES (?, ?) ON CONFLICT(seed_key) DO NOTHING`, d.SeedKey, fmtTime(now))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			if err := addReminder(ctx, tx, &d, now); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("seed reminders: %w", err)
	}
	return added, nil
}

// Reminders lists all reminders by id.
func (db *DB) Reminders(ctx context.Context) ([]Reminder, error) {
	return queryAll(ctx, db.r, "list reminders", scanReminder, `SELECT `+reminderCols+` FROM reminders ORDER BY id`)
}

// Reminder returns one reminder.
func (db *DB) Reminder(ctx context.Context, id int64) (Reminder, error) {
	r, err := scanReminder(db.r.QueryRowContext(ctx, `SELECT `+reminderCols+` FROM reminders WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Reminder{}, ErrNotFound
	}
	if err != nil {
		return Reminder{}, fmt.Errorf("read reminder: %w", err)
	}
	return r, nil
}

// UpdateReminder changes a reminder's name, cron, target and template;
// when the cron changes, slots are looked for from now on.
func (db *DB) UpdateReminder(ctx context.Context, r Reminder) error {
	now := fmtTime(db.now())
	res, err := db.w.ExecContext(ctx, `UPDATE reminders SET name = ?, target = ?, template = ?, updated_at = ?,
		anchor = CASE WHEN cron <> ? THEN ? ELSE anchor END, cron = ? WHERE id = ?`,
		r.Name, r.Target, r.Template, now, r.Cron, now, r.Cron, r.ID)
	if err != nil {
		return fmt.Errorf("update reminder: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetReminderEnabled pauses or resumes a reminder. Resuming does not catch
// up on the slots missed while paused.
func (db *DB) SetReminderEnabled(ctx context.Context, id int64, enabled bool) error {
	now := fmtTime(db.now())
	res, err := db.w.ExecContext(ctx, `UPDATE reminders SET enabled = ?, updated_at = ?,
		anchor = CASE WHEN ? = 1 AND enabled = 0 THEN ? ELSE anchor END WHERE id = ?`, enabled, now, enabled, now, id)
	if err != nil {
		return fmt.Errorf("set reminder enabled: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteReminder removes a reminder with its runs and deliveries.
func (db *DB) DeleteReminder(ctx context.Context, id int64) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM reminders WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete reminder: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// AdvanceAnchor moves a reminder's anchor forward to t (never back): slots
// up to t are considered handled.
func (db *DB) AdvanceAnchor(ctx context.Context, id int64, t time.Time) error {
	if _, err := db.w.ExecContext(ctx, `UPDATE reminders SET anchor = ? WHERE id = ? AND anchor < ?`, fmtTime(t), id, fmtTime(t)); err != nil {
		return fmt.Errorf("advance reminder anchor: %w", err)
	}
	return nil
}

// StartRun records a run of the reminder for the slot with its planned
// deliveries (all pending) and advances the anchor, in one transaction.
// If the slot already has a run, that run is returned with created false
// and nothing is changed.
func (db *DB) StartRun(ctx context.Context, reminderID int64, slot time.Time, late bool, ds []NewDelivery) (Run, bool, error) {
	run := Run{ReminderID: reminderID, ScheduledFor: slot.UTC().Truncate(time.Microsecond), StartedAt: db.now(), Late: late, Status: RunRunning}
	created := false
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id, started_at, late, status FROM reminder_runs WHERE reminder_id = ? AND scheduled_for = ?`,
			reminderID, fmtTime(slot)).Scan(&run.ID, new(string), &run.Late, &run.Status)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO reminder_runs(reminder_id, scheduled_for, started_at, late, status) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			reminderID, fmtTime(slot), fmtTime(run.StartedAt), late, RunRunning).Scan(&run.ID); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO reminder_deliveries(run_id, recipient, user_id, team_id, text, state) VALUES (?, ?, ?, ?, ?, 'pending')
			ON CONFLICT(run_id, recipient) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range ds {
			var uid, tid any
			if d.UserID != 0 {
				uid = d.UserID
			}
			if d.TeamID != 0 {
				tid = d.TeamID
			}
			if _, err := stmt.ExecContext(ctx, run.ID, d.Recipient, uid, tid, d.Text); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reminders SET anchor = ? WHERE id = ? AND anchor < ?`, fmtTime(slot), reminderID, fmtTime(slot)); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return Run{}, false, fmt.Errorf("start run: %w", err)
	}
	return run, created, nil
}

const runCols = `r.id, r.reminder_id, COALESCE(m.name, ''), r.scheduled_for, r.started_at, r.finished_at, r.late, r.status`

func scanRun(sc scanner) (Run, error) {
	var r Run
	var sched, started string
	var finished sql.NullString
	err := sc.Scan(&r.ID, &r.ReminderID, &r.ReminderName, &sched, &started, &finished, &r.Late, &r.Status)
	r.ScheduledFor, r.StartedAt, r.FinishedAt = parseTime(sched), parseTime(started), nullTime(finished)
	return r, err
}

func (db *DB) runs(ctx context.Context, where string, args ...any) ([]Run, error) {
	return queryAll(ctx, db.r, "list runs", scanRun, `SELECT `+runCols+` FROM reminder_runs r LEFT JOIN reminders m ON m.id = r.reminder_id `+where, args...)
}

// UnfinishedRuns lists runs still marked running (the process stopped or
// failed during them), oldest first.
func (db *DB) UnfinishedRuns(ctx context.Context) ([]Run, error) {
	return db.runs(ctx, `WHERE r.status = ? ORDER BY r.scheduled_for, r.id`, RunRunning)
}

// RecentRuns lists the latest runs, newest first (of one reminder when
// reminderID is not 0).
func (db *DB) RecentRuns(ctx context.Context, reminderID int64, limit int) ([]Run, error) {
	if reminderID != 0 {
		return db.runs(ctx, `WHERE r.reminder_id = ? ORDER BY r.scheduled_for DESC, r.id DESC LIMIT ?`, reminderID, limit)
	}
	return db.runs(ctx, `ORDER BY r.scheduled_for DESC, r.id DESC LIMIT ?`, limit)
}

// Run returns one run.
func (db *DB) Run(ctx context.Context, id int64) (Run, error) {
	rs, err := db.runs(ctx, `WHERE r.id = ?`, id)
	if err != nil {
		return Run{}, err
	}
	if len(rs) == 0 {
		return Run{}, ErrNotFound
	}
	return rs[0], nil
}

// FinishRun marks a run done.
func (db *DB) FinishRun(ctx context.Context, id int64) error {
	if _, err := db.w.ExecContext(ctx, `UPDATE reminder_runs SET status = ?, finished_at = ? WHERE id = ?`, RunDone, fmtTime(db.now()), id); err != nil {
		return fmt.Errorf("finish run: %w", err)
	}
	return nil
}

// MarkInterrupted turns the run's deliveries left in 'sending' (the process
// stopped between claiming and recording them) into 'unknown': they may
// have been sent and are never sent again. It returns how many.
func (db *DB) MarkInterrupted(ctx context.Context, runID int64) (int, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE reminder_deliveries SET state = ?, error = 'interrupted while sending; possibly sent' WHERE run_id = ? AND state = ?`,
		DeliveryUnknown, runID, DeliverySending)
	if err != nil {
		return 0, fmt.Errorf("mark interrupted deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// SkipPending marks the run's pending deliveries skipped (too late to send).
func (db *DB) SkipPending(ctx context.Context, runID int64, why string) (int, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE reminder_deliveries SET state = ?, error = ? WHERE run_id = ? AND state = ?`,
		DeliverySkipped, why, runID, DeliveryPending)
	if err != nil {
		return 0, fmt.Errorf("skip pending deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

const deliveryCols = `d.id, d.run_id, d.recipient, COALESCE(d.user_id, 0), COALESCE(u.key, ''), COALESCE(u.channel, ''),
	COALESCE(d.team_id, 0), COALESCE(t.village, ''), COALESCE(m.id, 0), COALESCE(m.display_name, ''),
	d.text, d.state, d.error, d.sent_at, d.ack_at, d.nudged_at`

const deliveryFrom = ` FROM reminder_deliveries d
	LEFT JOIN users u ON u.id = d.user_id
	LEFT JOIN teams t ON t.id = d.team_id
	LEFT JOIN team_members m ON m.user_id = d.user_id `

func scanDelivery(sc scanner) (Delivery, error) {
	var d Delivery
	var sent, ack, nudged sql.NullString
	err := sc.Scan(&d.ID, &d.RunID, &d.Recipient, &d.UserID, &d.UserKey, &d.Channel, &d.TeamID, &d.Village, &d.MemberID, &d.DisplayName,
		&d.Text, &d.State, &d.Error, &sent, &ack, &nudged)
	d.SentAt, d.AckAt, d.NudgedAt = nullTime(sent), nullTime(ack), nullTime(nudged)
	return d, err
}

func (db *DB) deliveries(ctx context.Context, where string, args ...any) ([]Delivery, error) {
	return queryAll(ctx, db.r, "list deliveries", scanDelivery, `SELECT `+deliveryCols+deliveryFrom+where, args...)
}

// RunDeliveries lists a run's deliveries by team and recipient.
func (db *DB) RunDeliveries(ctx context.Context, runID int64) ([]Delivery, error) {
	return db.deliveries(ctx, `WHERE d.run_id = ? ORDER BY t.village, d.id`, runID)
}

// PendingDeliveries lists a run's deliveries not yet claimed, in order.
func (db *DB) PendingDeliveries(ctx context.Context, runID int64) ([]Delivery, error) {
	return db.deliveries(ctx, `WHERE d.run_id = ? AND d.state = 'pending' ORDER BY d.id`, runID)
}

// Delivery returns one delivery.
func (db *DB) Delivery(ctx context.Context, id int64) (Delivery, error) {
	ds, err := db.deliveries(ctx, `WHERE d.id = ?`, id)
	if err != nil {
		return Delivery{}, err
	}
	if len(ds) == 0 {
		return Delivery{}, ErrNotFound
	}
	return ds[0], nil
}

// ClaimDelivery moves a pending delivery to 'sending' in its own committed
// statement, before the message is sent. It reports false if the delivery
// was not pending (already claimed): it must then not be sent.
func (db *DB) ClaimDelivery(ctx context.Context, id int64) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE reminder_deliveries SET state = ? WHERE id = ? AND state = ?`, DeliverySending, id, DeliveryPending)
	if err != nil {
		return false, fmt.Errorf("claim delivery: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishDelivery records the outcome of sending a claimed delivery.
func (db *DB) FinishDelivery(ctx context.Context, id int64, state, errText string) error {
	var sent any
	if state == DeliverySent {
		sent = fmtTime(db.now())
	}
	if _, err := db.w.ExecContext(ctx, `UPDATE reminder_deliveries SET state = ?, error = ?, sent_at = COALESCE(?, sent_at) WHERE id = ?`,
		state, errText, sent, id); err != nil {
		return fmt.Errorf("record delivery %d as %s: %w", id, state, err)
	}
	return nil
}

// AckDelivery records that the recipient acknowledged the delivery. Only
// the member it went to, or for a group delivery an active member of that
// team, may acknowledge (ErrNotRecipient otherwise). already is true if it
// had been acknowledged before (the first acknowledgement is kept).
func (db *DB) AckDelivery(ctx context.Context, id int64, userKey string) (d Delivery, already bool, err error) {
	d, err = db.Delivery(ctx, id)
	if err != nil {
		return Delivery{}, false, err
	}
	u, err := db.UserByKey(ctx, userKey)
	if errors.Is(err, ErrNotFound) {
		return d, false, ErrNotRecipient
	}
	if err != nil {
		return d, false, err
	}
	if d.Group() {
		m, err := db.Membership(ctx, userKey)
		if err != nil || m.TeamID != d.TeamID {
			return d, false, ErrNotRecipient
		}
	} else if d.UserID != u.ID {
		return d, false, ErrNotRecipient
	}
	if !d.AckAt.IsZero() {
		return d, true, nil
	}
	now := db.now()
	res, err := db.w.ExecContext(ctx, `UPDATE reminder_deliveries SET ack_at = ?, ack_user = ? WHERE id = ? AND ack_at IS NULL`, fmtTime(now), u.ID, id)
	if err != nil {
		return d, false, fmt.Errorf("acknowledge delivery: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return d, true, nil
	}
	d.AckAt = now
	return d, false, nil
}

// NudgeCandidates lists sent, unacknowledged, never-nudged deliveries sent
// in [from, to).
func (db *DB) NudgeCandidates(ctx context.Context, from, to time.Time) ([]Delivery, error) {
	return db.deliveries(ctx, `WHERE d.state = 'sent' AND d.ack_at IS NULL AND d.nudged_at IS NULL AND d.sent_at >= ? AND d.sent_at < ? ORDER BY d.sent_at, d.id`,
		fmtTime(from), fmtTime(to))
}

// OldestNudgeDue returns the send time of the oldest delivery sent at or
// after from that could still be nudged (zero if none).
func (db *DB) OldestNudgeDue(ctx context.Context, from time.Time) (time.Time, error) {
	var s sql.NullString
	err := db.r.QueryRowContext(ctx, `SELECT min(sent_at) FROM reminder_deliveries WHERE state = 'sent' AND ack_at IS NULL AND nudged_at IS NULL AND sent_at >= ?`,
		fmtTime(from)).Scan(&s)
	if err != nil {
		return time.Time{}, fmt.Errorf("find next nudge: %w", err)
	}
	return nullTime(s), nil
}

// ClaimNudge marks a delivery nudged before the nudge is sent; false if it
// was acknowledged or nudged meanwhile (then do not send).
func (db *DB) ClaimNudge(ctx context.Context, id int64) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE reminder_deliveries SET nudged_at = ? WHERE id = ? AND nudged_at IS NULL AND ack_at IS NULL`, fmtTime(db.now()), id)
	if err != nil {
		return false, fmt.Errorf("claim nudge: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// WeekStats are the figures reminders may quote.
type WeekStats struct {
	Questions  int // exchanges in the period
	Unanswered int // exchanges the bot declined
	Rated      int // answers rated in the period
	Positive   int // of which 👍
}

// Stats counts exchanges and ratings recorded in [from, to).
func (db *DB) Stats(ctx context.Context, from, to time.Time) (WeekStats, error) {
	var s WeekStats
	f, t := fmtTime(from), fmtTime(to)
	err := db.r.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN band = 'decline' THEN 1 END) FROM exchanges WHERE created_at >= ? AND created_at < ?`, f, t).
		Scan(&s.Questions, &s.Unanswered)
	if err != nil {
		return s, fmt.Errorf("count exchanges: %w", err)
	}
	err = db.r.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN value > 0 THEN 1 END) FROM ratings WHERE updated_at >= ? AND updated_at < ?`, f, t).
		Scan(&s.Rated, &s.Positive)
	if err != nil {
		return s, fmt.Errorf("count ratings: %w", err)
	}
	return s, nil
}

// ParseRecipient splits "user:<key>" / "group:<id>".
func ParseRecipient(r string) (kind, ref string) {
	kind, ref, _ = strings.Cut(r, ":")
	return kind, ref
}
