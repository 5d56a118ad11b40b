package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/storage"
)

// ratingHarness drives the engine with an explicit clock.
type ratingHarness struct {
	t   *testing.T
	eng *Engine
	db  *storage.DB
	now time.Time
}

func newRatingHarness(t *testing.T) *ratingHarness {
	eng, db := newTestEngine(t)
	h := &ratingHarness{t: t, eng: eng, db: db, now: testNow}
	// Storage stamps some rows (surveys) with its own clock: the same one.
	db.Now = func() time.Time { return h.now }
	return h
}

func (h *ratingHarness) send(user, text, payload string) Reply {
	return h.eng.Handle(context.Background(), Message{Channel: ChannelWeb, UserKey: user, Text: text, Payload: payload, Time: h.now})
}

func (h *ratingHarness) answer(user, entry string) Reply {
	h.t.Helper()
	r := h.send(user, "", "e:"+entry)
	if r.Band != BandAnswer || r.ExchangeID == 0 {
		h.t.Fatalf("answer %s: %+v", entry, r)
	}
	return r
}

func TestAnswerCarriesRatingButtons(t *testing.T) {
	h := newRatingHarness(t)
	r := h.answer("web:a", "vneid-cai-dat")
	id := FormatID(r.ExchangeID)
	if !hasPayload(r, "r:"+id+":+") || !hasPayload(r, "r:"+id+":-") || !hasPayload(r, "m") {
		t.Fatalf("buttons %+v", r.Buttons)
	}
	if r.Buttons[0][0].Label != "👍 Hài lòng" || r.Buttons[0][1].Label != "👎 Chưa hài lòng" {
		t.Fatalf("labels %+v", r.Buttons[0])
	}
	if q := h.send("web:a", "cài VNeID thế nào", ""); q.Band == BandAnswer && !hasPayload(q, "r:"+FormatID(q.ExchangeID)+":+") {
		t.Fatalf("typed answer lacks rating buttons: %+v", q.Buttons)
	}
	if d := h.send("web:a", "giá vàng hôm nay bao nhiêu", ""); d.Band == BandDecline {
		for _, row := range d.Buttons {
			for _, b := range row {
				if strings.HasPrefix(b.Payload, "r:") {
					t.Fatalf("a decline must not be ratable: %+v", d.Buttons)
				}
			}
		}
	}
}

func TestRatingRefusedAndIdempotent(t *testing.T) {
	ctx := context.Background()
	h := newRatingHarness(t)
	id := FormatID(h.answer("web:a", "vneid-cai-dat").ExchangeID)
	tests := []struct {
		name, user, payload, want string
	}{
		{"someone else's answer", "web:b", "r:" + id + ":+", textNoRate},
		{"no such answer", "web:a", "r:987654:+", textNoRate},
		{"bad value", "web:a", "r:" + id + ":x", textUnknownButton},
		{"reason for someone else", "web:b", "rr:" + id + ":kho", textNoRate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := h.send(tt.user, "", tt.payload); r.Text != tt.want {
				t.Fatalf("reply %q, want %q", r.Text, tt.want)
			}
		})
	}
	h.send("web:a", "", "r:"+id+":-")
	h.send("web:a", "", "r:"+id+":-")
	h.send("web:a", "", "r:"+id+":+")
	h.send("web:a", "", "r:"+id+":+")
	var n, v int
	h.db.Reader().QueryRowContext(ctx, `SELECT count(*), sum(value) FROM ratings`).Scan(&n, &v)
	if n != 1 || v != 1 {
		t.Fatalf("%d ratings summing %d, want one 👍", n, v)
	}
}

func TestNegativeRatingReasonAndComment(t *testing.T) {
	ctx := context.Background()
	h := newRatingHarness(t)
	ans := h.answer("web:a", "vneid-cai-dat")
	id := FormatID(ans.ExchangeID)
	r := h.send("web:a", "", "r:"+id+":-")
	for _, code := range []string{"sai", "kho", "thieu", "khac"} {
		if !hasPayload(r, "rr:"+id+":"+code) {
			t.Fatalf("reason %s missing: %+v", code, r.Buttons)
		}
	}
	labels := ""
	for _, row := range r.Buttons {
		for _, b := range row {
			labels += b.Label + "|"
		}
	}
	for _, l := range []string{"Chưa đúng ý", "Khó hiểu", "Thiếu thông tin", "Khác"} {
		if !strings.Contains(labels, l) {
			t.Errorf("label %q missing", l)
		}
	}
	h.now = h.now.Add(time.Minute)
	if r := h.send("web:a", "", "rr:"+id+":thieu"); r.Text != textReason {
		t.Fatalf("reason reply %q", r.Text)
	}
	h.now = h.now.Add(5 * time.Minute)
	if r := h.send("web:a", "thiếu bước, gọi tôi 0912345678 nhé", ""); r.Text != textComment {
		t.Fatalf("comment reply %+v", r)
	}
	got, err := h.db.RatingOf(ctx, ans.ExchangeID)
	if err != nil || got.Value != -1 || got.Reason != "thieu" || strings.Contains(got.Comment, "0912345678") || !strings.Contains(got.Comment, "thiếu bước") {
		t.Fatalf("rating %+v %v", got, err)
	}
	// The comment was taken once: the next text is a question again.
	if r := h.send("web:a", "cài VNeID thế nào", ""); r.Text == textComment {
		t.Fatal("second text taken as a comment")
	}
}

// A resident who asks a new question where a comment was expected gets the
// answer; the text is kept as the comment as well.
func TestQuestionInsteadOfCommentIsAnswered(t *testing.T) {
	ctx := context.Background()
	h := newRatingHarness(t)
	ans := h.answer("web:a", "vneid-cai-dat")
	id := FormatID(ans.ExchangeID)
	h.send("web:a", "", "r:"+id+":-")
	h.send("web:a", "", "rr:"+id+":sai")
	r := h.send("web:a", "quên mật khẩu vneid thì làm sao", "")
	if r.Band != BandAnswer || r.EntryID != "vneid-quen-mat-khau" || !strings.HasPrefix(r.Text, textCommentKept) {
		t.Fatalf("reply %+v", r)
	}
	if got, _ := h.db.RatingOf(ctx, ans.ExchangeID); !strings.Contains(got.Comment, "quên mật khẩu") {
		t.Errorf("comment = %q", got.Comment)
	}
}

// TestQuestionAfterThumbsDown: after 👎 (with or without a reason) a
// message that reads as a question is handled as one — answered, clarified
// or declined with the contacts — and recorded, so that a declined one
// reaches the unanswered list; a plain remark is only the comment.
func TestQuestionAfterThumbsDown(t *testing.T) {
	tests := []struct {
		name, text string
		reason     bool
		band       Band   // "" : only a comment
		contains   string // in the reply
	}{
		{"out of scope, no reason", "giá vàng hôm nay bao nhiêu", false, BandDecline, "Để được giúp trực tiếp"},
		{"out of scope after a reason", "xin hỏi lịch cắt điện tuần này ở đâu", true, BandDecline, "Để được giúp trực tiếp"},
		{"question mark, out of scope", "mai xã có họp dân không?", false, BandDecline, "Tổ công nghệ số"},
		{"in scope without diacritics", "quen mat khau vneid lam the nao", false, BandAnswer, "mật khẩu"},
		{"remark", "khó hiểu quá", false, "", textComment},
		{"remark after a reason", "thiếu bước đăng nhập", true, "", textComment},
		{"thanks", "cảm ơn", false, "", textComment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			h := newRatingHarness(t)
			ans := h.answer("web:q", "vneid-cai-dat")
			id := FormatID(ans.ExchangeID)
			h.send("web:q", "", "r:"+id+":-")
			if tt.reason {
				h.send("web:q", "", "rr:"+id+":sai")
			}
			h.now = h.now.Add(time.Minute)
			r := h.send("web:q", tt.text, "")
			if !strings.Contains(r.Text, tt.contains) {
				t.Fatalf("reply lacks %q: %q", tt.contains, r.Text)
			}
			got, err := h.db.RatingOf(ctx, ans.ExchangeID)
			if err != nil || got.Value != -1 || got.Comment != tt.text {
				t.Fatalf("the text is not kept as the comment: %+v %v", got, err)
			}
			if tt.band == "" {
				if r.Text != textComment || r.ExchangeID != 0 {
					t.Fatalf("a remark was handled as a question: %+v", r)
				}
				return
			}
			if r.Band != tt.band || !strings.HasPrefix(r.Text, textCommentKept) || r.ExchangeID == 0 {
				t.Fatalf("band %s (want %s), reply %+v", r.Band, tt.band, r)
			}
			ex, err := h.db.Exchange(ctx, r.ExchangeID)
			if err != nil || ex.Band != string(tt.band) || ex.Question != tt.text {
				t.Fatalf("question not recorded: %+v %v", ex, err)
			}
		})
	}
}

func TestCommentWindowExpires(t *testing.T) {
	ctx := context.Background()
	h := newRatingHarness(t)
	ans := h.answer("web:a", "vneid-cai-dat")
	h.send("web:a", "", "r:"+FormatID(ans.ExchangeID)+":-")
	h.now = h.now.Add(CommentWindow + time.Second)
	if r := h.send("web:a", "cài VNeID thế nào", ""); r.Text == textComment {
		t.Fatal("text after the window taken as a comment")
	}
	if got, _ := h.db.RatingOf(ctx, ans.ExchangeID); got.Comment != "" {
		t.Fatalf("comment stored: %q", got.Comment)
	}
	// "Bỏ qua" clears a pending comment.
	h.send("web:a", "", "r:"+FormatID(ans.ExchangeID)+":+")
	ans2 := h.answer("web:a", "vneid-kich-hoat")
	h.send("web:a", "", "r:"+FormatID(ans2.ExchangeID)+":-")
	if r := h.send("web:a", "", "x"); r.Text != textSkipped {
		t.Fatalf("skip: %q", r.Text)
	}
	if r := h.send("web:a", "cài VNeID thế nào", ""); r.Text == textComment {
		t.Fatal("text after Bỏ qua taken as a comment")
	}
}

func TestSurveyFlow(t *testing.T) {
	ctx := context.Background()
	h := newRatingHarness(t)
	start := h.send("web:a", "/danhgia", "")
	if !hasPayload(start, "sv:s:dvc-khai-sinh") || !hasPayload(start, "sv:s:khac") || hasPayload(start, "sv:s:vneid-cai-dat") {
		t.Fatalf("/danhgia buttons %+v", start.Buttons)
	}
	if web := h.send("web:a", "", "sv"); len(web.Buttons) != len(start.Buttons) {
		t.Fatal("the sv payload must start the same survey")
	}
	lv := h.send("web:a", "", "sv:s:dvc-khai-sinh")
	wantLabels := []string{"Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng", "Rất không hài lòng"}
	if len(lv.Buttons) != 6 || lv.Buttons[5][0].Payload != "sv" || !strings.Contains(lv.Text, "bước 2/2") || !strings.Contains(lv.Text, "**Đăng ký khai sinh**") {
		t.Fatalf("levels %q %+v", lv.Text, lv.Buttons)
	}
	for i, w := range wantLabels {
		if lv.Buttons[i][0].Label != w || lv.Buttons[i][0].Payload != "sv:l:dvc-khai-sinh:"+string(rune('5'-i)) {
			t.Fatalf("level %d: %+v", i, lv.Buttons[i][0])
		}
	}
	for _, bad := range []string{"sv:s:vneid-cai-dat", "sv:s:nope", "sv:l:dvc-khai-sinh:6", "sv:l:nope:5", "sv:z"} {
		if r := h.send("web:a", "", bad); r.Text != textUnknownButton {
			t.Errorf("%s accepted: %q", bad, r.Text)
		}
	}
	h.send("web:a", "", "sv:l:dvc-khai-sinh:2")
	done := h.send("web:a", "", "sv:l:dvc-khai-sinh:4") // changed mind: keeps the latest
	if !strings.Contains(done.Text, "Hài lòng") {
		t.Fatalf("done %q", done.Text)
	}
	if r := h.send("web:a", "nhanh, email tôi a.b@example.com", ""); r.Text != textComment {
		t.Fatalf("comment reply %q", r.Text)
	}
	rows, err := h.db.Surveys(ctx, testNow.Add(-time.Hour), testNow.Add(time.Hour))
	if err != nil || len(rows) != 1 {
		t.Fatalf("surveys %+v %v", rows, err)
	}
	if s := rows[0]; s.Level != 4 || s.Service != "dvc-khai-sinh" || strings.Contains(s.Comment, "example.com") || !strings.Contains(s.Comment, "nhanh") {
		t.Fatalf("survey %+v", s)
	}
}

// TestSurveyListsOnlyServices: step 1 offers exactly the entries marked
// with service: (by their service name) and "Dịch vụ khác" — no question
// titles such as "Sau sáp nhập tỉnh, xã có phải đổi giấy tờ không".
func TestSurveyListsOnlyServices(t *testing.T) {
	h := newRatingHarness(t)
	start := h.send("web:a", "/danhgia", "")
	if !strings.Contains(start.Text, "bước 1/2") {
		t.Errorf("step 1 text %q", start.Text)
	}
	var want, got []string
	for _, en := range h.eng.Base().Services() {
		want = append(want, en.Service+"|sv:s:"+en.ID)
	}
	want = append(want, "Dịch vụ khác|sv:s:khac")
	for _, row := range start.Buttons {
		if len(row) != 1 {
			t.Fatalf("row of %d buttons: %+v", len(row), row)
		}
		got = append(got, row[0].Label+"|"+row[0].Payload)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("step 1 offers\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(want) < 5 || hasPayload(start, "sv:s:dvc-giay-to-sau-sap-nhap") || strings.Contains(strings.Join(got, " "), "?") {
		t.Fatalf("not a list of services: %v", got)
	}
}

func TestSurveyOfferedAtMostEvery30Days(t *testing.T) {
	h := newRatingHarness(t)
	up := func(entry string) Reply {
		return h.send("web:a", "", "r:"+FormatID(h.answer("web:a", entry).ExchangeID)+":+")
	}
	steps := []struct {
		advance time.Duration
		entry   string
		offer   bool
	}{
		{0, "vneid-cai-dat", false}, // not a dvc topic
		{0, "dvc-khai-sinh", true},
		{time.Hour, "dvc-ket-hon", false},
		{29 * 24 * time.Hour, "dvc-khai-sinh", false},
		{24*time.Hour + time.Minute, "dvc-khai-sinh", true},
	}
	for i, s := range steps {
		h.now = h.now.Add(s.advance)
		if got := hasPayload(up(s.entry), "sv"); got != s.offer {
			t.Fatalf("step %d (%s): offered %v, want %v", i, s.entry, got, s.offer)
		}
	}
}

func TestThongKeAdminOnly(t *testing.T) {
	h := newRatingHarness(t)
	h.send("web:a", "", "r:"+FormatID(h.answer("web:a", "dvc-khai-sinh").ExchangeID)+":+")
	if r := h.send("web:a", "/thongke", ""); r.Text != textUnknownCmd {
		t.Fatalf("non-admin /thongke: %q", r.Text)
	}
	if r := h.send("web:a", "", "tk:week"); strings.Contains(r.Text, "Thống kê") {
		t.Fatalf("non-admin tk:week: %q", r.Text)
	}
	admin := func(text, payload string) Reply {
		return h.eng.Handle(context.Background(), Message{Channel: ChannelTelegram, UserKey: "telegram:adm", Admin: true, Text: text, Payload: payload, Time: h.now})
	}
	r := admin("/thongke", "")
	if !strings.Contains(r.Text, "Thống kê mức độ hài lòng – Tháng 11/2026") || !strings.Contains(r.Text, "1/1 hài lòng = 100,0%") {
		t.Fatalf("/thongke: %q", r.Text)
	}
	for _, p := range []string{"tk:week", "tk:month", "tk:quarter", "tk:year"} {
		if !hasPayload(r, p) {
			t.Fatalf("period button %s missing", p)
		}
	}
	if r := admin("", "tk:quarter"); !strings.Contains(r.Text, "Quý 4/2026") {
		t.Fatalf("tk:quarter: %q", r.Text)
	}
}
