package admin

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/colecommune/trolyso/bot/handoff"
	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/bot/web"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// A province deployment has one dashboard per commune, reached through
// /admin/ with accounts kept in the database (trolyso admin add): a
// commune admin's session always shows their commune's dashboard, which
// is built on that commune's store alone, so no URL and no id reaches
// another commune's data; a province admin chooses the commune to show
// (/admin/chonxa) and has the province roll-up (/admin/tinh).

// CommuneDashboard is one commune of a province's dashboard.
type CommuneDashboard struct {
	Slug  string
	Name  string
	Store *storage.DB
	Base  func() *knowledge.Base
	// Desk is the commune's handoff desk (/admin/hoidap acts on its
	// tickets only); nil turns the requests pages off.
	Desk *handoff.Desk
	// Overlay is the commune's own entries folder
	// (<TROLYSO_COMMUNES>/<slug>/, created at the first publish): entries
	// published from its dashboard are written there and replace or add
	// to the province's for this commune only. "" turns publishing off.
	Overlay string
	// Reload loads the commune's layer again after a publish.
	Reload func() error
}

// ProvinceConfig holds a province dashboard's dependencies.
type ProvinceConfig struct {
	// Store is the province's default store (accounts, sessions).
	Store          *storage.DB
	Communes       []CommuneDashboard
	Logger         *slog.Logger
	Now            func() time.Time
	TrustedProxies []netip.Prefix
}

// Province serves the dashboards of a province's communes.
type Province struct {
	store    *storage.DB
	log      *slog.Logger
	now      func() time.Time
	trusted  []netip.Prefix
	communes []CommuneDashboard
	boards   map[string]*http.ServeMux // commune slug -> its dashboard's routes
	loc      *time.Location
}

// MinPasswordLen is the shortest password an admin may choose.
const MinPasswordLen = 10

// NewProvince builds every commune's dashboard.
func NewProvince(cfg ProvinceConfig) (*Province, error) {
	p := &Province{store: cfg.Store.Province(), log: cfg.Logger, now: cfg.Now, trusted: cfg.TrustedProxies,
		boards: map[string]*http.ServeMux{}, loc: stats.Location()}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.communes = append(p.communes, cfg.Communes...)
	sort.Slice(p.communes, func(i, j int) bool { return p.communes[i].Slug < p.communes[j].Slug })
	for _, c := range p.communes {
		h := &Handler{store: c.Store, base: c.Base, log: p.log.With("commune", c.Slug), now: p.now, loc: p.loc, trusted: p.trusted,
			sessions: p.store, external: true, province: p, desk: c.Desk,
			overlayDir: c.Overlay, reload: c.Reload}
		if c.Overlay != "" && (!storage.ValidSlug(c.Slug) || filepath.Base(c.Overlay) != c.Slug) {
			return nil, fmt.Errorf("commune %q: its entries folder %s is not named after it", c.Slug, c.Overlay)
		}
		mux := http.NewServeMux()
		h.Routes(mux)
		p.boards[c.Slug] = mux
	}
	return p, nil
}

// Routes mounts the province's dashboard under /admin.
func (p *Province) Routes(mux *http.ServeMux) {
	mux.Handle("GET /admin", secure(http.RedirectHandler("/admin/", http.StatusSeeOther)))
	mux.Handle("GET /admin/login", secure(http.HandlerFunc(p.loginPage)))
	mux.Handle("POST /admin/login", secure(http.HandlerFunc(p.login)))
	mux.Handle("POST /admin/logout", secure(p.auth(http.HandlerFunc(p.logout), false)))
	mux.Handle("GET /admin/doimatkhau", secure(p.auth(http.HandlerFunc(p.passwordPage), false)))
	mux.Handle("POST /admin/doimatkhau", secure(p.auth(http.HandlerFunc(p.changePassword), false)))
	mux.Handle("POST /admin/chonxa", secure(p.auth(http.HandlerFunc(p.chooseCommune), true)))
	mux.Handle("GET /admin/tinh", secure(p.auth(http.HandlerFunc(p.rollup), true)))
	mux.Handle("GET /admin/tinh/baocao.csv", secure(p.auth(http.HandlerFunc(p.rollupCSV), true)))
	mux.Handle("/admin/", secure(p.auth(http.HandlerFunc(p.dispatch), true)))
}

// auth checks the session (and the CSRF token of a POST); once the
// password must be changed, only the change-password page is served.
func (p *Province) auth(next http.Handler, ready bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := currentSession(r, p.store, p.now(), p.log)
		if !ok || s.account.ID == 0 {
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
		if ready && s.account.MustChange {
			http.Redirect(w, r, "/admin/doimatkhau", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r.WithContext(withSession(r.Context(), s)))
	})
}

// dispatch serves a page of the session's commune's dashboard: a commune
// admin's own commune always; a province admin's chosen one (the roll-up
// until they choose).
func (p *Province) dispatch(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	slug := s.commune
	if !s.account.Province() {
		slug = s.account.Commune // whatever the session says
	}
	board, ok := p.boards[slug]
	if !ok {
		if s.account.Province() {
			http.Redirect(w, r, "/admin/tinh", http.StatusSeeOther)
			return
		}
		http.Error(w, "Xã của tài khoản này không có trong cấu hình.", http.StatusForbidden)
		return
	}
	board.ServeHTTP(w, r)
}

func sessionOf(r *http.Request) session {
	s, _ := r.Context().Value(ctxSession{}).(session)
	return s
}

func (p *Province) loginPage(w http.ResponseWriter, r *http.Request) {
	if s, ok := currentSession(r, p.store, p.now(), p.log); ok && s.account.ID != 0 {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	p.showLogin(w, r, http.StatusOK, "")
}

func (p *Province) showLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/admin", MaxAge: 3600, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: isHTTPS(r)})
	render(p.log, w, status, "login", map[string]any{"CSRF": tok, "Error": msg, "Title": "Đăng nhập", "Accounts": true})
}

func (p *Province) login(w http.ResponseWriter, r *http.Request) {
	addr := web.ClientAddr(r, p.trusted)
	now := p.now()
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		p.showLogin(w, r, http.StatusForbidden, "Phiên đăng nhập đã hết hạn. Vui lòng nhập lại.")
		return
	}
	if ok, err := p.store.ReserveLoginAttempt(r.Context(), addr, now, maxFailures, failureWindow); err != nil {
		p.log.Error("count login attempt", "err", err)
		http.Error(w, "Lỗi máy chủ, vui lòng thử lại sau.", http.StatusInternalServerError)
		return
	} else if !ok {
		w.Header().Set("Retry-After", fmt.Sprint(int(failureWindow.Seconds())))
		render(p.log, w, http.StatusTooManyRequests, "login", map[string]any{"Error": "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút.", "Title": "Đăng nhập"})
		return
	}
	a, err := p.store.AdminByName(r.Context(), r.PostFormValue("name"))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		p.log.Error("read admin account", "err", err)
		http.Error(w, "Lỗi máy chủ, vui lòng thử lại sau.", http.StatusInternalServerError)
		return
	}
	hash := a.Hash
	if hash == "" {
		hash = dummyHash // same work whether the account exists or not
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(r.PostFormValue("password"))) != nil || a.ID == 0 {
		n, _ := p.store.LoginFailures(r.Context(), addr)
		p.log.Warn("admin login failed", "addr", addr, "failures", n)
		p.showLogin(w, r, http.StatusUnauthorized, "Sai tên đăng nhập hoặc mật khẩu.")
		return
	}
	if err := startSession(w, r, p.store, storage.AdminSession{AccountID: a.ID, Commune: a.Commune}, now); err != nil {
		p.log.Error("start admin session", "err", err)
		http.Error(w, "Lỗi máy chủ, vui lòng thử lại sau.", http.StatusInternalServerError)
		return
	}
	p.store.ClearLoginFailures(r.Context(), addr)
	p.log.Info("admin logged in", "account", a.Name, "commune", a.Commune, "addr", addr)
	switch {
	case a.MustChange:
		http.Redirect(w, r, "/admin/doimatkhau", http.StatusSeeOther)
	case a.Province():
		http.Redirect(w, r, "/admin/tinh", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
	}
}

// dummyHash is compared against when the account does not exist.
var dummyHash = func() string {
	h, _ := bcrypt.GenerateFromPassword([]byte("không có tài khoản này"), bcrypt.DefaultCost)
	return string(h)
}()

func (p *Province) logout(w http.ResponseWriter, r *http.Request) {
	if err := p.store.DeleteAdminSession(r.Context(), sessionOf(r).key); err != nil {
		p.log.Error("end admin session", "err", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/admin", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

func (p *Province) passwordPage(w http.ResponseWriter, r *http.Request) {
	p.showPassword(w, r, http.StatusOK, "")
}

func (p *Province) showPassword(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s := sessionOf(r)
	render(p.log, w, status, "password", map[string]any{"CSRF": s.csrf, "Error": msg, "Title": "Đổi mật khẩu", "Name": s.account.Name,
		"First": s.account.MustChange, "Min": MinPasswordLen})
}

// changePassword sets the account's password (the first login's one-time
// code must be replaced); other sessions of the account end, this one
// goes on under a new cookie.
func (p *Province) changePassword(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	pw := r.PostFormValue("password")
	switch {
	case bcrypt.CompareHashAndPassword([]byte(s.account.Hash), []byte(r.PostFormValue("current"))) != nil:
		p.showPassword(w, r, http.StatusUnauthorized, "Mật khẩu hiện tại không đúng.")
		return
	case len([]rune(pw)) < MinPasswordLen:
		p.showPassword(w, r, http.StatusBadRequest, fmt.Sprintf("Mật khẩu mới cần ít nhất %d ký tự.", MinPasswordLen))
		return
	case pw != r.PostFormValue("again"):
		p.showPassword(w, r, http.StatusBadRequest, "Hai lần nhập mật khẩu mới không giống nhau.")
		return
	case pw == r.PostFormValue("current"):
		p.showPassword(w, r, http.StatusBadRequest, "Mật khẩu mới phải khác mật khẩu hiện tại.")
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err == nil {
		err = p.store.SetAdminPassword(r.Context(), s.account.Name, string(hash), false)
	}
	if err == nil {
		err = startSession(w, r, p.store, storage.AdminSession{AccountID: s.account.ID, Commune: s.commune}, p.now())
	}
	if err != nil {
		p.log.Error("change admin password", "err", err)
		http.Error(w, "Lỗi máy chủ, vui lòng thử lại sau.", http.StatusInternalServerError)
		return
	}
	p.log.Info("admin password changed", "account", s.account.Name)
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

// chooseCommune switches a province admin's session to a commune's
// dashboard (or back to the roll-up with an empty commune); refused to
// commune admins.
func (p *Province) chooseCommune(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	slug := r.PostFormValue("commune")
	if !s.account.Province() {
		http.Error(w, "Tài khoản của bạn chỉ xem được xã của mình.", http.StatusForbidden)
		return
	}
	if _, ok := p.boards[slug]; !ok && slug != "" {
		http.Error(w, "Không có xã này.", http.StatusNotFound)
		return
	}
	if err := p.store.SetSessionCommune(r.Context(), s.key, slug); err != nil {
		p.log.Error("choose commune", "err", err)
		http.Error(w, "Lỗi máy chủ, vui lòng thử lại sau.", http.StatusInternalServerError)
		return
	}
	if slug == "" {
		http.Redirect(w, r, "/admin/tinh", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

// communeRow is one commune of the roll-up.
type communeRow struct {
	Slug, Name string
	Answers    stats.Satisfaction
	Service    stats.Satisfaction
	Questions  int
	Declined   int
	// Gap is how far the answer satisfaction is below 95% (0 when at or
	// above it); NoData when no answer was rated.
	Gap    float64
	NoData bool
}

// unansweredRow is a question some commune's residents asked that no
// answer covered.
type unansweredRow struct {
	Commune string
	stats.Unanswered
}

// rollupData gathers every commune's figures for the period of r.
func (p *Province) rollupData(ctx context.Context, r *http.Request) (stats.Range, []communeRow, []unansweredRow, stats.Satisfaction, error) {
	rg, err := rangeFrom(r, p.now(), p.loc)
	if err != nil {
		return rg, nil, nil, stats.Satisfaction{}, err
	}
	var rows []communeRow
	var unanswered []unansweredRow
	var rated, satisfied int
	for _, c := range p.communes {
		rep, err := stats.Build(ctx, c.Store, rg, stats.Options{Base: c.Base(), Location: p.loc, Unanswered: 20})
		if err != nil {
			return rg, nil, nil, stats.Satisfaction{}, fmt.Errorf("commune %s: %w", c.Slug, err)
		}
		row := communeRow{Slug: c.Slug, Name: c.Name, Answers: rep.Answers, Service: rep.Service, NoData: rep.Answers.Rated == 0}
		for _, n := range rep.Bands {
			row.Questions += n
		}
		row.Declined = rep.Bands["decline"]
		if !row.NoData && rep.Answers.Rate < stats.Target {
			row.Gap = stats.Target - rep.Answers.Rate
		}
		rows = append(rows, row)
		rated += rep.Answers.Rated
		satisfied += rep.Answers.Satisfied
		for _, u := range rep.Unanswered {
			unanswered = append(unanswered, unansweredRow{Commune: c.Name, Unanswered: u})
		}
	}
	// Furthest from the target first; communes without ratings last.
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].NoData != rows[j].NoData {
			return !rows[i].NoData
		}
		return rows[i].Gap > rows[j].Gap
	})
	sort.SliceStable(unanswered, func(i, j int) bool { return unanswered[i].Count > unanswered[j].Count })
	if len(unanswered) > 50 {
		unanswered = unanswered[:50]
	}
	return rg, rows, unanswered, stats.Compute(satisfied, rated), nil
}

func (p *Province) rollup(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	if !s.account.Province() {
		http.Error(w, "Chỉ tài khoản cấp tỉnh xem được trang này.", http.StatusForbidden)
		return
	}
	rg, rows, unanswered, total, err := p.rollupData(r.Context(), r)
	if err != nil {
		if errors.Is(err, errBadRange) {
			http.Error(w, "Kỳ thống kê không hợp lệ.", http.StatusBadRequest)
			return
		}
		p.log.Error("province roll-up", "err", err)
		http.Error(w, "Không đọc được số liệu.", http.StatusInternalServerError)
		return
	}
	render(p.log, w, http.StatusOK, "province", map[string]any{"Title": "Toàn tỉnh", "CSRF": s.csrf, "Account": s.account.Name,
		"Label": rg.Label, "Query": r.URL.RawQuery, "Rows": rows, "Unanswered": unanswered, "Total": total, "Target": stats.Target})
}

// rollupCSV is the province's report for a period: one line per commune
// (and the province's total), for Excel (UTF-8 with BOM).
func (p *Province) rollupCSV(w http.ResponseWriter, r *http.Request) {
	if !sessionOf(r).account.Province() {
		http.Error(w, "Chỉ tài khoản cấp tỉnh xem được trang này.", http.StatusForbidden)
		return
	}
	rg, rows, _, total, err := p.rollupData(r.Context(), r)
	if err != nil {
		http.Error(w, "Không đọc được số liệu.", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="bao-cao-toan-tinh.csv"`)
	w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	pct := func(f float64) string { return strings.Replace(fmt.Sprintf("%.1f", f*100), ".", ",", 1) }
	cw.Write([]string{"Kỳ", "Xã/phường", "Câu hỏi", "Chưa trả lời được", "Đánh giá", "Hài lòng", "Tỷ lệ hài lòng (%)", "Cách mục tiêu 95% (điểm %)"})
	for _, c := range rows {
		cw.Write([]string{rg.Label, c.Name, fmt.Sprint(c.Questions), fmt.Sprint(c.Declined), fmt.Sprint(c.Answers.Rated), fmt.Sprint(c.Answers.Satisfied),
			pct(c.Answers.Rate), pct(c.Gap)})
	}
	cw.Write([]string{rg.Label, "Toàn tỉnh", "", "", fmt.Sprint(total.Rated), fmt.Sprint(total.Satisfied), pct(total.Rate), ""})
	cw.Flush()
}

// communeLinks are the communes a province admin can switch to.
func (p *Province) communeLinks() []CommuneDashboard { return p.communes }
