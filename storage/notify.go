package storage

import (
	"context"
	"database/sql"
	"time"

	"github.com/colecommune/trolyso/storage/postgres"
)

// KnowledgeChannel is notified when an entry is published from the
// dashboard: every instance then loads it.
const KnowledgeChannel = "trolyso_kb"

// notify signals channel inside tx (PostgreSQL NOTIFY, delivered when tx
// commits); on SQLite listeners poll instead.
func (db *DB) notify(ctx context.Context, tx *sql.Tx, channel, payload string) error {
	if !db.pg {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_notify(?, ?)`, channel, payload)
	return err
}

// Listen calls fn after each notification on channel until ctx ends, and
// at least every poll (also right away): on PostgreSQL through LISTEN on a
// connection of its own (reconnecting after errors), on SQLite by polling
// alone (one machine, where a change is seen within poll). fn should
// check what changed; it is never called concurrently. On PostgreSQL the
// first call (and the one after each reconnection) comes once LISTEN is in
// place, so a change made right after fn looked is always notified.
func (db *DB) Listen(ctx context.Context, channel string, poll time.Duration, fn func()) error {
	if !db.pg {
		fn()
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
				fn()
			}
		}
	}
	return postgres.Listen(ctx, db.url, channel, poll, fn)
}
