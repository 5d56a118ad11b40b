package storage

import (
	"context"
	"time"
)

// TeamAcks is how one team's members (and group chat) received and
// acknowledged the reminders of a period.
type TeamAcks struct {
	Village    string // "" when the team was deleted
	Runs       int    // reminder runs that reached the team
	Recipients int    // deliveries planned
	Sent       int    // delivered (acknowledged ones included)
	Acked      int    // "✅ Đã nhận" tapped
	NotReached int    // failed, blocked, undeliverable, skipped or unknown
}

// ReminderAcks sums the deliveries of the runs scheduled in [from, to) by
// team, in village order.
func (db *DB) ReminderAcks(ctx context.Context, from, to time.Time) ([]TeamAcks, error) {
	return queryAll(ctx, db.r, "count reminder acknowledgements", func(sc scanner) (TeamAcks, error) {
		var a TeamAcks
		err := sc.Scan(&a.Village, &a.Runs, &a.Recipients, &a.Sent, &a.Acked, &a.NotReached)
		return a, err
	}, `SELECT COALESCE(t.village, ''), count(DISTINCT d.run_id), count(*),
		COALESCE(sum(d.ack_at IS NOT NULL OR d.state = ?), 0),
		COALESCE(sum(d.ack_at IS NOT NULL), 0),
		COALESCE(sum(d.ack_at IS NULL AND d.state NOT IN (?, ?, ?)), 0)
		FROM reminder_deliveries d
		JOIN reminder_runs r ON r.id = d.run_id
		LEFT JOIN teams t ON t.id = d.team_id
		WHERE r.scheduled_for >= ? AND r.scheduled_for < ?
		GROUP BY t.village ORDER BY t.village IS NULL, t.village`,
		DeliverySent, DeliverySent, DeliveryPending, DeliverySending, fmtTime(from), fmtTime(to))
}
