package stats

import (
	"archive/zip"
	"bytes"
	"context"
	"html"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/colecommune/trolyso/storage"
)

// TestWriteXLSX builds a quarter's report from a real database (answers
// rated on two channels over two weeks, declined questions, service
// surveys, a reminder run with one acknowledgement), writes the workbook
// and opens it with excelize: sheets, headers, numeric values with their
// number formats, column widths and the weekly chart against the target.
func TestWriteXLSX(t *testing.T) {
	ctx := context.Background()
	loc := Location()
	t0 := time.Date(2026, 7, 6, 9, 0, 0, 0, loc) // Monday of 2026-W28
	db, err := storage.Open(ctx, filepath.Join(t.TempDir(), "x.db"), storage.Options{Secret: "x", Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	add := func(user, ch, band, entry, q string, at time.Time, rating int) {
		t.Helper()
		id, err := db.RecordExchange(ctx, &storage.Exchange{UserKey: user, Channel: ch, Question: q, Normalized: strings.ToLower(q), Band: band, EntryID: entry, CreatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		if rating != 0 {
			if _, err := db.Rate(ctx, user, id, rating); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Week 28: 9 👍 and 1 👎 on the web; week 29: 3 👍 on Telegram.
	for i := 0; i < 10; i++ {
		v := 1
		if i == 9 {
			v = -1
		}
		add("web:"+strconv.Itoa(i), "web", "answer", "dvc-khai-sinh", "khai sinh", t0.Add(time.Duration(i)*time.Hour), v)
	}
	for i := 0; i < 3; i++ {
		add("telegram:"+strconv.Itoa(i), "telegram", "answer", "vneid-cai-dat", "cài vneid", t0.Add(7*24*time.Hour), 1)
	}
	add("web:d", "web", "decline", "", "=HYPERLINK(\"x\") giá vàng", t0.Add(2*time.Hour), 0)
	add("web:d", "web", "decline", "", "=HYPERLINK(\"x\") giá vàng", t0.Add(3*time.Hour), 0)
	for i, lvl := range []int{5, 4, 2} {
		if _, err := db.RecordSurvey(ctx, "web", "web:s"+strconv.Itoa(i), "dvc-khai-sinh", lvl, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	team, err := db.AddTeam(ctx, "Thôn Đông", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := db.JoinTeam(ctx, "telegram", db.UserKey("telegram", strconv.Itoa(100+i)), team.JoinCode, "Thành viên"); err != nil {
			t.Fatal(err)
		}
	}
	rem := storage.Reminder{Name: "Báo cáo quý", Cron: "0 8 15 3,6,9,12 *", Target: "all", Template: "x", Enabled: true}
	if err := db.AddReminder(ctx, &rem); err != nil {
		t.Fatal(err)
	}
	ms, err := db.ActiveMembers(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var nds []storage.NewDelivery
	for _, m := range ms {
		nds = append(nds, storage.NewDelivery{Recipient: "user:" + m.UserKey, UserID: m.UserID, TeamID: m.TeamID, Text: "x"})
	}
	run, _, err := db.StartRun(ctx, rem.ID, time.Date(2026, 9, 15, 8, 0, 0, 0, loc), false, nds)
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := db.RunDeliveries(ctx, run.ID)
	for i, d := range ds {
		db.ClaimDelivery(ctx, d.ID)
		db.FinishDelivery(ctx, d.ID, storage.DeliverySent, "")
		if i == 0 {
			if _, _, err := db.AckDelivery(ctx, d.ID, d.UserKey); err != nil {
				t.Fatal(err)
			}
		}
	}

	q, _ := ParseQuarter("2026Q3", loc)
	rep, err := Build(ctx, db, q, Options{Location: loc})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, rep, "xã Cổ Lễ", time.Date(2026, 9, 16, 10, 0, 0, 0, loc)); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("open the workbook: %v", err)
	}
	defer f.Close()

	wantSheets := []string{SheetSummary, SheetTopics, SheetChannels, SheetWeeks, SheetServices, SheetUnanswered, SheetTeams}
	if got := f.GetSheetList(); !slices.Equal(got, wantSheets) {
		t.Fatalf("sheets %v, want %v", got, wantSheets)
	}
	get := func(sheet, ref string) string {
		t.Helper()
		v, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	num := func(sheet, ref string) float64 {
		t.Helper()
		v, err := strconv.ParseFloat(get(sheet, ref), 64)
		if err != nil {
			t.Fatalf("%s!%s = %q is not a number", sheet, ref, get(sheet, ref))
		}
		return v
	}
	format := func(sheet, ref string) string {
		t.Helper()
		id, err := f.GetCellStyle(sheet, ref)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.CustomNumFmt != nil {
			return *st.CustomNumFmt
		}
		return strconv.Itoa(st.NumFmt)
	}
	headers := func(sheet string, row int) []string {
		t.Helper()
		rows, err := f.GetRows(sheet)
		if err != nil || len(rows) < row {
			t.Fatalf("%s: rows %v %v", sheet, rows, err)
		}
		return rows[row-1]
	}

	// Summary: the quarter, then the two figures against 95%.
	if got := get(SheetSummary, "A1"); got != "Báo cáo mức độ hài lòng – Quý 3/2026" {
		t.Errorf("title %q", got)
	}
	if got := get(SheetSummary, "B2"); got != "xã Cổ Lễ" {
		t.Errorf("commune %q", got)
	}
	if got := format(SheetSummary, "B5"); got != "dd/mm/yyyy" {
		t.Errorf("deadline format %q", got)
	}
	if h := headers(SheetSummary, 8); !slices.Equal(h, []string{"Chỉ tiêu", "Số đánh giá", "Số hài lòng", "Tỷ lệ hài lòng", "Cận dưới KTC 95%", "Cận trên KTC 95%", "Mục tiêu", "Đánh giá so với mục tiêu"}) {
		t.Errorf("summary header %q", h)
	}
	if num(SheetSummary, "B9") != 3 || num(SheetSummary, "C9") != 2 || num(SheetSummary, "B10") != 13 || num(SheetSummary, "C10") != 12 {
		t.Errorf("summary counts: service %s/%s, answers %s/%s", get(SheetSummary, "C9"), get(SheetSummary, "B9"), get(SheetSummary, "C10"), get(SheetSummary, "B10"))
	}
	if r := num(SheetSummary, "D10"); r < 12.0/13-1e-9 || r > 12.0/13+1e-9 || format(SheetSummary, "D10") != "0.0%" || num(SheetSummary, "G10") != 0.95 {
		t.Errorf("answers rate %v (format %q), target %s", r, format(SheetSummary, "D10"), get(SheetSummary, "G10"))
	}
	if got := get(SheetSummary, "H10"); !strings.Contains(got, "chưa đủ dữ liệu") {
		t.Errorf("verdict with 13 ratings: %q", got)
	}

	// By topic, channel and week.
	if h := headers(SheetTopics, 1); len(h) != 9 || h[0] != "Chủ đề (câu trả lời)" || h[4] != "Tỷ lệ hài lòng" {
		t.Errorf("topic header %q", h)
	}
	if get(SheetTopics, "A2") != "dvc-khai-sinh" || num(SheetTopics, "B2") != 10 || num(SheetTopics, "D2") != 9 || format(SheetTopics, "E2") != "0.0%" {
		t.Errorf("topic row: %q %q %q", get(SheetTopics, "A2"), get(SheetTopics, "B2"), get(SheetTopics, "D2"))
	}
	chans := map[string]string{get(SheetChannels, "A2"): get(SheetChannels, "C2"), get(SheetChannels, "A3"): get(SheetChannels, "C3")}
	if chans["Trang web"] != "10" || chans["Telegram"] != "3" {
		t.Errorf("channels %v", chans)
	}
	if h := headers(SheetWeeks, 1); h[0] != "Tuần" || h[6] != "Mục tiêu" {
		t.Errorf("week header %q", h)
	}
	if get(SheetWeeks, "A2") != "2026-W28" || get(SheetWeeks, "A3") != "2026-W29" || num(SheetWeeks, "F2") != 0.9 || num(SheetWeeks, "F3") != 1 || num(SheetWeeks, "G3") != 0.95 {
		t.Errorf("weeks: %s %s %s %s", get(SheetWeeks, "A2"), get(SheetWeeks, "F2"), get(SheetWeeks, "A3"), get(SheetWeeks, "F3"))
	}
	if monday, _ := f.GetCellValue(SheetWeeks, "B2"); monday != "06/07/2026" {
		t.Errorf("week 28 starts %q, want 06/07/2026", monday)
	}

	// Services, unanswered questions (a formula typed by a resident stays
	// text), the teams' acknowledgements.
	if h := headers(SheetServices, 1); h[0] != "Dịch vụ công trực tuyến" || h[1] != "Số đánh giá" {
		t.Errorf("service header %q", h)
	}
	if num(SheetServices, "B2") != 3 || num(SheetServices, "C2") != 2 {
		t.Errorf("service row %q %q", get(SheetServices, "B2"), get(SheetServices, "C2"))
	}
	if got := get(SheetUnanswered, "A2"); got != "=HYPERLINK(\"x\") giá vàng" || num(SheetUnanswered, "C2") != 2 || format(SheetUnanswered, "D2") != "dd/mm/yyyy hh:mm" {
		t.Errorf("unanswered row %q count %q", got, get(SheetUnanswered, "C2"))
	}
	if formula, _ := f.GetCellFormula(SheetUnanswered, "A2"); formula != "" {
		t.Errorf("a resident's text became a formula: %q", formula)
	}
	if h := headers(SheetTeams, 1); !slices.Equal(h, []string{"Tổ công nghệ số (thôn)", "Số lần nhắc", "Người nhận", "Đã gửi", "Đã nhận", "Tỷ lệ xác nhận", "Không gửi được"}) {
		t.Errorf("teams header %q", h)
	}
	if get(SheetTeams, "A2") != "Thôn Đông" || num(SheetTeams, "B2") != 1 || num(SheetTeams, "D2") != 2 || num(SheetTeams, "E2") != 1 || num(SheetTeams, "F2") != 0.5 || format(SheetTeams, "F2") != "0.0%" {
		t.Errorf("teams row %v", headers(SheetTeams, 2))
	}

	// Column widths are set, and the weekly chart plots the rate as bars
	// and the 95% target as a line.
	for _, sh := range wantSheets {
		if w, err := f.GetColWidth(sh, "A"); err != nil || w < 11 {
			t.Errorf("%s: column A width %v %v", sh, w, err)
		}
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var chart string
	for _, zf := range zr.File {
		if strings.HasPrefix(zf.Name, "xl/charts/chart") {
			rc, _ := zf.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			chart += string(b)
		}
	}
	chart = html.UnescapeString(chart)
	for _, want := range []string{"barChart", "lineChart", "'Theo tuần'!$F$2:$F$3", "'Theo tuần'!$G$2:$G$3", "Mức hài lòng với câu trả lời theo tuần"} {
		if !strings.Contains(chart, want) {
			t.Errorf("weekly chart lacks %q", want)
		}
	}
}
