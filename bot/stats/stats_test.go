package stats

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/storage"
)

func near(a, b float64) bool { return math.Abs(a-b) < 5e-5 }

// TestCompute checks rates, Wilson intervals (literal values computed by
// hand from p̂, n and z = 1.959964) and the gap to 95%.
func TestCompute(t *testing.T) {
	tests := []struct {
		s, n           int
		rate, lo, hi   float64
		needed         int
		gapContainsNum string
	}{
		{19, 20, 0.95, 0.7639, 0.9911, 0, ""},
		{18, 20, 0.90, 0.6990, 0.9721, 20, "cần thêm ít nhất 10"},
		{95, 100, 0.95, 0.8882, 0.9785, 0, ""},
		{0, 0, 0, 0, 1, 1, "cần thêm ít nhất 30"},
		{0, 5, 0, 0, 0.4345, 95, "cần thêm ít nhất 25"},
		{10, 10, 1, 0.7225, 1, 0, ""},
		{1, 2, 0.5, 0.0945, 0.9055, 18, "chưa đủ dữ liệu"},
	}
	for _, tt := range tests {
		got := Compute(tt.s, tt.n)
		if got.Rated != tt.n || got.Satisfied != tt.s || !near(got.Rate, tt.rate) || !near(got.CILow, tt.lo) || !near(got.CIHigh, tt.hi) || got.NeededForTarget != tt.needed {
			t.Errorf("Compute(%d, %d) = %+v, want rate %.4f CI [%.4f, %.4f] needed %d", tt.s, tt.n, got, tt.rate, tt.lo, tt.hi, tt.needed)
		}
		if tt.gapContainsNum != "" && !strings.Contains(got.Gap(), tt.gapContainsNum) {
			t.Errorf("Gap %q lacks %q", got.Gap(), tt.gapContainsNum)
		}
	}
}

// TestTargetVerdict: the target is reached only when the Wilson lower
// bound is at or above 95%, and below MinRatings ratings nothing is
// concluded (how many more ratings are needed is said instead).
func TestTargetVerdict(t *testing.T) {
	tests := []struct {
		s, n       int
		reached    bool
		enough     bool
		confidence int // NeededForConfidence, -2 to skip
		gap        []string
	}{
		{2, 2, false, false, -2, []string{"chưa đủ dữ liệu", "mới có 2 đánh giá", "cần thêm ít nhất 28"}},
		{29, 29, false, false, -2, []string{"chưa đủ dữ liệu", "cần thêm ít nhất 1 "}},
		{30, 30, false, true, 43, []string{"chưa chắc đạt 95%", "100,0%", "cận dưới khoảng tin cậy mới 88,6%", "cần thêm khoảng 43"}},
		{95, 100, false, true, -2, []string{"chưa chắc đạt 95%", "95,0%"}},
		{90, 100, false, true, -2, []string{"chưa đạt 95%", "cần thêm 100 đánh giá hài lòng"}},
		{74, 74, true, true, 0, []string{"đã đạt mục tiêu 95%", "cận dưới khoảng tin cậy 95,1%"}},
		{990, 1000, true, true, 0, []string{"đã đạt mục tiêu 95%"}},
	}
	for _, tt := range tests {
		got := Compute(tt.s, tt.n)
		if got.Reached != tt.reached || got.EnoughData != tt.enough || (tt.confidence != -2 && got.NeededForConfidence != tt.confidence) {
			t.Errorf("Compute(%d, %d) = %+v, want reached %v enough %v confidence %d", tt.s, tt.n, got, tt.reached, tt.enough, tt.confidence)
		}
		if got.Reached != (got.EnoughData && got.CILow >= Target) {
			t.Errorf("Compute(%d, %d): reached %v with lower bound %.4f", tt.s, tt.n, got.Reached, got.CILow)
		}
		for _, w := range tt.gap {
			if !strings.Contains(got.Gap(), w) {
				t.Errorf("Gap(%d/%d) = %q lacks %q", tt.s, tt.n, got.Gap(), w)
			}
		}
		if strings.Contains(got.Gap(), "đã đạt") != tt.reached {
			t.Errorf("Gap(%d/%d) = %q", tt.s, tt.n, got.Gap())
		}
	}
}

// TestNeededForConfidenceIsSmallest checks the binary search by brute force.
func TestNeededForConfidenceIsSmallest(t *testing.T) {
	for n := 0; n <= 40; n++ {
		for s := 0; s <= n; s++ {
			want := 0
			for {
				if lo, _ := Wilson(s+want, n+want, Z); lo >= Target {
					break
				}
				want++
			}
			if got := NeededForConfidence(s, n); got != want {
				t.Fatalf("NeededForConfidence(%d, %d) = %d, want %d", s, n, got, want)
			}
		}
	}
}

// TestNeededIsSmallest checks Needed against its definition by brute force.
func TestNeededIsSmallest(t *testing.T) {
	for n := 1; n <= 60; n++ {
		for s := 0; s <= n; s++ {
			want := 0
			for 20*(s+want) < 19*(n+want) {
				want++
			}
			if got := Needed(s, n); got != want {
				t.Fatalf("Needed(%d, %d) = %d, want %d", s, n, got, want)
			}
		}
	}
}

func TestPeriods(t *testing.T) {
	loc := Location()
	now := time.Date(2026, 8, 13, 23, 30, 0, 0, time.UTC) // Friday 14/08 06:30 in Hà Nội
	tests := []struct {
		name     string
		from, to string
	}{
		{"week", "2026-08-10", "2026-08-17"},
		{"month", "2026-08-01", "2026-09-01"},
		{"quarter", "2026-07-01", "2026-10-01"},
		{"year", "2026-01-01", "2027-01-01"},
	}
	for _, tt := range tests {
		r, err := Period(tt.name, now, loc)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.From.Format(time.DateOnly) + " " + r.To.Format(time.DateOnly); got != tt.from+" "+tt.to || r.From.Location() != loc {
			t.Errorf("%s: %s, want %s %s", tt.name, got, tt.from, tt.to)
		}
	}
	if _, err := Period("decade", now, loc); err == nil {
		t.Error("unknown period accepted")
	}
	q, err := ParseQuarter("2026Q3", loc)
	if err != nil || q.Label != "Quý 3/2026" || Deadline(q).Format(time.DateOnly) != "2026-09-20" {
		t.Fatalf("quarter %+v %v deadline %v", q, err, Deadline(q))
	}
	for _, bad := range []string{"2026Q5", "Q3", "2026", "abcdQ1"} {
		if _, err := ParseQuarter(bad, loc); err == nil {
			t.Errorf("ParseQuarter(%q) accepted", bad)
		}
	}
	d, err := Dates("2026-07-01", "2026-07-31", loc)
	if err != nil || d.To.Format(time.DateOnly) != "2026-08-01" {
		t.Fatalf("dates %+v %v", d, err)
	}
	if _, err := Dates("2026-07-31", "2026-07-01", loc); err == nil {
		t.Error("reversed dates accepted")
	}
}

func TestBuildAndCSV(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "s.db"), storage.Options{Secret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loc := Location()
	t0 := time.Date(2026, 7, 6, 9, 0, 0, 0, loc) // Monday, week 28
	add := func(user, ch, band, entry string, at time.Time, rating int, reason, comment string) {
		t.Helper()
		id, err := db.RecordExchange(ctx, &storage.Exchange{UserKey: user, Channel: ch, Question: "câu hỏi " + entry, Normalized: "cau hoi " + entry, Band: band, EntryID: entry, CreatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if rating != 0 {
			if _, err := db.Rate(ctx, user, id, rating); err != nil {
				t.Fatal(err)
			}
		}
		if reason != "" {
			db.SetRatingReason(ctx, user, id, reason)
		}
		if comment != "" {
			db.SetRatingComment(ctx, user, id, comment)
		}
	}
	// 19 👍 and 1 👎 on answers; 2 unrated answers; 3 declines.
	for i := 0; i < 19; i++ {
		add("web:a", "web", "answer", "dvc-khai-sinh", t0.Add(time.Duration(i)*time.Hour), 1, "", "")
	}
	add("telegram:b", "telegram", "answer", "vneid-cai-dat", t0.Add(8*24*time.Hour), -1, "kho", "khó hiểu quá")
	add("web:a", "web", "answer", "vneid-cai-dat", t0, 0, "", "")
	add("web:a", "web", "answer", "dvc-khai-sinh", t0, 0, "", "")
	for i := 0; i < 3; i++ {
		add("web:a", "web", "decline", "", t0.Add(time.Duration(i)*time.Minute), 0, "", "")
	}
	// Surveys: 4 satisfied of 5.
	db.Now = func() time.Time { return t0 }
	for i, lvl := range []int{5, 4, 5, 4, 2} {
		if _, err := db.RecordSurvey(ctx, "web", "web:s"+string(rune('0'+i)), "dvc-khai-sinh", lvl, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	r := Quarter(2026, 3, loc)
	rep, err := Build(ctx, db, r, Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Answers.Rated != 20 || rep.Answers.Satisfied != 19 || !near(rep.Answers.CILow, 0.7639) || rep.AnswersGiven != 22 || !near(rep.RatedShare, 20.0/22) {
		t.Fatalf("answers %+v given %d share %v", rep.Answers, rep.AnswersGiven, rep.RatedShare)
	}
	if rep.Service.Rated != 5 || rep.Service.Satisfied != 4 || rep.Service.NeededForTarget != 15 {
		t.Fatalf("service %+v", rep.Service)
	}
	if len(rep.Unanswered) != 1 || rep.Unanswered[0].Count != 3 {
		t.Fatalf("unanswered %+v", rep.Unanswered)
	}
	if len(rep.ByWeek) != 2 || rep.ByWeek[0].Key != "2026-W28" || rep.ByWeek[1].Key != "2026-W29" {
		t.Fatalf("weeks %+v", rep.ByWeek)
	}
	if len(rep.ByChannel) != 2 || len(rep.Lowest) != 1 || rep.Lowest[0].EntryID != "vneid-cai-dat" ||
		rep.Lowest[0].Reasons["Khó hiểu"] != 1 || rep.Lowest[0].Comments[0] != "khó hiểu quá" {
		t.Fatalf("channels %+v lowest %+v", rep.ByChannel, rep.Lowest)
	}
	// Outside the range nothing counts.
	empty, err := Build(ctx, db, Quarter(2026, 4, loc), Options{})
	if err != nil || empty.Answers.Rated != 0 || empty.Service.Rated != 0 {
		t.Fatalf("Q4: %+v %v", empty.Answers, err)
	}

	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep, "Xã Cổ Lễ"); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
		t.Fatal("CSV has no UTF-8 byte-order mark")
	}
	first, _, _ := strings.Cut(string(b[3:]), "\n")
	if !strings.Contains(first, "Tỷ lệ hài lòng (%)") || !strings.Contains(first, "Cần thêm để đạt 95%") {
		t.Fatalf("CSV header %q", first)
	}
	if !strings.Contains(string(b), "\"95,0\"") || !strings.Contains(string(b), "trước ngày 20/09/2026") {
		t.Fatalf("CSV body:\n%s", b)
	}
	buf.Reset()
	if err := WriteHTML(&buf, rep, "Xã <Cổ Lễ>", t0); err != nil {
		t.Fatal(err)
	}
	h := buf.String()
	for _, want := range []string{"Hạn nộp báo cáo", "20/09/2026", "Quý 3/2026", "Xã &lt;Cổ Lễ&gt;", "chưa đủ dữ liệu để kết luận: mới có 5 đánh giá, cần thêm ít nhất 25"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
}

// Cells typed by residents or admins must not be read by Excel as
// formulas when the report is opened.
func TestCSVNeutralisesFormulas(t *testing.T) {
	rep := Report{
		Period:     "quarter",
		Label:      "Quý 3/2026",
		ByTopic:    []Group{{Key: "x", Label: "@SUM(A1:A9)"}},
		ByService:  []Group{{Key: "y", Label: "+cmd|' /C calc'!A0"}},
		Unanswered: []Unanswered{{Example: `=HYPERLINK("http://evil.example","bấm vào đây")`, Count: 2}, {Example: "-2+3", Count: 1}, {Example: "\t=1", Count: 1}},
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep, "=Xã Cổ Lễ"); err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\uFEFF")))
	cr.FieldsPerRecord = -1 // the report has several tables
	records, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range records {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would be read as a formula", cell)
			}
		}
	}
	if !strings.Contains(buf.String(), `'=HYPERLINK(`) {
		t.Fatalf("CSV:\n%s", buf.String())
	}
}

// TestHandoffFigures: requests, the median time to a first staff answer,
// requests open over 24 hours, and staff answers' 👍/👎 counted toward the
// service satisfaction next to the survey.
func TestHandoffFigures(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 17, 2, 0, 0, 0, time.UTC)
	clock := now
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "h.db"), storage.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	open := func(user string) int64 {
		tk, _, err := db.OpenTicket(ctx, "zalo", db.UserKey("zalo", user), []storage.NewTicketMessage{{Author: storage.AuthorResident, Text: "hỏi"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tk.ID
	}
	// Three requests answered after 10, 30 and 50 minutes, rated 👍 👍 👎.
	for i, wait := range []time.Duration{10, 30, 50} {
		clock = now
		id := open(string(rune('a' + i)))
		clock = now.Add(wait * time.Minute)
		if _, err := db.AddStaffReply(ctx, id, "An", "telegram", "trả lời", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CloseTicket(ctx, id, "An", storage.ClosedByStaff, "đóng", nil); err != nil {
			t.Fatal(err)
		}
		v := 1
		if i == 2 {
			v = -1
		}
		if err := db.RateTicket(ctx, db.UserKey("zalo", string(rune('a'+i))), id, v); err != nil {
			t.Fatal(err)
		}
	}
	// One request waiting since two days before.
	clock = now.Add(-48 * time.Hour)
	open("z")
	clock = now.Add(time.Hour)
	if _, err := db.RecordSurvey(ctx, "web", db.UserKey("web", "s"), storage.SurveyService, 5, time.Minute); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(ctx, db, Range{Period: "range", From: now.Add(-72 * time.Hour), To: now.Add(2 * time.Hour)}, Options{Now: now.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	h := rep.Handoff
	if h.Requests != 4 || h.Replied != 3 || h.MedianFirstReply != 30*60 || h.OpenNow != 1 || h.OpenOver24h != 1 || h.Up != 2 || h.Down != 1 {
		t.Errorf("handoff = %+v", h)
	}
	if rep.Service.Rated != 4 || rep.Service.Satisfied != 3 {
		t.Errorf("service satisfaction = %d/%d, want 3/4 (survey 1/1 and staff answers 2/3)", rep.Service.Satisfied, rep.Service.Rated)
	}
	found := false
	for _, g := range rep.ByService {
		if g.Key == HandoffService && g.Label == HandoffServiceLabel && g.Rated == 3 && g.Satisfied == 2 {
			found = true
		}
	}
	if !found {
		t.Errorf("services = %+v", rep.ByService)
	}
	if s := h.Summary(); !strings.Contains(s, "4 yêu cầu") || !strings.Contains(s, "30 phút") || !strings.Contains(s, "quá 24 giờ: 1") {
		t.Errorf("summary = %q", s)
	}
}
