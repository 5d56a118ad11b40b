package admin

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/alert"
	"github.com/colecommune/trolyso/bot/web"
	"github.com/colecommune/trolyso/knowledge/alerts"
	"github.com/colecommune/trolyso/storage"
)

// The alerts page (/admin/thongbao): compose an alert (or start from a
// ready-made template), preview it as each channel shows it with the
// recipient count, confirm (the confirmer's name is required, and above
// alert.ConfirmAbove recipients the count must be typed), then follow the
// job's progress, pause, resume or cancel it. The running server's alert
// sender sends the recorded job.

// maxAlertForm bounds the body of the compose and confirm forms.
const maxAlertForm = 64 << 10

// alertRoutes mounts the alerts pages (called by Routes).
func (h *Handler) alertRoutes(mux *http.ServeMux) {
	form := func(f http.HandlerFunc) http.Handler { return secure(http.MaxBytesHandler(h.auth(f), maxAlertForm)) }
	mux.Handle("GET /admin/thongbao", secure(h.auth(http.HandlerFunc(h.alertsHome))))
	mux.Handle("POST /admin/thongbao/xem", form(h.alertPreview))
	mux.Handle("POST /admin/thongbao/gui", form(h.alertSend))
	mux.Handle("GET /admin/thongbao/{id}", secure(h.auth(http.HandlerFunc(h.alertJob))))
	mux.Handle("POST /admin/thongbao/{id}/pause", secure(h.auth(h.alertStatus(storage.JobPaused))))
	mux.Handle("POST /admin/thongbao/{id}/resume", secure(h.auth(h.alertStatus(storage.JobRunning))))
	mux.Handle("POST /admin/thongbao/{id}/cancel", secure(h.auth(h.alertStatus(storage.JobCancelled))))
}

// alertForm is the compose form, carried through preview and confirmation.
type alertForm struct {
	Kind, Title, Body, Link, Image, Entries, At, Expires, By string
	Villages, Channels                                       []string
	Confirm                                                  string // the typed count
}

func readAlertForm(r *http.Request) alertForm {
	f := alertForm{
		Kind: r.PostFormValue("kind"), Title: r.PostFormValue("title"), Body: r.PostFormValue("body"),
		Link: strings.TrimSpace(r.PostFormValue("link")), Image: strings.TrimSpace(r.PostFormValue("image")),
		Entries: r.PostFormValue("entries"), At: strings.TrimSpace(r.PostFormValue("at")), Expires: strings.TrimSpace(r.PostFormValue("expires")),
		By: strings.TrimSpace(r.PostFormValue("by")), Confirm: strings.TrimSpace(r.PostFormValue("confirm")),
	}
	if r.PostForm != nil {
		f.Villages = r.PostForm["villages"]
		f.Channels = r.PostForm["channels"]
	}
	return f
}

func (f alertForm) spec() (alert.Spec, error) {
	s := alert.Spec{Kind: f.Kind, Title: f.Title, Body: strings.ReplaceAll(f.Body, "\r\n", "\n"), Link: f.Link, Image: f.Image,
		Entries: alert.SplitList(f.Entries), Villages: f.Villages, Channels: f.Channels, Expires: f.Expires}
	if f.At != "" {
		at, err := alert.ParseTime(f.At)
		if err != nil {
			return s, alert.Problems{"Giờ gửi không hợp lệ: " + f.At}
		}
		s.At = at
	}
	return s, nil
}

// Has reports whether a multi-valued field holds v (checkboxes).
func (f alertForm) Has(field, v string) bool {
	xs := f.Villages
	if field == "channels" {
		xs = f.Channels
	}
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

type templateLink struct{ Name, Title string }

type jobRow struct {
	storage.AlertJob
	Progress alert.Progress
}

type alertsPage struct {
	page
	Form        alertForm
	Problems    []string
	Villages    []string
	Templates   []templateLink
	Jobs        []jobRow
	Subscribers []storage.SubscriberCount
	Total       int
	// Preview step.
	Job          storage.AlertJob
	Preview      alert.Preview
	TelegramHTML template.HTML
	GroupHTML    template.HTML
	Count        storage.AlertCount
	CountText    string
	TargetText   string
	NeedCount    bool
	EntryTitles  []string
	// Job page.
	Report   alert.Report
	Failures []storage.AlertFailure // state in Vietnamese
	Statuses map[string]string
}

func (h *Handler) alertsBase(r *http.Request, title string) alertsPage {
	p := alertsPage{page: h.basePage(r, title, "alerts")}
	p.Villages = bot.ProfileVillages(h.kb())
	for _, n := range alerts.Names() {
		if raw, err := alerts.Read(n); err == nil {
			if s, err := alert.Parse(raw); err == nil {
				p.Templates = append(p.Templates, templateLink{n, s.Title})
			}
		}
	}
	return p
}

// alertsHome shows the compose form (filled from ?mau=TEMPLATE), the
// recent jobs and the subscribers.
func (h *Handler) alertsHome(w http.ResponseWriter, r *http.Request) {
	p := h.alertsBase(r, "Thông báo & cảnh báo")
	p.Form = alertForm{Kind: storage.AlertScam}
	if name := r.URL.Query().Get("mau"); name != "" {
		raw, err := alerts.Read(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		s, err := alert.Parse(raw)
		if err != nil {
			h.serverError(w, "read alert template", err)
			return
		}
		p.Form = alertForm{Kind: s.Kind, Title: s.Title, Body: s.Body, Link: s.Link, Image: s.Image,
			Entries: strings.Join(s.Entries, ", "), Expires: s.Expires, Villages: s.Villages, Channels: s.Channels}
	}
	h.renderAlertsHome(w, r, p, http.StatusOK)
}

func (h *Handler) renderAlertsHome(w http.ResponseWriter, r *http.Request, p alertsPage, status int) {
	ctx := r.Context()
	js, err := h.store.AlertJobs(ctx, 20)
	if err != nil {
		h.serverError(w, "list alert jobs", err)
		return
	}
	for _, j := range js {
		pr, err := alert.GetProgress(ctx, h.store, j.ID, h.now())
		if err != nil {
			h.serverError(w, "alert progress", err)
			return
		}
		p.Jobs = append(p.Jobs, jobRow{AlertJob: j, Progress: pr})
	}
	if p.Subscribers, err = h.store.SubscriberCounts(ctx); err != nil {
		h.serverError(w, "count subscribers", err)
		return
	}
	for _, c := range p.Subscribers {
		p.Total += c.Count
	}
	p.Statuses = statusTexts
	h.render(w, status, "alerts", p)
}

var statusTexts = map[string]string{
	storage.JobScheduled: alert.StatusText(storage.JobScheduled), storage.JobRunning: alert.StatusText(storage.JobRunning),
	storage.JobPaused: alert.StatusText(storage.JobPaused), storage.JobDone: alert.StatusText(storage.JobDone),
	storage.JobCancelled: alert.StatusText(storage.JobCancelled),
}

// buildAlert checks the form and returns the job and its recipient count;
// on problems it shows the form again with them and returns false.
func (h *Handler) buildAlert(w http.ResponseWriter, r *http.Request, f alertForm) (storage.AlertJob, storage.AlertCount, bool) {
	var probs []string
	s, err := f.spec()
	if err != nil {
		probs = append(probs, err.Error())
	}
	by := f.By
	if by == "" {
		by = "?" // Build requires someone; the name is checked below
	}
	j, err := alert.Build(s, h.kb(), h.now(), by+" (bảng quản trị, "+web.ClientAddr(r, h.trusted)+")")
	var p alert.Problems
	if errors.As(err, &p) {
		probs = append(probs, p...)
	} else if err != nil {
		probs = append(probs, err.Error())
	}
	if f.By == "" {
		probs = append(probs, "Nhập họ tên người xác nhận gửi.")
	}
	var c storage.AlertCount
	if len(probs) == 0 {
		if c, err = h.store.CountAlertRecipients(r.Context(), storage.JobTarget(j)); err != nil {
			h.serverError(w, "count alert recipients", err)
			return j, c, false
		}
		if c.Total == 0 {
			probs = append(probs, "Không có người nhận: chưa ai đăng ký nhận tin phù hợp với thôn, kênh đã chọn.")
		}
	}
	if len(probs) > 0 {
		pg := h.alertsBase(r, "Thông báo & cảnh báo")
		pg.Form, pg.Problems = f, probs
		h.renderAlertsHome(w, r, pg, http.StatusBadRequest)
		return j, c, false
	}
	j.Planned = c.Total
	return j, c, true
}

func (h *Handler) alertPreview(w http.ResponseWriter, r *http.Request) {
	f := readAlertForm(r)
	j, c, ok := h.buildAlert(w, r, f)
	if !ok {
		return
	}
	h.showPreview(w, r, f, j, c, "", http.StatusOK)
}

func (h *Handler) showPreview(w http.ResponseWriter, r *http.Request, f alertForm, j storage.AlertJob, c storage.AlertCount, problem string, status int) {
	p := h.alertsBase(r, "Xem trước: "+j.Title)
	p.Form, p.Job, p.Count = f, j, c
	p.Preview = alert.PreviewOf(j)
	// Telegram's HTML subset from bot/markup: raw HTML in the source is
	// escaped, links are http(s) only.
	p.TelegramHTML = template.HTML(p.Preview.TelegramHTML)
	p.GroupHTML = template.HTML(p.Preview.GroupHTML)
	p.CountText, p.TargetText = alert.CountText(c), alert.TargetText(j)
	p.NeedCount = c.Total > alert.ConfirmAbove
	if problem != "" {
		p.Problems = []string{problem}
	}
	if b := h.kb(); b != nil {
		for _, id := range j.Entries {
			if en, ok := b.Entry(id); ok {
				p.EntryTitles = append(p.EntryTitles, en.Title+" ("+id+")")
			}
		}
	}
	h.render(w, status, "alertPreview", p)
}

// alertSend records the confirmed job. The count shown at preview must
// still hold (and, above ConfirmAbove, have been typed).
func (h *Handler) alertSend(w http.ResponseWriter, r *http.Request) {
	f := readAlertForm(r)
	j, c, ok := h.buildAlert(w, r, f)
	if !ok {
		return
	}
	if planned := r.PostFormValue("planned"); planned != strconv.Itoa(c.Total) {
		h.showPreview(w, r, f, j, c, "Số người nhận đã thay đổi từ lúc xem trước ("+planned+" → "+strconv.Itoa(c.Total)+"). Kiểm tra lại rồi xác nhận.", http.StatusConflict)
		return
	}
	if c.Total > alert.ConfirmAbove && f.Confirm != strconv.Itoa(c.Total) {
		h.showPreview(w, r, f, j, c, "Gửi tới hơn "+strconv.Itoa(alert.ConfirmAbove)+" người: hãy gõ đúng số người nhận ("+strconv.Itoa(c.Total)+") để xác nhận.", http.StatusBadRequest)
		return
	}
	if err := h.store.CreateAlertJob(r.Context(), &j); err != nil {
		h.log.Error("create alert job", "err", err)
		http.Error(w, "Không lưu được yêu cầu gửi.", http.StatusInternalServerError)
		return
	}
	h.log.Info("alert job created from the dashboard", "job", j.ID, "kind", j.Kind, "recipients", c.Total,
		"scheduled_for", j.ScheduledFor.Format(time.RFC3339), "confirmed_by", j.CreatedBy)
	http.Redirect(w, r, "/admin/thongbao/"+strconv.FormatInt(j.ID, 10), http.StatusSeeOther)
}

func (h *Handler) alertJob(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.NotFound(w, r)
		return
	}
	pr, err := alert.GetProgress(r.Context(), h.store, id, h.now())
	if errors.Is(err, storage.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, "alert progress", err)
		return
	}
	rep, err := alert.BuildReport(r.Context(), h.store, id)
	if err != nil {
		h.serverError(w, "alert report", err)
		return
	}
	p := h.alertsBase(r, "Lần gửi #"+strconv.FormatInt(id, 10)+" – "+pr.Job.Title)
	p.Job, p.Report, p.Statuses = pr.Job, rep, statusTexts
	p.Jobs = []jobRow{{AlertJob: pr.Job, Progress: pr}}
	p.Preview = alert.PreviewOf(pr.Job)
	p.TelegramHTML = template.HTML(p.Preview.TelegramHTML)
	p.TargetText = alert.TargetText(pr.Job)
	for _, f := range rep.Reasons {
		f.State = alert.StateText(f.State)
		p.Failures = append(p.Failures, f)
	}
	if s := pr.Job.Status; s == storage.JobRunning || s == storage.JobScheduled {
		w.Header().Set("Refresh", "3") // follow the progress
	}
	h.render(w, http.StatusOK, "alertJob", p)
}

// alertStatus pauses, resumes or cancels a job (the CSRF token was checked
// by auth).
func (h *Handler) alertStatus(status string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			http.Error(w, "Mã lần gửi không hợp lệ.", http.StatusBadRequest)
			return
		}
		_, err = h.store.SetAlertJobStatus(r.Context(), id, status)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			http.Error(w, "Không có lần gửi này.", http.StatusNotFound)
			return
		case errors.Is(err, storage.ErrJobState):
			http.Error(w, "Lần gửi này không còn ở trạng thái cho phép thao tác đó.", http.StatusConflict)
			return
		case err != nil:
			h.log.Error("change alert job", "job", id, "err", err)
			http.Error(w, "Không lưu được thay đổi.", http.StatusInternalServerError)
			return
		}
		h.log.Info("alert job changed from the dashboard", "job", id, "status", status, "addr", web.ClientAddr(r, h.trusted))
		http.Redirect(w, r, "/admin/thongbao/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	}
}
