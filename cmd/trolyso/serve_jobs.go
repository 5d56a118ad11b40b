package main

import (
	"context"
	"errors"
	"time"

	"github.com/colecommune/trolyso/storage"
	"github.com/colecommune/trolyso/storage/owner"
)

// Jobs that must run once across instances (a commune's reminders, the
// handoff outbox) run only in the instance holding their lease in the
// database: it is renewed every leaseTTL/3, and when its holder dies
// another instance takes it over once it expires (at once when the holder
// was a process on this machine that no longer exists). The job's own
// start-up then finishes what the dead instance left (a run's pending
// deliveries; rows caught between claim and send become "unknown", never
// sent twice).

// leaseTTL is how long a lease lasts without renewal.
const leaseTTL = 15 * time.Second

// instance names this process in leases.
func (s *server) instance() string {
	s.instanceOnce.Do(func() { s.instanceID = owner.New("serve") })
	return s.instanceID
}

// leased runs job while this instance holds the lease name of store,
// waiting for it first; job's context ends when the lease is lost, and
// job is started again once it is taken again. It returns when ctx ends.
func (s *server) leased(ctx context.Context, store *storage.DB, name string, job func(context.Context) error) error {
	me := s.instance()
	log := s.log.With("lease", name)
	if slug := store.CommuneSlug(); slug != "" {
		log = log.With("commune", slug)
	}
	defer store.ReleaseLease(context.WithoutCancel(ctx), name, me)
	waiting := false
	for {
		held, err := store.AcquireLease(ctx, name, me, s.a.now(), leaseTTL)
		if err != nil && ctx.Err() == nil {
			log.Error("take a job lease", "err", err)
		}
		if !held && err == nil {
			held = s.takeOverDead(ctx, store, name, me)
		}
		if held {
			if waiting {
				log.Warn("job lease taken over: this instance runs the job now")
			}
			waiting = false
			jctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- job(jctx) }()
			err := s.keepLease(jctx, store, name, me, done)
			cancel()
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("job lease lost; waiting to take it again")
		} else {
			waiting = true
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(leaseTTL / 3):
		}
	}
}

// keepLease renews the lease until the job ends (its error is returned)
// or the lease is lost (the job's context is cancelled by the caller).
func (s *server) keepLease(ctx context.Context, store *storage.DB, name, me string, done <-chan error) error {
	last := s.a.now()
	for {
		select {
		case err := <-done:
			return err
		case <-time.After(leaseTTL / 3):
		}
		now := s.a.now()
		held, err := store.AcquireLease(ctx, name, me, now, leaseTTL)
		switch {
		case err == nil && held:
			last = now
		case err == nil:
			return nil // another instance took it
		case now.Sub(last) >= leaseTTL:
			return nil // could not renew for a whole TTL
		}
	}
}

// takeOverDead takes the lease from a holder on this machine whose
// process no longer exists, instead of waiting for the lease to expire.
func (s *server) takeOverDead(ctx context.Context, store *storage.DB, name, me string) bool {
	cur, err := store.LeaseOf(ctx, name)
	if err != nil || !cur.ExpiresAt.After(s.a.now()) || !owner.Gone(cur.Owner) {
		return false
	}
	held, err := store.TakeOverLease(ctx, name, me, cur.Owner, s.a.now(), leaseTTL)
	if err != nil {
		s.log.Error("take over a job lease", "lease", name, "err", err)
		return false
	}
	if held {
		s.log.Warn("the previous holder's process is gone; taking over its job", "lease", name, "previous", cur.Owner)
	}
	return held
}
