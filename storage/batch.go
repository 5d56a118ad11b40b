package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("database closed")

// maxBatch bounds the write transactions committed together.
const maxBatch = 128

// committer group-commits write transactions. Every DB.Tx (recording an
// exchange, a rating, a pending state, an inbox item…) is handed to one
// goroutine, which owns the single writer connection: the requests that
// arrive while a batch is being written go together into the next one, each
// in a savepoint of its own, under one BEGIN/COMMIT. Under load, one commit
// and one hand-over of the connection then serve many messages, instead of
// each request queueing for the connection (a lock convoy) and paying its
// own commit; with no load a request is written at once, alone, in its own
// transaction. Tx returns only after the commit that holds its changes: a
// reply is never acknowledged before what it depends on is stored.
//
// A request that fails is rolled back to its savepoint and does not fail
// the others. Should the batch's transaction fail or be lost (an error that
// makes SQLite roll back the whole transaction), the requests that had
// succeeded are run again, each in a transaction of its own.
type committer struct {
	db   *DB
	mu   sync.RWMutex // held for reading while a request is handed over
	shut bool
	reqs chan *writeReq
	stop chan struct{}
	done chan struct{}
}

type writeReq struct {
	ctx context.Context
	fn  func(tx *sql.Tx) error
	err chan error // buffered: the committer never waits for the caller
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db, reqs: make(chan *writeReq), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// do hands fn to the committer and waits for the commit (or ctx).
func (c *committer) do(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if c == nil { // Close ran before any write
		return ErrClosed
	}
	r := &writeReq{ctx: ctx, fn: fn, err: make(chan error, 1)}
	c.mu.RLock()
	if c.shut {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	select {
	case err := <-r.err:
		if p, ok := err.(*panicked); ok {
			panic(p.value) // in the caller, as if fn had run there
		}
		return err
	case <-ctx.Done():
		// The changes may still be committed; they were not acknowledged.
		return ctx.Err()
	}
}

// panicked carries a panic of a request's fn back to its caller.
type panicked struct{ value any }

func (p *panicked) Error() string { return fmt.Sprint("panic in write transaction: ", p.value) }

// call runs a request's fn, turning a panic into an error (its changes are
// rolled back like those of any failed fn).
func call(fn func(*sql.Tx) error, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicked{p}
		}
	}()
	return fn(tx)
}

// close stops the committer after the requests already handed over are
// written.
func (c *committer) close() {
	c.mu.Lock()
	if c.shut {
		c.mu.Unlock()
		return
	}
	c.shut = true
	c.mu.Unlock()
	close(c.stop)
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case r := <-c.reqs:
			batch = append(batch[:0], r)
		case <-c.stop:
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case r := <-c.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		c.write(batch)
		clear(batch)
	}
}

// write commits a batch and answers every request.
func (c *committer) write(batch []*writeReq) {
	if len(batch) == 1 {
		r := batch[0]
		r.err <- c.db.txDirect(r.ctx, func(tx *sql.Tx) error { return call(r.fn, tx) })
		return
	}
	results := make([]error, len(batch))
	ran := make([]bool, len(batch)) // fn succeeded in the batch's transaction
	rest := c.batch(batch, results, ran)
	// Requests whose changes were lost with the batch's transaction, and
	// those it did not reach, run alone.
	for _, i := range rest {
		fn := batch[i].fn
		results[i] = c.db.txDirect(batch[i].ctx, func(tx *sql.Tx) error { return call(fn, tx) })
	}
	for i, r := range batch {
		r.err <- results[i]
	}
}

// batch runs the requests in one transaction, each in a savepoint. It
// returns the indexes of the requests still to run alone: none when the
// commit succeeded.
func (c *committer) batch(batch []*writeReq, results []error, ran []bool) (rest []int) {
	// Statements of the batch itself use a context that is never
	// cancelled: one caller giving up must not interrupt the others.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tx, err := c.db.w.BeginTx(ctx, nil)
	if err != nil {
		for i := range batch {
			results[i] = fmt.Errorf("begin transaction: %w", err)
		}
		return nil
	}
	defer tx.Rollback()
	bg := context.Background()
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if _, err := tx.ExecContext(bg, `SAVEPOINT batch_item`); err != nil {
			return c.abandon(batch, results, ran, i)
		}
		if err := call(r.fn, tx); err != nil {
			results[i] = err
			if _, rerr := tx.ExecContext(bg, `ROLLBACK TO batch_item`); rerr != nil {
				// SQLite rolled the whole transaction back (SQLITE_FULL,
				// interrupted…): what ran before is lost.
				return c.abandon(batch, results, ran, i+1)
			}
		} else {
			ran[i] = true
		}
		if _, err := tx.ExecContext(bg, `RELEASE batch_item`); err != nil {
			return c.abandon(batch, results, ran, i+1)
		}
	}
	if err := tx.Commit(); err != nil {
		return c.abandon(batch, results, ran, len(batch))
	}
	return nil
}

// abandon gives up a batch's transaction: the requests that had succeeded
// before from, and those from from on, are to run alone.
func (c *committer) abandon(batch []*writeReq, results []error, ran []bool, from int) (rest []int) {
	for i := range batch {
		if i < from && ran[i] || i >= from && results[i] == nil {
			results[i], ran[i] = nil, false
			rest = append(rest, i)
		}
	}
	return rest
}

// writes returns the store's committer, starting it on first use.
func (db *DB) writes() *committer {
	db.comOnce.Do(func() { db.com = newCommitter(db) })
	return db.com
}
