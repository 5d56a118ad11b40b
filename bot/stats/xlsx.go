package stats

import (
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the Excel workbook, in order.
const (
	SheetSummary    = "Tổng hợp"
	SheetTopics     = "Theo chủ đề"
	SheetChannels   = "Theo kênh"
	SheetWeeks      = "Theo tuần"
	SheetServices   = "Dịch vụ công"
	SheetUnanswered = "Chưa trả lời được"
	SheetTeams      = "Nhắc việc các tổ"
)

// figureHeader heads the satisfaction tables (topic, channel, service).
var figureHeader = []string{"Số câu trả lời", "Số đánh giá", "Số hài lòng", "Tỷ lệ hài lòng",
	"Cận dưới KTC 95%", "Cận trên KTC 95%", "Cần thêm để tỷ lệ đạt 95%", "Nhận xét"}

// WriteXLSX writes the report as an Excel workbook: a summary against the
// 95% target, satisfaction by topic, channel, week (with a chart of weekly
// satisfaction against the target) and service, the unanswered questions
// and the teams' reminder acknowledgements. Numbers are stored as numbers
// with number formats (percentages, dates), so the file reads the same in
// any Excel locale; headers are Vietnamese.
func WriteXLSX(w io.Writer, rep Report, commune string, generated time.Time) error {
	x, err := newWorkbook()
	if err != nil {
		return fmt.Errorf("write xlsx report: %w", err)
	}
	defer x.f.Close()
	for _, step := range []func(Report, string, time.Time) error{
		x.summary, x.topics, x.channels, x.weeks, x.services, x.unanswered, x.teams,
	} {
		if err := step(rep, commune, generated); err != nil {
			return fmt.Errorf("write xlsx report: %w", err)
		}
	}
	x.f.SetActiveSheet(0)
	if err := x.f.Write(w); err != nil {
		return fmt.Errorf("write xlsx report: %w", err)
	}
	return nil
}

// workbook is the file being written with its cell styles.
type workbook struct {
	f                                       *excelize.File
	title, header, pct, num, date, datetime int
	wrap, bold, good, bad                   int
	sheetsMade                              int
}

func newWorkbook() (*workbook, error) {
	x := &workbook{f: excelize.NewFile()}
	pctFmt, dateFmt, dtFmt := "0.0%", "dd/mm/yyyy", "dd/mm/yyyy hh:mm"
	styles := []struct {
		dst *int
		s   *excelize.Style
	}{
		{&x.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}},
		{&x.header, &excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"0B6B3A"}},
			Alignment: &excelize.Alignment{WrapText: true, Vertical: "center"}}},
		{&x.pct, &excelize.Style{CustomNumFmt: &pctFmt}},
		{&x.num, &excelize.Style{NumFmt: 3}}, // #,##0
		{&x.date, &excelize.Style{CustomNumFmt: &dateFmt, Alignment: &excelize.Alignment{Horizontal: "left"}}},
		{&x.datetime, &excelize.Style{CustomNumFmt: &dtFmt}},
		{&x.wrap, &excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}},
		{&x.bold, &excelize.Style{Font: &excelize.Font{Bold: true}}},
		{&x.good, &excelize.Style{Font: &excelize.Font{Bold: true, Color: "1B5E20"}, Alignment: &excelize.Alignment{WrapText: true}}},
		{&x.bad, &excelize.Style{Font: &excelize.Font{Bold: true, Color: "B71C1C"}, Alignment: &excelize.Alignment{WrapText: true}}},
	}
	for _, st := range styles {
		id, err := x.f.NewStyle(st.s)
		if err != nil {
			return nil, err
		}
		*st.dst = id
	}
	return x, nil
}

// sheet starts a sheet (the first one renames the default sheet) with
// column widths.
func (x *workbook) sheet(name string, widths ...float64) error {
	if x.sheetsMade == 0 {
		if err := x.f.SetSheetName("Sheet1", name); err != nil {
			return err
		}
	} else if _, err := x.f.NewSheet(name); err != nil {
		return err
	}
	x.sheetsMade++
	for i, wd := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := x.f.SetColWidth(name, col, col, wd); err != nil {
			return err
		}
	}
	return nil
}

// cell is one value with its style (0: none).
type cell struct {
	v     any
	style int
}

// row writes cells from column A of row r.
func (x *workbook) row(sheet string, r int, cells ...cell) error {
	for i, c := range cells {
		ref, _ := excelize.CoordinatesToCellName(i+1, r)
		if c.v != nil {
			if err := x.f.SetCellValue(sheet, ref, c.v); err != nil {
				return err
			}
		}
		if c.style != 0 {
			if err := x.f.SetCellStyle(sheet, ref, ref, c.style); err != nil {
				return err
			}
		}
	}
	return nil
}

// headerRow writes a header at row r and freezes the rows above and it.
func (x *workbook) headerRow(sheet string, r int, names ...string) error {
	cells := make([]cell, len(names))
	for i, n := range names {
		cells[i] = cell{n, x.header}
	}
	if err := x.row(sheet, r, cells...); err != nil {
		return err
	}
	top, _ := excelize.CoordinatesToCellName(1, r+1)
	return x.f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: r, TopLeftCell: top, ActivePane: "bottomLeft"})
}

// figures are the satisfaction cells after a group's label.
func (x *workbook) figures(answers any, s Satisfaction) []cell {
	verdict := x.bad
	if s.Reached {
		verdict = x.good
	}
	return []cell{
		{answers, x.num}, {s.Rated, x.num}, {s.Satisfied, x.num}, {rateValue(s), x.pct},
		{s.CILow, x.pct}, {s.CIHigh, x.pct}, {s.NeededForTarget, x.num}, {s.Gap(), verdict},
	}
}

// rateValue is the rate as a number, or empty when nothing was rated.
func rateValue(s Satisfaction) any {
	if s.Rated == 0 {
		return nil
	}
	return s.Rate
}

func (x *workbook) summary(rep Report, commune string, generated time.Time) error {
	const sh = SheetSummary
	if err := x.sheet(sh, 44, 14, 14, 14, 16, 16, 12, 60); err != nil {
		return err
	}
	rows := [][]cell{
		{{"Báo cáo mức độ hài lòng – " + rep.Label, x.title}},
		{{"Đơn vị", x.bold}, {commune, 0}},
		{{"Từ ngày", x.bold}, {rep.From, x.date}},
		{{"Đến ngày", x.bold}, {rep.To.Add(-time.Second), x.date}},
	}
	if rep.Period == "quarter" {
		rows = append(rows, []cell{{"Hạn nộp báo cáo (trước ngày)", x.bold}, {Deadline(Range{From: rep.From, To: rep.To}), x.date}})
	}
	rows = append(rows, []cell{{"Lập lúc", x.bold}, {generated, x.datetime}})
	r := 1
	for _, c := range rows {
		if err := x.row(sh, r, c...); err != nil {
			return err
		}
		r++
	}
	r++
	if err := x.row(sh, r, cell{"Chỉ tiêu", x.header}, cell{"Số đánh giá", x.header}, cell{"Số hài lòng", x.header},
		cell{"Tỷ lệ hài lòng", x.header}, cell{"Cận dưới KTC 95%", x.header}, cell{"Cận trên KTC 95%", x.header},
		cell{"Mục tiêu", x.header}, cell{"Đánh giá so với mục tiêu", x.header}); err != nil {
		return err
	}
	for _, it := range []struct {
		label string
		s     Satisfaction
	}{
		{"Hài lòng với dịch vụ công trực tuyến (phiếu đánh giá)", rep.Service},
		{"Hài lòng với câu trả lời của trợ lý số (👍/👎)", rep.Answers},
	} {
		r++
		fig := x.figures(nil, it.s)
		cells := append([]cell{{it.label, x.wrap}}, fig[1:6]...)
		cells = append(cells, cell{Target, x.pct}, fig[7])
		if err := x.row(sh, r, cells...); err != nil {
			return err
		}
	}
	r += 2
	for _, c := range [][]cell{
		{{"Câu trả lời đã gửi", x.bold}, {rep.AnswersGiven, x.num}},
		{{"Tỷ lệ câu trả lời được đánh giá", x.bold}, {rep.RatedShare, x.pct}},
		{{"Câu hỏi chưa trả lời được (lượt)", x.bold}, {rep.Bands["decline"], x.num}},
		{{"Mục tiêu được coi là đạt khi cận dưới khoảng tin cậy 95% (Wilson) từ 95% trở lên, với ít nhất " +
			fmt.Sprint(MinRatings) + " đánh giá.", x.wrap}},
	} {
		if err := x.row(sh, r, c...); err != nil {
			return err
		}
		r++
	}
	return nil
}

// groupSheet writes one satisfaction table; answers says whether the
// groups count answers (topics, channels) or only ratings (surveys).
func (x *workbook) groupSheet(name, first string, groups []Group, label func(Group) string, answers bool) error {
	skip := 0
	if !answers {
		skip = 1
	}
	widths := []float64{48, 14, 12, 12, 14, 16, 16, 14, 60}
	if err := x.sheet(name, append(widths[:1:1], widths[1+skip:]...)...); err != nil {
		return err
	}
	if err := x.headerRow(name, 1, append([]string{first}, figureHeader[skip:]...)...); err != nil {
		return err
	}
	for i, g := range groups {
		if err := x.row(name, i+2, append([]cell{{label(g), x.wrap}}, x.figures(g.Answers, g.Satisfaction)[skip:]...)...); err != nil {
			return err
		}
	}
	if len(groups) == 0 {
		return x.row(name, 2, cell{"Chưa có đánh giá nào trong kỳ.", 0})
	}
	return nil
}

func (x *workbook) topics(rep Report, _ string, _ time.Time) error {
	return x.groupSheet(SheetTopics, "Chủ đề (câu trả lời)", rep.ByTopic, func(g Group) string { return g.Label }, true)
}

func (x *workbook) channels(rep Report, _ string, _ time.Time) error {
	return x.groupSheet(SheetChannels, "Kênh", rep.ByChannel, func(g Group) string { return ChannelLabel(g.Key) }, true)
}

func (x *workbook) services(rep Report, _ string, _ time.Time) error {
	return x.groupSheet(SheetServices, "Dịch vụ công trực tuyến", rep.ByService, func(g Group) string { return g.Label }, false)
}

func (x *workbook) weeks(rep Report, _ string, _ time.Time) error {
	const sh = SheetWeeks
	if err := x.sheet(sh, 12, 14, 14, 12, 12, 14, 12, 16, 16); err != nil {
		return err
	}
	if err := x.headerRow(sh, 1, "Tuần", "Từ ngày", "Số câu trả lời", "Số đánh giá", "Số hài lòng", "Tỷ lệ hài lòng",
		"Mục tiêu", "Cận dưới KTC 95%", "Cận trên KTC 95%"); err != nil {
		return err
	}
	for i, g := range rep.ByWeek {
		var monday any
		if t, ok := weekStart(g.Key, rep.From.Location()); ok {
			monday = t
		}
		if err := x.row(sh, i+2, cell{g.Key, 0}, cell{monday, x.date}, cell{g.Answers, x.num}, cell{g.Rated, x.num},
			cell{g.Satisfied, x.num}, cell{rateValue(g.Satisfaction), x.pct}, cell{Target, x.pct},
			cell{g.CILow, x.pct}, cell{g.CIHigh, x.pct}); err != nil {
			return err
		}
	}
	if len(rep.ByWeek) == 0 {
		return x.row(sh, 2, cell{"Chưa có câu trả lời nào trong kỳ.", 0})
	}
	last := len(rep.ByWeek) + 1
	ref := func(col string) string { return fmt.Sprintf("'%s'!$%s$2:$%s$%d", sh, col, col, last) }
	zero, one := 0.0, 1.0
	bars := &excelize.Chart{
		Type:      excelize.Col,
		Series:    []excelize.ChartSeries{{Name: fmt.Sprintf("'%s'!$F$1", sh), Categories: ref("A"), Values: ref("F"), Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"66BB6A"}}}},
		Title:     excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Mức hài lòng với câu trả lời theo tuần so với mục tiêu 95%"}}},
		Legend:    excelize.ChartLegend{Position: "bottom"},
		YAxis:     excelize.ChartAxis{Minimum: &zero, Maximum: &one, MajorGridLines: true, NumFmt: excelize.ChartNumFmt{CustomNumFmt: "0%"}},
		Dimension: excelize.ChartDimension{Width: 720, Height: 320},
	}
	target := &excelize.Chart{
		Type:   excelize.Line,
		Series: []excelize.ChartSeries{{Name: fmt.Sprintf("'%s'!$G$1", sh), Categories: ref("A"), Values: ref("G"), Line: excelize.LineOptions{Width: 2}, Marker: excelize.ChartMarker{Symbol: "none"}}},
	}
	return x.f.AddChart(sh, "K2", bars, target)
}

// weekStart returns the Monday of an ISO week key like "2026-W07".
func weekStart(key string, loc *time.Location) (time.Time, bool) {
	var y, w int
	if _, err := fmt.Sscanf(key, "%d-W%d", &y, &w); err != nil || w < 1 || w > 53 {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	// 4 January is always in week 1.
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, loc)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, 7*(w-1)), true
}

func (x *workbook) unanswered(rep Report, _ string, _ time.Time) error {
	const sh = SheetUnanswered
	if err := x.sheet(sh, 60, 40, 10, 18); err != nil {
		return err
	}
	if err := x.headerRow(sh, 1, "Câu hỏi (lần gần nhất)", "Dạng chuẩn hoá", "Số lần hỏi", "Lần cuối"); err != nil {
		return err
	}
	for i, u := range rep.Unanswered {
		if err := x.row(sh, i+2, cell{u.Example, x.wrap}, cell{u.Text, x.wrap}, cell{u.Count, x.num}, cell{u.LastSeen, x.datetime}); err != nil {
			return err
		}
	}
	if len(rep.Unanswered) == 0 {
		return x.row(sh, 2, cell{"Không có câu hỏi nào chưa trả lời được trong kỳ.", 0})
	}
	return nil
}

func (x *workbook) teams(rep Report, _ string, _ time.Time) error {
	const sh = SheetTeams
	if err := x.sheet(sh, 30, 12, 12, 12, 12, 14, 16); err != nil {
		return err
	}
	if err := x.headerRow(sh, 1, "Tổ công nghệ số (thôn)", "Số lần nhắc", "Người nhận", "Đã gửi", "Đã nhận",
		"Tỷ lệ xác nhận", "Không gửi được"); err != nil {
		return err
	}
	for i, t := range rep.TeamAcks {
		var rate any
		if t.Sent > 0 {
			rate = t.AckRate
		}
		if err := x.row(sh, i+2, cell{t.Village, 0}, cell{t.Runs, x.num}, cell{t.Recipients, x.num}, cell{t.Sent, x.num},
			cell{t.Acked, x.num}, cell{rate, x.pct}, cell{t.NotReached, x.num}); err != nil {
			return err
		}
	}
	if len(rep.TeamAcks) == 0 {
		return x.row(sh, 2, cell{"Không có lần nhắc nào trong kỳ.", 0})
	}
	return nil
}
