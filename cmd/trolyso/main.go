// Command trolyso is the commune's digital assistant: it answers residents'
// questions about VNeID, online public services and digital signatures on a
// web chat, Telegram and Zalo, reminds the community digital technology
// teams, and reports satisfaction to commune staff.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	_ "time/tzdata" // Asia/Ho_Chi_Minh must load on any server

	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/knowledge"
)

// app carries what every subcommand needs.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	now    func() time.Time
	log    *slog.Logger
}

type command struct {
	run     func(ctx context.Context, a *app, args []string) error
	summary string
}

var commands = map[string]command{
	"serve":   {runServe, "start the web chat and every configured channel"},
	"ask":     {runAsk, "answer one question and show the band, entry and score"},
	"chat":    {runChat, "talk to the assistant in the terminal"},
	"backup":  {runBackup, "copy the database safely while the server runs (backup FILE)"},
	"commune": {runCommune, "list what the commune profile still lacks (commune check [FILE])"},
	"kb":      {runKB, "check or export a knowledge base (kb check [--links] [DIR], kb export --json, kb export --dir DIR)"},
	"eval":    {runEval, "measure answer quality on a question file"},
	"bench":   {runBench, "measure retrieval, memory and end-to-end throughput (prints a table)"},
	"team":    {runTeam, "manage the digital technology teams (team add|list|members|import)"},
	"remind":  {runRemind, "manage scheduled reminders (remind add|list|pause|resume|rm|preview|status)"},
	"stats":   {runStats, "satisfaction statistics (stats [--from DATE --to DATE | --period week|month|quarter|year] [--json])"},
	"report":  {runReport, "quarterly satisfaction report (report --quarter 2026Q3 [--format xlsx|csv|html] [--out FILE])"},
	"admin":   {runAdmin, "dashboard accounts of a province deployment (admin add NAME --commune SLUG|--province, admin list|passwd|rm)"},
	"migrate": {runMigrate, "copy a commune's SQLite data into the province's PostgreSQL database (migrate sqlite-to-postgres --from FILE [--commune SLUG])"},
	"alert":   {runAlert, "alerts to residents who opted in (alert send|preview|list|status|pause|resume|cancel|run|templates|subscribers)"},
}

// errUsage marks errors caused by bad command-line use (exit code 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now}
	os.Exit(a.main(ctx, os.Args[1:]))
}

func (a *app) main(ctx context.Context, args []string) int {
	level := slog.LevelInfo
	if a.getenv("TROLYSO_DEBUG") != "" {
		level = slog.LevelDebug
	}
	a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level, ReplaceAttr: privacy.ReplaceAttr}))
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		a.usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(a.stderr, "trolyso: unknown command %q\n\n", args[0])
		a.usage()
		return 2
	}
	if err := c.run(ctx, a, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(a.stderr, "trolyso %s: %v\n", args[0], err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func (a *app) usage() {
	fmt.Fprintln(a.stderr, "Usage: trolyso COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(a.stderr, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(a.stderr, "\nRun 'trolyso COMMAND -h' for a command's flags. Configuration: see README.md.")
}

// newFlags returns a flag set that writes its usage to stderr.
func (a *app) newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("trolyso "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// loadBase loads the knowledge base from dir (the embedded one when empty),
// rendering answers with the commune profile at profilePath (the embedded
// placeholder profile when empty).
func (a *app) loadBase(dir, profilePath string) (*knowledge.Base, error) {
	profile, err := knowledge.LoadProfile(profilePath)
	if err != nil {
		return nil, err
	}
	fsys := knowledge.EmbeddedBase()
	if dir != "" {
		if fsys, err = knowledge.DirBase(dir); err != nil {
			return nil, err
		}
	}
	// Review dates are calendar days in Vietnam, whatever the server's zone.
	b, err := knowledge.Load(fsys, profile, a.now().In(stats.Location()))
	if err != nil {
		return nil, err
	}
	return b, nil
}
