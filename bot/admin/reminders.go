package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/remind/spec"
	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/storage"
)

// recentRuns is how many runs the reminders page lists.
const recentRuns = 20

// remindersPage is the page of the community digital technology teams and
// their reminders. It shows no platform ids: teams' group chats only as
// "has a group", recipients by the name they gave.
type remindersPage struct {
	page
	Teams     []storage.Team
	Reminders []reminderRow
	Runs      []runRow
}

type reminderRow struct {
	storage.Reminder
	Target string // in Vietnamese
	Next   string // next run, Vietnamese local time; "—" when paused
	Words  string // the cron expression in Vietnamese words
}

type runRow struct {
	storage.Run
	Counts runCounts
}

// runCounts sums up a run's deliveries the way bot.RunStatusText does:
// acknowledged ones count as sent whatever their state.
type runCounts struct {
	Total, Sent, Acked, Waiting, Failed, Blocked, Undeliverable, Other int
}

func countDeliveries(ds []storage.Delivery) runCounts {
	c := runCounts{Total: len(ds)}
	for _, d := range ds {
		switch {
		case !d.AckAt.IsZero():
			c.Acked++
		case d.State == storage.DeliverySent:
			c.Waiting++
		case d.State == storage.DeliveryFailed:
			c.Failed++
		case d.State == storage.DeliveryBlocked:
			c.Blocked++
		case d.State == storage.DeliveryUndeliverable:
			c.Undeliverable++
		default:
			c.Other++
		}
	}
	c.Sent = c.Acked + c.Waiting
	return c
}

// nextRun is the reminder's next activation in Vietnamese time, "—" if it
// is paused or its expression no longer parses.
func nextRun(r storage.Reminder, now time.Time) string {
	if !r.Enabled {
		return "—"
	}
	s, err := spec.ParseCron(r.Cron)
	if err != nil {
		return "—"
	}
	ts := spec.NextTimes(s, now, 1)
	if len(ts) == 0 {
		return "—"
	}
	return bot.VNTime(ts[0])
}

// reminderSummary is the overview's card on the teams' reminders: the
// next one due and the last run with its acknowledgement rate.
type reminderSummary struct {
	Count int // reminders, paused ones included
	// Next is the enabled reminder due first (zero Name when none).
	Next      reminderRow
	NextAt    time.Time
	HasNext   bool
	Last      runRow
	HasLast   bool
	AckRate   float64 // Acked / Sent of the last run
	HasRate   bool
	LastWords string
}

// summarizeReminders reads what the overview shows about reminders.
func (h *Handler) summarizeReminders(ctx context.Context) (reminderSummary, error) {
	var sum reminderSummary
	rs, err := h.store.Reminders(ctx)
	if err != nil {
		return sum, err
	}
	sum.Count = len(rs)
	now := h.now()
	for _, rm := range rs {
		if !rm.Enabled {
			continue
		}
		s, err := spec.ParseCron(rm.Cron)
		if err != nil {
			continue
		}
		ts := spec.NextTimes(s, now, 1)
		if len(ts) == 0 || (sum.HasNext && !ts[0].Before(sum.NextAt)) {
			continue
		}
		sum.Next = reminderRow{Reminder: rm, Target: bot.TargetText(rm.Target), Next: bot.VNTime(ts[0]), Words: spec.Describe(rm.Cron)}
		sum.NextAt, sum.HasNext = ts[0], true
	}
	runs, err := h.store.RecentRuns(ctx, 0, 1)
	if err != nil || len(runs) == 0 {
		return sum, err
	}
	ds, err := h.store.RunDeliveries(ctx, runs[0].ID)
	if err != nil {
		return sum, err
	}
	sum.Last, sum.HasLast = runRow{Run: runs[0], Counts: countDeliveries(ds)}, true
	if c := sum.Last.Counts; c.Sent > 0 {
		sum.AckRate, sum.HasRate = float64(c.Acked)/float64(c.Sent), true
	}
	for _, rm := range rs {
		if rm.ID == runs[0].ReminderID {
			sum.LastWords = spec.Describe(rm.Cron)
		}
	}
	return sum, nil
}

func (h *Handler) serverError(w http.ResponseWriter, what string, err error) {
	h.log.Error(what, "err", err)
	http.Error(w, "Không đọc được số liệu.", http.StatusInternalServerError)
}

func (h *Handler) reminders(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := remindersPage{page: h.basePage(r, "Tổ công nghệ số & lịch nhắc", "reminders")}
	var err error
	if p.Teams, err = h.store.Teams(ctx); err != nil {
		h.serverError(w, "list teams", err)
		return
	}
	rs, err := h.store.Reminders(ctx)
	if err != nil {
		h.serverError(w, "list reminders", err)
		return
	}
	now := h.now()
	for _, rm := range rs {
		p.Reminders = append(p.Reminders, reminderRow{Reminder: rm, Target: bot.TargetText(rm.Target), Next: nextRun(rm, now), Words: spec.Describe(rm.Cron)})
	}
	runs, err := h.store.RecentRuns(ctx, 0, recentRuns)
	if err != nil {
		h.serverError(w, "list runs", err)
		return
	}
	for _, run := range runs {
		ds, err := h.store.RunDeliveries(ctx, run.ID)
		if err != nil {
			h.serverError(w, "list deliveries", err)
			return
		}
		p.Runs = append(p.Runs, runRow{Run: run, Counts: countDeliveries(ds)})
	}
	h.render(w, http.StatusOK, "reminders", p)
}

// setEnabled pauses (enabled false) or resumes a reminder, then shows the
// reminders page again. The CSRF token was checked by auth.
func (h *Handler) setEnabled(enabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			http.Error(w, "Mã lịch nhắc không hợp lệ.", http.StatusBadRequest)
			return
		}
		if err := h.store.SetReminderEnabled(r.Context(), id, enabled); errors.Is(err, storage.ErrNotFound) {
			http.Error(w, "Không có lịch nhắc này.", http.StatusNotFound)
			return
		} else if err != nil {
			h.log.Error("set reminder enabled", "reminder", id, "err", err)
			http.Error(w, "Không lưu được thay đổi.", http.StatusInternalServerError)
			return
		}
		h.log.Info("reminder enabled changed from the dashboard", "reminder", id, "enabled", enabled)
		http.Redirect(w, r, "/admin/reminders#reminder-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	}
}

// runPage lists every recipient of one run: who acknowledged, who did not,
// and those the reminder could not reach.
type runPage struct {
	page
	Run      storage.Run
	Counts   runCounts
	Sections []deliverySection // acknowledged, waiting, problems
}

type deliverySection struct {
	ID, Heading, Empty string
	Rows               []deliveryRow
}

type deliveryRow struct {
	Who     string // member's name or the team's group, with the village
	Channel string
	State   string
	Nudged  bool
	SentAt  time.Time
	AckAt   time.Time
}

func channelText(d storage.Delivery) string {
	switch {
	case d.Group():
		return "Nhóm Telegram"
	case d.Channel == "":
		return "—"
	}
	return stats.ChannelLabel(d.Channel)
}

func (h *Handler) runDetail(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.NotFound(w, r)
		return
	}
	run, err := h.store.Run(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, "read run", err)
		return
	}
	ds, err := h.store.RunDeliveries(r.Context(), id)
	if err != nil {
		h.serverError(w, "list deliveries", err)
		return
	}
	if run.ReminderName == "" {
		run.ReminderName = "(lịch nhắc đã xoá)"
	}
	p := runPage{page: h.basePage(r, "Lần gửi #"+strconv.FormatInt(id, 10)+" – "+run.ReminderName, "reminders"),
		Run: run, Counts: countDeliveries(ds)}
	acked := deliverySection{ID: "acked", Heading: "✅ Đã nhận", Empty: "Chưa ai bấm Đã nhận."}
	waiting := deliverySection{ID: "waiting", Heading: "⏳ Chưa bấm Đã nhận", Empty: "Không còn ai chưa xác nhận."}
	problems := deliverySection{ID: "problems", Heading: "⚠️ Không gửi được hoặc không rõ", Empty: "Không có."}
	for _, d := range ds {
		row := deliveryRow{Who: d.Label(), Channel: channelText(d), State: bot.DeliveryStateText(d.State), Nudged: !d.NudgedAt.IsZero(), SentAt: d.SentAt, AckAt: d.AckAt}
		switch {
		case !d.AckAt.IsZero():
			acked.Rows = append(acked.Rows, row)
		case d.State == storage.DeliverySent:
			waiting.Rows = append(waiting.Rows, row)
		default:
			problems.Rows = append(problems.Rows, row)
		}
	}
	p.Sections = []deliverySection{acked, waiting, problems}
	h.render(w, http.StatusOK, "run", p)
}
