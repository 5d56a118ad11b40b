package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/compose"
	"github.com/colecommune/trolyso/bot/handoff"
	"github.com/colecommune/trolyso/bot/metrics"
	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// server holds what the optional components (channels, reminders, admin)
// are wired into.
type server struct {
	a   *app
	cfg *Config
	log *slog.Logger
	db  *storage.DB
	eng *bot.Engine
	mux *http.ServeMux
	// metrics is this server's Prometheus registry (served at /metrics);
	// components report delivery failures and fallbacks to it.
	metrics *metrics.Metrics
	// composer composes answers and transcribes voice (nil when the LLM
	// is not configured); set by configureLLM.
	composer *compose.Composer
	// senders deliver reminders, by channel name.
	senders map[string]bot.Sender
	wg      sync.WaitGroup
	errc    chan error
	// ctx ends when the server stops (for work started by requests that
	// outlives them, such as calibrating a published base).
	ctx context.Context
	// ready is closed once the HTTP listener is up (tests wait on it).
	ready chan string
	// desk is the handoff to commune staff (nil when neither the
	// dashboard nor a staff group is configured); serve_handoff.go.
	desk *handoff.Desk
	// communes are the communes served: one (slug "") for a one-commune
	// install, every TROLYSO_COMMUNES profile in a province, whose engines
	// answer from layers of one index (serve_province.go); eng is nil then.
	communes []*communeRT
	// layer is the province layer the communes' layers are built over
	// (province only).
	layer provinceLayer
	// instanceID names this process in job leases (serve_jobs.go).
	instanceID   string
	instanceOnce sync.Once
	// reloadMu serialises reloads of the knowledge base (the folder
	// watcher, SIGHUP, a publish from the dashboard or another instance),
	// so that one change is trained once; loaded is the stamp of the
	// folder (sourceStamp) as last loaded or tried, under reloadMu.
	reloadMu sync.Mutex
	loaded   string
}

// background runs fn until ctx ends; an error from fn stops the server.
func (s *server) background(ctx context.Context, name string, fn func(ctx context.Context) error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
			select {
			case s.errc <- fmt.Errorf("%s: %w", name, err):
			default:
			}
		}
	}()
}

func runServe(ctx context.Context, a *app, args []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("serve")
	cfg.storageFlags(fs)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "web chat listen address (TROLYSO_ADDR)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.Xa != "" {
		return fmt.Errorf("%w: serve answers for every commune of TROLYSO_COMMUNES; --xa is for commands on one commune", errUsage)
	}
	return serve(ctx, a, cfg, nil)
}

// serve runs the server until ctx is cancelled. ready, if not nil, receives
// the listening address.
func serve(ctx context.Context, a *app, cfg *Config, ready chan<- string) error {
	log := a.log
	base, err := a.loadBase(cfg.KBDir, cfg.CommunePath)
	if err != nil {
		return err
	}
	warnBase(log, base, a.now())
	warnUnfinishedProfile(log, base.Profile)
	db, err := a.openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	s := &server{
		a:       a,
		cfg:     cfg,
		log:     log,
		db:      db,
		mux:     http.NewServeMux(),
		senders: map[string]bot.Sender{},
		errc:    make(chan error, 1),
	}
	s.metrics = metrics.New()
	// A base the binary and the model cache do not hold starts answering
	// after one training with default bands; the calibrated index replaces
	// it in the background (below).
	startBands := knowledge.DefaultBands()
	ix, err := knowledge.NewIndexContext(ctx, base, knowledge.IndexOptions{CacheDir: s.modelDir(), Logger: log, Bands: &startBands})
	if err != nil {
		return fmt.Errorf("build the knowledge index: %w", err)
	}
	if s.province() {
		// The base loaded above is the province layer; every commune
		// answers from a layer of its index.
		if s.communes, err = s.openCommunes(ctx, base, ix); err != nil {
			return err
		}
	} else {
		s.eng = bot.New(bot.Config{Store: db, Logger: log, Now: a.now, MaxLen: cfg.MaxLen, Observer: s.metrics, Index: ix}, base)
		s.communes = []*communeRT{{name: base.Profile.Name, db: db, eng: s.eng}}
	}
	// Loading and indexing leave garbage several times the size of the
	// base; give it back to the OS now rather than whenever the heap next
	// grows (resident memory at start-up, see README).
	debug.FreeOSMemory()
	s.tuneGC()

	ctx, cancel := context.WithCancel(ctx)
	s.ctx = ctx
	if ix.Info().Provisional {
		s.relaxGC()
		s.calibrate(ctx, base, "start-up", nil)
	}
	defer cancel()

	s.mountWeb()
	metricsHandler := s.metrics.Handler()
	if cfg.MetricsToken != "" {
		metricsHandler = metrics.RequireBearer(cfg.MetricsToken, metricsHandler)
	}
	s.mux.Handle("GET /metrics", metricsHandler)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	for _, step := range []struct {
		name string
		fn   func(context.Context, *server) error
	}{
		{"llm", configureLLM},
		{"handoff", configureHandoff},
		{"admin", mountAdmin},
		{"telegram", startTelegram},
		{"zalo", startZalo},
		{"handoff outbox", startHandoff},
		{"metrics", countDeliveryFailures},
		{"reminders", startReminders},
		{"alerts", startAlerts},
	} {
		if err := step.fn(ctx, s); err != nil {
			return fmt.Errorf("start %s: %w", step.name, err)
		}
	}
	s.background(ctx, "reload", s.watchReload)
	s.background(ctx, "published entries", s.followPublishes)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           s.metrics.Middleware(s.mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	log.Info("web chat listening", "url", "http://"+ln.Addr().String()+"/", "entries", len(base.Entries))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err = <-httpErr:
	case err = <-s.errc:
	}
	log.Info("shutting down: finishing replies in flight")
	shutCtx, shutCancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer shutCancel()
	if e := srv.Shutdown(shutCtx); e != nil {
		log.Error("http shutdown", "err", e)
	}
	cancel()
	s.wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// warnBase logs the problems that did not stop the base loading, and how
// many entries are past or near their review date: at run time a review
// date is a warning for staff, never a reason to stop answering.
func warnBase(log *slog.Logger, b *knowledge.Base, now time.Time) {
	for _, w := range b.Warnings {
		log.Warn("knowledge base", "problem", w.String())
	}
	due := b.NeedsReview(now.In(stats.Location()))
	if len(due) == 0 {
		return
	}
	overdue := 0
	for _, r := range due {
		if r.Overdue() {
			overdue++
		}
	}
	log.Warn(fmt.Sprintf("KNOWLEDGE BASE NEEDS REVIEW: entries past or within %d days of their review date are still answered; check them against their sources and set a new review_by (dashboard page /admin/review, `trolyso kb check`)", knowledge.ReviewWarnDays),
		"entries", len(due), "overdue", overdue)
}

// warnUnfinishedProfile tells staff at start-up (and after a reload) which
// commune details are still missing; residents meanwhile read generic
// wording instead.
func warnUnfinishedProfile(log *slog.Logger, p *knowledge.Profile) {
	if len(p.Missing) == 0 {
		return
	}
	log.Warn("COMMUNE PROFILE UNFINISHED: residents are shown generic contact wording (\"số của công an xã\") until TROLYSO_COMMUNE points to your filled-in copy of knowledge/commune.yaml; run `trolyso commune check FILE`",
		"missing", len(p.Missing))
	for _, m := range p.Missing {
		log.Warn("commune profile: missing", "field", m.Field, "what", m.What)
	}
}

// watchReload reloads the knowledge base on SIGHUP and, when it comes from
// a folder, when that folder (or the commune profile) changes. A broken base
// is refused with its errors logged; the previous one stays live.
func (s *server) watchReload(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	every := s.cfg.reloadEvery
	if every <= 0 {
		every = 2 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	s.reloadMu.Lock()
	if s.loaded == "" {
		s.loaded = s.sourceStamp()
	}
	s.reloadMu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			s.reload(ctx, "SIGHUP", true)
		case <-tick.C:
			s.reload(ctx, "files changed", false)
		}
	}
}

// reload loads the knowledge base again and puts it in service; unless
// forced, only when the folder changed since it was last loaded or tried
// (a change that another reload already put in service is not trained
// twice, and a broken file is not tried again until it changes).
func (s *server) reload(ctx context.Context, why string, force bool) {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	st := s.sourceStamp()
	if !force && st == s.loaded {
		return
	}
	s.loaded = st
	b, err := s.a.loadBase(s.cfg.KBDir, s.cfg.CommunePath)
	if err != nil {
		s.log.Error("knowledge base reload refused; keeping the previous base", "why", why, "err", err)
		return
	}
	if s.province() {
		// Every commune's layer is rebuilt over the new province index;
		// the previous ones answer until all are ready.
		s.layer.mu.Lock()
		anchor := s.layer.ix.CalibratedBands()
		s.layer.mu.Unlock()
		ix, err := s.buildIndex(ctx, b, anchor)
		if err == nil {
			err = s.reloadCommunes(ctx, b, ix)
		}
		if err != nil {
			s.log.Error("knowledge base reload refused; keeping the previous base", "why", why, "err", err)
			return
		}
	} else if err := s.swapBase(ctx, b, why); err != nil {
		s.log.Error("knowledge base reload stopped; keeping the previous base", "why", why, "err", err)
		return
	}
	debug.FreeOSMemory()
	warnBase(s.log, b, s.a.now())
	warnUnfinishedProfile(s.log, b.Profile)
	s.log.Info("knowledge base reloaded", "why", why, "entries", len(b.Entries))
}

// swapBase puts a newly loaded base in service in two steps, the previous
// one answering until the first is done: an index trained once with the
// bands in use (seconds), then, in the background, the index calibrated by
// cross-validation for the new base (several trainings), which replaces it
// unless a newer base came meanwhile. An unchanged base is loaded from the
// model cache at once.
func (s *server) swapBase(ctx context.Context, b *knowledge.Base, why string) error {
	// The previous base keeps answering while the new one trains; both are
	// in memory meanwhile, so the soft memory limit is lifted until the new
	// one is in place (serve_gc.go).
	s.relaxGC()
	prev := s.eng.Index().Bands()
	anchor := s.eng.Index().CalibratedBands()
	quick, err := knowledge.NewIndexContext(ctx, b, knowledge.IndexOptions{
		CacheDir: s.modelDir(), Logger: s.log, Bands: &prev})
	if err != nil {
		s.tuneGC()
		return fmt.Errorf("build the knowledge index: %w", err)
	}
	s.eng.SetIndexed(b, quick)
	if !quick.Info().Provisional {
		debug.FreeOSMemory()
		s.tuneGC()
		return nil
	}
	s.calibrate(ctx, b, why, anchor)
	return nil
}

// calibrate builds, in the background, the index calibrated by
// cross-validation for base b (in service with a quick index), and puts it
// in service unless a newer base came meanwhile. The soft memory limit is
// restored afterwards. previous, when set, are the bands to keep unless
// clearly better ones are found (knowledge.IndexOptions.Previous).
func (s *server) calibrate(ctx context.Context, b *knowledge.Base, why string, previous *knowledge.Bands) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			debug.FreeOSMemory()
			s.tuneGC()
		}()
		full, err := s.buildIndex(ctx, b, previous)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				s.log.Error("knowledge base: calibrating the reloaded base failed; its quick index stays in use", "why", why, "err", err)
			}
		case s.province():
			// Every commune's layer moves onto the calibrated province
			// index, unless a newer province base came meanwhile.
			replaced, err := s.replaceProvinceIndex(ctx, b, full)
			switch {
			case err != nil:
				s.log.Error("knowledge base: moving the communes onto the calibrated index failed; the quick index stays in use", "why", why, "err", err)
			case replaced:
				s.log.Info("knowledge base: calibrated index in use", "why", why, "communes", len(s.communes), "bands", fmt.Sprintf("%+v", full.Bands()))
			}
		case s.eng.ReplaceIndex(b, full):
			s.log.Info("knowledge base: calibrated index in use", "why", why, "bands", fmt.Sprintf("%+v", full.Bands()))
		}
	}()
}

func (s *server) modelDir() string { return filepath.Join(filepath.Dir(s.cfg.DB), "models") }

// buildIndex builds the index of a base, keeping trained models in a
// "models" folder next to the database so that a restart with an
// unchanged base does not train again. previous: see calibrate.
func (s *server) buildIndex(ctx context.Context, b *knowledge.Base, previous *knowledge.Bands) (*knowledge.Index, error) {
	ix, err := knowledge.NewIndexContext(ctx, b, knowledge.IndexOptions{
		CacheDir: s.modelDir(), Logger: s.log, Previous: previous})
	if err != nil {
		return nil, fmt.Errorf("build the knowledge index: %w", err)
	}
	return ix, nil
}

// sourceStamp summarises the modification times and sizes of the base
// folder and the commune profile, so that a change can be noticed.
func (s *server) sourceStamp() string {
	// A hash, not the concatenated list: building a string per file made
	// each poll quadratic in the number of files (seconds of CPU and
	// hundreds of MB of garbage every poll with 5,000 entries).
	h := fnv.New128a()
	add := func(path string, info fs.FileInfo) {
		fmt.Fprintf(h, "%s:%d:%d;", path, info.Size(), info.ModTime().UnixNano())
	}
	if s.cfg.KBDir != "" {
		filepath.WalkDir(s.cfg.KBDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if info, err := d.Info(); err == nil {
				add(path, info)
			}
			return nil
		})
	}
	if s.cfg.CommunePath != "" {
		if info, err := os.Stat(s.cfg.CommunePath); err == nil {
			add(s.cfg.CommunePath, info)
		}
	}
	return string(h.Sum(nil))
}

// healthz answers 200 "ok" with the database's state on the next line
// ("database: postgres ok 0.4 ms"), or 503 when the database does not
// answer within two seconds: a load balancer then takes the instance out.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("health check: database does not answer", "backend", s.db.Backend(), "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "unavailable\ndatabase: %s not answering\n", s.db.Backend())
		return
	}
	fmt.Fprintf(w, "ok\ndatabase: %s ok %.1f ms\n", s.db.Backend(), float64(time.Since(start).Microseconds())/1000)
}
