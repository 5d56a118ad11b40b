// Package stats computes satisfaction statistics toward the commune's 95%
// target: rates with Wilson 95% intervals, the number of further satisfied
// ratings needed to reach the target, breakdowns, and the quarterly report.
package stats

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// Target is the plan's satisfaction target (95%), as the fraction
// TargetNum/TargetDen so that the gap is computed exactly.
const (
	Target    = 0.95
	TargetNum = 19
	TargetDen = 20
)

// Z is the normal quantile for a two-sided 95% interval.
const Z = 1.959964

// Satisfaction is the share of satisfied ratings among rated ones.
type Satisfaction struct {
	Rated     int     `json:"rated"`
	Satisfied int     `json:"satisfied"`
	Rate      float64 `json:"rate"`
	CILow     float64 `json:"ci_low"`
	CIHigh    float64 `json:"ci_high"`
	// NeededForTarget is the smallest N ≥ 0 with (satisfied+N)/(rated+N) ≥
	// 95%: "cần thêm N đánh giá hài lòng để đạt 95%".
	NeededForTarget int `json:"needed_for_target"`
	// EnoughData is false below MinRatings ratings: no conclusion is drawn
	// about the target yet.
	EnoughData bool `json:"enough_data"`
	// MoreRatingsNeeded is how many more ratings make MinRatings (0 once
	// there are enough).
	MoreRatingsNeeded int `json:"more_ratings_needed"`
	// Reached: the target counts as reached only when the Wilson interval's
	// lower bound is at or above 95% (and there are enough ratings).
	Reached bool `json:"target_reached"`
	// NeededForConfidence is the smallest number of further satisfied
	// ratings that would lift the interval's lower bound to 95% (-1 when
	// more than MaxConfidenceSearch would be needed).
	NeededForConfidence int `json:"needed_for_confidence"`
}

// MinRatings is the number of ratings below which the dashboard says there
// is not enough data to judge the target ("chưa đủ dữ liệu").
const MinRatings = 30

// MaxConfidenceSearch bounds the search of NeededForConfidence.
const MaxConfidenceSearch = 100000

// Compute returns the satisfaction of satisfied out of rated. With nothing
// rated the rate is 0, the interval [0, 1] and one satisfied rating is
// needed.
func Compute(satisfied, rated int) Satisfaction {
	s := Satisfaction{Rated: rated, Satisfied: satisfied, NeededForTarget: Needed(satisfied, rated)}
	if rated > 0 {
		s.Rate = float64(satisfied) / float64(rated)
	}
	s.CILow, s.CIHigh = Wilson(satisfied, rated, Z)
	s.EnoughData = rated >= MinRatings
	s.MoreRatingsNeeded = max(0, MinRatings-rated)
	s.Reached = s.EnoughData && s.CILow >= Target
	s.NeededForConfidence = NeededForConfidence(satisfied, rated)
	return s
}

// NeededForConfidence returns the smallest N ≥ 0 such that the Wilson
// lower bound of (s+N) satisfied out of n+N reaches 95%, or -1 if that
// takes more than MaxConfidenceSearch. The lower bound grows with N, so a
// binary search finds it.
func NeededForConfidence(s, n int) int {
	ok := func(extra int) bool {
		lo, _ := Wilson(s+extra, n+extra, Z)
		return lo >= Target
	}
	if ok(0) {
		return 0
	}
	if !ok(MaxConfidenceSearch) {
		return -1
	}
	lo, hi := 0, MaxConfidenceSearch // ok(lo) false, ok(hi) true
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// Wilson returns the Wilson score interval for s successes in n trials.
func Wilson(s, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(s) / nf
	z2 := z * z
	denom := 1 + z2/nf
	centre := (p + z2/(2*nf)) / denom
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / denom
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// Needed returns the smallest N ≥ 0 such that (s+N)/(n+N) ≥ 19/20. From
// 20(s+N) ≥ 19(n+N) follows N ≥ 19n − 20s. With n = 0 the rate is
// undefined and one satisfied rating is needed.
func Needed(s, n int) int {
	if n <= 0 {
		return 1
	}
	return max(0, TargetNum*n-TargetDen*s)
}

// Group is the satisfaction of one topic, channel, week or service.
type Group struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	// Answers is how many answers were given (for topics, channels and
	// weeks); RatedShare is Rated/Answers.
	Answers    int     `json:"answers,omitempty"`
	RatedShare float64 `json:"rated_share,omitempty"`
	Satisfaction
}

// Unanswered is a group of declined questions.
type Unanswered struct {
	Text     string    `json:"text"`
	Example  string    `json:"example"`
	Count    int       `json:"count"`
	LastSeen time.Time `json:"last_seen"`
}

// LowRated is an entry with 👎 ratings, with their reasons and comments.
type LowRated struct {
	EntryID string `json:"entry_id"`
	Title   string `json:"title"`
	Satisfaction
	Negative int            `json:"negative"`
	Reasons  map[string]int `json:"reasons"` // by reason label
	Comments []string       `json:"comments"`
}

// LLM is language-model usage in the period.
type LLM struct {
	Calls    int64 `json:"calls"`
	Tokens   int64 `json:"tokens"`
	Composed int64 `json:"composed"`
	Fallback int64 `json:"fallback"`
	Refused  int64 `json:"refused"`
}

// Report is every statistic of one period.
type Report struct {
	Period string    `json:"period"`
	Label  string    `json:"label"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`

	Answers Satisfaction `json:"answers"`
	Service Satisfaction `json:"service"`

	// AnswersGiven counts answers; RatedShare is the share of them rated.
	AnswersGiven int            `json:"answers_given"`
	RatedShare   float64        `json:"rated_share"`
	Bands        map[string]int `json:"bands"`
	AnswerModes  map[string]int `json:"answer_modes"`
	LLM          *LLM           `json:"llm,omitempty"`

	ByTopic    []Group      `json:"by_topic"`
	ByChannel  []Group      `json:"by_channel"`
	ByWeek     []Group      `json:"by_week"`
	ByService  []Group      `json:"by_service"`
	Unanswered []Unanswered `json:"unanswered"`
	Lowest     []LowRated   `json:"lowest_rated"`
	// TeamAcks is how each digital technology team acknowledged the
	// reminders of the period.
	TeamAcks []TeamAck `json:"team_acks"`
	// Handoff is the residents' requests to commune staff.
	Handoff Handoff `json:"handoff"`
}

// Handoff sums up residents' requests to talk to commune staff in a
// period: how many, how soon staff first answered, how many are open for
// longer than OpenAge now, and residents' 👍/👎 on staff answers (which
// also count toward the service satisfaction).
type Handoff struct {
	Requests int `json:"requests"`
	Replied  int `json:"replied"`
	// MedianFirstReply is the median time from a request to the first
	// staff answer (wall-clock), in seconds; 0 when none was answered.
	MedianFirstReply float64 `json:"median_first_reply_seconds"`
	OpenNow          int     `json:"open_now"`
	OpenOver24h      int     `json:"open_over_24h"`
	Up               int     `json:"rated_up"`
	Down             int     `json:"rated_down"`
	Satisfaction     `json:"satisfaction"`
}

// OpenAge is the age beyond which an open request counts as overdue.
const OpenAge = 24 * time.Hour

// HandoffService is the key of staff answers among the services rated
// (never an entry id: those cannot start with "_").
const HandoffService = "_canbo"

// HandoffServiceLabel labels staff answers among the services rated.
const HandoffServiceLabel = "Hỏi cán bộ xã (đánh giá sau khi được trả lời)"

// DurationText renders a duration in Vietnamese: "dưới 1 phút", "5 phút",
// "1 giờ 30 phút", "3 ngày".
func DurationText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "dưới 1 phút"
	case d < time.Hour:
		return fmt.Sprintf("%d phút", int(d.Minutes()))
	case d < 48*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 || h >= 10 {
			return fmt.Sprintf("%d giờ", h)
		}
		return fmt.Sprintf("%d giờ %d phút", h, m)
	default:
		return fmt.Sprintf("%d ngày", int(d.Hours()/24))
	}
}

// Summary is a one-line Vietnamese summary of the requests.
func (h Handoff) Summary() string {
	median := "chưa có"
	if h.Replied > 0 {
		median = DurationText(time.Duration(h.MedianFirstReply * float64(time.Second)))
	}
	return fmt.Sprintf("%d yêu cầu, %d được trả lời (trả lời đầu tiên sau %s, trung vị); đang mở quá 24 giờ: %d; 👍 %d / 👎 %d",
		h.Requests, h.Replied, median, h.OpenOver24h, h.Up, h.Down)
}

// TeamAck is one team's reminder deliveries and acknowledgements.
type TeamAck struct {
	Village    string  `json:"village"`
	Runs       int     `json:"runs"`
	Recipients int     `json:"recipients"`
	Sent       int     `json:"sent"`
	Acked      int     `json:"acknowledged"`
	NotReached int     `json:"not_reached"`
	AckRate    float64 `json:"ack_rate"` // Acked / Sent
}

// DeletedTeam labels the deliveries of a team that no longer exists.
const DeletedTeam = "(tổ đã xoá)"

// Reasons are the 👎 reasons, by code, in the order they are offered.
var Reasons = []struct{ Code, Label string }{
	{"sai", "Chưa đúng ý"},
	{"kho", "Khó hiểu"},
	{"thieu", "Thiếu thông tin"},
	{"khac", "Khác"},
}

// ReasonLabel returns the label of a reason code ("" stays "").
func ReasonLabel(code string) string {
	for _, r := range Reasons {
		if r.Code == code {
			return r.Label
		}
	}
	return code
}

// Levels is the official five-level scale, best first; satisfied means
// level ≥ 4.
var Levels = []struct {
	Level int
	Label string
}{
	{5, "Rất hài lòng"},
	{4, "Hài lòng"},
	{3, "Bình thường"},
	{2, "Không hài lòng"},
	{1, "Rất không hài lòng"},
}

// SatisfiedLevel is the lowest level counted as satisfied.
const SatisfiedLevel = 4

// ServiceOther is the label of the survey's "another service" choice.
const ServiceOther = "Dịch vụ khác"

// Options tune Build.
type Options struct {
	// Base gives entry titles (ids are shown when nil).
	Base *knowledge.Base
	// Location is the time zone of weeks (Asia/Ho_Chi_Minh by default).
	Location *time.Location
	// Unanswered and Lowest limit those lists (20 and 10 by default).
	Unanswered, Lowest int
	// Now is when requests still open are counted (default: the store's
	// clock).
	Now time.Time
}

// Build computes the report of r from the store.
func Build(ctx context.Context, db *storage.DB, r Range, opts Options) (Report, error) {
	loc := opts.Location
	if loc == nil {
		loc = r.From.Location()
	}
	if opts.Unanswered <= 0 {
		opts.Unanswered = 20
	}
	if opts.Lowest <= 0 {
		opts.Lowest = 10
	}
	title := func(id string) string {
		if id == storage.SurveyService {
			return ServiceOther
		}
		if opts.Base != nil {
			if e, ok := opts.Base.Entry(id); ok {
				return e.Title
			}
		}
		return id
	}
	rep := Report{Period: r.Period, Label: r.Label, From: r.From, To: r.To, AnswerModes: map[string]int{}}

	answers, err := db.AnswerRows(ctx, r.From, r.To)
	if err != nil {
		return Report{}, fmt.Errorf("build statistics: %w", err)
	}
	surveys, err := db.Surveys(ctx, r.From, r.To)
	if err != nil {
		return Report{}, fmt.Errorf("build statistics: %w", err)
	}
	if rep.Bands, err = db.BandCounts(ctx, r.From, r.To); err != nil {
		return Report{}, fmt.Errorf("build statistics: %w", err)
	}
	un, err := db.UnansweredQuestions(ctx, r.From, r.To, opts.Unanswered)
	if err != nil {
		return Report{}, fmt.Errorf("build statistics: %w", err)
	}
	rep.Unanswered = make([]Unanswered, 0, len(un))
	for _, u := range un {
		rep.Unanswered = append(rep.Unanswered, Unanswered{Text: u.Text, Example: u.Example, Count: u.Count, LastSeen: u.LastSeen.In(loc)})
	}
	acks, err := db.ReminderAcks(ctx, r.From, r.To)
	if err != nil {
		return Report{}, fmt.Errorf("build statistics: %w", err)
	}
	rep.TeamAcks = make([]TeamAck, 0, len(acks))
	for _, a := range acks {
		t := TeamAck{Village: a.Village, Runs: a.Runs, Recipients: a.Recipients, Sent: a.Sent, Acked: a.Acked, NotReached: a.NotReached}
		if t.Village == "" {
			t.Village = DeletedTeam
		}
		if t.Sent > 0 {
			t.AckRate = float64(t.Acked) / float64(t.Sent)
		}
		rep.TeamAcks = append(rep.TeamAcks, t)
	}
	if u, err := db.LLMUsage(ctx, r.From, r.To); err == nil && u.Calls+u.Composed+u.Fallback+u.Refused > 0 {
		rep.LLM = &LLM{Calls: u.Calls, Tokens: u.Tokens(), Composed: u.Composed, Fallback: u.Fallback, Refused: u.Refused}
	}

	topics, channels, weeks := newTally(), newTally(), newTally()
	low := map[string]*LowRated{}
	var sat, rated int
	for _, a := range answers {
		rep.AnswerModes[a.AnswerMode]++
		wk := isoWeek(a.CreatedAt.In(loc))
		for _, t := range []struct {
			t   *tally
			key string
		}{{topics, a.EntryID}, {channels, a.Channel}, {weeks, wk}} {
			t.t.add(t.key, a.Rating, true)
		}
		if a.Rating == 0 {
			continue
		}
		rated++
		if a.Rating > 0 {
			sat++
			continue
		}
		l := low[a.EntryID]
		if l == nil {
			l = &LowRated{EntryID: a.EntryID, Title: title(a.EntryID), Reasons: map[string]int{}, Comments: []string{}}
			low[a.EntryID] = l
		}
		l.Negative++
		if a.Reason != "" {
			l.Reasons[ReasonLabel(a.Reason)]++
		}
		if a.Comment != "" {
			l.Comments = append(l.Comments, a.Comment)
		}
	}
	rep.AnswersGiven = len(answers)
	rep.Answers = Compute(sat, rated)
	if len(answers) > 0 {
		rep.RatedShare = float64(rated) / float64(len(answers))
	}
	rep.ByTopic = topics.groups(title)
	rep.ByChannel = channels.groups(func(k string) string { return k })
	rep.ByWeek = weeks.groups(func(k string) string { return k })
	slices.SortFunc(rep.ByWeek, func(a, b Group) int { return cmp.Compare(a.Key, b.Key) })
	slices.SortFunc(rep.ByTopic, func(a, b Group) int {
		return cmp.Or(cmp.Compare(b.Answers, a.Answers), cmp.Compare(a.Key, b.Key))
	})

	services := newTally()
	var ssat int
	for _, s := range surveys {
		v := -1
		if s.Level >= SatisfiedLevel {
			v, ssat = 1, ssat+1
		}
		services.add(s.Service, v, false)
	}
	now := opts.Now
	if now.IsZero() {
		now = db.Now()
	}
	hf, err := db.HandoffFigures(ctx, r.From, r.To, now, OpenAge)
	if err != nil {
		return Report{}, fmt.Errorf("build statistics: %w", err)
	}
	rep.Handoff = Handoff{Requests: hf.Requests, Replied: hf.Replied, MedianFirstReply: hf.Median().Seconds(),
		OpenNow: hf.Open, OpenOver24h: hf.OpenOver, Up: hf.Up, Down: hf.Down, Satisfaction: Compute(hf.Up, hf.Up+hf.Down)}
	// Residents' 👍/👎 on staff answers count toward the service
	// satisfaction, next to the survey.
	for i := 0; i < hf.Up+hf.Down; i++ {
		v := 1
		if i >= hf.Up {
			v = -1
		}
		services.add(HandoffService, v, false)
	}
	rep.Service = Compute(ssat+hf.Up, len(surveys)+hf.Up+hf.Down)
	rep.ByService = services.groups(func(k string) string {
		if k == HandoffService {
			return HandoffServiceLabel
		}
		return title(k)
	})
	slices.SortFunc(rep.ByService, func(a, b Group) int {
		return cmp.Or(cmp.Compare(b.Rated, a.Rated), cmp.Compare(a.Key, b.Key))
	})

	for id, l := range low {
		g := topics.m[id]
		l.Satisfaction = Compute(g.sat, g.rated)
		if n := len(l.Comments); n > 5 {
			l.Comments = l.Comments[n-5:] // the latest five
		}
		rep.Lowest = append(rep.Lowest, *l)
	}
	slices.SortFunc(rep.Lowest, func(a, b LowRated) int {
		return cmp.Or(cmp.Compare(a.Rate, b.Rate), cmp.Compare(b.Negative, a.Negative), cmp.Compare(a.EntryID, b.EntryID))
	})
	if len(rep.Lowest) > opts.Lowest {
		rep.Lowest = rep.Lowest[:opts.Lowest]
	}
	if rep.Lowest == nil {
		rep.Lowest = []LowRated{}
	}
	return rep, nil
}

type tallyRow struct{ answers, rated, sat int }

type tally struct {
	m     map[string]*tallyRow
	order []string
}

func newTally() *tally { return &tally{m: map[string]*tallyRow{}} }

func (t *tally) add(key string, rating int, answer bool) {
	r := t.m[key]
	if r == nil {
		r = &tallyRow{}
		t.m[key] = r
		t.order = append(t.order, key)
	}
	if answer {
		r.answers++
	}
	if rating != 0 {
		r.rated++
		if rating > 0 {
			r.sat++
		}
	}
}

func (t *tally) groups(label func(string) string) []Group {
	out := make([]Group, 0, len(t.order))
	for _, k := range t.order {
		r := t.m[k]
		g := Group{Key: k, Label: label(k), Answers: r.answers, Satisfaction: Compute(r.sat, r.rated)}
		if r.answers > 0 {
			g.RatedShare = float64(r.rated) / float64(r.answers)
		}
		out = append(out, g)
	}
	return out
}

// isoWeek names the ISO week of t, like "2026-W07".
func isoWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}
