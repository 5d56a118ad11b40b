package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Ticket statuses.
const (
	TicketOpen   = "open"
	TicketClosed = "closed"
)

// Authors of ticket messages.
const (
	AuthorResident = "resident"
	AuthorBot      = "bot"
	AuthorStaff    = "staff"
	AuthorSystem   = "system"
)

// Close reasons.
const (
	ClosedByStaff    = "staff"
	ClosedByResident = "resident"
	ClosedIdle       = "idle"
)

// Outbox targets, kinds and states. States beyond these are the reminder
// delivery states (DeliveryPending, DeliverySending, DeliverySent,
// DeliveryFailed, DeliveryBlocked, DeliveryUndeliverable, DeliveryUnknown).
const (
	TargetResident = "resident"
	TargetStaff    = "staff"

	OutboxReply  = "reply"  // a staff answer, to the resident
	OutboxNotice = "notice" // a handoff notice (closed, idle), to the resident
	OutboxCard   = "card"   // the ticket's post in the staff group
	OutboxPost   = "post"   // another staff-group message about the ticket
	OutboxEdit   = "edit"   // refresh the card's buttons (claimed, closed)
)

// ErrTicketClosed is returned for changes to a ticket that is closed.
var ErrTicketClosed = errors.New("ticket is closed")

// Ticket is a resident's conversation with commune staff.
type Ticket struct {
	ID           int64
	UserKey      string
	Channel      string
	Status       string
	CreatedAt    time.Time
	LastActivity time.Time
	// WaitingSince is when the oldest resident message no staff reply has
	// answered yet arrived (zero when none waits).
	WaitingSince time.Time
	FirstReplyAt time.Time
	ClaimedBy    string
	ClaimedAt    time.Time
	// CardPost is the staff-group message of the ticket ("" until posted).
	CardPost    string
	RepostedAt  time.Time
	ClosedAt    time.Time
	ClosedBy    string
	CloseReason string
	Rating      int // +1, -1, 0 when not rated
	EntryID     string

	// Filled by ListTickets.
	Messages int
	LastText string
	// AllText is every resident and staff message, for searching (filled
	// when TicketFilter.Text is set).
	AllText string
	// Problem is the state of the latest resident delivery that did not
	// arrive (DeliveryUndeliverable, DeliveryFailed, DeliveryBlocked,
	// DeliveryUnknown), "" when there is none.
	Problem string
}

// Open reports whether the ticket is open.
func (t Ticket) Open() bool { return t.Status == TicketOpen }

// TicketMessage is one message of a ticket's conversation.
type TicketMessage struct {
	ID        int64
	TicketID  int64
	Author    string
	StaffName string
	Via       string
	Text      string
	CreatedAt time.Time
	// State, Error and SentAt describe the delivery of a staff reply to
	// the resident ("" for other messages); OutboxID is that delivery.
	State    string
	Error    string
	SentAt   time.Time
	OutboxID int64
}

// NewTicketMessage is a message added to a ticket.
type NewTicketMessage struct {
	Author    string
	StaffName string
	Via       string
	Text      string
}

// NewOutbox is a message queued for sending with a ticket change. Link
// ties it to the message added in the same call (a staff reply's delivery).
type NewOutbox struct {
	Target  string
	Channel string
	Kind    string
	Text    string
	Buttons string
	Link    bool
}

// OutboxItem is one queued message.
type OutboxItem struct {
	ID        int64
	TicketID  int64
	MessageID int64
	Target    string
	Channel   string
	Kind      string
	Text      string
	Buttons   string
	State     string
	Attempts  int
	NotBefore time.Time
	Error     string
	CreatedAt time.Time
	SentAt    time.Time
	// UserKey is the ticket's resident; CardPost the ticket's staff-group
	// post.
	UserKey  string
	CardPost string
}

const ticketCols = `t.id, u.key, t.channel, t.status, t.created_at, t.last_activity, t.waiting_since, t.first_reply_at,
	t.claimed_by, t.claimed_at, t.card_post, t.reposted_at, t.closed_at, t.closed_by, t.close_reason, coalesce(t.rating, 0), t.entry_id`

func scanTicket(sc scanner, extra ...any) (Ticket, error) {
	var t Ticket
	var created, last string
	var waiting, first, claimed, reposted, closed sql.NullString
	dest := append([]any{&t.ID, &t.UserKey, &t.Channel, &t.Status, &created, &last, &waiting, &first,
		&t.ClaimedBy, &claimed, &t.CardPost, &reposted, &closed, &t.ClosedBy, &t.CloseReason, &t.Rating, &t.EntryID}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return Ticket{}, err
	}
	t.CreatedAt, t.LastActivity = parseTime(created), parseTime(last)
	t.WaitingSince, t.FirstReplyAt, t.ClaimedAt = nullTime(waiting), nullTime(first), nullTime(claimed)
	t.RepostedAt, t.ClosedAt = nullTime(reposted), nullTime(closed)
	return t, nil
}

func ticketTx(ctx context.Context, tx *sql.Tx, id int64) (Ticket, error) {
	t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM tickets t JOIN users u ON u.id = t.user_id WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, ErrNotFound
	}
	return t, err
}

// Ticket returns one ticket.
func (db *DB) Ticket(ctx context.Context, id int64) (Ticket, error) {
	t, err := scanTicket(db.r.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM tickets t JOIN users u ON u.id = t.user_id WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, ErrNotFound
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("read ticket: %w", err)
	}
	return t, nil
}

// OpenTicketOf returns the open ticket of a user, or ErrNotFound.
func (db *DB) OpenTicketOf(ctx context.Context, userKey string) (Ticket, error) {
	t, err := scanTicket(db.r.QueryRowContext(ctx, `SELECT `+ticketCols+` FROM tickets t JOIN users u ON u.id = t.user_id
		WHERE u.key = ? AND t.status = 'open'`, userKey))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, ErrNotFound
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("read open ticket: %w", err)
	}
	return t, nil
}

// OpenTicket opens a ticket for userKey with the given first messages and
// queued messages. A user has at most one open ticket: when one is open
// already it is returned with created false and nothing is added.
func (db *DB) OpenTicket(ctx context.Context, channel, userKey string, msgs []NewTicketMessage, out []NewOutbox) (t Ticket, created bool, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		now := db.now()
		u, err := touchUser(ctx, tx, channel, userKey, now)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM tickets WHERE user_id = ? AND status = 'open'`, u.ID).Scan(&id)
		if err == nil {
			t, err = ticketTx(ctx, tx, id)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		ts := fmtTime(now)
		var waiting any
		for _, m := range msgs {
			if m.Author == AuthorResident {
				waiting = ts
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO tickets(user_id, channel, created_at, last_activity, waiting_since) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			u.ID, channel, ts, ts, waiting).Scan(&id); err != nil {
			return err
		}
		var last int64
		for _, m := range msgs {
			if last, err = addTicketMessage(ctx, tx, id, m, now); err != nil {
				return err
			}
		}
		if err := enqueue(ctx, tx, id, last, out, now); err != nil {
			return err
		}
		created = true
		t, err = ticketTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return Ticket{}, false, fmt.Errorf("open ticket: %w", err)
	}
	return t, created, nil
}

func addTicketMessage(ctx context.Context, tx *sql.Tx, ticketID int64, m NewTicketMessage, now time.Time) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO ticket_messages(ticket_id, author, staff_name, via, text, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		ticketID, m.Author, m.StaffName, m.Via, m.Text, fmtTime(now)).Scan(&id)
	return id, err
}

func enqueue(ctx context.Context, tx *sql.Tx, ticketID, msgID int64, out []NewOutbox, now time.Time) error {
	for _, o := range out {
		var link any
		if o.Link && msgID != 0 {
			link = msgID
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO handoff_outbox(ticket_id, message_id, target, channel, kind, text, buttons, not_before, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, ticketID, link, o.Target, o.Channel, o.Kind, o.Text, o.Buttons, fmtTime(now), fmtTime(now))
		if err != nil {
			return fmt.Errorf("queue message: %w", err)
		}
	}
	return nil
}

// openTicketTx reads a ticket for a change, refusing a closed one.
func openTicketTx(ctx context.Context, tx *sql.Tx, id int64) (Ticket, error) {
	t, err := ticketTx(ctx, tx, id)
	if err != nil {
		return t, err
	}
	if !t.Open() {
		return t, ErrTicketClosed
	}
	return t, nil
}

// AddResidentMessage adds a resident's (redacted) message to an open
// ticket with the messages queued for it, and queues again the staff
// replies that could not be delivered (on Zalo the resident writing
// reopens the messaging window).
func (db *DB) AddResidentMessage(ctx context.Context, ticketID int64, text string, out []NewOutbox) (int64, error) {
	var id int64
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := openTicketTx(ctx, tx, ticketID); err != nil {
			return err
		}
		now := db.now()
		var err error
		if id, err = addTicketMessage(ctx, tx, ticketID, NewTicketMessage{Author: AuthorResident, Text: text}, now); err != nil {
			return err
		}
		ts := fmtTime(now)
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET last_activity = ?, waiting_since = coalesce(waiting_since, ?) WHERE id = ?`, ts, ts, ticketID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE handoff_outbox SET state = 'pending', not_before = ?, error = '' WHERE ticket_id = ? AND target = 'resident' AND state = 'undeliverable'`,
			ts, ticketID); err != nil {
			return err
		}
		return enqueue(ctx, tx, ticketID, id, out, now)
	})
	if err != nil {
		return 0, fmt.Errorf("add resident message: %w", err)
	}
	return id, nil
}

// AddStaffReply adds a staff member's reply to an open ticket with its
// queued deliveries (the one with Link set is the delivery to the
// resident). It returns ErrTicketClosed when the ticket is closed.
func (db *DB) AddStaffReply(ctx context.Context, ticketID int64, staffName, via, text string, out []NewOutbox) (TicketMessage, error) {
	var m TicketMessage
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := openTicketTx(ctx, tx, ticketID); err != nil {
			return err
		}
		now := db.now()
		id, err := addTicketMessage(ctx, tx, ticketID, NewTicketMessage{Author: AuthorStaff, StaffName: staffName, Via: via, Text: text}, now)
		if err != nil {
			return err
		}
		ts := fmtTime(now)
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET last_activity = ?, waiting_since = NULL, first_reply_at = coalesce(first_reply_at, ?) WHERE id = ?`,
			ts, ts, ticketID); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, ticketID, id, out, now); err != nil {
			return err
		}
		m = TicketMessage{ID: id, TicketID: ticketID, Author: AuthorStaff, StaffName: staffName, Via: via, Text: text, CreatedAt: now, State: DeliveryPending}
		return nil
	})
	if err != nil {
		return TicketMessage{}, fmt.Errorf("add staff reply: %w", err)
	}
	return m, nil
}

// ClaimTicket records that staffName handles an open ticket (taking it
// over from whoever had it). previous is who had claimed it; changed is
// false when staffName had already.
func (db *DB) ClaimTicket(ctx context.Context, ticketID int64, staffName string, out []NewOutbox) (t Ticket, previous string, changed bool, err error) {
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		if t, err = openTicketTx(ctx, tx, ticketID); err != nil {
			return err
		}
		previous = t.ClaimedBy
		if previous == staffName {
			return nil
		}
		now := db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET claimed_by = ?, claimed_at = ? WHERE id = ?`, staffName, fmtTime(now), ticketID); err != nil {
			return err
		}
		text := staffName + " nhận xử lý"
		if previous != "" {
			text += " (thay " + previous + ")"
		}
		id, err := addTicketMessage(ctx, tx, ticketID, NewTicketMessage{Author: AuthorSystem, StaffName: staffName, Text: text}, now)
		if err != nil {
			return err
		}
		if err := enqueue(ctx, tx, ticketID, id, out, now); err != nil {
			return err
		}
		changed = true
		t, err = ticketTx(ctx, tx, ticketID)
		return err
	})
	if err != nil {
		return Ticket{}, "", false, fmt.Errorf("claim ticket: %w", err)
	}
	return t, previous, changed, nil
}

// CloseTicket closes an open ticket: by is the staff member's name,
// "resident" or "idle" and reason one of the Closed* values; note is the
// system message recorded. It returns ErrTicketClosed when it was closed
// already.
func (db *DB) CloseTicket(ctx context.Context, ticketID int64, by, reason, note string, out []NewOutbox) (Ticket, error) {
	var t Ticket
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := openTicketTx(ctx, tx, ticketID); err != nil {
			return err
		}
		now := db.now()
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET status = 'closed', closed_at = ?, closed_by = ?, close_reason = ?, waiting_since = NULL WHERE id = ?`,
			fmtTime(now), by, reason, ticketID); err != nil {
			return err
		}
		id, err := addTicketMessage(ctx, tx, ticketID, NewTicketMessage{Author: AuthorSystem, StaffName: by, Text: note}, now)
		if err != nil {
			return err
		}
		if err := enqueue(ctx, tx, ticketID, id, out, now); err != nil {
			return err
		}
		t, err = ticketTx(ctx, tx, ticketID)
		return err
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("close ticket: %w", err)
	}
	return t, nil
}

// Enqueue queues messages for a ticket outside any other change (reposts).
func (db *DB) Enqueue(ctx context.Context, ticketID int64, out []NewOutbox) error {
	return db.Tx(ctx, func(tx *sql.Tx) error { return enqueue(ctx, tx, ticketID, 0, out, db.now()) })
}

// RateTicket stores a resident's 👍 (+1) or 👎 (-1) of the staff answers
// of their closed ticket (the latest rating counts). ErrNotYours: another
// user's ticket; ErrNotRatable: still open, or no staff reply to rate.
func (db *DB) RateTicket(ctx context.Context, userKey string, ticketID int64, value int) error {
	if value != 1 && value != -1 {
		return fmt.Errorf("rate ticket: value %d", value)
	}
	return db.Tx(ctx, func(tx *sql.Tx) error {
		t, err := ticketTx(ctx, tx, ticketID)
		switch {
		case err != nil:
			return err
		case t.UserKey != userKey:
			return ErrNotYours
		case t.Open() || t.FirstReplyAt.IsZero():
			return ErrNotRatable
		}
		_, err = tx.ExecContext(ctx, `UPDATE tickets SET rating = ?, rated_at = ? WHERE id = ?`, value, fmtTime(db.now()), ticketID)
		return err
	})
}

// SetTicketEntry records the knowledge entry published from a ticket.
func (db *DB) SetTicketEntry(ctx context.Context, ticketID int64, entryID string) error {
	if _, err := db.w.ExecContext(ctx, `UPDATE tickets SET entry_id = ? WHERE id = ?`, entryID, ticketID); err != nil {
		return fmt.Errorf("set ticket entry: %w", err)
	}
	return nil
}

// TicketMessages returns a ticket's conversation, oldest first, with the
// delivery state of each staff reply.
func (db *DB) TicketMessages(ctx context.Context, ticketID int64) ([]TicketMessage, error) {
	return queryAll(ctx, db.r, "read ticket messages", func(sc scanner) (TicketMessage, error) {
		var m TicketMessage
		var created string
		var sent sql.NullString
		err := sc.Scan(&m.ID, &m.TicketID, &m.Author, &m.StaffName, &m.Via, &m.Text, &created, &m.State, &m.Error, &sent, &m.OutboxID)
		m.CreatedAt, m.SentAt = parseTime(created), nullTime(sent)
		return m, err
	}, `SELECT m.id, m.ticket_id, m.author, m.staff_name, m.via, m.text, m.created_at,
			coalesce(o.state, ''), coalesce(o.error, ''), o.sent_at, coalesce(o.id, 0)
		FROM ticket_messages m
		LEFT JOIN handoff_outbox o ON o.message_id = m.id AND o.target = 'resident'
		WHERE m.ticket_id = ? ORDER BY m.id`, ticketID)
}

// TicketFilter selects tickets for ListTickets.
type TicketFilter struct {
	Status string // TicketOpen or TicketClosed
	Limit  int    // most recent first for closed tickets (default 200)
	Text   bool   // fill AllText
}

// ListTickets lists open tickets (oldest first) or closed ones (latest
// closed first), with message counts, the last message and any delivery
// problem.
func (db *DB) ListTickets(ctx context.Context, f TicketFilter) ([]Ticket, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	order := `t.created_at, t.id`
	if f.Status == TicketClosed {
		order = `t.closed_at DESC, t.id DESC`
	}
	all := `''`
	if f.Text {
		all = `coalesce((SELECT ` + db.groupConcat("m.text", "' | '") + ` FROM ticket_messages m WHERE m.ticket_id = t.id AND m.author IN ('resident', 'staff')), '')`
	}
	return queryAll(ctx, db.r, "list tickets", func(sc scanner) (Ticket, error) {
		var n int
		var last, problem, text string
		t, err := scanTicket(sc, &n, &last, &problem, &text)
		t.Messages, t.LastText, t.Problem, t.AllText = n, last, problem, text
		return t, err
	}, `SELECT `+ticketCols+`,
			(SELECT count(*) FROM ticket_messages m WHERE m.ticket_id = t.id AND m.author IN ('resident', 'staff')),
			coalesce((SELECT m.text FROM ticket_messages m WHERE m.ticket_id = t.id AND m.author IN ('resident', 'staff') ORDER BY m.id DESC LIMIT 1), ''),
			coalesce((SELECT o.state FROM handoff_outbox o WHERE o.ticket_id = t.id AND o.target = 'resident'
				AND o.state IN ('undeliverable', 'failed', 'blocked', 'unknown') ORDER BY o.id DESC LIMIT 1), ''),
			`+all+`
		FROM tickets t JOIN users u ON u.id = t.user_id
		WHERE t.status = ? ORDER BY `+order+` LIMIT ?`, f.Status, f.Limit)
}

// IdleTickets returns the open tickets with no message since before and
// no resident message waiting for a staff answer (those stay open: they
// count as "open over 24 hours" until staff answer or close them).
func (db *DB) IdleTickets(ctx context.Context, before time.Time) ([]Ticket, error) {
	return queryAll(ctx, db.r, "list idle tickets", func(sc scanner) (Ticket, error) { return scanTicket(sc) },
		`SELECT `+ticketCols+` FROM tickets t JOIN users u ON u.id = t.user_id
		WHERE t.status = 'open' AND t.last_activity < ? AND t.waiting_since IS NULL ORDER BY t.id`, fmtTime(before))
}

// RepostCandidates returns the open tickets posted to the staff group,
// not claimed and not reposted yet.
func (db *DB) RepostCandidates(ctx context.Context) ([]Ticket, error) {
	return queryAll(ctx, db.r, "list tickets to repost", func(sc scanner) (Ticket, error) { return scanTicket(sc) },
		`SELECT `+ticketCols+` FROM tickets t JOIN users u ON u.id = t.user_id
		WHERE t.status = 'open' AND t.claimed_by = '' AND t.reposted_at IS NULL AND t.card_post != '' ORDER BY t.id`)
}

// MarkReposted records that a ticket was posted again, with the repost
// queued; it reports false when it was reposted (or claimed, or closed)
// meanwhile.
func (db *DB) MarkReposted(ctx context.Context, ticketID int64, out []NewOutbox) (bool, error) {
	var ok bool
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		now := db.now()
		res, err := tx.ExecContext(ctx, `UPDATE tickets SET reposted_at = ? WHERE id = ? AND status = 'open' AND claimed_by = '' AND reposted_at IS NULL`,
			fmtTime(now), ticketID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		ok = true
		return enqueue(ctx, tx, ticketID, 0, out, now)
	})
	if err != nil {
		return false, fmt.Errorf("mark ticket reposted: %w", err)
	}
	return ok, nil
}

const outboxCols = `o.id, o.ticket_id, coalesce(o.message_id, 0), o.target, o.channel, o.kind, o.text, o.buttons, o.state,
	o.attempts, o.not_before, o.error, o.created_at, o.sent_at, u.key, t.card_post`

func scanOutbox(sc scanner) (OutboxItem, error) {
	var o OutboxItem
	var nb, created string
	var sent sql.NullString
	err := sc.Scan(&o.ID, &o.TicketID, &o.MessageID, &o.Target, &o.Channel, &o.Kind, &o.Text, &o.Buttons, &o.State,
		&o.Attempts, &nb, &o.Error, &created, &sent, &o.UserKey, &o.CardPost)
	o.NotBefore, o.CreatedAt, o.SentAt = parseTime(nb), parseTime(created), nullTime(sent)
	return o, err
}

const outboxFrom = ` FROM handoff_outbox o JOIN tickets t ON t.id = o.ticket_id JOIN users u ON u.id = t.user_id `

// DueOutbox returns up to limit pending messages for target that may be
// sent at now, oldest first, leaving out those queued behind an earlier
// unsent message of the same ticket (messages of a ticket leave in order)
// and web messages (the resident's browser fetches them).
func (db *DB) DueOutbox(ctx context.Context, target string, now time.Time, limit int) ([]OutboxItem, error) {
	return queryAll(ctx, db.r, "read outbox", scanOutbox, `SELECT `+outboxCols+outboxFrom+`
		WHERE o.state = 'pending' AND o.target = ? AND o.channel != 'web' AND o.not_before <= ?
		AND NOT EXISTS (SELECT 1 FROM handoff_outbox p WHERE p.ticket_id = o.ticket_id AND p.target = o.target
			AND p.id < o.id AND p.state IN ('pending', 'sending'))
		ORDER BY o.id LIMIT ?`, target, fmtTime(now), limit)
}

// NextOutboxDue returns when the earliest pending message for target
// becomes due (zero when none waits).
func (db *DB) NextOutboxDue(ctx context.Context, target string) (time.Time, error) {
	var s sql.NullString
	err := db.r.QueryRowContext(ctx, `SELECT min(not_before) FROM handoff_outbox WHERE state = 'pending' AND target = ? AND channel != 'web'`, target).Scan(&s)
	if err != nil {
		return time.Time{}, fmt.Errorf("read outbox: %w", err)
	}
	return nullTime(s), nil
}

// OutboxSending reports whether a message to target is being sent now:
// claimed and not yet finished. A staff-group post is recorded (see
// AddTicketPost) just before its send is finished.
func (db *DB) OutboxSending(ctx context.Context, target string) (bool, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM handoff_outbox WHERE state = ? AND target = ?`, DeliverySending, target).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read outbox: %w", err)
	}
	return n > 0, nil
}

// OutboxItem returns one queued message.
func (db *DB) OutboxItem(ctx context.Context, id int64) (OutboxItem, error) {
	o, err := scanOutbox(db.r.QueryRowContext(ctx, `SELECT `+outboxCols+outboxFrom+` WHERE o.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return OutboxItem{}, ErrNotFound
	}
	if err != nil {
		return OutboxItem{}, fmt.Errorf("read outbox: %w", err)
	}
	return o, nil
}

// TicketOutbox returns every queued message of a ticket, oldest first.
func (db *DB) TicketOutbox(ctx context.Context, ticketID int64) ([]OutboxItem, error) {
	return queryAll(ctx, db.r, "read outbox", scanOutbox, `SELECT `+outboxCols+outboxFrom+` WHERE o.ticket_id = ? ORDER BY o.id`, ticketID)
}

// ClaimOutbox marks a pending message as being sent (committed before the
// send). It reports false when it is not pending any more.
func (db *DB) ClaimOutbox(ctx context.Context, id int64) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE handoff_outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ? AND state = 'pending'`, id)
	if err != nil {
		return false, fmt.Errorf("claim outbox message: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishOutbox records the outcome of a send: a final state, or
// DeliveryPending with the time of the next attempt.
func (db *DB) FinishOutbox(ctx context.Context, id int64, state, errText string, notBefore time.Time) error {
	now := db.now()
	var sent any
	if state == DeliverySent {
		sent = fmtTime(now)
	}
	if notBefore.IsZero() {
		notBefore = now
	}
	_, err := db.w.ExecContext(ctx, `UPDATE handoff_outbox SET state = ?, error = ?, sent_at = ?, not_before = ? WHERE id = ?`,
		state, truncateText(errText, 500), sent, fmtTime(notBefore), id)
	if err != nil {
		return fmt.Errorf("record outbox message: %w", err)
	}
	return nil
}

// ResendOutbox queues again a message that was not delivered (a staff
// member's "send again"); it reports false for a message in another state.
func (db *DB) ResendOutbox(ctx context.Context, id int64) (bool, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE handoff_outbox SET state = 'pending', error = '', not_before = ? WHERE id = ?
		AND state IN ('failed', 'undeliverable', 'unknown')`, fmtTime(db.now()), id)
	if err != nil {
		return false, fmt.Errorf("resend outbox message: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// MarkOutboxInterrupted turns messages left 'sending' (the process stopped
// during the send) into DeliveryUnknown: possibly sent, never sent again.
func (db *DB) MarkOutboxInterrupted(ctx context.Context) ([]OutboxItem, error) {
	var out []OutboxItem
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE handoff_outbox SET state = 'unknown', error = 'the server stopped while sending'
			WHERE state = 'sending' RETURNING id`)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			o, err := scanOutbox(tx.QueryRowContext(ctx, `SELECT `+outboxCols+outboxFrom+` WHERE o.id = ?`, id))
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mark interrupted outbox messages: %w", err)
	}
	return out, nil
}

// RetryNow makes every pending message due now (a fresh start tries the
// messages waiting for a retry at once).
func (db *DB) RetryNow(ctx context.Context) (int, error) {
	now := fmtTime(db.now())
	res, err := db.w.ExecContext(ctx, `UPDATE handoff_outbox SET not_before = ? WHERE state = 'pending' AND not_before > ?`, now, now)
	if err != nil {
		return 0, fmt.Errorf("retry outbox messages: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// TakeWebOutbox returns the pending messages for a web-chat resident and
// marks them sent: the browser that asked shows them.
func (db *DB) TakeWebOutbox(ctx context.Context, userKey string) ([]OutboxItem, error) {
	var out []OutboxItem
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+outboxCols+outboxFrom+`
			WHERE u.key = ? AND o.target = 'resident' AND o.channel = 'web' AND o.state = 'pending' ORDER BY o.id`, userKey)
		if err != nil {
			return err
		}
		for rows.Next() {
			o, err := scanOutbox(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		now := fmtTime(db.now())
		for i := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE handoff_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?`, now, out[i].ID); err != nil {
				return err
			}
			out[i].State = DeliverySent
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take web messages: %w", err)
	}
	return out, nil
}

// HasWebOutbox reports whether a web-chat resident has messages waiting
// (cheap, from the read pool).
func (db *DB) HasWebOutbox(ctx context.Context, userKey string) (bool, error) {
	var n int
	err := db.r.QueryRowContext(ctx, `SELECT count(*)`+outboxFrom+`WHERE u.key = ? AND o.target = 'resident' AND o.channel = 'web' AND o.state = 'pending'`, userKey).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check web messages: %w", err)
	}
	return n > 0, nil
}

// AddTicketPost records a staff-group message about a ticket; card marks
// the ticket's own post (the one whose buttons change).
func (db *DB) AddTicketPost(ctx context.Context, ticketID int64, postID string, card bool) error {
	return db.Tx(ctx, func(tx *sql.Tx) error {
		now := fmtTime(db.now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO ticket_posts(post_id, ticket_id, posted_at) VALUES (?, ?, ?)
			ON CONFLICT(post_id) DO UPDATE SET ticket_id = excluded.ticket_id`, postID, ticketID, now); err != nil {
			return fmt.Errorf("record ticket post: %w", err)
		}
		if card {
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET card_post = ? WHERE id = ?`, postID, ticketID); err != nil {
				return fmt.Errorf("record ticket post: %w", err)
			}
		}
		return nil
	})
}

// TicketByPost returns the ticket a staff-group message is about.
func (db *DB) TicketByPost(ctx context.Context, postID string) (int64, error) {
	var id int64
	err := db.r.QueryRowContext(ctx, `SELECT ticket_id FROM ticket_posts WHERE post_id = ?`, postID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("look up ticket post: %w", err)
	}
	return id, nil
}

// CountOpenTickets returns how many tickets are open.
func (db *DB) CountOpenTickets(ctx context.Context) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE status = 'open'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count open tickets: %w", err)
	}
	return n, nil
}

// HandoffFigures are the handoff statistics of a period.
type HandoffFigures struct {
	// Requests is how many tickets were opened in the period; Replied how
	// many of them got a staff reply.
	Requests int
	Replied  int
	// FirstReplies are the times from opening to the first staff reply of
	// the period's tickets, shortest first.
	FirstReplies []time.Duration
	// Open counts the tickets open now, OpenOver those open for longer
	// than the given age.
	Open     int
	OpenOver int
	// Up and Down count residents' ratings of staff answers given in the
	// period.
	Up, Down int
}

// Median returns the median first-reply time (0 when none).
func (f HandoffFigures) Median() time.Duration {
	n := len(f.FirstReplies)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return f.FirstReplies[n/2]
	default:
		return (f.FirstReplies[n/2-1] + f.FirstReplies[n/2]) / 2
	}
}

// HandoffFigures computes the handoff statistics of [from, to); Open and
// OpenOver are counted at now.
func (db *DB) HandoffFigures(ctx context.Context, from, to, now time.Time, over time.Duration) (HandoffFigures, error) {
	var f HandoffFigures
	type pair struct{ created, first string }
	rows, err := queryAll(ctx, db.r, "read handoff figures", func(sc scanner) (pair, error) {
		var p pair
		var first sql.NullString
		err := sc.Scan(&p.created, &first)
		p.first = first.String
		return p, err
	}, `SELECT created_at, first_reply_at FROM tickets WHERE created_at >= ? AND created_at < ?`, fmtTime(from), fmtTime(to))
	if err != nil {
		return f, err
	}
	f.Requests = len(rows)
	for _, p := range rows {
		if p.first == "" {
			continue
		}
		f.Replied++
		f.FirstReplies = append(f.FirstReplies, max(0, parseTime(p.first).Sub(parseTime(p.created))))
	}
	slices.Sort(f.FirstReplies)
	err = db.r.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN created_at < ? THEN 1 END) FROM tickets WHERE status = 'open'`,
		fmtTime(now.Add(-over))).Scan(&f.Open, &f.OpenOver)
	if err != nil {
		return f, fmt.Errorf("read handoff figures: %w", err)
	}
	err = db.r.QueryRowContext(ctx, `SELECT count(CASE WHEN rating = 1 THEN 1 END), count(CASE WHEN rating = -1 THEN 1 END)
		FROM tickets WHERE rated_at >= ? AND rated_at < ?`, fmtTime(from), fmtTime(to)).Scan(&f.Up, &f.Down)
	if err != nil {
		return f, fmt.Errorf("read handoff figures: %w", err)
	}
	return f, nil
}

// Publish is one knowledge-base entry file written from the dashboard.
type Publish struct {
	ID        int64
	File      string
	EntryID   string
	StaffName string
	TicketID  int64
	Previous  string
	Content   string
	Backup    string
	CreatedAt time.Time
}

// RecordPublish logs a published entry file.
func (db *DB) RecordPublish(ctx context.Context, p Publish) (int64, error) {
	var ticket any
	if p.TicketID != 0 {
		ticket = p.TicketID
	}
	var id int64
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO kb_publishes(file, entry_id, staff_name, ticket_id, previous, content, backup, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.File, p.EntryID, p.StaffName, ticket, p.Previous, p.Content, p.Backup, fmtTime(db.now())).Scan(&id); err != nil {
			return err
		}
		if p.TicketID != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET entry_id = ? WHERE id = ?`, p.EntryID, p.TicketID); err != nil {
				return err
			}
		}
		// Every instance listening reloads once this commits.
		return db.notify(ctx, tx, KnowledgeChannel, strconv.FormatInt(id, 10))
	})
	if err != nil {
		return 0, fmt.Errorf("log publish: %w", err)
	}
	return id, nil
}

// PublishesAfter returns the entry files published after the publish
// id, oldest first.
func (db *DB) PublishesAfter(ctx context.Context, id int64) ([]Publish, error) {
	return queryAll(ctx, db.r, "read publish log", func(sc scanner) (Publish, error) {
		var p Publish
		var created string
		err := sc.Scan(&p.ID, &p.File, &p.EntryID, &p.StaffName, &p.TicketID, &p.Previous, &p.Content, &p.Backup, &created)
		p.CreatedAt = parseTime(created)
		return p, err
	}, `SELECT id, file, entry_id, staff_name, coalesce(ticket_id, 0), previous, content, backup, created_at
		FROM kb_publishes WHERE id > ? ORDER BY id`, id)
}

// Publishes returns the latest published entry files, newest first.
func (db *DB) Publishes(ctx context.Context, limit int) ([]Publish, error) {
	if limit <= 0 {
		limit = 100
	}
	return queryAll(ctx, db.r, "read publish log", func(sc scanner) (Publish, error) {
		var p Publish
		var created string
		err := sc.Scan(&p.ID, &p.File, &p.EntryID, &p.StaffName, &p.TicketID, &p.Previous, &p.Content, &p.Backup, &created)
		p.CreatedAt = parseTime(created)
		return p, err
	}, `SELECT id, file, entry_id, staff_name, coalesce(ticket_id, 0), previous, content, backup, created_at
		FROM kb_publishes ORDER BY id DESC LIMIT ?`, limit)
}

// DeclinedExamples returns the questions, as residents typed them
// (redacted), that the bot declined and whose normalised text is one of
// texts (groups of the unanswered list), latest first, without duplicates.
func (db *DB) DeclinedExamples(ctx context.Context, texts []string, limit int) ([]string, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	if limit <= 0 {
		limit = 20
	}
	ph := strings.TrimSuffix(strings.Repeat("?,", len(texts)), ",")
	args := make([]any, 0, len(texts)+1)
	for _, t := range texts {
		args = append(args, t)
	}
	args = append(args, limit)
	qs, err := queryAll(ctx, db.r, "read declined questions", func(sc scanner) (string, error) {
		var q string
		return q, sc.Scan(&q)
	}, `SELECT question FROM exchanges WHERE band = 'decline'
		AND (CASE WHEN normalized = '' THEN lower(question) ELSE normalized END) IN (`+ph+`)
		GROUP BY question ORDER BY max(created_at) DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	return qs, nil
}

// RecentExchanges returns a user's exchanges since since, oldest first
// (the questions a handoff request carries to staff).
func (db *DB) RecentExchanges(ctx context.Context, userKey string, since time.Time, limit int) ([]Exchange, error) {
	out, err := queryAll(ctx, db.r, "read recent exchanges", func(sc scanner) (Exchange, error) {
		var ex Exchange
		var created string
		err := sc.Scan(&ex.ID, &ex.Channel, &ex.Question, &ex.Band, &ex.EntryID, &created)
		ex.UserKey, ex.CreatedAt = userKey, parseTime(created)
		return ex, err
	}, `SELECT e.id, e.channel, e.question, e.band, e.entry_id, e.created_at FROM exchanges e JOIN users u ON u.id = e.user_id
		WHERE u.key = ? AND e.created_at >= ? ORDER BY e.created_at DESC, e.id DESC LIMIT ?`, userKey, fmtTime(since), limit)
	if err != nil {
		return nil, err
	}
	slices.Reverse(out)
	return out, nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
