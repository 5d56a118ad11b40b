package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/storage"
)

// StaffInbox gives a web-chat resident the messages commune staff sent
// them (bot/handoff implements it): taking them marks them delivered.
type StaffInbox interface {
	WebMessages(ctx context.Context, userKey string) (replies []bot.Reply, open bool, err error)
}

// StaffConfig configures GET /api/staff.
type StaffConfig struct {
	Store  *storage.DB
	Inbox  StaffInbox
	Logger *slog.Logger
	// TrustedProxies and Now as in Config. RatePerMinute bounds the polls
	// of one client address (default 120).
	TrustedProxies []netip.Prefix
	RatePerMinute  int
	Now            func() time.Time
}

// staffPoll is the answer of GET /api/staff.
type staffPoll struct {
	Messages []Response `json:"messages"`
	// Open is true while the resident's conversation with staff is open:
	// the page asks again a little later.
	Open bool `json:"open"`
}

// MountStaff serves GET /api/staff: the staff messages waiting for the
// browser's session (the session cookie identifies the resident), shown
// when the resident comes back to the page or while the page polls during
// an open conversation.
func MountStaff(mux *http.ServeMux, cfg StaffConfig) {
	if cfg.RatePerMinute <= 0 {
		cfg.RatePerMinute = 120
	}
	h := New(Config{Store: cfg.Store, Logger: cfg.Logger, RatePerMinute: cfg.RatePerMinute, TrustedProxies: cfg.TrustedProxies, Now: cfg.Now})
	mux.Handle("GET /api/staff", secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.limits.allow(ClientAddr(r, h.trusted)) {
			w.Header().Set("Retry-After", "60")
			writeJSON(w, http.StatusTooManyRequests, apiError{"Bạn gửi nhanh quá. Vui lòng đợi một chút rồi thử lại."})
			return
		}
		out := staffPoll{Messages: []Response{}}
		c, err := r.Cookie(sessionCookie)
		if err != nil || !validSID(c.Value) || cfg.Store == nil || cfg.Inbox == nil {
			writeJSON(w, http.StatusOK, out)
			return
		}
		replies, open, err := cfg.Inbox.WebMessages(r.Context(), cfg.Store.UserKey(bot.ChannelWeb, c.Value))
		if err != nil {
			h.log.Error("web: read staff messages", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, apiError{"Xin lỗi, hệ thống đang bận. Bạn thử lại sau ít phút nhé."})
			return
		}
		out.Open = open
		for _, rep := range replies {
			out.Messages = append(out.Messages, h.toResponse(rep))
		}
		writeJSON(w, http.StatusOK, out)
	})))
}
