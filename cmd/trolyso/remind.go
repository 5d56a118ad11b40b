package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/bot/remind"
	"github.com/colecommune/trolyso/bot/remind/spec"
	"github.com/colecommune/trolyso/storage"
)

const remindUsage = `usage:
  trolyso remind add --name NAME --cron "M H DOM MON DOW" [--target all|teams:ID,ID|groups] --template TEXT
  trolyso remind list
  trolyso remind edit ID [--name NAME] [--cron SPEC] [--target T] [--template TEXT]   change only what is given
  trolyso remind pause ID | resume ID | rm ID
  trolyso remind preview ID | --cron SPEC [--template TEXT]   next five run times (+07:00), then the text
  trolyso remind status [RUN_ID]                              who acknowledged a run, who did not
Cron expressions have 5 fields and are read in Vietnamese time (Asia/Ho_Chi_Minh).
Template fields: ` + "{{.Team}} {{.Date}} {{.Questions}} {{.Unanswered}} {{.SatisfactionRate}} {{.DaysToDeadline}} {{.Deadline}} {{.StaleEntries}} {{.OpenHandoffs}}"

// runRemind manages the scheduled reminders.
func runRemind(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, remindUsage)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	sub := args[0]
	fs := a.newFlags("remind " + sub)
	cfg.storageFlags(fs)
	name := fs.String("name", "", "reminder name (add)")
	cronExpr := fs.String("cron", "", "5-field cron expression, Vietnamese time (add, preview)")
	target := fs.String("target", "all", "all, teams:ID,ID or groups (add)")
	tmpl := fs.String("template", "", "message template (add, preview)")
	rest, err := parseAnywhere(fs, args[1:])
	if err != nil {
		return err
	}
	usage := func() error { return fmt.Errorf("%w: %s", errUsage, remindUsage) }
	switch sub {
	case "add", "list":
		if len(rest) != 0 {
			return usage()
		}
	case "pause", "resume", "rm", "edit":
		if len(rest) != 1 {
			return usage()
		}
	case "preview":
		if (len(rest) == 1) == (*cronExpr != "") || len(rest) > 1 {
			return fmt.Errorf("%w: remind preview ID, or remind preview --cron SPEC [--template TEXT]", errUsage)
		}
	case "status":
		if len(rest) > 1 {
			return usage()
		}
	default:
		return usage()
	}
	db, err := a.openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := remind.SeedDefaults(ctx, db); err != nil {
		return err
	}
	switch sub {
	case "add":
		return remindAdd(ctx, a, db, *name, *cronExpr, *target, *tmpl)
	case "list":
		return remindList(ctx, a, db)
	case "pause", "resume", "rm":
		id, err := parseID(rest[0])
		if err != nil {
			return err
		}
		switch sub {
		case "pause":
			err = db.SetReminderEnabled(ctx, id, false)
		case "resume":
			err = db.SetReminderEnabled(ctx, id, true)
		case "rm":
			err = db.DeleteReminder(ctx, id)
		}
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no reminder %d (see trolyso remind list)", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "reminder %d: %s\n", id, map[string]string{"pause": "paused", "resume": "resumed", "rm": "removed"}[sub])
		return nil
	case "edit":
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		return remindEdit(ctx, a, db, rest[0], set, *name, *cronExpr, *target, *tmpl)
	case "preview":
		return remindPreview(ctx, a, cfg, db, rest, *cronExpr, *tmpl)
	case "status":
		return remindStatus(ctx, a, db, rest)
	}
	return nil
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: %q is not an id", errUsage, s)
	}
	return id, nil
}

// checkReminder validates a reminder's parts as a whole, naming every
// problem.
func checkReminder(ctx context.Context, db *storage.DB, name, cronExpr, target, tmpl string) error {
	var errs []error
	if strings.TrimSpace(name) == "" {
		errs = append(errs, errors.New("--name is required"))
	}
	if _, err := spec.ParseCron(cronExpr); err != nil {
		errs = append(errs, err)
	}
	if _, err := spec.ParseTemplate(tmpl); err != nil {
		errs = append(errs, err)
	}
	t, err := spec.ParseTarget(target)
	if err != nil {
		errs = append(errs, err)
	}
	for _, id := range t.Teams {
		if _, err := db.Team(ctx, strconv.FormatInt(id, 10)); err != nil {
			errs = append(errs, fmt.Errorf("target: no team %d (see trolyso team list)", id))
		}
	}
	return errors.Join(errs...)
}

func remindAdd(ctx context.Context, a *app, db *storage.DB, name, cronExpr, target, tmpl string) error {
	if err := checkReminder(ctx, db, name, cronExpr, target, tmpl); err != nil {
		return err
	}
	t, _ := spec.ParseTarget(target)
	r := storage.Reminder{Name: name, Cron: strings.TrimSpace(cronExpr), Target: t.String(), Template: tmpl, Enabled: true}
	if err := db.AddReminder(ctx, &r); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "reminder %d added; next run %s\n", r.ID, nextRun(r.Cron, a.now()))
	return nil
}

// findReminder looks a reminder up by its id as typed ("3" or "#3").
func findReminder(ctx context.Context, db *storage.DB, ref string) (storage.Reminder, error) {
	id, err := parseID(ref)
	if err != nil {
		return storage.Reminder{}, err
	}
	r, err := db.Reminder(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Reminder{}, fmt.Errorf("no reminder %d (see trolyso remind list)", id)
	}
	return r, err
}

// remindEdit changes the parts of a reminder given on the command line
// (set names the flags that were given), validating the result as a whole.
func remindEdit(ctx context.Context, a *app, db *storage.DB, ref string, set map[string]bool, name, cronExpr, target, tmpl string) error {
	r, err := findReminder(ctx, db, ref)
	if err != nil {
		return err
	}
	if !set["name"] && !set["cron"] && !set["target"] && !set["template"] {
		return fmt.Errorf("%w: remind edit ID needs at least one of --name, --cron, --target, --template", errUsage)
	}
	if set["name"] {
		r.Name = name
	}
	if set["cron"] {
		r.Cron = strings.TrimSpace(cronExpr)
	}
	if set["target"] {
		r.Target = target
	}
	if set["template"] {
		r.Template = tmpl
	}
	if err := checkReminder(ctx, db, r.Name, r.Cron, r.Target, r.Template); err != nil {
		return err
	}
	t, _ := spec.ParseTarget(r.Target)
	r.Target = t.String()
	if err := db.UpdateReminder(ctx, r); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "reminder %d updated; next run %s\n", r.ID, nextRun(r.Cron, a.now()))
	return nil
}

func nextRun(cronExpr string, now time.Time) string {
	s, err := spec.ParseCron(cronExpr)
	if err != nil {
		return "invalid: " + err.Error()
	}
	ts := spec.NextTimes(s, now, 1)
	if len(ts) == 0 {
		return "never"
	}
	return ts[0].Format(time.RFC3339)
}

func remindList(ctx context.Context, a *app, db *storage.DB) error {
	rs, err := db.Reminders(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tCRON\tIN WORDS\tTARGET\tNEXT RUN")
	for _, r := range rs {
		state, next := "enabled", nextRun(r.Cron, a.now())
		if !r.Enabled {
			state, next = "paused", "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, state, r.Cron, spec.Describe(r.Cron), r.Target, next)
	}
	return tw.Flush()
}

func remindPreview(ctx context.Context, a *app, cfg *Config, db *storage.DB, rest []string, cronExpr, tmpl string) error {
	if len(rest) == 1 {
		r, err := findReminder(ctx, db, rest[0])
		if err != nil {
			return err
		}
		cronExpr = r.Cron
		if tmpl == "" {
			tmpl = r.Template
		}
	}
	s, err := spec.ParseCron(cronExpr)
	if err != nil {
		return err
	}
	var tp *spec.Template
	if tmpl != "" {
		if tp, err = spec.ParseTemplate(tmpl); err != nil {
			return err
		}
	}
	times := spec.NextTimes(s, a.now(), 5)
	for _, t := range times {
		fmt.Fprintln(a.stdout, t.Format(time.RFC3339))
	}
	if tp == nil || len(times) == 0 {
		return nil
	}
	d, err := remind.Figures(ctx, db, times[0])
	if err != nil {
		return err
	}
	d.Team = "Thôn Mẫu"
	if ts, err := db.Teams(ctx); err == nil && len(ts) > 0 {
		d.Team = ts[0].Village
	}
	base, err := a.loadBase(cfg.KBDir, cfg.profile())
	if err != nil {
		return fmt.Errorf("count the entries due for review ({{.StaleEntries}}): %w", err)
	}
	d.StaleEntries = len(base.NeedsReview(times[0].In(spec.Location())))
	text, err := tp.Execute(d)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "\n%s\n", markup.Plain(text))
	return nil
}

func remindStatus(ctx context.Context, a *app, db *storage.DB, rest []string) error {
	var run storage.Run
	if len(rest) == 1 {
		id, err := parseID(rest[0])
		if err != nil {
			return err
		}
		if run, err = db.Run(ctx, id); errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no run %d", id)
		} else if err != nil {
			return err
		}
	} else {
		runs, err := db.RecentRuns(ctx, 0, 10)
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			fmt.Fprintln(a.stdout, "no reminder has run yet")
			return nil
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RUN\tREMINDER\tSCHEDULED FOR\tLATE\tSTATUS")
		for _, r := range runs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%s\n", r.ID, orDash(r.ReminderName), r.ScheduledFor.In(spec.Location()).Format(time.RFC3339), r.Late, r.Status)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintln(a.stdout)
		run = runs[0]
	}
	ds, err := db.RunDeliveries(ctx, run.ID)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, markup.Plain(bot.RunStatusText(run, ds)))
	return nil
}
