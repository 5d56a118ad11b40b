package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/handoff"
	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/knowledge/vi"
	"github.com/colecommune/trolyso/storage"
)

// The "Hỏi đáp cán bộ" pages: residents' requests to commune staff (open
// ones with their waiting time, a conversation with a reply box, claim and
// close; closed ones searchable), and the knowledge-base entry editor
// (draft.go) that turns an answer into a published entry.

// staffCookie keeps the name a staff member gave on this browser: the
// dashboard has one shared password, so who answers is asked once.
const staffCookie = "trolyso_admin_name"

// maxFormBytes bounds the forms of these pages.
const maxFormBytes = 64 << 10

// limited bounds the body of a form before it is read (auth reads the
// CSRF token from it).
func limited(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		next.ServeHTTP(w, r)
	})
}

func (h *Handler) hoidapRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/hoidap", secure(h.auth(http.HandlerFunc(h.hoidap))))
	mux.Handle("GET /admin/hoidap/closed", secure(h.auth(http.HandlerFunc(h.hoidapClosed))))
	mux.Handle("GET /admin/hoidap/{id}", secure(h.auth(http.HandlerFunc(h.ticketPage))))
	mux.Handle("POST /admin/hoidap/{id}/reply", secure(limited(h.auth(h.ticketAction(h.replyTicket)))))
	mux.Handle("POST /admin/hoidap/{id}/claim", secure(limited(h.auth(h.ticketAction(h.claimTicket)))))
	mux.Handle("POST /admin/hoidap/{id}/close", secure(limited(h.auth(h.ticketAction(h.closeTicket)))))
	mux.Handle("POST /admin/hoidap/{id}/resend/{out}", secure(limited(h.auth(h.ticketAction(h.resendTicket)))))
	mux.Handle("GET /admin/hoidap/draft", secure(h.auth(http.HandlerFunc(h.draftPage))))
	mux.Handle("POST /admin/hoidap/draft", secure(limited(h.auth(http.HandlerFunc(h.draftSubmit)))))
	mux.Handle("POST /admin/hoidap/draft/check", secure(limited(h.auth(http.HandlerFunc(h.draftCheck)))))
	mux.Handle("GET /admin/hoidap/editor.js", secure(h.auth(http.HandlerFunc(h.editorScript))))
	mux.Handle("GET /admin/hoidap/log", secure(h.auth(http.HandlerFunc(h.publishLog))))
}

// staffName returns the name this browser's staff member gave.
func staffName(r *http.Request) string {
	c, err := r.Cookie(staffCookie)
	if err != nil {
		return ""
	}
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return ""
	}
	return v
}

// rememberName keeps the name given in a form for the next ones.
func rememberName(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: staffCookie, Value: url.QueryEscape(name), Path: "/admin", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: isHTTPS(r)})
}

// formStaff reads the staff member's name from a form ("staff"), falling
// back to the remembered one; ok is false when there is none.
func formStaff(w http.ResponseWriter, r *http.Request) (bot.StaffMember, bool) {
	name := strings.TrimSpace(r.PostFormValue("staff"))
	if name == "" {
		name = staffName(r)
	}
	if strings.TrimSpace(name) == "" {
		return bot.StaffMember{}, false
	}
	name = handoff.StaffName(name)
	rememberName(w, r, name)
	return bot.StaffMember{Name: name, Via: bot.StaffViaDashboard}, true
}

// ticketRow is a ticket in a list.
type ticketRow struct {
	storage.Ticket
	Waiting string // how long the resident has waited for an answer, "" if not
	Age     string
	Last    string
	Problem string
}

type hoidapPage struct {
	page
	Enabled   bool
	StaffChat bool
	Lost      time.Time
	HasLost   bool
	Hours     string
	HoursRead bool
	Open      []ticketRow
	Closed    []ticketRow
	Query     string
	Figures   stats.Handoff
	Month     string
	Name      string
	Searched  bool
	// InProvince is set on a commune's dashboard in a province deployment
	// (its staff group is set in its profile, not in the environment).
	InProvince bool
}

func (h *Handler) rows(ts []storage.Ticket) []ticketRow {
	now := h.now()
	out := make([]ticketRow, 0, len(ts))
	for _, t := range ts {
		row := ticketRow{Ticket: t, Age: handoff.DurationText(now.Sub(t.CreatedAt)), Last: clip(t.LastText, 120),
			Problem: handoff.ProblemText(t.Problem, t.Channel)}
		if !t.WaitingSince.IsZero() {
			row.Waiting = handoff.DurationText(now.Sub(t.WaitingSince))
		}
		out = append(out, row)
	}
	return out
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func (h *Handler) hoidapBase(r *http.Request, title string) hoidapPage {
	p := hoidapPage{page: h.basePage(r, title, "hoidap"), Enabled: h.desk != nil, Name: staffName(r), InProvince: h.province != nil}
	if h.desk != nil {
		p.StaffChat = h.desk.StaffChatConfigured()
		p.Lost, p.HasLost = h.desk.StaffChatLost(r.Context())
		hours := h.desk.Hours()
		p.Hours, p.HoursRead = hours.Describe(), hours.Parsed
	}
	return p
}

// hoidap lists the open requests and this month's figures.
func (h *Handler) hoidap(w http.ResponseWriter, r *http.Request) {
	p := h.hoidapBase(r, "Hỏi đáp cán bộ")
	if h.desk != nil {
		ts, err := h.store.ListTickets(r.Context(), storage.TicketFilter{Status: storage.TicketOpen, Limit: 500})
		if err != nil {
			h.serverError(w, "list tickets", err)
			return
		}
		p.Open = h.rows(ts)
	}
	rg, err := stats.Period("month", h.now(), h.loc)
	if err == nil {
		f, err := h.store.HandoffFigures(r.Context(), rg.From, rg.To, h.now(), stats.OpenAge)
		if err != nil {
			h.serverError(w, "handoff figures", err)
			return
		}
		p.Month = rg.Label
		p.Figures = stats.Handoff{Requests: f.Requests, Replied: f.Replied, MedianFirstReply: f.Median().Seconds(), OpenNow: f.Open,
			OpenOver24h: f.OpenOver, Up: f.Up, Down: f.Down}
	}
	h.render(w, http.StatusOK, "hoidap", p)
}

// hoidapClosed searches the closed requests (?q=, without diacritics
// too; "#12" finds request 12).
func (h *Handler) hoidapClosed(w http.ResponseWriter, r *http.Request) {
	p := h.hoidapBase(r, "Yêu cầu đã đóng")
	p.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	p.Searched = true
	ts, err := h.store.ListTickets(r.Context(), storage.TicketFilter{Status: storage.TicketClosed, Limit: 2000, Text: p.Query != ""})
	if err != nil {
		h.serverError(w, "list tickets", err)
		return
	}
	if p.Query != "" {
		want := vi.Fold(p.Query)
		num, _ := strconv.ParseInt(strings.TrimPrefix(p.Query, "#"), 10, 64)
		kept := ts[:0]
		for _, t := range ts {
			if t.ID == num || (want != "" && strings.Contains(vi.Fold(t.AllText), want)) {
				kept = append(kept, t)
			}
		}
		ts = kept
	}
	if len(ts) > 200 {
		ts = ts[:200]
	}
	p.Closed = h.rows(ts)
	h.render(w, http.StatusOK, "hoidap-closed", p)
}

// messageRow is one message of a conversation.
type messageRow struct {
	storage.TicketMessage
	Who     string
	Problem string
	Resend  bool
}

type ticketPage struct {
	hoidapPage
	Ticket   ticketRow
	Messages []messageRow
	Notice   string
	Error    string
	Reply    string
}

func (h *Handler) ticketID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

func (h *Handler) ticketPage(w http.ResponseWriter, r *http.Request) {
	id, ok := h.ticketID(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	h.showTicket(w, r, id, http.StatusOK, r.URL.Query().Get("ok"), "", "")
}

var notices = map[string]string{
	"reply":  "Đã lưu câu trả lời; đang gửi cho người dân (trạng thái hiện bên cạnh tin nhắn).",
	"claim":  "Bạn đã nhận xử lý yêu cầu này.",
	"close":  "Đã đóng yêu cầu; người dân được báo và được mời đánh giá.",
	"resend": "Đã xếp lại tin nhắn để gửi.",
}

func (h *Handler) showTicket(w http.ResponseWriter, r *http.Request, id int64, status int, ok, errText, reply string) {
	t, err := h.store.Ticket(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, "read ticket", err)
		return
	}
	ms, err := h.store.TicketMessages(r.Context(), id)
	if err != nil {
		h.serverError(w, "read ticket messages", err)
		return
	}
	p := ticketPage{hoidapPage: h.hoidapBase(r, fmt.Sprintf("Yêu cầu #%d", id)), Ticket: h.rows([]storage.Ticket{t})[0],
		Notice: notices[ok], Error: errText, Reply: reply}
	for _, m := range ms {
		row := messageRow{TicketMessage: m, Problem: handoff.ProblemText(m.State, t.Channel)}
		switch m.Author {
		case storage.AuthorResident:
			row.Who = "Người dân"
		case storage.AuthorBot:
			row.Who = "Trợ lý tự động"
		case storage.AuthorStaff:
			row.Who = m.StaffName
			if m.Via == bot.StaffViaTelegram {
				row.Who += " (Telegram)"
			} else {
				row.Who += " (trang quản trị)"
			}
			row.Resend = t.Open() && (m.State == storage.DeliveryFailed || m.State == storage.DeliveryUndeliverable || m.State == storage.DeliveryUnknown)
		default:
			row.Who = "Hệ thống"
		}
		p.Messages = append(p.Messages, row)
	}
	h.render(w, status, "ticket", p)
}

// ticketAction wraps the POST actions on a ticket: it reads the id and
// the form, needs the desk, and shows the ticket again after.
func (h *Handler) ticketAction(fn func(w http.ResponseWriter, r *http.Request, id int64)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := h.ticketID(r)
		if !ok || h.desk == nil {
			http.NotFound(w, r)
			return
		}
		fn(w, r, id)
	})
}

func (h *Handler) afterAction(w http.ResponseWriter, r *http.Request, id int64, what string) {
	http.Redirect(w, r, fmt.Sprintf("/admin/hoidap/%d?ok=%s", id, what), http.StatusSeeOther)
}

// actionError shows a failed action on the ticket page.
func (h *Handler) actionError(w http.ResponseWriter, r *http.Request, id int64, err error, reply string) {
	var msg string
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, storage.ErrNotFound):
		http.NotFound(w, r)
		return
	case errors.Is(err, storage.ErrTicketClosed):
		msg, status = "Yêu cầu này đã đóng: tin nhắn không được gửi cho người dân.", http.StatusConflict
	case errors.Is(err, handoff.ErrEmptyReply):
		msg = "Câu trả lời đang trống."
	case errors.Is(err, handoff.ErrReplyTooLong):
		msg = fmt.Sprintf("Câu trả lời quá dài (tối đa %d ký tự). Hãy chia thành vài tin.", handoff.MaxReplyLen)
	case errors.Is(err, errNoName):
		msg = "Hãy nhập tên của bạn (người dân và đồng nghiệp thấy tên này)."
	default:
		h.log.Error("admin: ticket action", "ticket", id, "err", err)
		msg, status = "Không thực hiện được, thử lại sau.", http.StatusInternalServerError
	}
	h.showTicket(w, r, id, status, "", msg, reply)
}

var errNoName = errors.New("no staff name")

func (h *Handler) replyTicket(w http.ResponseWriter, r *http.Request, id int64) {
	text := r.PostFormValue("text")
	who, ok := formStaff(w, r)
	if !ok {
		h.actionError(w, r, id, errNoName, text)
		return
	}
	if _, err := h.desk.Reply(r.Context(), id, who, text); err != nil {
		h.actionError(w, r, id, err, text)
		return
	}
	h.afterAction(w, r, id, "reply")
}

func (h *Handler) claimTicket(w http.ResponseWriter, r *http.Request, id int64) {
	who, ok := formStaff(w, r)
	if !ok {
		h.actionError(w, r, id, errNoName, "")
		return
	}
	if _, _, err := h.desk.Claim(r.Context(), id, who); err != nil {
		h.actionError(w, r, id, err, "")
		return
	}
	h.afterAction(w, r, id, "claim")
}

func (h *Handler) closeTicket(w http.ResponseWriter, r *http.Request, id int64) {
	who, ok := formStaff(w, r)
	if !ok {
		h.actionError(w, r, id, errNoName, "")
		return
	}
	if _, err := h.desk.Close(r.Context(), id, who); err != nil {
		h.actionError(w, r, id, err, "")
		return
	}
	h.afterAction(w, r, id, "close")
}

func (h *Handler) resendTicket(w http.ResponseWriter, r *http.Request, id int64) {
	out, err := strconv.ParseInt(r.PathValue("out"), 10, 64)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	o, err := h.store.OutboxItem(r.Context(), out)
	if err != nil || o.TicketID != id {
		http.NotFound(w, r)
		return
	}
	if _, err := h.desk.Resend(r.Context(), out); err != nil {
		h.actionError(w, r, id, err, "")
		return
	}
	h.afterAction(w, r, id, "resend")
}

// ticketResidentQuestions returns a ticket's resident messages, in order,
// without repeats, and the staff answers.
func (h *Handler) ticketTexts(ctx context.Context, id int64) (questions, answers []string, err error) {
	ms, err := h.store.TicketMessages(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, m := range ms {
		switch m.Author {
		case storage.AuthorResident:
			q := strings.Join(strings.Fields(m.Text), " ")
			if q != "" && !seen[vi.Fold(q)] {
				seen[vi.Fold(q)] = true
				questions = append(questions, q)
			}
		case storage.AuthorStaff:
			answers = append(answers, strings.TrimSpace(m.Text))
		}
	}
	return questions, answers, nil
}
