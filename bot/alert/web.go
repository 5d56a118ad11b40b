package alert

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// Public serves the alerts residents may read without logging in: the
// /canhbao page (recent alerts, to share) and the web chat's pin of
// current disaster warnings.
type Public struct {
	Store *storage.DB
	Base  func() *knowledge.Base
	Now   func() time.Time
	Log   *slog.Logger
}

// pageSize is how many alerts /canhbao lists.
const pageSize = 30

//go:embed static/canhbao.html
var pageHTML string

//go:embed static/ghim.js
var pinJS []byte

//go:embed static/ghim.css
var pinCSS []byte

var pageTmpl = template.Must(template.New("canhbao").Funcs(template.FuncMap{"vntime": bot.VNTime, "kind": KindText}).Parse(pageHTML))

// Routes mounts /canhbao and the pin's files.
func (p *Public) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /canhbao", p.page)
	mux.HandleFunc("GET /canhbao/ghim.json", p.pinned)
	mux.HandleFunc("GET /canhbao/ghim.js", static(pinJS, "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /canhbao/ghim.css", static(pinCSS, "text/css; charset=utf-8"))
}

func (p *Public) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

func (p *Public) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

func static(b []byte, ctype string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(b)
	}
}

type pageAlert struct {
	ID        int64
	Kind      string
	Title     string
	HTML      template.HTML // rendered by markup.HTML: raw HTML escaped
	Link      string
	Image     string
	StartedAt time.Time
	ExpiresAt time.Time
	Current   bool
}

func (p *Public) page(w http.ResponseWriter, r *http.Request) {
	js, err := p.Store.PublishedAlerts(r.Context(), "", pageSize)
	if err != nil {
		p.log().Error("list published alerts", "err", err)
		http.Error(w, "Không đọc được danh sách cảnh báo. Vui lòng thử lại sau.", http.StatusInternalServerError)
		return
	}
	now := p.now()
	data := struct {
		Commune          string
		Current, Earlier []pageAlert
	}{}
	if p.Base != nil {
		if b := p.Base(); b != nil && b.Profile != nil {
			data.Commune = b.Profile.Name
		}
	}
	for _, j := range js {
		a := pageAlert{ID: j.ID, Kind: j.Kind, Title: j.Title, HTML: template.HTML(markup.HTML(j.Body)), Link: j.Link, Image: j.Image,
			StartedAt: j.StartedAt, ExpiresAt: j.ExpiresAt, Current: j.Current(now)}
		if a.Current {
			data.Current = append(data.Current, a)
		} else {
			data.Earlier = append(data.Earlier, a)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	if err := pageTmpl.Execute(w, data); err != nil {
		p.log().Error("render /canhbao", "err", err)
	}
}

// Pin is a current disaster warning as the web chat pins it.
type Pin struct {
	ID        int64     `json:"id"`
	Heading   string    `json:"heading"`
	Title     string    `json:"title"`
	HTML      string    `json:"html"` // rendered by markup.HTML: raw HTML escaped
	Link      string    `json:"link,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
	Until     string    `json:"until"` // expiry in Vietnamese time
}

// Pinned lists the current disaster warnings, newest first.
func Pinned(r *http.Request, db *storage.DB, now time.Time) ([]Pin, error) {
	js, err := db.PublishedAlerts(r.Context(), storage.AlertDisaster, 10)
	if err != nil {
		return nil, err
	}
	out := []Pin{}
	for _, j := range js {
		if !j.Current(now) {
			continue
		}
		out = append(out, Pin{ID: j.ID, Heading: bot.AlertHeading(j.Kind), Title: j.Title, HTML: markup.HTML(j.Body), Link: j.Link,
			ExpiresAt: j.ExpiresAt, Until: bot.VNTime(j.ExpiresAt)})
	}
	return out, nil
}

func (p *Public) pinned(w http.ResponseWriter, r *http.Request) {
	pins, err := Pinned(r, p.Store, p.now())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if err != nil {
		p.log().Error("list pinned alerts", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"pins":[]}`))
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"pins": pins})
}
