package stats

import (
	"bufio"
	"embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
)

// Pct formats a fraction as a Vietnamese percentage with one decimal and a
// decimal comma: 0.9512 → "95,1%".
func Pct(f float64) string { return PctNum(f) + "%" }

// PctNum is Pct without the percent sign.
func PctNum(f float64) string {
	return strings.Replace(strconv.FormatFloat(f*100, 'f', 1, 64), ".", ",", 1)
}

// Summary is a one-line Vietnamese description of a satisfaction.
func (s Satisfaction) Summary() string {
	if s.Rated == 0 {
		return "chưa có đánh giá"
	}
	out := fmt.Sprintf("%d/%d hài lòng = %s (khoảng tin cậy 95%%: %s–%s)", s.Satisfied, s.Rated, Pct(s.Rate), Pct(s.CILow), Pct(s.CIHigh))
	return out + "; " + s.Gap()
}

// Gap says where the rate stands against the target. The target counts as
// reached only when the whole 95% interval is at or above it (its lower
// bound ≥ 95%); below MinRatings ratings there is not enough data to say.
func (s Satisfaction) Gap() string {
	switch {
	case !s.EnoughData:
		return fmt.Sprintf("chưa đủ dữ liệu để kết luận: mới có %d đánh giá, cần thêm ít nhất %d đánh giá nữa (tối thiểu %d)",
			s.Rated, s.MoreRatingsNeeded, MinRatings)
	case s.Reached:
		return fmt.Sprintf("đã đạt mục tiêu 95%% (cận dưới khoảng tin cậy %s ≥ 95%%)", Pct(s.CILow))
	case s.NeededForTarget > 0:
		return fmt.Sprintf("chưa đạt 95%%: cần thêm %d đánh giá hài lòng để tỷ lệ đạt 95%%", s.NeededForTarget)
	case s.NeededForConfidence > 0:
		return fmt.Sprintf("chưa chắc đạt 95%%: tỷ lệ %s nhưng cận dưới khoảng tin cậy mới %s; cần thêm khoảng %d đánh giá hài lòng liên tiếp",
			Pct(s.Rate), Pct(s.CILow), s.NeededForConfidence)
	}
	return fmt.Sprintf("chưa chắc đạt 95%%: tỷ lệ %s nhưng cận dưới khoảng tin cậy mới %s", Pct(s.Rate), Pct(s.CILow))
}

// csvHeader is the header of the figures table in the CSV report.
var csvHeader = []string{"Phần", "Mục", "Số câu trả lời", "Số đánh giá", "Số hài lòng", "Tỷ lệ hài lòng (%)",
	"Cận dưới KTC 95% (%)", "Cận trên KTC 95% (%)", "Cần thêm để đạt 95%"}

// WriteCSV writes the report as CSV for Excel: UTF-8 with a byte-order
// mark, Vietnamese headers, decimal commas.
func WriteCSV(w io.Writer, rep Report, commune string) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("\uFEFF")
	c := &cellWriter{csv.NewWriter(bw)}
	row := func(part, item string, answers string, s Satisfaction) []string {
		return []string{part, item, answers, strconv.Itoa(s.Rated), strconv.Itoa(s.Satisfied), PctNum(s.Rate),
			PctNum(s.CILow), PctNum(s.CIHigh), strconv.Itoa(s.NeededForTarget)}
	}
	c.Write(csvHeader)
	c.Write(row("Hài lòng với dịch vụ công trực tuyến", "Tổng", "", rep.Service))
	for _, g := range rep.ByService {
		c.Write(row("Hài lòng với dịch vụ công trực tuyến", g.Label, "", g.Satisfaction))
	}
	c.Write(row("Hài lòng với câu trả lời của trợ lý số", "Tổng", strconv.Itoa(rep.AnswersGiven), rep.Answers))
	for _, g := range rep.ByTopic {
		c.Write(row("Theo chủ đề", g.Label, strconv.Itoa(g.Answers), g.Satisfaction))
	}
	for _, g := range rep.ByChannel {
		c.Write(row("Theo kênh", ChannelLabel(g.Key), strconv.Itoa(g.Answers), g.Satisfaction))
	}
	for _, g := range rep.ByWeek {
		c.Write(row("Theo tuần", g.Label, strconv.Itoa(g.Answers), g.Satisfaction))
	}
	c.Write(nil)
	c.Write([]string{"Câu hỏi chưa trả lời được", "Số lần hỏi", "Lần cuối"})
	for _, u := range rep.Unanswered {
		c.Write([]string{u.Example, strconv.Itoa(u.Count), u.LastSeen.Format("02/01/2006 15:04")})
	}
	c.Write(nil)
	c.Write([]string{"Thông tin", "Giá trị"})
	c.Write([]string{"Đơn vị", commune})
	c.Write([]string{"Kỳ báo cáo", rep.Label})
	c.Write([]string{"Từ ngày", rep.From.Format("02/01/2006")})
	c.Write([]string{"Đến ngày", rep.To.Add(-time.Second).Format("02/01/2006")})
	c.Write([]string{"Tỷ lệ câu trả lời được đánh giá (%)", PctNum(rep.RatedShare)})
	if rep.Period == "quarter" {
		c.Write([]string{"Hạn nộp báo cáo", "trước ngày " + Deadline(Range{From: rep.From, To: rep.To}).Format("02/01/2006")})
	}
	c.Flush()
	if err := c.Error(); err != nil {
		return fmt.Errorf("write csv report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv report: %w", err)
	}
	return nil
}

// cellWriter writes CSV records whose text cells cannot be read by a
// spreadsheet as formulas: questions typed by residents, entry titles and
// the commune's name go into the report, and a cell such as
// "=HYPERLINK(…)" would otherwise run when the file is opened in Excel.
type cellWriter struct{ *csv.Writer }

func (c *cellWriter) Write(record []string) error {
	out := make([]string, len(record))
	for i, v := range record {
		out[i] = safeCell(v)
	}
	return c.Writer.Write(out)
}

// safeCell prefixes a cell that a spreadsheet would evaluate (starting with
// =, +, -, @, a tab or a carriage return) with an apostrophe, which makes
// it text.
func safeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// ChannelLabel names a channel for people.
func ChannelLabel(ch string) string {
	switch ch {
	case "web":
		return "Trang web"
	case "telegram":
		return "Telegram"
	case "zalo":
		return "Zalo"
	case "cli":
		return "Dòng lệnh"
	}
	return ch
}

//go:embed report.html
var reportFS embed.FS

var reportTmpl = template.Must(template.New("report.html").Funcs(Funcs).ParseFS(reportFS, "report.html"))

// Funcs are template helpers shared with the admin dashboard.
var Funcs = template.FuncMap{
	"pct":     Pct,
	"channel": ChannelLabel,
	"date":    func(t time.Time) string { return t.Format("02/01/2006") },
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("02/01/2006 15:04")
	},
	"lastday": func(t time.Time) string { return t.Add(-time.Second).Format("02/01/2006") },
}

// WriteHTML writes the report as a printable HTML page.
func WriteHTML(w io.Writer, rep Report, commune string, generated time.Time) error {
	data := struct {
		Report
		Commune   string
		Generated time.Time
		Deadline  time.Time
		Quarterly bool
	}{rep, commune, generated, Deadline(Range{From: rep.From, To: rep.To}), rep.Period == "quarter"}
	if err := reportTmpl.Execute(w, data); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}
