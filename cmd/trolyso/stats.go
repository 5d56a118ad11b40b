package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/colecommune/trolyso/bot/alert"
	"github.com/colecommune/trolyso/bot/stats"
)

// runStats prints satisfaction statistics for a date range or a current
// period (everything recorded by default).
func runStats(ctx context.Context, a *app, args []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("stats")
	cfg.storageFlags(fs)
	from := fs.String("from", "", "first day, YYYY-MM-DD (Asia/Ho_Chi_Minh)")
	to := fs.String("to", "", "last day, YYYY-MM-DD, included")
	period := fs.String("period", "", "current week, month, quarter or year (instead of --from/--to)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	loc := stats.Location()
	var r stats.Range
	switch {
	case *period != "" && (*from != "" || *to != ""):
		return fmt.Errorf("%w: use either --period or --from/--to", errUsage)
	case *period != "":
		if r, err = stats.Period(*period, a.now(), loc); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	default:
		if r, err = stats.Dates(*from, *to, loc); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if *from == "" && *to == "" {
			r = stats.All(loc)
		}
	}
	rep, commune, err := a.buildReport(ctx, cfg, r)
	if err != nil {
		return err
	}
	if *asJSON {
		// Alert jobs created in the period, with their reports.
		reports, err := alertReports(ctx, a, cfg, r)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			stats.Report
			Alerts []alert.Report `json:"alerts"`
		}{rep, reports})
	}
	printReport(a, rep, commune)
	return nil
}

// buildReport opens the database and the base (for titles) and computes
// the statistics of r.
func (a *app) buildReport(ctx context.Context, cfg *Config, r stats.Range) (stats.Report, string, error) {
	if err := cfg.validate(); err != nil {
		return stats.Report{}, "", err
	}
	base, err := a.loadBase(cfg.KBDir, cfg.profile())
	if err != nil {
		return stats.Report{}, "", err
	}
	db, err := a.openDB(ctx, cfg)
	if err != nil {
		return stats.Report{}, "", err
	}
	defer db.Close()
	rep, err := stats.Build(ctx, db, r, stats.Options{Base: base, Location: stats.Location(), Unanswered: 50, Lowest: 20})
	if err != nil {
		return stats.Report{}, "", err
	}
	return rep, base.Profile.Name, nil
}

func printReport(a *app, rep stats.Report, commune string) {
	w := a.stdout
	fmt.Fprintf(w, "%s – %s\n\n", orDash(commune), rep.Label)
	fmt.Fprintf(w, "Dịch vụ công trực tuyến: %s\n", rep.Service.Summary())
	fmt.Fprintf(w, "Câu trả lời của trợ lý:  %s\n", rep.Answers.Summary())
	fmt.Fprintf(w, "Câu trả lời đã gửi: %d, được đánh giá: %s\n", rep.AnswersGiven, stats.Pct(rep.RatedShare))
	if n := rep.AnswerModes["composed"] + rep.AnswerModes["fallback"]; n > 0 {
		fmt.Fprintf(w, "Soạn bằng mô hình: %d, dự phòng: %d\n", rep.AnswerModes["composed"], rep.AnswerModes["fallback"])
	}
	if l := rep.LLM; l != nil {
		fmt.Fprintf(w, "Mô hình ngôn ngữ: %d lượt gọi, %d token, soạn %d, dự phòng %d, từ chối %d\n", l.Calls, l.Tokens, l.Composed, l.Fallback, l.Refused)
	}
	if h := rep.Handoff; h.Requests > 0 || h.OpenNow > 0 {
		fmt.Fprintf(w, "Hỏi cán bộ xã: %s\n", h.Summary())
	}
	groups := func(title string, gs []stats.Group, label func(stats.Group) string) {
		if len(gs) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, g := range gs {
			fmt.Fprintf(w, "  %-50s %4d trả lời  %s\n", label(g), g.Answers, g.Summary())
		}
	}
	groups("Theo chủ đề", rep.ByTopic, func(g stats.Group) string { return g.Label })
	groups("Theo kênh", rep.ByChannel, func(g stats.Group) string { return stats.ChannelLabel(g.Key) })
	groups("Theo tuần", rep.ByWeek, func(g stats.Group) string { return g.Label })
	if len(rep.ByService) > 0 {
		fmt.Fprintln(w, "\nDịch vụ công được đánh giá:")
		for _, g := range rep.ByService {
			fmt.Fprintf(w, "  %-50s %s\n", g.Label, g.Summary())
		}
	}
	if len(rep.Lowest) > 0 {
		fmt.Fprintln(w, "\nBị đánh giá thấp nhất:")
		for _, l := range rep.Lowest {
			var reasons []string
			for k, v := range l.Reasons {
				reasons = append(reasons, fmt.Sprintf("%s: %d", k, v))
			}
			fmt.Fprintf(w, "  %s – %d 👎, %s; %s\n", l.Title, l.Negative, stats.Pct(l.Rate), strings.Join(reasons, ", "))
			for _, c := range l.Comments {
				fmt.Fprintf(w, "      “%s”\n", c)
			}
		}
	}
	if len(rep.Unanswered) > 0 {
		fmt.Fprintln(w, "\nCâu hỏi chưa trả lời được:")
		for _, u := range rep.Unanswered {
			fmt.Fprintf(w, "  %3d× %s (lần cuối %s)\n", u.Count, u.Example, u.LastSeen.Format("02/01/2006 15:04"))
		}
	}
}

// alertReports reads the reports of the alert jobs created in r.
func alertReports(ctx context.Context, a *app, cfg *Config, r stats.Range) ([]alert.Report, error) {
	db, err := a.openDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return alert.Reports(ctx, db, r.From, r.To)
}
