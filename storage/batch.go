package storage

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"
)

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("database closed")

// maxExchangeBatch bounds the exchanges written in one transaction.
const maxExchangeBatch = 128

// exchangeWriter group-commits exchange inserts. Requests that arrive
// while a transaction is being written wait and go together into the next
// one, so that under load one BEGIN/COMMIT and one hand-over of the single
// writer connection serve many messages; with no load a request is written
// at once, alone. RecordExchange returns only after the transaction that
// holds its row has committed: a reply is never acknowledged before its
// exchange is stored.
type exchangeWriter struct {
	db   *DB
	mu   sync.RWMutex // held for reading while a request is handed over
	shut bool
	reqs chan *exchangeReq
	stop chan struct{}
	done chan struct{}
}

type exchangeReq struct {
	ex  *Exchange
	err chan error // buffered: the writer never waits for the caller
}

func newExchangeWriter(db *DB) *exchangeWriter {
	w := &exchangeWriter{db: db, reqs: make(chan *exchangeReq), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// record hands ex to the writer and waits for its commit (or ctx).
func (w *exchangeWriter) record(ctx context.Context, ex *Exchange) error {
	if w == nil { // Close ran before any exchange was recorded
		return ErrClosed
	}
	// The writer works on a copy: a caller that gives up (ctx) must not
	// share memory with a write still in progress.
	cp := *ex
	r := &exchangeReq{ex: &cp, err: make(chan error, 1)}
	w.mu.RLock()
	if w.shut {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	select {
	case err := <-r.err:
		if err == nil {
			ex.ID = cp.ID
		}
		return err
	case <-ctx.Done():
		// The row may still be committed; it was not acknowledged.
		return ctx.Err()
	}
}

// close stops the writer after the requests already handed over are
// written.
func (w *exchangeWriter) close() {
	w.mu.Lock()
	if w.shut {
		w.mu.Unlock()
		return
	}
	w.shut = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
}

func (w *exchangeWriter) run() {
	defer close(w.done)
	batch := make([]*exchangeReq, 0, maxExchangeBatch)
	for {
		select {
		case r := <-w.reqs:
			batch = append(batch[:0], r)
		case <-w.stop:
			return
		}
	fill:
		for len(batch) < maxExchangeBatch {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.write(batch)
	}
}

// write stores a batch in one transaction. Should the transaction fail,
// every request is retried in a transaction of its own, so that one bad
// row cannot fail the others.
func (w *exchangeWriter) write(batch []*exchangeReq) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if len(batch) > 1 {
		err := w.db.Tx(ctx, func(tx *sql.Tx) error {
			for _, r := range batch {
				if err := insertExchange(ctx, tx, r.ex); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			for _, r := range batch {
				r.err <- nil
			}
			return
		}
	}
	for _, r := range batch {
		r.ex.ID = 0
		r.err <- w.db.Tx(ctx, func(tx *sql.Tx) error { return insertExchange(ctx, tx, r.ex) })
	}
}

// insertExchange writes one exchange (creating its user if needed) and
// sets ex.ID.
func insertExchange(ctx context.Context, tx *sql.Tx, ex *Exchange) error {
	u, err := touchUser(ctx, tx, ex.Channel, ex.UserKey, ex.CreatedAt)
	if err != nil {
		return err
	}
	return tx.QueryRowContext(ctx, `INSERT INTO exchanges(user_id, channel, question, normalized, band, entry_id, score, candidates, answer_mode, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.ID, ex.Channel, ex.Question, ex.Normalized, ex.Band, ex.EntryID, ex.Score,
		strings.Join(ex.Candidates, ","), ex.AnswerMode, fmtTime(ex.CreatedAt)).Scan(&ex.ID)
}

// exchanges returns the store's group-commit writer, starting it on first
// use.
func (db *DB) exchanges() *exchangeWriter {
	db.exwOnce.Do(func() { db.exw = newExchangeWriter(db) })
	return db.exw
}
