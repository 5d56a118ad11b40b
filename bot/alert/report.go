package alert

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/storage"
)

// Progress is where a job stands: counts, the sending rate and the time
// left.
type Progress struct {
	Job storage.AlertJob
	storage.AlertProgress
	// Rate is messages handled a second: over the last RecentWindow while
	// the job runs, over the whole job once it is finished.
	Rate float64
	// ETA is the estimated time left (0 when nothing is left).
	ETA time.Duration
}

// nominalRate is the rate assumed before any message was sent.
const nominalRate = 28.0

// GetProgress reads a job's progress at now.
func GetProgress(ctx context.Context, db *storage.DB, id int64, now time.Time) (Progress, error) {
	j, err := db.AlertJob(ctx, id)
	if err != nil {
		return Progress{}, err
	}
	p, err := db.AlertJobProgress(ctx, id, now)
	if err != nil {
		return Progress{}, err
	}
	pr := Progress{Job: j, AlertProgress: p}
	handled := p.Total - p.Left - p.States[storage.DeliveryCancelled]
	switch {
	case j.Status == storage.JobDone && !j.StartedAt.IsZero() && j.FinishedAt.After(j.StartedAt):
		pr.Rate = float64(handled) / j.FinishedAt.Sub(j.StartedAt).Seconds()
	case !p.LastAt.IsZero():
		window := storage.RecentWindow
		if since := now.Sub(j.StartedAt); since > 0 && since < window {
			window = since
		}
		pr.Rate = float64(p.Recent) / window.Seconds()
	}
	if p.Left > 0 && j.Status == storage.JobRunning {
		r := pr.Rate
		if r <= 0 {
			r = nominalRate
		}
		pr.ETA = time.Duration(float64(p.Left) / r * float64(time.Second))
	}
	return pr, nil
}

// Finished reports whether the job will send nothing more.
func (p Progress) Finished() bool {
	return p.Job.Status == storage.JobDone || p.Job.Status == storage.JobCancelled
}

// Bar renders the progress as one line of width characters of bar, for a
// terminal.
func (p Progress) Bar(width int) string {
	total := max(p.Total, p.Job.Planned)
	done := p.Total - p.Left
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	if p.Job.Status == storage.JobScheduled {
		frac = 0
	}
	fill := int(math.Round(frac * float64(width)))
	bar := strings.Repeat("█", fill) + strings.Repeat("░", width-fill)
	line := fmt.Sprintf("[%s] %d/%d  gửi được %d, lỗi %d, còn %d", bar, done, total, p.Sent, p.Failed, p.Left)
	switch {
	case p.Job.Status == storage.JobScheduled:
		line += " – hẹn gửi lúc " + bot.VNTime(p.Job.ScheduledFor)
	case p.Job.Status == storage.JobPaused:
		line += " – tạm dừng"
	case p.Finished():
		line += fmt.Sprintf(" – %s, %.1f tin/giây", StatusText(p.Job.Status), p.Rate)
	default:
		line += fmt.Sprintf(" – %.1f tin/giây, còn khoảng %s", p.Rate, p.ETA.Round(time.Second))
	}
	return line
}

// Report is a job's outcome (dashboard, `trolyso alert status`, the
// "alerts" key of `trolyso stats --json`).
type Report struct {
	Job          int64     `json:"job"`
	Kind         string    `json:"kind"`
	Title        string    `json:"title"`
	Status       string    `json:"status"`
	ConfirmedBy  string    `json:"confirmed_by"`
	CreatedAt    time.Time `json:"created_at"`
	ScheduledFor time.Time `json:"scheduled_for"`
	StartedAt    time.Time `json:"started_at,omitzero"`
	FinishedAt   time.Time `json:"finished_at,omitzero"`
	ExpiresAt    time.Time `json:"expires_at"`
	// Recipients is the delivery rows written when the job started
	// (Planned at confirmation, before it started).
	Recipients int `json:"recipients"`
	Delivered  int `json:"delivered"`
	Left       int `json:"left"`
	// Failed counts undelivered recipients by state (failed, blocked,
	// undeliverable, unknown, cancelled); Reasons by state and error.
	Failed  map[string]int         `json:"failed"`
	Reasons []storage.AlertFailure `json:"failed_reasons"`
	// Unsubscribed counts residents whose unsubscribing is put down to
	// this alert (blocked the bot on it, or said "dừng" within a day).
	Unsubscribed   int            `json:"unsubscribed"`
	UnsubscribedBy map[string]int `json:"unsubscribed_by"`
	// DurationSeconds runs from the start to the last recorded outcome;
	// RatePerSecond is handled recipients over it.
	DurationSeconds float64 `json:"duration_seconds"`
	RatePerSecond   float64 `json:"rate_per_second"`
}

// BuildReport reads a job's report.
func BuildReport(ctx context.Context, db *storage.DB, id int64) (Report, error) {
	j, err := db.AlertJob(ctx, id)
	if err != nil {
		return Report{}, err
	}
	p, err := db.AlertJobProgress(ctx, id, j.CreatedAt)
	if err != nil {
		return Report{}, err
	}
	r := Report{Job: j.ID, Kind: j.Kind, Title: j.Title, Status: j.Status, ConfirmedBy: j.CreatedBy, CreatedAt: j.CreatedAt,
		ScheduledFor: j.ScheduledFor, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt, ExpiresAt: j.ExpiresAt,
		Recipients: p.Total, Delivered: p.Sent, Left: p.Left, Failed: map[string]int{}}
	if j.StartedAt.IsZero() {
		r.Recipients = j.Planned
	}
	for st, n := range p.States {
		if st != storage.DeliverySent && st != storage.DeliveryPending && st != storage.DeliverySending {
			r.Failed[st] = n
		}
	}
	if r.Reasons, err = db.AlertJobFailures(ctx, id); err != nil {
		return Report{}, err
	}
	if r.UnsubscribedBy, err = db.AlertUnsubscribed(ctx, id); err != nil {
		return Report{}, err
	}
	for _, n := range r.UnsubscribedBy {
		r.Unsubscribed += n
	}
	if !j.StartedAt.IsZero() && !p.LastAt.IsZero() && p.LastAt.After(j.StartedAt) {
		end := p.LastAt
		r.DurationSeconds = math.Round(end.Sub(j.StartedAt).Seconds()*10) / 10
		handled := p.Total - p.Left - p.States[storage.DeliveryCancelled]
		if d := end.Sub(j.StartedAt).Seconds(); d > 0 {
			r.RatePerSecond = math.Round(float64(handled)/d*10) / 10
		}
	}
	return r, nil
}

// Reports builds the report of every job created in [from, to).
func Reports(ctx context.Context, db *storage.DB, from, to time.Time) ([]Report, error) {
	js, err := db.AlertJobsBetween(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]Report, 0, len(js))
	for _, j := range js {
		r, err := BuildReport(ctx, db, j.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
