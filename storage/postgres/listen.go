package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen runs LISTEN channel on a connection of its own to url and calls
// fn after each notification, and every poll without one (a notification
// sent while the connection was being re-made is then caught up). It
// reconnects after errors and returns when ctx ends.
func Listen(ctx context.Context, url, channel string, poll time.Duration, fn func()) error {
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, channel, poll, fn)
		if ctx.Err() != nil {
			return nil
		}
		_ = err // the connection failed: try again shortly, catching up
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	return nil
}

func listenOnce(ctx context.Context, url, channel string, poll time.Duration, fn func()) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	// Catch up only now: whatever changes after this look is notified.
	fn()
	for {
		wctx, cancel := context.WithTimeout(ctx, poll)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			fn()
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, context.DeadlineExceeded):
			fn()
		default:
			return err
		}
	}
}
