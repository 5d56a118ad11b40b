package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/alert"
	"github.com/colecommune/trolyso/bot/telegram"
	"github.com/colecommune/trolyso/bot/zalo"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/knowledge/alerts"
	"github.com/colecommune/trolyso/storage"
)

const alertUsage = `usage:
  trolyso alert send --file FILE.md [--kind scam|notice|disaster] [--villages A,B] [--channels telegram,zalo]
                     [--at "2026-12-01 07:30"] [--expires 30d] [--by NAME] [--yes [--count N]] [--no-wait]
  trolyso alert preview --file FILE.md [same flags]   the messages per channel and the recipient count; nothing is sent
  trolyso alert list                                  recent alert jobs
  trolyso alert status ID [--watch] [--json]          progress and report of a job
  trolyso alert pause ID | resume ID | cancel ID      pause or resume a running job; cancel a scheduled or running one
  trolyso alert run                                   send due jobs from this process (when no server is running)
  trolyso alert templates [NAME]                      the ready-made alerts; with NAME, print one (a file to edit)
  trolyso alert subscribers                           residents who opted in, by channel and village
A running server sends recorded jobs; without one, send and run send from this process with a progress bar.
More than ` + "500" + ` recipients: type the count to confirm, or pass --yes --count N.`

// alertFlags are the flags of alert send and preview.
type alertFlags struct {
	file, kind, villages, channels, at, expires, by string
	yes, noWait, watch, asJSON                      bool
	count                                           int
}

// runAlert manages alerts to residents.
func runAlert(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, alertUsage)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	sub := args[0]
	fs := a.newFlags("alert " + sub)
	cfg.storageFlags(fs)
	var f alertFlags
	fs.StringVar(&f.file, "file", "", "the alert file (Markdown with front matter; see trolyso alert templates)")
	fs.StringVar(&f.kind, "kind", "", "scam, notice or disaster (replaces the file's kind)")
	fs.StringVar(&f.villages, "villages", "", "comma-separated villages of the commune profile (replaces the file's)")
	fs.StringVar(&f.channels, "channels", "", "comma-separated channels: telegram, zalo (replaces the file's)")
	fs.StringVar(&f.at, "at", "", `send time, Vietnamese time: "2026-12-01 07:30" (default: now)`)
	fs.StringVar(&f.expires, "expires", "", "how long the alert stays current: 72h, 30d or a date (replaces the file's)")
	fs.StringVar(&f.by, "by", "", "who confirms the send (default: your login name)")
	fs.BoolVar(&f.yes, "yes", false, "do not ask for confirmation (scripts); above 500 recipients --count must match too")
	fs.IntVar(&f.count, "count", 0, "with --yes above 500 recipients: the recipient count, as a confirmation")
	fs.BoolVar(&f.noWait, "no-wait", false, "record the job and return (a running server sends it)")
	fs.BoolVar(&f.watch, "watch", false, "status: follow the progress until the job ends")
	fs.BoolVar(&f.asJSON, "json", false, "status: print the report as JSON")
	rest, err := parseAnywhere(fs, args[1:])
	if err != nil {
		return err
	}
	usage := func() error { return fmt.Errorf("%w: %s", errUsage, alertUsage) }
	switch sub {
	case "send", "preview", "list", "run", "subscribers":
		if len(rest) != 0 {
			return usage()
		}
	case "status", "pause", "resume", "cancel":
		if len(rest) != 1 {
			return usage()
		}
	case "templates":
		if len(rest) > 1 {
			return usage()
		}
		return alertTemplates(a, rest)
	default:
		return usage()
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	db, err := a.openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "send", "preview":
		return alertSend(ctx, a, cfg, db, f, sub == "preview")
	case "list":
		return alertList(ctx, a, db)
	case "subscribers":
		return alertSubscribers(ctx, a, db)
	case "run":
		return alertRun(ctx, a, cfg, db, 0)
	}
	id, err := parseID(rest[0])
	if err != nil {
		return err
	}
	switch sub {
	case "status":
		return alertStatus(ctx, a, db, id, f)
	default:
		status := map[string]string{"pause": storage.JobPaused, "resume": storage.JobRunning, "cancel": storage.JobCancelled}[sub]
		j, err := db.SetAlertJobStatus(ctx, id, status)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no alert job %d (see trolyso alert list)", id)
		}
		if err != nil {
			return err
		}
		a.log.Info("alert job changed from the CLI", "job", id, "status", status, "by", loginName())
		fmt.Fprintf(a.stdout, "alert job %d: %s\n", j.ID, j.Status)
		return nil
	}
}

func loginName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "unknown"
}

// readSpec reads the alert file and applies the flags that replace its
// fields.
func readSpec(f alertFlags) (alert.Spec, error) {
	if f.file == "" {
		return alert.Spec{}, fmt.Errorf("%w: --file is required (start from one of: trolyso alert templates)", errUsage)
	}
	b, err := os.ReadFile(f.file)
	if err != nil {
		return alert.Spec{}, fmt.Errorf("read alert file: %w", err)
	}
	s, err := alert.Parse(b)
	if err != nil {
		return alert.Spec{}, fmt.Errorf("%s: %w", f.file, err)
	}
	if f.kind != "" {
		s.Kind = f.kind
	}
	if f.villages != "" {
		s.Villages = alert.SplitList(f.villages)
	}
	if f.channels != "" {
		s.Channels = alert.SplitList(f.channels)
	}
	if f.expires != "" {
		s.Expires = f.expires
	}
	if f.at != "" {
		if s.At, err = alert.ParseTime(f.at); err != nil {
			return alert.Spec{}, fmt.Errorf("%w: --at: %v", errUsage, err)
		}
	}
	return s, nil
}

func alertSend(ctx context.Context, a *app, cfg *Config, db *storage.DB, f alertFlags, previewOnly bool) error {
	s, err := readSpec(f)
	if err != nil {
		return err
	}
	base, err := a.loadBase(cfg.KBDir, cfg.profile())
	if err != nil {
		return err
	}
	by := strings.TrimSpace(f.by)
	if by == "" {
		by = loginName()
	}
	host, _ := os.Hostname()
	j, err := alert.Build(s, base, a.now(), by+" (CLI on "+host+")")
	if err != nil {
		var p alert.Problems
		if errors.As(err, &p) {
			for _, msg := range p {
				fmt.Fprintf(a.stderr, "%s: %s\n", f.file, msg)
			}
			return fmt.Errorf("%d problem(s) in %s; nothing was sent", len(p), f.file)
		}
		return err
	}
	count, err := db.CountAlertRecipients(ctx, storage.JobTarget(j))
	if err != nil {
		return err
	}
	j.Planned = count.Total
	alert.WritePreview(a.stdout, j, count)
	if n := len(base.Profile.Missing); n > 0 {
		fmt.Fprintf(a.stdout, "Warning: the commune profile lacks %d detail(s); the message uses generic wording for them (see trolyso commune check).\n", n)
	}
	sender, senderErr := db.CurrentAlertSender(ctx, a.now())
	serverRuns := senderErr == nil
	if !serverRuns {
		for ch, n := range count.ByChannel {
			if n > 0 && !channelConfigured(cfg, ch) {
				fmt.Fprintf(a.stdout, "Warning: %d recipients on %s, but that channel is not configured here; they would be recorded as failed.\n", n, ch)
			}
		}
	}
	if previewOnly {
		return nil
	}
	if count.Total == 0 {
		return errors.New("no recipients: nobody who opted in matches this alert; nothing was recorded")
	}
	if err := confirmSend(a, f, count.Total); err != nil {
		return err
	}
	if err := db.CreateAlertJob(ctx, &j); err != nil {
		return err
	}
	a.log.Info("alert job created", "job", j.ID, "kind", j.Kind, "recipients", count.Total, "scheduled_for", j.ScheduledFor.Format(time.RFC3339), "confirmed_by", j.CreatedBy)
	fmt.Fprintf(a.stdout, "Alert job %d recorded (%s), confirmed by %s.\n", j.ID, alert.StatusText(j.Status), j.CreatedBy)
	if serverRuns {
		fmt.Fprintf(a.stdout, "A running server sends it (%s). Follow it with: trolyso alert status %d --watch\n", sender.Owner, j.ID)
		if f.noWait {
			return nil
		}
		return watchJob(ctx, a, db, j.ID)
	}
	if f.noWait {
		fmt.Fprintf(a.stdout, "No server is sending alerts: it goes out when the server starts, or with: trolyso alert run\n")
		return nil
	}
	fmt.Fprintln(a.stdout, "No server is sending alerts: sending from here (Ctrl-C stops; the rest can be sent later with trolyso alert run).")
	return alertRun(ctx, a, cfg, db, j.ID)
}

func channelConfigured(cfg *Config, ch string) bool {
	switch ch {
	case bot.ChannelTelegram, "group":
		return cfg.Telegram.Enabled()
	case bot.ChannelZalo:
		return cfg.Zalo.Enabled()
	}
	return false
}

// confirmSend asks for an explicit confirmation: "yes" up to
// alert.ConfirmAbove recipients, the count itself above.
func confirmSend(a *app, f alertFlags, n int) error {
	if f.yes {
		if n > alert.ConfirmAbove && f.count != n {
			return fmt.Errorf("%d recipients (more than %d): add --count %d to confirm with --yes; nothing was sent", n, alert.ConfirmAbove, n)
		}
		return nil
	}
	in := bufio.NewReader(a.stdin)
	if n > alert.ConfirmAbove {
		fmt.Fprintf(a.stdout, "This goes to %d recipients. Type the number of recipients (%d) to send: ", n, n)
	} else {
		fmt.Fprintf(a.stdout, "Send to %d recipients? Type \"yes\" to send: ", n)
	}
	line, err := in.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	line = strings.ToLower(strings.TrimSpace(line))
	ok := line == "yes" || line == "có" || line == "co"
	if n > alert.ConfirmAbove {
		ok = line == strconv.Itoa(n)
	}
	if !ok {
		return errors.New("not confirmed; nothing was sent")
	}
	return nil
}

// alertRun sends from this process while no server does: until job ends
// (job > 0), or until no job is due or running (job 0), with a progress
// bar for the job.
func alertRun(ctx context.Context, a *app, cfg *Config, db *storage.DB, job int64) error {
	if cur, err := db.CurrentAlertSender(ctx, a.now()); err == nil {
		if job == 0 {
			return fmt.Errorf("alerts are being sent by %s; nothing to do here", cur.Owner)
		}
		return watchJob(ctx, a, db, job)
	}
	base, err := a.loadBase(cfg.KBDir, cfg.profile())
	if err != nil {
		return err
	}
	senders, err := a.alertSenders(ctx, cfg, db, base)
	if err != nil {
		return err
	}
	snd, err := alert.NewSender(alert.SenderConfig{
		Store:   db,
		Senders: senders,
		Logger:  a.log,
		Clock:   appClock{now: a.now},
		Limits:  cfg.Alerts.limits(),
		Owner:   "cli",
	})
	if err != nil {
		return err
	}
	done := func(ctx context.Context) (bool, error) {
		if job > 0 {
			j, err := db.AlertJob(ctx, job)
			return err == nil && (j.Status == storage.JobDone || j.Status == storage.JobCancelled), err
		}
		js, err := db.AlertJobs(ctx, 1000)
		if err != nil {
			return false, err
		}
		for _, j := range js {
			if j.Status == storage.JobScheduled || j.Status == storage.JobRunning {
				return false, nil
			}
		}
		return true, nil
	}
	errc := make(chan error, 1)
	go func() { errc <- snd.RunUntil(ctx, done) }()
	if job == 0 {
		err := <-errc
		fmt.Fprintln(a.stdout, "No alert job left to send.")
		return err
	}
	werr := watchUntil(ctx, a, db, job, errc)
	if ctx.Err() != nil {
		p, _ := alert.GetProgress(context.WithoutCancel(ctx), db, job, a.now())
		fmt.Fprintf(a.stdout, "Stopped: %d left to send; send them with: trolyso alert run\n", p.Left)
		return nil
	}
	return werr
}

// alertSenders builds the channels' senders from the configuration, for
// sending from the CLI.
func (a *app) alertSenders(ctx context.Context, cfg *Config, db *storage.DB, base *knowledge.Base) (map[string]bot.Sender, error) {
	eng := bot.New(bot.Config{Store: db, Logger: a.log, Now: a.now}, base)
	out := map[string]bot.Sender{}
	if c := cfg.Telegram; c.Enabled() {
		tg, err := telegram.New(telegram.Config{Token: c.Token, APIURL: c.APIURL, Engine: eng, Store: db, Logger: a.log, Now: a.now})
		if err != nil {
			return nil, err
		}
		out[bot.ChannelTelegram] = tg
	}
	if z := cfg.Zalo; z.Enabled() {
		ch, err := zalo.New(ctx, zalo.Config{Engine: eng, Store: db, Logger: a.log, Now: a.now, AppID: z.AppID, AppSecret: z.AppSecret,
			OASecretKey: z.OASecretKey, AccessToken: z.AccessToken, RefreshToken: z.RefreshToken, APIURL: z.APIURL, OAuthURL: z.OAuthURL,
			MaxEventAge: z.MaxEventAge, Window: z.Window})
		if err != nil {
			return nil, err
		}
		out[bot.ChannelZalo] = ch
	}
	return out, nil
}

// isTerminal reports whether w is a terminal (the progress bar redraws one
// line there; elsewhere it prints a line every few seconds).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func watchJob(ctx context.Context, a *app, db *storage.DB, job int64) error {
	err := watchUntil(ctx, a, db, job, nil)
	if ctx.Err() != nil {
		fmt.Fprintf(a.stdout, "Stopped following job %d; it goes on. See: trolyso alert status %d\n", job, job)
		return nil
	}
	return err
}

// watchUntil shows the job's progress until it ends (or errc delivers
// the sender's end, or ctx ends), then its report.
func watchUntil(ctx context.Context, a *app, db *storage.DB, job int64, errc <-chan error) error {
	tty := isTerminal(a.stdout)
	every := 500 * time.Millisecond
	lastLine := time.Time{}
	show := func(p alert.Progress, final bool) {
		switch {
		case tty:
			fmt.Fprintf(a.stdout, "\r\033[K%s", p.Bar(30))
			if final {
				fmt.Fprintln(a.stdout)
			}
		case final || time.Since(lastLine) >= 5*time.Second:
			fmt.Fprintln(a.stdout, p.Bar(30))
			lastLine = time.Now()
		}
	}
	var senderErr error
	for {
		p, err := alert.GetProgress(context.WithoutCancel(ctx), db, job, a.now())
		if err != nil {
			return err
		}
		if p.Finished() || ctx.Err() != nil || senderErr != nil {
			show(p, true)
			if p.Finished() {
				r, err := alert.BuildReport(context.WithoutCancel(ctx), db, job)
				if err == nil {
					printAlertReport(a.stdout, r)
				}
			}
			return senderErr
		}
		show(p, false)
		select {
		case <-ctx.Done():
		case err := <-errc:
			errc = nil
			if err != nil {
				senderErr = err
			}
		case <-time.After(every):
		}
	}
}

func printAlertReport(w io.Writer, r alert.Report) {
	fmt.Fprintf(w, "Job %d – %s: %s\n", r.Job, alert.KindText(r.Kind), r.Title)
	fmt.Fprintf(w, "Status: %s; confirmed by %s at %s\n", alert.StatusText(r.Status), r.ConfirmedBy, bot.VNTime(r.CreatedAt))
	fmt.Fprintf(w, "Recipients: %d; delivered: %d; left: %d; unsubscribed because of it: %d\n", r.Recipients, r.Delivered, r.Left, r.Unsubscribed)
	if r.DurationSeconds > 0 {
		fmt.Fprintf(w, "Duration: %.1f s (%.1f messages a second)\n", r.DurationSeconds, r.RatePerSecond)
	}
	for _, f := range r.Reasons {
		fmt.Fprintf(w, "  %4d × %s: %s\n", f.Count, alert.StateText(f.State), f.Error)
	}
}

func alertStatus(ctx context.Context, a *app, db *storage.DB, id int64, f alertFlags) error {
	if _, err := db.AlertJob(ctx, id); errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("no alert job %d (see trolyso alert list)", id)
	}
	if f.watch {
		return watchJob(ctx, a, db, id)
	}
	r, err := alert.BuildReport(ctx, db, id)
	if err != nil {
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	p, err := alert.GetProgress(ctx, db, id, a.now())
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, p.Bar(30))
	printAlertReport(a.stdout, r)
	return nil
}

func alertList(ctx context.Context, a *app, db *storage.DB) error {
	js, err := db.AlertJobs(ctx, 30)
	if err != nil {
		return err
	}
	if len(js) == 0 {
		fmt.Fprintln(a.stdout, "No alert job yet.")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATUS\tSEND AT (+07)\tSENT/TOTAL\tCONFIRMED BY\tTITLE")
	for _, j := range js {
		p, err := db.AlertJobProgress(ctx, j.ID, a.now())
		if err != nil {
			return err
		}
		total := p.Total
		if j.StartedAt.IsZero() {
			total = j.Planned
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Kind, j.Status, bot.VNTime(j.ScheduledFor), p.Sent, total, j.CreatedBy, j.Title)
	}
	return tw.Flush()
}

func alertSubscribers(ctx context.Context, a *app, db *storage.DB) error {
	cs, err := db.SubscriberCounts(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANNEL\tVILLAGE\tSUBSCRIBERS")
	total := 0
	for _, c := range cs {
		v := c.Village
		if v == "" {
			v = "(none chosen)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", c.Channel, v, c.Count)
		total += c.Count
	}
	fmt.Fprintf(tw, "total\t\t%d\n", total)
	return tw.Flush()
}

func alertTemplates(a *app, rest []string) error {
	if len(rest) == 1 {
		b, err := alerts.Read(strings.TrimSuffix(rest[0], ".md"))
		if err != nil {
			return fmt.Errorf("no template %q (see trolyso alert templates)", rest[0])
		}
		_, err = a.stdout.Write(b)
		return err
	}
	for _, n := range alerts.Names() {
		b, _ := alerts.Read(n)
		s, err := alert.Parse(b)
		if err != nil {
			return fmt.Errorf("template %s: %w", n, err)
		}
		fmt.Fprintf(a.stdout, "%-26s %s: %s\n", n, alert.KindText(s.Kind), s.Title)
	}
	fmt.Fprintln(a.stdout, "\nCopy one: trolyso alert templates NAME > canh-bao.md, edit it, then: trolyso alert send --file canh-bao.md")
	return nil
}
