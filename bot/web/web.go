// Package web is the web chat channel: a mobile-friendly Vietnamese chat
// page for the commune portal and the JSON API behind it.
package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/storage"
)

//go:embed static
var static embed.FS

const (
	sessionCookie = "trolyso_sid"
	maxBodyBytes  = 16 << 10
)

// Config holds the web chat's dependencies.
type Config struct {
	Engine *bot.Engine
	Store  *storage.DB
	Logger *slog.Logger
	// RatePerMinute limits API requests per client address (default 60).
	RatePerMinute int
	// TrustedProxies are reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Now is the clock (tests inject one).
	Now func() time.Time
}

// Handler serves the chat page and API.
type Handler struct {
	eng     *bot.Engine
	store   *storage.DB
	log     *slog.Logger
	limits  *limiter
	trusted []netip.Prefix
	render  *renderCache
}

// New returns the web chat handler.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RatePerMinute <= 0 {
		cfg.RatePerMinute = 60
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{
		eng:     cfg.Engine,
		store:   cfg.Store,
		log:     cfg.Logger,
		limits:  newLimiter(cfg.RatePerMinute, cfg.Now),
		trusted: cfg.TrustedProxies,
		render:  newRenderCache(),
	}
}

// Routes registers the chat's routes on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	sub, _ := fs.Sub(static, "static")
	files := http.FileServerFS(notFoundFS{sub})
	mux.Handle("GET /static/", http.StripPrefix("/static/", secure(files)))
	mux.Handle("GET /{$}", secure(http.HandlerFunc(h.page)))
	mux.Handle("POST /api/message", secure(http.HandlerFunc(h.message)))
	mux.Handle("GET /api/welcome", secure(http.HandlerFunc(h.welcome)))
}

// notFoundFS answers every name it cannot open as not found: the file
// server turns any other error (an invalid name such as "%ff" or an
// overlong "%c0%ae" decoded to invalid UTF-8) into a 500.
type notFoundFS struct{ fs.FS }

func (f notFoundFS) Open(name string) (fs.File, error) {
	if !utf8.ValidString(name) || !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	file, err := f.FS.Open(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return file, err
}

// secure adds headers that keep the page from running foreign scripts.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	b, err := static.ReadFile("static/index.html")
	if err != nil {
		http.Error(w, "page missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// request is the body of POST /api/message.
type request struct {
	Text    string `json:"text"`
	Payload string `json:"payload"`
}

// Response is the API's reply.
type Response struct {
	Band       string     `json:"band"`
	HTML       string     `json:"html"`
	Text       string     `json:"text"`
	Buttons    [][]Button `json:"buttons"`
	ExchangeID int64      `json:"exchange_id,omitempty"`
	EntryID    string     `json:"entry_id,omitempty"`
}

// Button is a choice under a reply.
type Button struct {
	Label   string `json:"label"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`
}

type apiError struct {
	Error string `json:"error"`
}

func (h *Handler) welcome(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.toResponse(h.eng.Welcome()))
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request) {
	if !h.limits.allow(ClientAddr(r, h.trusted)) {
		w.Header().Set("Retry-After", "60")
		writeJSON(w, http.StatusTooManyRequests, apiError{"Bạn gửi nhanh quá. Vui lòng đợi một chút rồi thử lại."})
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{"Yêu cầu phải là JSON."})
		return
	}
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError{"Tin nhắn dài quá. Bạn hãy gõ ngắn gọn câu hỏi chính nhé."})
			return
		}
		writeJSON(w, http.StatusBadRequest, apiError{"Yêu cầu không hợp lệ."})
		return
	}
	if _, err := io.Copy(io.Discard, dec.Buffered()); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{"Yêu cầu không hợp lệ."})
		return
	}
	sid := h.session(w, r)
	key := "web:anonymous"
	if h.store != nil {
		key = h.store.UserKey(bot.ChannelWeb, sid)
	}
	reply := h.eng.Handle(r.Context(), bot.Message{
		Channel: bot.ChannelWeb,
		UserKey: key,
		Text:    req.Text,
		Payload: req.Payload,
	})
	writeJSON(w, http.StatusOK, h.toResponse(reply))
}

// session returns the browser's session id, creating the cookie if needed.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil && validSID(c.Value) {
		return c.Value
	}
	b := make([]byte, 16)
	rand.Read(b)
	sid := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    sid,
		Path:     "/",
		MaxAge:   365 * 24 * 3600,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   IsHTTPS(r, h.trusted),
	})
	return sid
}

func validSID(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// toResponse renders a reply for the browser: HTML from the engine's
// Markdown (escaped by markup.HTML), buttons as data.
func (h *Handler) toResponse(r bot.Reply) Response {
	html, plain := h.render.render(r.Text)
	resp := Response{
		Band:       string(r.Band),
		HTML:       html,
		Text:       plain,
		ExchangeID: r.ExchangeID,
		EntryID:    r.EntryID,
		Buttons:    [][]Button{},
	}
	for _, row := range r.Buttons {
		out := make([]Button, 0, len(row))
		for _, b := range row {
			out = append(out, Button{Label: b.Label, Payload: b.Payload, URL: b.URL})
		}
		resp.Buttons = append(resp.Buttons, out)
	}
	return resp
}

// The body is encoded whole first, so that it goes out with a
// Content-Length in one write instead of in chunks, and without HTML
// escaping ("<" as \u003c): it is read by the chat's script as JSON,
// never placed in a page as it is, and the replies are mostly HTML.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		buf.WriteString(`{"error":"Lỗi máy chủ."}` + "\n")
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// IsHTTPS reports whether the browser reached the server over HTTPS:
// directly (TLS), or through a trusted reverse proxy that says so with
// X-Forwarded-Proto (its first value: the scheme the client used). The
// header is ignored from anyone else.
func IsHTTPS(r *http.Request, trusted []netip.Prefix) bool {
	if r.TLS != nil {
		return true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !isTrusted(host, trusted) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// ClientAddr returns the address of the client behind r. When the
// connection comes from a trusted reverse proxy, the right-most address of
// X-Forwarded-For that is not itself a trusted proxy is used, so that each
// resident behind the commune portal's proxy gets their own rate limit.
func ClientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(trusted) == 0 || !isTrusted(host, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if _, err := netip.ParseAddr(hop); err != nil {
			return host // malformed header: do not trust any of it
		}
		if !isTrusted(hop, trusted) {
			return hop
		}
	}
	return host
}

func isTrusted(addr string, trusted []netip.Prefix) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limiter keeps one token bucket per client address, forgetting idle ones.
type limiter struct {
	mu      sync.Mutex
	perMin  int
	now     func() time.Time
	clients map[string]*client
	swept   time.Time
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perMin int, now func() time.Time) *limiter {
	return &limiter{perMin: perMin, now: now, clients: map[string]*client{}}
}

func (l *limiter) allow(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.swept) > 5*time.Minute {
		for k, c := range l.clients {
			if now.Sub(c.seen) > 10*time.Minute {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	c, ok := l.clients[addr]
	if !ok {
		burst := l.perMin / 3
		if burst < 5 {
			burst = 5
		}
		c = &client{lim: rate.NewLimiter(rate.Limit(float64(l.perMin)/60), burst)}
		l.clients[addr] = c
	}
	c.seen = now
	return c.lim.AllowN(now, 1)
}
