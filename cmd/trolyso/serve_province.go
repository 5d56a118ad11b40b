package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/alert"
	"github.com/colecommune/trolyso/bot/handoff"
	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/bot/web"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// communeRT is one commune a server answers for: its store, its engine
// and, in a province deployment, its slug and profile files.
type communeRT struct {
	slug    string // "" for a one-commune install
	name    string
	profile string // profile YAML
	// overlay is the folder of the commune's own entries,
	// <TROLYSO_COMMUNES>/<slug>/, which may not exist.
	overlay string
	db      *storage.DB
	eng     *bot.Engine
	// mux serves the commune's web chat under /xa/<slug>/ (province only).
	mux *http.ServeMux
	// desk is the commune's handoff to its staff (nil when off), and
	// staffChat its staff's Telegram group (0 for none); serve_handoff.go.
	desk      *handoff.Desk
	staffChat int64
}

// communeFiles lists the communes of TROLYSO_COMMUNES: every <slug>.yaml
// profile, with the folder <slug>/ of its own entries when there is one.
func communeFiles(dir string) ([]communeRT, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("TROLYSO_COMMUNES: %w", err)
	}
	var out []communeRT
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || (filepath.Ext(name) != ".yaml" && filepath.Ext(name) != ".yml") || strings.HasPrefix(name, "_") {
			continue
		}
		slug := strings.TrimSuffix(name, filepath.Ext(name))
		if !storage.ValidSlug(slug) {
			return nil, fmt.Errorf("TROLYSO_COMMUNES: profile %s: the file name is the commune's slug in URLs: %w", name, storage.ErrBadSlug)
		}
		// The commune's own entries folder; entries published from its
		// dashboard create it when it does not exist yet.
		c := communeRT{slug: slug, profile: filepath.Join(dir, name), overlay: filepath.Join(dir, slug)}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("TROLYSO_COMMUNES: no commune profile (<slug>.yaml) in %s", dir)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].slug < out[j].slug })
	return out, nil
}

// openCommunes builds every commune of a province deployment: the base
// and index of the province layer once (pix, from base), then per commune
// its profile, its own entries, its layer of the shared index, its store
// and its engine.
func (s *server) openCommunes(ctx context.Context, base *knowledge.Base, pix *knowledge.Index) ([]*communeRT, error) {
	files, err := communeFiles(s.cfg.Communes)
	if err != nil {
		return nil, err
	}
	fsys, err := s.baseFS()
	if err != nil {
		return nil, err
	}
	now := s.a.now().In(stats.Location())
	var out []*communeRT
	for _, c := range files {
		c := c
		b, ix, err := s.communeLayer(ctx, &c, fsys, base, pix, now)
		if err != nil {
			return nil, err
		}
		c.name = b.Profile.Name
		if c.db, err = s.db.Commune(ctx, c.slug); err != nil {
			return nil, err
		}
		c.eng = bot.New(bot.Config{Store: c.db, Logger: s.log.With("commune", c.slug), Now: s.a.now, MaxLen: s.cfg.MaxLen,
			Observer: s.metrics.Commune(c.slug), Index: ix}, b)
		if len(b.Profile.Missing) > 0 {
			s.log.Warn("commune profile unfinished: residents read generic contact wording", "commune", c.slug, "missing", len(b.Profile.Missing))
		}
		out = append(out, &c)
	}
	s.layer.base, s.layer.ix = base, pix
	s.log.Info("province deployment", "communes", len(out), "entries", len(base.Entries))
	return out, nil
}

// communeLayer loads a commune's base (the province's, its profile, its
// own entries) and its layer of the province index.
func (s *server) communeLayer(ctx context.Context, c *communeRT, fsys fs.FS, base *knowledge.Base, pix *knowledge.Index, now time.Time) (*knowledge.Base, *knowledge.Index, error) {
	profile, err := knowledge.LoadProfile(c.profile)
	if err != nil {
		return nil, nil, fmt.Errorf("commune %s: %w", c.slug, err)
	}
	var overlay fs.FS
	if fi, err := os.Stat(c.overlay); err == nil && fi.IsDir() {
		overlay = os.DirFS(c.overlay)
	}
	b, added, err := knowledge.LoadLayer(fsys, overlay, profile, now)
	if err != nil {
		return nil, nil, fmt.Errorf("commune %s: %w", c.slug, err)
	}
	aix, err := knowledge.NewAddedIndex(ctx, b, added, base, knowledge.IndexOptions{CacheDir: s.modelDir(), Logger: s.log})
	if err != nil {
		return nil, nil, fmt.Errorf("commune %s: %w", c.slug, err)
	}
	return b, pix.Layer(b, aix), nil
}

// baseFS is the province base's files: TROLYSO_KB or the embedded base.
func (s *server) baseFS() (fs.FS, error) {
	if s.cfg.KBDir == "" {
		return knowledge.EmbeddedBase(), nil
	}
	return knowledge.DirBase(s.cfg.KBDir)
}

// provinceLayer is the province base and index every commune's layer is
// built over: kept so that one commune can be reloaded alone (after an
// entry was published into its folder) over the same province layer.
type provinceLayer struct {
	mu   sync.Mutex // held while communes' layers are swapped
	base *knowledge.Base
	ix   *knowledge.Index
}

// reloadCommune swaps in a commune's new layer (its folder read again)
// over the province layer in use.
func (s *server) reloadCommune(ctx context.Context, c *communeRT) error {
	s.layer.mu.Lock()
	defer s.layer.mu.Unlock()
	fsys, err := s.baseFS()
	if err != nil {
		return err
	}
	b, ix, err := s.communeLayer(ctx, c, fsys, s.layer.base, s.layer.ix, s.a.now().In(stats.Location()))
	if err != nil {
		return err
	}
	c.eng.SetIndexed(b, ix)
	s.log.Info("commune knowledge reloaded", "commune", c.slug, "entries", len(b.Entries))
	return nil
}

// reloadCommunes swaps in every commune's new layer over a new province
// index (the previous ones answer until then).
func (s *server) reloadCommunes(ctx context.Context, base *knowledge.Base, pix *knowledge.Index) error {
	s.layer.mu.Lock()
	defer s.layer.mu.Unlock()
	return s.swapCommunes(ctx, base, pix)
}

// replaceProvinceIndex moves every commune onto pix, the calibrated index
// of the province base in use, and reports whether it did: not when the
// province base changed since (a newer reload is in service).
func (s *server) replaceProvinceIndex(ctx context.Context, base *knowledge.Base, pix *knowledge.Index) (bool, error) {
	s.layer.mu.Lock()
	defer s.layer.mu.Unlock()
	if s.layer.base != base {
		return false, nil
	}
	if err := s.swapCommunes(ctx, base, pix); err != nil {
		return false, err
	}
	return true, nil
}

// swapCommunes builds every commune's layer over the province layer
// (base, pix) and puts them in service; s.layer.mu is held.
func (s *server) swapCommunes(ctx context.Context, base *knowledge.Base, pix *knowledge.Index) error {
	fsys, err := s.baseFS()
	if err != nil {
		return err
	}
	now := s.a.now().In(stats.Location())
	type next struct {
		c  *communeRT
		b  *knowledge.Base
		ix *knowledge.Index
	}
	var all []next
	for _, c := range s.communes {
		b, ix, err := s.communeLayer(ctx, c, fsys, base, pix, now)
		if err != nil {
			return err
		}
		all = append(all, next{c, b, ix})
	}
	s.layer.base, s.layer.ix = base, pix
	for _, n := range all {
		n.c.eng.SetIndexed(n.b, n.ix)
		if n.c.desk != nil && n.b.Profile.StaffTelegramChat != n.c.staffChat {
			s.log.Warn("commune profile: staff_telegram_chat changed; requests keep going to the previous staff group until the server restarts",
				"commune", n.c.slug, "in_use", n.c.staffChat, "in_profile", n.b.Profile.StaffTelegramChat)
		}
	}
	return nil
}

// mountWeb serves the web chat: at / for one commune; in a province, each
// commune's at /xa/<slug>/ and at / a page to find one's commune.
func (s *server) mountWeb() {
	if !s.province() {
		c := s.communes[0]
		web.New(web.Config{Engine: c.eng, Store: c.db, Logger: s.log, RatePerMinute: s.cfg.WebRate, TrustedProxies: s.cfg.TrustedProxies}).Routes(s.mux)
		return
	}
	for _, c := range s.communes {
		sub := http.NewServeMux()
		c.mux = sub
		web.New(web.Config{Engine: c.eng, Store: c.db, Logger: s.log.With("commune", c.slug), RatePerMinute: s.cfg.WebRate, TrustedProxies: s.cfg.TrustedProxies}).Routes(sub)
		(&alert.Public{Store: c.db, Base: c.eng.Base, Now: s.a.now, Log: s.log}).Routes(sub)
		prefix := "/xa/" + c.slug
		s.mux.Handle(prefix+"/", http.StripPrefix(prefix, sub))
	}
	s.mux.HandleFunc("GET /{$}", s.chooseCommunePage)
}

// province reports whether the server answers for several communes.
func (s *server) province() bool { return s.cfg.Communes != "" }

// router is the Telegram handler of a province: residents choose their
// commune, then its engine answers.
func (s *server) router() *bot.Router {
	var rs []bot.RouteCommune
	for _, c := range s.communes {
		rs = append(rs, bot.RouteCommune{Slug: c.slug, Name: c.name, Engine: c.eng})
	}
	return bot.NewRouter(s.db, rs, s.metrics, s.log, s.a.now)
}

// handler is what the province-wide channels (Telegram) talk to.
func (s *server) handler() bot.Handler {
	if s.province() {
		return s.router()
	}
	return s.communes[0].eng
}

// communeBySlug finds a commune of the deployment.
func (s *server) communeBySlug(slug string) (*communeRT, error) {
	for _, c := range s.communes {
		if c.slug == slug {
			return c, nil
		}
	}
	return nil, errors.New("no commune " + slug + " in TROLYSO_COMMUNES")
}

var choosePage = template.Must(template.New("xa").Parse(`<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trợ lý số – chọn xã, phường</title>
<link rel="stylesheet" href="/xa/{{.First}}/static/app.css"></head>
<body><main class="choose">
<h1>Trợ lý số</h1>
<p>Bạn ở xã, phường nào? Gõ vài chữ trong tên rồi bấm <b>Tìm</b>, hoặc chọn trong danh sách.</p>
<form method="get" action="/"><input name="q" value="{{.Q}}" aria-label="Tên xã, phường" autocomplete="off"> <button type="submit">Tìm</button></form>
{{if .None}}<p>Chưa tìm thấy xã, phường nào có tên như vậy.</p>{{end}}
<ul>{{range .Communes}}<li><a href="/xa/{{.Slug}}/">{{.Name}}</a></li>{{end}}</ul>
</main></body></html>`))

// chooseCommunePage lists the communes (those whose name contains ?q=,
// without diacritics) with links to their web chat.
func (s *server) chooseCommunePage(w http.ResponseWriter, r *http.Request) {
	type item struct{ Slug, Name string }
	q := r.URL.Query().Get("q")
	if len(q) > 100 {
		q = q[:100]
	}
	var rs []bot.RouteCommune
	for _, c := range s.communes {
		rs = append(rs, bot.RouteCommune{Slug: c.slug, Name: c.name})
	}
	var items []item
	for _, c := range bot.MatchCommunes(rs, q) {
		items = append(items, item{c.Slug, c.Name})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'")
	choosePage.Execute(w, map[string]any{"Q": q, "Communes": items, "None": q != "" && len(items) == 0, "First": s.communes[0].slug})
}
