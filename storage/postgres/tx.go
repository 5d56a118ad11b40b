package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"
)

// maxAttempts bounds how often a transaction is run again after
// serialization failures.
const maxAttempts = 20

// Tx runs fn in a SERIALIZABLE transaction and commits it; a serialization
// failure or deadlock (another instance or connection changed the same
// rows) rolls it back and runs fn again, after a short random pause. So a
// transaction behaves as if it had run alone, as SQLite's single writer
// guarantees. fn may run more than once: it must set its results afresh
// on each run.
func Tx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = once(ctx, db, fn)
		if err == nil || !Retryable(err) || attempt == maxAttempts {
			return err
		}
		pause := time.Duration(rand.Int64N(int64(attempt) * int64(2*time.Millisecond)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

func once(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
