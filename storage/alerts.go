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

// Alert kinds.
const (
	AlertScam     = "scam"
	AlertNotice   = "notice"
	AlertDisaster = "disaster"
)

// Alert job statuses.
const (
	JobScheduled = "scheduled"
	JobRunning   = "running"
	JobPaused    = "paused"
	JobDone      = "done"
	JobCancelled = "cancelled"
)

// DeliveryCancelled is the state of an alert delivery still pending when
// its job was cancelled.
const DeliveryCancelled = "cancelled"

// Reasons a subscriber stopped receiving alerts.
const (
	UnsubUser    = "user"    // /huytheodoi or "dừng"
	UnsubBlocked = "blocked" // the platform refused delivery (blocked the bot, unfollowed)
)

// UnsubAttribution is how long after receiving an alert a resident's
// unsubscribing counts as caused by that alert.
const UnsubAttribution = 24 * time.Hour

// ErrJobState is returned when a job cannot change to the asked status
// (for example cancelling a finished job).
var ErrJobState = errors.New("the alert job is not in a state that allows this")

// AlertJob is an alert and the job that sends it.
type AlertJob struct {
	ID    int64
	Kind  string
	Title string
	// Body is the alert's text as given (restricted Markdown, commune
	// placeholders filled).
	Body  string
	Link  string
	Image string
	// Entries are knowledge-base entry ids: answering one of them, while
	// the alert is current, adds the alert under the answer.
	Entries []string
	// Villages limits the alert to subscribers who chose one of them
	// (empty: everyone). Channels limits it to those channels (empty: all).
	Villages []string
	Channels []string
	// Text and GroupText are the messages exactly as residents and team
	// groups get them.
	Text      string
	GroupText string
	Priority  int
	Status    string
	// ScheduledFor is when the job may start; ExpiresAt when the alert
	// stops being current (answers, /canhbao, the web chat's pin).
	ScheduledFor time.Time
	ExpiresAt    time.Time
	CreatedAt    time.Time
	// CreatedBy says who confirmed the send and from where.
	CreatedBy string
	// Planned is the number of recipients counted at confirmation;
	// Recipients the delivery rows written when the job started.
	Planned    int
	Recipients int
	StartedAt  time.Time
	FinishedAt time.Time
}

// Published reports whether the alert went out (its job started and was
// not cancelled before starting).
func (j AlertJob) Published() bool {
	return !j.StartedAt.IsZero() && j.Status != JobScheduled
}

// Current reports whether the alert is in force at now.
func (j AlertJob) Current(now time.Time) bool {
	return j.Published() && j.Status != JobCancelled && now.Before(j.ExpiresAt)
}

// AlertTarget selects an alert's recipients.
type AlertTarget struct {
	Villages []string // empty: every subscriber
	Channels []string // empty: every channel
	// Groups adds every team's Telegram group chat and ignores Villages
	// (disaster warnings).
	Groups bool
}

// AlertCount is how many recipients a target has, by channel ("group" for
// team group chats).
type AlertCount struct {
	Total     int
	ByChannel map[string]int
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func joinList(xs []string) string { return strings.Join(xs, ",") }

const jobCols = `id, kind, title, body, link, image, entries, villages, channels, text, group_text, priority, status,
	scheduled_for, expires_at, created_at, created_by, planned, recipients, started_at, finished_at`

func scanJob(sc scanner) (AlertJob, error) {
	var j AlertJob
	var entries, villages, channels, sched, exp, created string
	var started, finished sql.NullString
	err := sc.Scan(&j.ID, &j.Kind, &j.Title, &j.Body, &j.Link, &j.Image, &entries, &villages, &channels, &j.Text, &j.GroupText,
		&j.Priority, &j.Status, &sched, &exp, &created, &j.CreatedBy, &j.Planned, &j.Recipients, &started, &finished)
	j.Entries, j.Villages, j.Channels = splitList(entries), splitList(villages), splitList(channels)
	j.ScheduledFor, j.ExpiresAt, j.CreatedAt = parseTime(sched), parseTime(exp), parseTime(created)
	j.StartedAt, j.FinishedAt = nullTime(started), nullTime(finished)
	return j, err
}

// CreateAlertJob records a confirmed alert job (status scheduled); the
// sender starts it once ScheduledFor has come. It sets j.ID, j.Status and
// j.CreatedAt.
func (db *DB) CreateAlertJob(ctx context.Context, j *AlertJob) error {
	if j.Title == "" || j.Text == "" || j.CreatedBy == "" {
		return errors.New("create alert job: title, text and who confirmed are required")
	}
	switch j.Kind {
	case AlertScam, AlertNotice, AlertDisaster:
	default:
		return fmt.Errorf("create alert job: unknown kind %q", j.Kind)
	}
	j.CreatedAt = db.now()
	if j.ScheduledFor.IsZero() {
		j.ScheduledFor = j.CreatedAt
	}
	j.Status = JobScheduled
	res, err := db.w.ExecContext(ctx, `INSERT INTO alert_jobs(kind, title, body, link, image, entries, villages, channels, text, group_text,
		priority, status, scheduled_for, expires_at, created_at, created_by, planned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.Kind, j.Title, j.Body, j.Link, j.Image, joinList(j.Entries), joinList(j.Villages), joinList(j.Channels), j.Text, j.GroupText,
		j.Priority, j.Status, fmtTime(j.ScheduledFor), fmtTime(j.ExpiresAt), fmtTime(j.CreatedAt), j.CreatedBy, j.Planned)
	if err != nil {
		return fmt.Errorf("create alert job: %w", err)
	}
	j.ID, err = res.LastInsertId()
	return err
}

// AlertJob returns one job.
func (db *DB) AlertJob(ctx context.Context, id int64) (AlertJob, error) {
	j, err := scanJob(db.r.QueryRowContext(ctx, `SELECT `+jobCols+` FROM alert_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return AlertJob{}, ErrNotFound
	}
	if err != nil {
		return AlertJob{}, fmt.Errorf("read alert job: %w", err)
	}
	return j, nil
}

// AlertJobs lists the latest jobs, newest first.
func (db *DB) AlertJobs(ctx context.Context, limit int) ([]AlertJob, error) {
	return queryAll(ctx, db.r, "list alert jobs", scanJob, `SELECT `+jobCols+` FROM alert_jobs ORDER BY id DESC LIMIT ?`, limit)
}

// AlertJobsBetween lists the jobs created in [from, to), oldest first.
func (db *DB) AlertJobsBetween(ctx context.Context, from, to time.Time) ([]AlertJob, error) {
	return queryAll(ctx, db.r, "list alert jobs", scanJob, `SELECT `+jobCols+` FROM alert_jobs WHERE created_at >= ? AND created_at < ? ORDER BY id`,
		fmtTime(from), fmtTime(to))
}

// PublishedAlerts lists alerts that went out (their job started and was not
// cancelled), newest first: current ones are those not expired.
func (db *DB) PublishedAlerts(ctx context.Context, kind string, limit int) ([]AlertJob, error) {
	q := `SELECT ` + jobCols + ` FROM alert_jobs WHERE status IN ('running', 'paused', 'done') AND started_at IS NOT NULL`
	args := []any{}
	if kind != "" {
		q += ` AND kind = ?`
		args = append(args, kind)
	}
	args = append(args, limit)
	return queryAll(ctx, db.r, "list published alerts", scanJob, q+` ORDER BY started_at DESC, id DESC LIMIT ?`, args...)
}

// AlertsVersion changes whenever a job starts or changes status through
// this handle, so that a cache of current alerts can tell it is stale
// (changes made by another process are not seen: refresh on a timer too).
func (db *DB) AlertsVersion() int64 { return db.alertVersion.Load() }

// CurrentLinkedAlerts lists the alerts current at now that are linked to
// knowledge-base entries, newest first.
func (db *DB) CurrentLinkedAlerts(ctx context.Context, now time.Time) ([]AlertJob, error) {
	return queryAll(ctx, db.r, "list current alerts", scanJob, `SELECT `+jobCols+` FROM alert_jobs
		WHERE expires_at > ? AND status IN ('running', 'paused', 'done') AND started_at IS NOT NULL AND entries <> ''
		ORDER BY started_at DESC, id DESC`, fmtTime(now))
}

// recipientsQuery lists a target's resident recipients: active
// subscribers whose user has not blocked the bot and who have a delivery
// address.
func recipientsQuery(t AlertTarget) (string, []any) {
	q := `SELECT u.id, u.key, u.channel FROM alert_subscribers s JOIN users u ON u.id = s.user_id JOIN addresses a ON a.user_id = u.id
		WHERE s.active = 1 AND u.active = 1`
	var args []any
	if len(t.Channels) > 0 {
		q += ` AND u.channel IN (` + placeholders(len(t.Channels)) + `)`
		for _, c := range t.Channels {
			args = append(args, c)
		}
	}
	if len(t.Villages) > 0 && !t.Groups {
		q += ` AND s.village IN (` + placeholders(len(t.Villages)) + `)`
		for _, v := range t.Villages {
			args = append(args, cleanVillage(v))
		}
	}
	return q + ` ORDER BY s.user_id`, args
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

type plannedRecipient struct {
	recipient, channel string
	userID, teamID     int64
}

// planRecipients lists the recipients of a target through q (the writer
// transaction or the read pool).
func planRecipients(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, t AlertTarget) ([]plannedRecipient, error) {
	query, args := recipientsQuery(t)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []plannedRecipient
	for rows.Next() {
		var p plannedRecipient
		var key string
		if err := rows.Scan(&p.userID, &key, &p.channel); err != nil {
			rows.Close()
			return nil, err
		}
		p.recipient = "user:" + key
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !t.Groups {
		return out, nil
	}
	rows, err = q.QueryContext(ctx, `SELECT id FROM teams WHERE group_chat <> '' ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, plannedRecipient{recipient: "group:" + strconv.FormatInt(id, 10), channel: "telegram", teamID: id})
	}
	return out, rows.Err()
}

// CountAlertRecipients counts the recipients a target has now.
func (db *DB) CountAlertRecipients(ctx context.Context, t AlertTarget) (AlertCount, error) {
	ps, err := planRecipients(ctx, db.r, t)
	if err != nil {
		return AlertCount{}, fmt.Errorf("count alert recipients: %w", err)
	}
	c := AlertCount{Total: len(ps), ByChannel: map[string]int{}}
	for _, p := range ps {
		if p.teamID != 0 {
			c.ByChannel["group"]++
		} else {
			c.ByChannel[p.channel]++
		}
	}
	return c, nil
}

// JobTarget is the recipient selection of a job.
func JobTarget(j AlertJob) AlertTarget {
	return AlertTarget{Villages: j.Villages, Channels: j.Channels, Groups: j.Kind == AlertDisaster}
}

// StartDueAlertJobs starts every scheduled job whose time has come: in one
// transaction per job, it writes one pending delivery per recipient and
// marks the job running. It returns the jobs started.
func (db *DB) StartDueAlertJobs(ctx context.Context, now time.Time) ([]AlertJob, error) {
	due, err := queryAll(ctx, db.r, "list due alert jobs", scanJob, `SELECT `+jobCols+` FROM alert_jobs WHERE status = ? AND scheduled_for <= ? ORDER BY priority, id`,
		JobScheduled, fmtTime(now))
	if err != nil {
		return nil, err
	}
	var started []AlertJob
	for _, j := range due {
		ok := false
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			// The job may have been cancelled (or started by another
			// process) since it was listed.
			var status string
			if err := tx.QueryRowContext(ctx, `SELECT status FROM alert_jobs WHERE id = ?`, j.ID).Scan(&status); err != nil {
				return err
			}
			if status != JobScheduled {
				return nil
			}
			ps, err := planRecipients(ctx, tx, JobTarget(j))
			if err != nil {
				return err
			}
			stmt, err := tx.PrepareContext(ctx, `INSERT INTO alert_deliveries(job_id, recipient, channel, user_id, team_id) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT(job_id, recipient) DO NOTHING`)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for _, p := range ps {
				var uid, tid any
				if p.userID != 0 {
					uid = p.userID
				}
				if p.teamID != 0 {
					tid = p.teamID
				}
				if _, err := stmt.ExecContext(ctx, j.ID, p.recipient, p.channel, uid, tid); err != nil {
					return err
				}
			}
			j.Status, j.StartedAt, j.Recipients = JobRunning, now, len(ps)
			_, err = tx.ExecContext(ctx, `UPDATE alert_jobs SET status = ?, started_at = ?, recipients = ? WHERE id = ?`, JobRunning, fmtTime(now), len(ps), j.ID)
			ok = err == nil
			return err
		})
		if err != nil {
			return started, fmt.Errorf("start alert job %d: %w", j.ID, err)
		}
		if ok {
			started = append(started, j)
			db.alertVersion.Add(1)
		}
	}
	return started, nil
}

// SetAlertJobStatus pauses (JobPaused), resumes (JobRunning) or cancels
// (JobCancelled) a job. Only scheduled and running jobs can be paused or
// cancelled, only paused ones resumed; ErrJobState otherwise. Cancelling
// marks the pending deliveries cancelled (those being sent finish).
func (db *DB) SetAlertJobStatus(ctx context.Context, id int64, status string) (AlertJob, error) {
	var j AlertJob
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		j, err = scanJob(tx.QueryRowContext(ctx, `SELECT `+jobCols+` FROM alert_jobs WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var from []string
		switch status {
		case JobPaused:
			from = []string{JobRunning}
		case JobRunning:
			from = []string{JobPaused}
		case JobCancelled:
			from = []string{JobScheduled, JobRunning, JobPaused}
		default:
			return fmt.Errorf("unknown alert job status %q", status)
		}
		allowed := false
		for _, f := range from {
			allowed = allowed || j.Status == f
		}
		if !allowed {
			return fmt.Errorf("job %d is %s: %w", id, j.Status, ErrJobState)
		}
		now := db.now()
		if status == JobCancelled {
			if _, err := tx.ExecContext(ctx, `UPDATE alert_deliveries SET state = ?, error = 'job cancelled', done_at = ? WHERE job_id = ? AND state = ?`,
				DeliveryCancelled, fmtTime(now), id, DeliveryPending); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE alert_jobs SET status = ?, finished_at = ? WHERE id = ?`, status, fmtTime(now), id); err != nil {
				return err
			}
			j.FinishedAt = now
		} else if _, err := tx.ExecContext(ctx, `UPDATE alert_jobs SET status = ? WHERE id = ?`, status, id); err != nil {
			return err
		}
		j.Status = status
		return nil
	})
	db.alertVersion.Add(1)
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrJobState) {
			return AlertJob{}, err
		}
		return AlertJob{}, fmt.Errorf("change alert job %d: %w", id, err)
	}
	return j, nil
}

// FinishDrainedAlertJobs marks done every running job with no delivery
// left pending or being sent; finished_at is when its last outcome was
// recorded. It returns how many jobs it finished.
func (db *DB) FinishDrainedAlertJobs(ctx context.Context, now time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE alert_jobs SET status = ?,
		finished_at = COALESCE((SELECT max(done_at) FROM alert_deliveries d WHERE d.job_id = alert_jobs.id), ?)
		WHERE status = ? AND NOT EXISTS (SELECT 1 FROM alert_deliveries d WHERE d.job_id = alert_jobs.id AND d.state IN ('pending', 'sending'))`,
		JobDone, fmtTime(now), JobRunning)
	if err != nil {
		return 0, fmt.Errorf("finish alert jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// HasActiveAlertJobs reports whether any job is scheduled, running or
// paused, and when the earliest scheduled one is due (zero if none).
func (db *DB) HasActiveAlertJobs(ctx context.Context) (active bool, nextDue time.Time, err error) {
	var n int
	var next sql.NullString
	err = db.r.QueryRowContext(ctx, `SELECT count(*), min(CASE WHEN status = 'scheduled' THEN scheduled_for END) FROM alert_jobs
		WHERE status IN ('scheduled', 'running', 'paused')`).Scan(&n, &next)
	if err != nil {
		return false, time.Time{}, fmt.Errorf("look for alert jobs: %w", err)
	}
	return n > 0, nullTime(next), nil
}

// AlertDelivery is one recipient of a job, with where to deliver it.
type AlertDelivery struct {
	ID        int64
	JobID     int64
	Recipient string
	Channel   string
	UserKey   string // "" for groups
	TeamID    int64
	// Address is the stored delivery address (Telegram chat id, Zalo user
	// id) or the team's group chat; "" if there is none.
	Address  string
	Priority int
	State    string
	Error    string
	DoneAt   time.Time
}

// Group reports whether the delivery goes to a team's group chat.
func (d AlertDelivery) Group() bool { return strings.HasPrefix(d.Recipient, "group:") }

const alertDeliveryCols = `d.id, d.job_id, d.recipient, d.channel, COALESCE(u.key, ''), COALESCE(d.team_id, 0),
	CASE WHEN d.team_id IS NOT NULL THEN COALESCE(t.group_chat, '') ELSE COALESCE(a.address, '') END,
	j.priority, d.state, d.error, d.done_at`

const alertDeliveryFrom = ` FROM alert_deliveries d JOIN alert_jobs j ON j.id = d.job_id
	LEFT JOIN users u ON u.id = d.user_id
	LEFT JOIN addresses a ON a.user_id = d.user_id
	LEFT JOIN teams t ON t.id = d.team_id `

func scanAlertDelivery(sc scanner) (AlertDelivery, error) {
	var d AlertDelivery
	var done sql.NullString
	err := sc.Scan(&d.ID, &d.JobID, &d.Recipient, &d.Channel, &d.UserKey, &d.TeamID, &d.Address, &d.Priority, &d.State, &d.Error, &done)
	d.DoneAt = nullTime(done)
	return d, err
}

// NextAlertDeliveries lists up to limit pending deliveries of running jobs
// in sending order: disaster warnings first, then by job and row.
func (db *DB) NextAlertDeliveries(ctx context.Context, limit int) ([]AlertDelivery, error) {
	return queryAll(ctx, db.r, "list pending alert deliveries", scanAlertDelivery, `SELECT `+alertDeliveryCols+alertDeliveryFrom+`
		WHERE j.status = 'running' AND d.state = 'pending' ORDER BY j.priority, j.id, d.id LIMIT ?`, limit)
}

// AlertDeliveries lists a job's deliveries (of one state when state is
// not "").
func (db *DB) AlertDeliveries(ctx context.Context, jobID int64, state string) ([]AlertDelivery, error) {
	if state != "" {
		return queryAll(ctx, db.r, "list alert deliveries", scanAlertDelivery, `SELECT `+alertDeliveryCols+alertDeliveryFrom+`WHERE d.job_id = ? AND d.state = ? ORDER BY d.id`, jobID, state)
	}
	return queryAll(ctx, db.r, "list alert deliveries", scanAlertDelivery, `SELECT `+alertDeliveryCols+alertDeliveryFrom+`WHERE d.job_id = ? ORDER BY d.id`, jobID)
}

// ClaimAlertDelivery moves a pending delivery of a running job to
// 'sending', committed before the message is sent. False means it must not
// be sent: claimed by someone else, its job paused or cancelled, or the
// resident unsubscribed since the job started (the row is then recorded
// 'skipped').
func (db *DB) ClaimAlertDelivery(ctx context.Context, id int64) (bool, error) {
	var state string
	err := db.w.QueryRowContext(ctx, `UPDATE alert_deliveries SET
		state = CASE WHEN `+unsubscribed+` THEN ? ELSE ? END,
		error = CASE WHEN `+unsubscribed+` THEN 'unsubscribed before it was sent' ELSE error END,
		done_at = CASE WHEN `+unsubscribed+` THEN ? ELSE done_at END
		WHERE id = ? AND state = ?
		AND EXISTS (SELECT 1 FROM alert_jobs j WHERE j.id = alert_deliveries.job_id AND j.status = ?)
		RETURNING state`,
		DeliverySkipped, DeliverySending, fmtTime(db.now()), id, DeliveryPending, JobRunning).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim alert delivery: %w", err)
	}
	return state == DeliverySending, nil
}

// unsubscribed is true in an UPDATE of alert_deliveries when the row's
// resident is no longer an active subscriber.
const unsubscribed = `(alert_deliveries.user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM alert_subscribers s
	WHERE s.user_id = alert_deliveries.user_id AND s.active = 1))`

// FinishAlertDelivery records the outcome of a claimed delivery. A
// resident whose delivery was refused as blocked is unsubscribed, the job
// noted as the cause, in the same transaction.
func (db *DB) FinishAlertDelivery(ctx context.Context, d AlertDelivery, state, errText string) error {
	now := db.now()
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE alert_deliveries SET state = ?, error = ?, done_at = ? WHERE id = ?`, state, errText, fmtTime(now), d.ID); err != nil {
			return err
		}
		if state != DeliveryBlocked || d.Group() {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE alert_subscribers SET active = 0, unsubscribed_at = ?, unsub_reason = ?, unsub_job = ?
			WHERE active = 1 AND user_id = (SELECT user_id FROM alert_deliveries WHERE id = ?)`, fmtTime(now), UnsubBlocked, d.JobID, d.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record alert delivery %d as %s: %w", d.ID, state, err)
	}
	return nil
}

// AlertSender is the process allowed to send alerts.
type AlertSender struct {
	Owner     string
	Since     time.Time
	ExpiresAt time.Time
}

// AcquireAlertSender takes (or renews) the right to send alerts for owner
// until now+ttl. It fails (held false) while another owner's lease has not
// expired. When owner takes over from an earlier one, deliveries that one
// left in 'sending' become 'unknown' (possibly sent; never sent again) in
// the same transaction; recovered says how many.
func (db *DB) AcquireAlertSender(ctx context.Context, owner string, now time.Time, ttl time.Duration) (held bool, recovered int, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		var cur, exp string
		err := tx.QueryRowContext(ctx, `SELECT owner, expires_at FROM alert_sender WHERE id = 1`).Scan(&cur, &exp)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case cur == owner:
			held = true
			_, err := tx.ExecContext(ctx, `UPDATE alert_sender SET expires_at = ? WHERE id = 1`, fmtTime(now.Add(ttl)))
			return err
		case parseTime(exp).After(now):
			return nil // someone else holds it
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_sender(id, owner, since, expires_at) VALUES (1, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, since = excluded.since, expires_at = excluded.expires_at`,
			owner, fmtTime(now), fmtTime(now.Add(ttl))); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE alert_deliveries SET state = ?, error = 'interrupted while sending; possibly sent', done_at = ? WHERE state = ?`,
			DeliveryUnknown, fmtTime(now), DeliverySending)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		recovered, held = int(n), true
		return nil
	})
	if err != nil {
		return false, 0, fmt.Errorf("acquire alert sender: %w", err)
	}
	return held, recovered, nil
}

// TakeOverAlertSender gives owner the right to send in place of from, whose
// lease has not expired but who is known to have stopped (its process is
// gone). It does nothing, returning false, if the lease has meanwhile
// changed hands. Rows from left in 'sending' become 'unknown' as in
// AcquireAlertSender.
func (db *DB) TakeOverAlertSender(ctx context.Context, owner, from string, now time.Time, ttl time.Duration) (held bool, recovered int, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE alert_sender SET owner = ?, since = ?, expires_at = ? WHERE id = 1 AND owner = ?`,
			owner, fmtTime(now), fmtTime(now.Add(ttl)), from)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		res, err = tx.ExecContext(ctx, `UPDATE alert_deliveries SET state = ?, error = 'interrupted while sending; possibly sent', done_at = ? WHERE state = ?`,
			DeliveryUnknown, fmtTime(now), DeliverySending)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		recovered, held = int(n), true
		return nil
	})
	if err != nil {
		return false, 0, fmt.Errorf("take over alert sender: %w", err)
	}
	return held, recovered, nil
}

// ReleaseAlertSender gives up owner's right to send.
func (db *DB) ReleaseAlertSender(ctx context.Context, owner string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM alert_sender WHERE id = 1 AND owner = ?`, owner); err != nil {
		return fmt.Errorf("release alert sender: %w", err)
	}
	return nil
}

// CurrentAlertSender returns the process holding the right to send at now,
// ErrNotFound if none does.
func (db *DB) CurrentAlertSender(ctx context.Context, now time.Time) (AlertSender, error) {
	var s AlertSender
	var since, exp string
	err := db.r.QueryRowContext(ctx, `SELECT owner, since, expires_at FROM alert_sender WHERE id = 1`).Scan(&s.Owner, &since, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return AlertSender{}, ErrNotFound
	}
	if err != nil {
		return AlertSender{}, fmt.Errorf("read alert sender: %w", err)
	}
	s.Since, s.ExpiresAt = parseTime(since), parseTime(exp)
	if !s.ExpiresAt.After(now) {
		return AlertSender{}, ErrNotFound
	}
	return s, nil
}

// AlertProgress is where a job stands.
type AlertProgress struct {
	Total   int
	States  map[string]int // deliveries by state
	Sent    int
	Failed  int // every finished state but sent
	Left    int // pending or being sent
	Recent  int // outcomes recorded in the last RecentWindow
	LastAt  time.Time
	FirstAt time.Time
}

// RecentWindow is the period AlertProgress.Recent counts over.
const RecentWindow = 10 * time.Second

// AlertJobProgress counts a job's deliveries by state.
func (db *DB) AlertJobProgress(ctx context.Context, jobID int64, now time.Time) (AlertProgress, error) {
	p := AlertProgress{States: map[string]int{}}
	rows, err := db.r.QueryContext(ctx, `SELECT state, count(*) FROM alert_deliveries WHERE job_id = ? GROUP BY state`, jobID)
	if err != nil {
		return p, fmt.Errorf("alert job progress: %w", err)
	}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return p, fmt.Errorf("alert job progress: %w", err)
		}
		p.States[s] = n
		p.Total += n
		switch s {
		case DeliverySent:
			p.Sent += n
		case DeliveryPending, DeliverySending:
			p.Left += n
		default:
			p.Failed += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("alert job progress: %w", err)
	}
	var first, last sql.NullString
	err = db.r.QueryRowContext(ctx, `SELECT count(CASE WHEN done_at >= ? THEN 1 END), min(done_at), max(done_at) FROM alert_deliveries
		WHERE job_id = ? AND done_at IS NOT NULL AND state <> ?`, fmtTime(now.Add(-RecentWindow)), jobID, DeliveryCancelled).Scan(&p.Recent, &first, &last)
	if err != nil {
		return p, fmt.Errorf("alert job progress: %w", err)
	}
	p.FirstAt, p.LastAt = nullTime(first), nullTime(last)
	return p, nil
}

// AlertFailure is a count of deliveries that ended in one state with one
// error text.
type AlertFailure struct {
	State string `json:"state"`
	Error string `json:"error"`
	Count int    `json:"count"`
}

// AlertJobFailures lists a job's unsuccessful deliveries grouped by state
// and error, most frequent first.
func (db *DB) AlertJobFailures(ctx context.Context, jobID int64) ([]AlertFailure, error) {
	return queryAll(ctx, db.r, "list alert failures", func(sc scanner) (AlertFailure, error) {
		var f AlertFailure
		err := sc.Scan(&f.State, &f.Error, &f.Count)
		return f, err
	}, `SELECT state, error, count(*) FROM alert_deliveries WHERE job_id = ? AND state NOT IN ('sent', 'pending', 'sending')
		GROUP BY state, error ORDER BY count(*) DESC, state, error`, jobID)
}

// AlertUnsubscribed counts, by reason, the residents whose unsubscribing
// is attributed to the job.
func (db *DB) AlertUnsubscribed(ctx context.Context, jobID int64) (map[string]int, error) {
	out := map[string]int{}
	rows, err := db.r.QueryContext(ctx, `SELECT unsub_reason, count(*) FROM alert_subscribers WHERE unsub_job = ? GROUP BY unsub_reason`, jobID)
	if err != nil {
		return nil, fmt.Errorf("count unsubscribed: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		var n int
		if err := rows.Scan(&r, &n); err != nil {
			return nil, fmt.Errorf("count unsubscribed: %w", err)
		}
		out[r] = n
	}
	return out, rows.Err()
}

// Subscriber is a resident's alert subscription.
type Subscriber struct {
	UserID         int64
	UserKey        string
	Channel        string
	Village        string
	Active         bool
	SubscribedAt   time.Time
	UnsubscribedAt time.Time
	UnsubReason    string
}

// Subscribe subscribes the user (created if needed) to alerts, keeping a
// village chosen earlier. created is false if they were already an active
// subscriber.
func (db *DB) Subscribe(ctx context.Context, channel, key string) (Subscriber, bool, error) {
	var s Subscriber
	created := false
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		u, err := touchUser(ctx, tx, channel, key, db.now())
		if err != nil {
			return err
		}
		var active bool
		err = tx.QueryRowContext(ctx, `SELECT active FROM alert_subscribers WHERE user_id = ?`, u.ID).Scan(&active)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		created = !active
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_subscribers(user_id, active, subscribed_at) VALUES (?, 1, ?)
			ON CONFLICT(user_id) DO UPDATE SET active = 1, unsubscribed_at = NULL, unsub_reason = '', unsub_job = NULL,
			subscribed_at = CASE WHEN alert_subscribers.active = 1 THEN alert_subscribers.subscribed_at ELSE excluded.subscribed_at END`,
			u.ID, fmtTime(db.now())); err != nil {
			return err
		}
		s, err = subscriber(ctx, tx, key)
		return err
	})
	if err != nil {
		return Subscriber{}, false, fmt.Errorf("subscribe to alerts: %w", err)
	}
	return s, created, nil
}

func subscriber(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, key string) (Subscriber, error) {
	var s Subscriber
	var since string
	var until sql.NullString
	err := q.QueryRowContext(ctx, `SELECT u.id, u.key, u.channel, s.village, s.active, s.subscribed_at, s.unsubscribed_at, s.unsub_reason
		FROM alert_subscribers s JOIN users u ON u.id = s.user_id WHERE u.key = ?`, key).
		Scan(&s.UserID, &s.UserKey, &s.Channel, &s.Village, &s.Active, &since, &until, &s.UnsubReason)
	if errors.Is(err, sql.ErrNoRows) {
		return Subscriber{}, ErrNotFound
	}
	s.SubscribedAt, s.UnsubscribedAt = parseTime(since), nullTime(until)
	return s, err
}

// Subscriber returns the user's subscription (active or not), ErrNotFound
// if they never subscribed.
func (db *DB) Subscriber(ctx context.Context, key string) (Subscriber, error) {
	s, err := subscriber(ctx, db.r, key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Subscriber{}, fmt.Errorf("look up subscriber: %w", err)
	}
	return s, err
}

// SetSubscriberVillage records the village an active subscriber chose (""
// for none). ErrNotFound if the user is not an active subscriber.
func (db *DB) SetSubscriberVillage(ctx context.Context, key, village string) error {
	res, err := db.w.ExecContext(ctx, `UPDATE alert_subscribers SET village = ? WHERE active = 1 AND user_id = (SELECT id FROM users WHERE key = ?)`,
		cleanVillage(village), key)
	if err != nil {
		return fmt.Errorf("set subscriber village: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Unsubscribe stops alerts to the user at their request. The last alert
// delivered to them within UnsubAttribution, if any, is noted as the
// cause. It reports false if they were not an active subscriber.
func (db *DB) Unsubscribe(ctx context.Context, key string) (bool, error) {
	done := false
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		now := db.now()
		var uid int64
		err := tx.QueryRowContext(ctx, `SELECT s.user_id FROM alert_subscribers s JOIN users u ON u.id = s.user_id WHERE u.key = ? AND s.active = 1`, key).Scan(&uid)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		var job sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT job_id FROM alert_deliveries WHERE user_id = ? AND state = ? AND done_at >= ? ORDER BY done_at DESC, id DESC LIMIT 1`,
			uid, DeliverySent, fmtTime(now.Add(-UnsubAttribution))).Scan(&job)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE alert_subscribers SET active = 0, unsubscribed_at = ?, unsub_reason = ?, unsub_job = ? WHERE user_id = ?`,
			fmtTime(now), UnsubUser, job, uid)
		done = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("unsubscribe from alerts: %w", err)
	}
	return done, nil
}

// OfferAlerts records that the user is being asked, once, whether they
// want alerts. It reports false (do not ask) when they were asked before
// or have ever subscribed.
func (db *DB) OfferAlerts(ctx context.Context, channel, key string) (bool, error) {
	var seen int
	err := db.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM alert_offers o JOIN users u ON u.id = o.user_id WHERE u.key = ?)
		OR EXISTS (SELECT 1 FROM alert_subscribers s JOIN users u ON u.id = s.user_id WHERE u.key = ?)`, key, key).Scan(&seen)
	if err != nil {
		return false, fmt.Errorf("look up alert offer: %w", err)
	}
	if seen != 0 {
		return false, nil
	}
	offered := false
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		u, err := touchUser(ctx, tx, channel, key, db.now())
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO alert_offers(user_id, offered_at) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM alert_subscribers WHERE user_id = ?)`,
			u.ID, fmtTime(db.now()), u.ID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		offered = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("record alert offer: %w", err)
	}
	return offered, nil
}

// SubscriberCount is the number of active subscribers of one channel and
// village.
type SubscriberCount struct {
	Channel string `json:"channel"`
	Village string `json:"village"`
	Count   int    `json:"count"`
}

// SubscriberCounts counts active subscribers by channel and village.
func (db *DB) SubscriberCounts(ctx context.Context) ([]SubscriberCount, error) {
	return queryAll(ctx, db.r, "count subscribers", func(sc scanner) (SubscriberCount, error) {
		var c SubscriberCount
		err := sc.Scan(&c.Channel, &c.Village, &c.Count)
		return c, err
	}, `SELECT u.channel, s.village, count(*) FROM alert_subscribers s JOIN users u ON u.id = s.user_id WHERE s.active = 1
		GROUP BY u.channel, s.village ORDER BY u.channel, s.village`)
}
