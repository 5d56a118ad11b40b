// Package admin is the password-protected statistics dashboard at /admin:
// satisfaction against the 95% target with server-drawn SVG charts, the
// questions the bot could not answer, the lowest-rated answers, the
// quarterly report downloads, and the community digital technology teams
// with their reminders (pause/resume, who acknowledged each run). Without a
// configured password it is off.
package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/handoff"
	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/bot/web"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

const (
	sessionCookie = "trolyso_admin"
	loginCookie   = "trolyso_admin_login"
	sessionTTL    = 12 * time.Hour
	// maxFailures failed logins per client address within failureWindow
	// lock that address out until the window has passed.
	maxFailures   = 5
	failureWindow = 15 * time.Minute
)

// Config holds the dashboard's dependencies. One of Password and
// PasswordHash (bcrypt) must be set.
type Config struct {
	Store *storage.DB
	// Base returns the knowledge base in use (for entry titles and the
	// commune's name).
	Base         func() *knowledge.Base
	Logger       *slog.Logger
	Password     string
	PasswordHash string
	Now          func() time.Time
	// TrustedProxies are reverse proxies whose X-Forwarded-For is believed
	// (the login lockout is per client address).
	TrustedProxies []netip.Prefix
	// Desk is the handoff desk (/admin/hoidap); nil turns the requests
	// pages off (the knowledge-base editor still works).
	Desk *handoff.Desk
	// KBDir is the knowledge-base folder entries are published to; ""
	// when the server runs on the embedded base.
	KBDir string
	// Reload loads the knowledge base again after a publish.
	Reload func() error
}

// Handler serves the dashboard.
type Handler struct {
	store *storage.DB
	base  func() *knowledge.Base
	log   *slog.Logger
	hash  []byte
	now   func() time.Time
	loc   *time.Location
	// trusted are reverse proxies whose X-Forwarded-For is believed.
	trusted []netip.Prefix

	// sessions keeps sessions and login attempts (the default store:
	// shared by every instance and every commune's dashboard).
	sessions *storage.DB
	// external is set on a commune's dashboard in a province deployment:
	// the province's dispatcher has authenticated the request and put the
	// session in its context (province.go).
	external bool
	province *Province

	// The requests to staff and the knowledge-base editor (hoidap.go).
	desk   *handoff.Desk
	kbDir  string
	reload func() error
	pubMu  sync.Mutex // one publish at a time
	// overlayDir is, on a commune's dashboard in a province deployment,
	// the commune's own entries folder (<TROLYSO_COMMUNES>/<slug>/):
	// drafts are checked against the commune's layered base and published
	// there, never into the province base (kbDir is "" then).
	overlayDir string
}

type session struct {
	key     string // hex SHA-256 of the cookie value
	csrf    string
	expires time.Time
	// account is the logged-in account (zero for the single password);
	// commune the commune whose dashboard the session shows.
	account storage.Admin
	commune string
}

// ErrNoPassword is returned by New when no password is configured.
var ErrNoPassword = errors.New("admin dashboard: no password configured")

// New returns the dashboard. A plain password is kept only as a bcrypt hash.
func New(cfg Config) (*Handler, error) {
	h := &Handler{store: cfg.Store, base: cfg.Base, log: cfg.Logger, now: cfg.Now, loc: stats.Location(), trusted: cfg.TrustedProxies,
		desk: cfg.Desk, kbDir: cfg.KBDir, reload: cfg.Reload}
	if cfg.Store != nil {
		h.sessions = cfg.Store.Province()
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	switch {
	case cfg.PasswordHash != "":
		if _, err := bcrypt.Cost([]byte(cfg.PasswordHash)); err != nil {
			return nil, fmt.Errorf("admin dashboard: TROLYSO_ADMIN_PASSWORD_HASH is not a bcrypt hash: %w", err)
		}
		h.hash = []byte(cfg.PasswordHash)
	case cfg.Password != "":
		hash, err := bcrypt.GenerateFromPassword([]byte(cfg.Password), bcrypt.DefaultCost)
		if err != nil {
			return nil, fmt.Errorf("admin dashboard: hash password: %w", err)
		}
		h.hash = hash
	default:
		return nil, ErrNoPassword
	}
	return h, nil
}

// Routes mounts the dashboard under /admin.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.Handle("GET /admin", secure(http.RedirectHandler("/admin/", http.StatusSeeOther)))
	mux.Handle("GET /admin/login", secure(http.HandlerFunc(h.loginPage)))
	mux.Handle("POST /admin/login", secure(http.HandlerFunc(h.login)))
	mux.Handle("POST /admin/logout", secure(h.auth(http.HandlerFunc(h.logout))))
	mux.Handle("GET /admin/{$}", secure(h.auth(http.HandlerFunc(h.overview))))
	mux.Handle("GET /admin/unanswered", secure(h.auth(http.HandlerFunc(h.unanswered))))
	mux.Handle("GET /admin/lowest", secure(h.auth(http.HandlerFunc(h.lowest))))
	mux.Handle("GET /admin/report", secure(h.auth(http.HandlerFunc(h.report))))
	mux.Handle("GET /admin/reminders", secure(h.auth(http.HandlerFunc(h.reminders))))
	mux.Handle("POST /admin/reminders/{id}/pause", secure(h.auth(h.setEnabled(false))))
	mux.Handle("POST /admin/reminders/{id}/resume", secure(h.auth(h.setEnabled(true))))
	mux.Handle("GET /admin/runs/{id}", secure(h.auth(http.HandlerFunc(h.runDetail))))
	h.alertRoutes(mux)
	mux.Handle("GET /admin/review", secure(h.auth(http.HandlerFunc(h.review))))
	h.hoidapRoutes(mux)
	mux.Handle("/admin/", secure(h.auth(http.NotFoundHandler())))
}

// Off mounts a 404 on every dashboard path: with no password configured
// the dashboard is off, never open.
func Off(mux *http.ServeMux) {
	mux.Handle("/admin", http.NotFoundHandler())
	mux.Handle("/admin/", http.NotFoundHandler())
}

func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// current returns the session of the request, if it is logged in.
func (h *Handler) current(r *http.Request) (session, bool) {
	return currentSession(r, h.sessions, h.now(), h.log)
}

// currentSession reads the request's session from the store.
func currentSession(r *http.Request, store *storage.DB, now time.Time, log *slog.Logger) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) != 64 {
		return session{}, false
	}
	key := tokenHash(c.Value)
	st, err := store.AdminSession(r.Context(), key, now)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			log.Error("read admin session", "err", err)
		}
		return session{}, false
	}
	s := session{key: key, csrf: st.CSRF, expires: st.ExpiresAt, commune: st.Commune}
	if st.AccountID != 0 {
		if s.account, err = store.AdminByID(r.Context(), st.AccountID); err != nil {
			return session{}, false
		}
	}
	return s, true
}

func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

type ctxSession struct{}

// auth refuses requests without a valid session: pages redirect to the
// login form, other methods get 403. Every POST must carry the session's
// CSRF token.
func (h *Handler) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var s session
		var ok bool
		if h.external {
			s, ok = r.Context().Value(ctxSession{}).(session)
		} else {
			s, ok = h.current(r)
		}
		if !ok {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "Bạn cần đăng nhập.", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost && !sameToken(r.PostFormValue("csrf"), s.csrf) {
			http.Error(w, "Phiên làm việc không hợp lệ. Tải lại trang rồi thử lại.", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(withSession(r.Context(), s)))
	})
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.current(r); ok {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	h.showLogin(w, r, http.StatusOK, "")
}

func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/admin", MaxAge: 3600, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: isHTTPS(r)})
	h.render(w, status, "login", map[string]any{"CSRF": tok, "Error": msg, "Title": "Đăng nhập"})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	addr := web.ClientAddr(r, h.trusted)
	now := h.now()
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		h.showLogin(w, r, http.StatusForbidden, "Phiên đăng nhập đã hết hạn. Vui lòng nhập lại mật khẩu.")
		return
	}
	// The attempt is counted before the (slow) password check, in one
	// transaction: concurrent guesses from one address, on any instance,
	// cannot all pass the limit before any of them is recorded.
	if ok, err := h.sessions.ReserveLoginAttempt(r.Context(), addr, now, maxFailures, failureWindow); err != nil {
		h.serverError(w, "count login attempt", err)
		return
	} else if !ok {
		w.Header().Set("Retry-After", fmt.Sprint(int(failureWindow.Seconds())))
		h.render(w, http.StatusTooManyRequests, "login", map[string]any{"Error": "Sai mật khẩu quá nhiều lần. Vui lòng thử lại sau 15 phút.", "Title": "Đăng nhập"})
		return
	}
	if bcrypt.CompareHashAndPassword(h.hash, []byte(r.PostFormValue("password"))) != nil {
		n, _ := h.sessions.LoginFailures(r.Context(), addr)
		h.log.Warn("admin login failed", "addr", addr, "failures", n)
		h.showLogin(w, r, http.StatusUnauthorized, "Sai mật khẩu.")
		return
	}
	if err := startSession(w, r, h.sessions, storage.AdminSession{Commune: h.store.CommuneSlug()}, now); err != nil {
		h.serverError(w, "start admin session", err)
		return
	}
	h.sessions.ClearLoginFailures(r.Context(), addr)
	h.log.Info("admin logged in", "addr", addr)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

// startSession stores a new session (s gives its account and commune)
// and sets its cookie.
func startSession(w http.ResponseWriter, r *http.Request, store *storage.DB, s storage.AdminSession, now time.Time) error {
	tok := randomToken()
	s.TokenHash, s.CSRF, s.ExpiresAt = tokenHash(tok), randomToken(), now.Add(sessionTTL)
	if err := store.CreateAdminSession(r.Context(), s); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/admin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/admin", MaxAge: int(sessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: isHTTPS(r)})
	return nil
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if s, ok := h.current(r); ok {
		if err := h.sessions.DeleteAdminSession(r.Context(), s.key); err != nil {
			h.log.Error("end admin session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/admin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

//go:embed templates/*.html
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(stats.Funcs).Funcs(template.FuncMap{
	// vntime shows a time in Vietnamese local time, "—" when unset.
	"vntime": bot.VNTime,
	// duration shows seconds as "5 phút", "2 giờ".
	"duration": func(sec float64) string { return stats.DurationText(time.Duration(sec * float64(time.Second))) },
}).ParseFS(templateFS, "templates/*.html"))

func (h *Handler) render(w http.ResponseWriter, status int, name string, data any) {
	render(h.log, w, status, name, data)
}

func render(log *slog.Logger, w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := templates.ExecuteTemplate(w, name, data); err != nil {
		log.Error("render admin page", "page", name, "err", err)
	}
}
