package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/storage"
)

// The service-satisfaction survey: "/danhgia" or the payload "sv" asks which
// online public service the resident used ("sv:s:<service>"), then the
// official five-level scale ("sv:l:<service>:<level>"), then takes an
// optional comment as the next free text.

const (
	textSurveyStart = "**Đánh giá dịch vụ công trực tuyến – bước 1/2**\n\n" +
		"Bạn đã dùng dịch vụ công trực tuyến nào? Bấm chọn bên dưới (nếu không có trong danh sách, chọn **Dịch vụ khác**)."
	textSurveyLevel = "**Đánh giá dịch vụ công trực tuyến – bước 2/2**\n\n" +
		"Bạn hài lòng thế nào với dịch vụ **%s**?"
	labelSurveyBack = "↩ Chọn dịch vụ khác"
	textSurveyDone  = "Cảm ơn bạn đã đánh giá: **%s**. Nếu muốn, bạn gõ thêm góp ý ngắn trong vài phút tới (không ghi số điện thoại hay số căn cước); hoặc bấm **Bỏ qua**."
)

func (e *Engine) registerSurvey() {
	e.HandleCommand("danhgia", Command{Handle: func(ctx context.Context, m Message, _ string) Reply { return e.surveyStart() }})
	e.HandlePayload("sv", e.survey)
}

// surveyStart asks which service the resident used.
func (e *Engine) surveyStart() Reply {
	var rows [][]Button
	for _, en := range e.Base().Services() {
		// Offer only services whose longest payload, the level button
		// "sv:l:<id>:<n>", fits: channels drop longer buttons.
		if len(levelPayload(en.ID, 5)) <= MaxPayloadLen {
			rows = append(rows, []Button{{Label: en.Service, Payload: "sv:s:" + en.ID}})
		}
	}
	rows = append(rows, []Button{{Label: stats.ServiceOther, Payload: "sv:s:" + storage.SurveyService}})
	return Reply{Band: BandCommand, Text: textSurveyStart, Buttons: rows}
}

// levelPayload is the payload of a satisfaction-level button.
func levelPayload(service string, level int) string {
	return "sv:l:" + service + ":" + strconv.Itoa(level)
}

func (e *Engine) serviceTitle(service string) (string, bool) {
	if service == storage.SurveyService {
		return stats.ServiceOther, true
	}
	en, ok := e.Base().Entry(service)
	if !ok || en.Service == "" {
		return "", false
	}
	return en.Service, true
}

func (e *Engine) survey(ctx context.Context, m Message, args []string) Reply {
	if len(args) == 0 {
		return e.surveyStart()
	}
	switch {
	case args[0] == "s" && len(args) == 2:
		title, ok := e.serviceTitle(args[1])
		if !ok {
			return e.unknownButton()
		}
		rows := make([][]Button, 0, len(stats.Levels)+1)
		for _, l := range stats.Levels {
			rows = append(rows, []Button{{Label: l.Label, Payload: levelPayload(args[1], l.Level)}})
		}
		rows = append(rows, []Button{{Label: labelSurveyBack, Payload: "sv"}})
		return Reply{Band: BandCommand, Text: fmt.Sprintf(textSurveyLevel, title), Buttons: rows}
	case args[0] == "l" && len(args) == 3:
		if _, ok := e.serviceTitle(args[1]); !ok {
			return e.unknownButton()
		}
		level, err := strconv.Atoi(args[2])
		if err != nil || level < 1 || level > 5 {
			return e.unknownButton()
		}
		if e.store == nil || m.UserKey == "" {
			return Reply{Band: BandCommand, Text: textError, Buttons: menuRow()}
		}
		id, err := e.store.RecordSurvey(ctx, m.Channel, m.UserKey, args[1], level, CommentWindow)
		if err != nil {
			e.log.Error("record survey", "err", err)
			return Reply{Band: BandCommand, Text: textError, Buttons: menuRow()}
		}
		e.log.Info("survey answered", "channel", m.Channel, "service", args[1], "level", level)
		e.setPending(ctx, m, pendingSurveyComment, FormatID(id))
		label := ""
		for _, l := range stats.Levels {
			if l.Level == level {
				label = l.Label
			}
		}
		return Reply{Band: BandCommand, Text: fmt.Sprintf(textSurveyDone, label),
			Buttons: [][]Button{{{Label: labelSkip, Payload: "x"}, {Label: labelMenu, Payload: "m"}}}}
	}
	return e.unknownButton()
}

// registerStats adds the admin command /thongke: a compact summary with a
// choice of period ("tk:week", "tk:month", …).
func (e *Engine) registerStats() {
	e.HandleCommand("thongke", Command{Admin: true, Help: "thống kê mức độ hài lòng (tuần, tháng, quý, năm)",
		Handle: func(ctx context.Context, m Message, args string) Reply {
			p := strings.TrimSpace(args)
			if p == "" {
				p = "month"
			}
			return e.statsSummary(ctx, m, p)
		}})
	e.HandlePayload("tk", func(ctx context.Context, m Message, args []string) Reply {
		// Payloads are not gated like admin commands: check here.
		if !m.Admin {
			return Reply{Band: BandCommand, Text: textUnknownCmd, Buttons: menuRow()}
		}
		if len(args) != 1 {
			return e.unknownButton()
		}
		return e.statsSummary(ctx, m, args[0])
	})
}

func (e *Engine) statsSummary(ctx context.Context, m Message, period string) Reply {
	if e.store == nil {
		return Reply{Band: BandCommand, Text: textError}
	}
	loc := stats.Location()
	r, err := stats.Period(period, m.Time, loc)
	if err != nil {
		return Reply{Band: BandCommand, Text: "Kỳ thống kê không hợp lệ. Bấm một nút bên dưới: tuần này, tháng này, quý này hoặc năm nay.", Buttons: periodButtons()}
	}
	rep, err := stats.Build(ctx, e.store, r, stats.Options{Base: e.Base(), Location: loc, Unanswered: 3, Lowest: 3})
	if err != nil {
		e.log.Error("build statistics", "err", err)
		return Reply{Band: BandCommand, Text: textError, Buttons: periodButtons()}
	}
	return Reply{Band: BandCommand, Text: SummaryText(rep), Buttons: periodButtons()}
}

// SummaryText is the compact Vietnamese summary of a report (restricted
// Markdown), used by /thongke.
func SummaryText(rep stats.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Thống kê mức độ hài lòng – %s**\n\n", rep.Label)
	fmt.Fprintf(&b, "- **Dịch vụ công trực tuyến**: %s\n", rep.Service.Summary())
	fmt.Fprintf(&b, "- **Câu trả lời của trợ lý**: %s\n", rep.Answers.Summary())
	fmt.Fprintf(&b, "- Câu trả lời đã gửi: %d, được đánh giá: %s\n", rep.AnswersGiven, stats.Pct(rep.RatedShare))
	fmt.Fprintf(&b, "- Câu hỏi chưa trả lời được: %d lượt", rep.Bands["decline"])
	if len(rep.Unanswered) > 0 {
		fmt.Fprintf(&b, " (hỏi nhiều nhất: \"%s\" – %d lần)", plainQuote(rep.Unanswered[0].Example), rep.Unanswered[0].Count)
	}
	b.WriteString("\n")
	if len(rep.Lowest) > 0 {
		l := rep.Lowest[0]
		fmt.Fprintf(&b, "- Bị chê nhiều nhất: %s (%d 👎)\n", l.Title, l.Negative)
	}
	if h := rep.Handoff; h.Requests > 0 || h.OpenNow > 0 {
		fmt.Fprintf(&b, "- **Hỏi cán bộ xã**: %s\n", h.Summary())
	}
	return strings.TrimSpace(b.String())
}

func periodButtons() [][]Button {
	row := make([]Button, 0, len(stats.Periods))
	for _, p := range stats.Periods {
		row = append(row, Button{Label: p.Label, Payload: "tk:" + p.ID})
	}
	return [][]Button{row[:2], row[2:]}
}

// plainQuote keeps a resident's text from adding Markdown (links, bold,
// autolinks) to an admin summary: one line of at most 80 characters.
func plainQuote(s string) string {
	s = strings.NewReplacer("[", "(", "]", ")", "*", "", "`", "", "<", "‹", ">", "›").Replace(s)
	return truncate(strings.Join(strings.Fields(s), " "), 80)
}
