package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/knowledge"
)

func withSession(ctx context.Context, s session) context.Context {
	return context.WithValue(ctx, ctxSession{}, s)
}

func csrfOf(r *http.Request) string {
	s, _ := r.Context().Value(ctxSession{}).(session)
	return s.csrf
}

func (h *Handler) kb() *knowledge.Base {
	if h.base == nil {
		return nil
	}
	return h.base()
}

func (h *Handler) commune() string {
	if b := h.kb(); b != nil && b.Profile != nil {
		return b.Profile.Name
	}
	return ""
}

// rangeOf reads the period of a page: ?from=&to= dates, or ?period=
// (week, month, quarter, year, all; the current quarter by default).
func (h *Handler) rangeOf(r *http.Request) (stats.Range, error) {
	return rangeFrom(r, h.now(), h.loc)
}

// errBadRange marks a period that could not be read.
var errBadRange = errors.New("bad period")

func rangeFrom(r *http.Request, now time.Time, loc *time.Location) (stats.Range, error) {
	q := r.URL.Query()
	if qt := q.Get("quarter"); qt != "" {
		rg, err := stats.ParseQuarter(qt, loc)
		if err != nil {
			return rg, fmt.Errorf("%w: %v", errBadRange, err)
		}
		return rg, nil
	}
	var rg stats.Range
	var err error
	if from, to := q.Get("from"), q.Get("to"); from != "" || to != "" {
		rg, err = stats.Dates(from, to, loc)
	} else {
		p := q.Get("period")
		if p == "" {
			p = "quarter"
		}
		rg, err = stats.Period(p, now, loc)
	}
	if err != nil {
		return rg, fmt.Errorf("%w: %v", errBadRange, err)
	}
	return rg, nil
}

func (h *Handler) build(w http.ResponseWriter, r *http.Request, opts stats.Options) (stats.Report, bool) {
	rg, err := h.rangeOf(r)
	if err != nil {
		http.Error(w, "Kỳ thống kê không hợp lệ: dùng ngày dạng YYYY-MM-DD.", http.StatusBadRequest)
		return stats.Report{}, false
	}
	opts.Base, opts.Location = h.kb(), h.loc
	rep, err := stats.Build(r.Context(), h.store, rg, opts)
	if err != nil {
		h.log.Error("build statistics", "err", err)
		http.Error(w, "Không đọc được số liệu.", http.StatusInternalServerError)
		return stats.Report{}, false
	}
	return rep, true
}

type page struct {
	Title   string
	Active  string
	CSRF    string
	Commune string
	// Missing lists the commune details still to fill in (a banner on
	// every page until the profile is complete).
	Missing []knowledge.Missing
	// Review counts the entries due for review (the "Cần rà soát" link).
	Review  int
	Report  stats.Report
	Query   string // period query of the page, for links
	Quarter string // current quarter, like 2026Q3
	Periods []periodLink
	Weekly  Chart
	Topics  Bars
	// Reminders is the overview's reminder card.
	Reminders reminderSummary
	// In a province: the logged-in account, and for a province admin the
	// communes to switch to (Current is the one shown).
	Account string
	Switch  []CommuneDashboard
	Current string
}

type periodLink struct {
	ID, Label string
	Current   bool
}

// basePage is what every dashboard page shows: title, navigation, the
// session's CSRF token and the unfinished-profile banner.
func (h *Handler) basePage(r *http.Request, title, active string) page {
	p := page{Title: title, Active: active, CSRF: csrfOf(r), Commune: h.commune()}
	if h.province != nil {
		s := sessionOf(r)
		p.Account = s.account.Name
		if s.account.Province() {
			p.Switch = h.province.communeLinks()
			p.Current = h.store.CommuneSlug()
		}
	}
	if b := h.kb(); b != nil && b.Profile != nil {
		p.Missing = b.Profile.Missing
	}
	p.Review = h.reviewCount()
	return p
}

func (h *Handler) page(r *http.Request, title, active string, rep stats.Report) page {
	now := h.now().In(h.loc)
	p := h.basePage(r, title, active)
	p.Report = rep
	p.Quarter = fmt.Sprintf("%dQ%d", now.Year(), (int(now.Month())-1)/3+1)
	if rep.Period == "range" {
		p.Query = "from=" + rep.From.Format("2006-01-02") + "&to=" + rep.To.AddDate(0, 0, -1).Format("2006-01-02")
	} else {
		p.Query = "period=" + rep.Period
	}
	for _, pl := range stats.Periods {
		p.Periods = append(p.Periods, periodLink{pl.ID, pl.Label, pl.ID == rep.Period})
	}
	p.Periods = append(p.Periods, periodLink{"all", "Toàn bộ", rep.Period == "all"})
	return p
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	rep, ok := h.build(w, r, stats.Options{Unanswered: 10, Lowest: 5})
	if !ok {
		return
	}
	p := h.page(r, "Tổng quan", "overview", rep)
	p.Weekly = weeklyChart(rep.ByWeek)
	p.Topics = topicBars(rep.ByTopic, 12)
	var err error
	if p.Reminders, err = h.summarizeReminders(r.Context()); err != nil {
		h.serverError(w, "summarize reminders", err)
		return
	}
	h.render(w, http.StatusOK, "overview", p)
}

func (h *Handler) unanswered(w http.ResponseWriter, r *http.Request) {
	rep, ok := h.build(w, r, stats.Options{Unanswered: 500, Lowest: 1})
	if !ok {
		return
	}
	h.render(w, http.StatusOK, "unanswered", h.page(r, "Câu hỏi chưa trả lời được", "unanswered", rep))
}

func (h *Handler) lowest(w http.ResponseWriter, r *http.Request) {
	rep, ok := h.build(w, r, stats.Options{Unanswered: 1, Lowest: 100})
	if !ok {
		return
	}
	h.render(w, http.StatusOK, "lowest", h.page(r, "Câu trả lời bị đánh giá thấp", "lowest", rep))
}

// report downloads the quarterly report: ?quarter=2026Q3&format=xlsx|csv|html.
func (h *Handler) report(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rg, err := stats.ParseQuarter(q.Get("quarter"), h.loc)
	if err != nil {
		http.Error(w, "Quý không hợp lệ: dùng dạng 2026Q3.", http.StatusBadRequest)
		return
	}
	rep, err := stats.Build(r.Context(), h.store, rg, stats.Options{Base: h.kb(), Location: h.loc, Unanswered: 50, Lowest: 20})
	if err != nil {
		h.log.Error("build report", "err", err)
		http.Error(w, "Không đọc được số liệu.", http.StatusInternalServerError)
		return
	}
	// The file name is built from the parsed quarter, never from the raw
	// parameter (which ParseQuarter accepts with spaces, dashes or lower case).
	name := fmt.Sprintf("bao-cao-hai-long-%dQ%d", rg.From.Year(), (int(rg.From.Month())-1)/3+1)
	switch q.Get("format") {
	case "csv", "":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		err = stats.WriteCSV(w, rep, h.commune())
	case "xlsx":
		var buf bytes.Buffer
		if err = stats.WriteXLSX(&buf, rep, h.commune(), h.now().In(h.loc)); err == nil {
			w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
			_, err = w.Write(buf.Bytes())
		} else {
			http.Error(w, "Không tạo được tệp Excel.", http.StatusInternalServerError)
		}
	case "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err = stats.WriteHTML(w, rep, h.commune(), h.now().In(h.loc))
	default:
		http.Error(w, "Định dạng phải là xlsx, csv hoặc html.", http.StatusBadRequest)
		return
	}
	if err != nil {
		h.log.Error("write report", "err", err)
	}
}

// Chart is a bar chart of weekly satisfaction with the 95% target line,
// laid out in SVG user units.
type Chart struct {
	Width, Height float64
	Top, Bottom   float64 // y of 100% and 0%
	Left, Right   float64
	TargetY       float64
	Bars          []ChartBar
	Grid          []GridLine
	Empty         bool
}

// ChartBar is one week.
type ChartBar struct {
	X, Y, W, H float64
	LabelX     float64
	Label      string
	Title      string
	Below      bool // under the target
}

// GridLine is a horizontal percentage line.
type GridLine struct {
	Y     float64
	Label string
}

func weeklyChart(weeks []stats.Group) Chart {
	c := Chart{Width: 720, Height: 260, Top: 20, Bottom: 220, Left: 48, Right: 710}
	scale := func(f float64) float64 { return c.Bottom - f*(c.Bottom-c.Top) }
	c.TargetY = scale(stats.Target)
	for _, f := range []float64{0, 0.25, 0.5, 0.75, 1} {
		c.Grid = append(c.Grid, GridLine{Y: scale(f), Label: fmt.Sprintf("%d%%", int(f*100))})
	}
	var rated []stats.Group
	for _, g := range weeks {
		if g.Rated > 0 {
			rated = append(rated, g)
		}
	}
	if len(rated) > 26 {
		rated = rated[len(rated)-26:]
	}
	c.Empty = len(rated) == 0
	if c.Empty {
		return c
	}
	slot := (c.Right - c.Left) / float64(len(rated))
	bw := min(slot*0.7, 60)
	for i, g := range rated {
		x := c.Left + float64(i)*slot + (slot-bw)/2
		y := scale(g.Rate)
		label := g.Key
		if _, wk, ok := strings.Cut(g.Key, "-"); ok {
			label = wk
		}
		c.Bars = append(c.Bars, ChartBar{X: x, Y: y, W: bw, H: c.Bottom - y, LabelX: x + bw/2, Label: label,
			Title: fmt.Sprintf("Tuần %s: %d/%d hài lòng (%s)", g.Key, g.Satisfied, g.Rated, stats.Pct(g.Rate)), Below: g.Rate < stats.Target})
	}
	return c
}

// Bars is a horizontal bar chart of satisfaction by topic.
type Bars struct {
	Width, Height float64
	LabelW        float64
	BarMax        float64
	TargetX       float64
	Rows          []BarRow
}

// BarRow is one topic.
type BarRow struct {
	Y, W   float64
	TextY  float64
	Label  string
	Value  string
	Below  bool
	Rated  int
	Answer int
}

func topicBars(topics []stats.Group, limit int) Bars {
	b := Bars{Width: 720, LabelW: 300, BarMax: 300}
	b.TargetX = b.LabelW + stats.Target*b.BarMax
	var rows []stats.Group
	for _, g := range topics {
		if g.Rated > 0 {
			rows = append(rows, g)
		}
	}
	if len(rows) > limit {
		rows = rows[:limit]
	}
	const rowH = 26
	for i, g := range rows {
		y := float64(i*rowH + 8)
		label := g.Label
		if r := []rune(label); len(r) > 42 {
			label = string(r[:41]) + "…"
		}
		b.Rows = append(b.Rows, BarRow{Y: y, W: g.Rate * b.BarMax, TextY: y + 14, Label: label,
			Value: fmt.Sprintf("%s (%d/%d)", stats.Pct(g.Rate), g.Satisfied, g.Rated), Below: g.Rate < stats.Target, Rated: g.Rated, Answer: g.Answers})
	}
	b.Height = float64(len(rows)*rowH + 16)
	return b
}
