package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/storage"
)

const teamUsage = `usage:
  trolyso team add "Thôn …" [--group CHATID]   add a team; prints its join code on the last line
  trolyso team list                            teams with join codes and member counts
  trolyso team members NAME|ID                 a team's members
  trolyso team import FILE.yaml                add or update teams from a list of {village, telegram_group}`

// runTeam manages the community digital technology teams.
func runTeam(ctx context.Context, a *app, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, teamUsage)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	sub := args[0]
	fs := a.newFlags("team " + sub)
	cfg.storageFlags(fs)
	group := fs.String("group", "", "Telegram group chat id of the team (team add)")
	rest, err := parseAnywhere(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"add": 1, "list": 0, "members": 1, "import": 1}
	n, ok := want[sub]
	if !ok || len(rest) != n {
		return fmt.Errorf("%w: %s", errUsage, teamUsage)
	}
	db, err := a.openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "add":
		t, err := db.AddTeam(ctx, rest[0], *group)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "team %d %q added; members join with /dangky %s\n%s\n", t.ID, t.Village, t.JoinCode, t.JoinCode)
	case "list":
		return printTeams(ctx, a, db)
	case "members":
		t, err := db.Team(ctx, rest[0])
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no team %q (give its id or village name; see trolyso team list)", rest[0])
		}
		if err != nil {
			return err
		}
		ms, err := db.TeamMembers(ctx, t.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "team %d %q, join code %s\n", t.ID, t.Village, t.JoinCode)
		tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "MEMBER\tNAME\tCHANNEL\tJOINED\tSTATUS")
		for _, m := range ms {
			status := "active"
			switch {
			case !m.Active:
				status = "left"
			case !m.UserActive:
				status = "blocked the bot"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", m.ID, m.Label(), m.Channel, bot.VNTime(m.JoinedAt), status)
		}
		return tw.Flush()
	case "import":
		return importTeams(ctx, a, db, rest[0])
	}
	return nil
}

func printTeams(ctx context.Context, a *app, db *storage.DB) error {
	ts, err := db.Teams(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVILLAGE\tJOIN CODE\tMEMBERS\tTELEGRAM GROUP")
	for _, t := range ts {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", t.ID, t.Village, t.JoinCode, t.Members, orDash(t.GroupChat))
	}
	return tw.Flush()
}

// teamFileEntry is one team in a teams YAML file.
type teamFileEntry struct {
	Village       string `yaml:"village"`
	TelegramGroup string `yaml:"telegram_group"`
}

// importTeams adds the teams of a YAML file (a list of {village,
// telegram_group}, or the same list under "teams:") and updates the group
// chat of those that exist.
func importTeams(ctx context.Context, a *app, db *storage.DB, path string) error {
	body, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read teams file: %w", err)
	}
	var list []teamFileEntry
	if err := yaml.Unmarshal(body, &list); err != nil {
		var wrapped struct {
			Teams []teamFileEntry `yaml:"teams"`
		}
		if err2 := yaml.Unmarshal(body, &wrapped); err2 != nil {
			return fmt.Errorf("teams file %s: %v (want a list of {village, telegram_group})", path, err)
		}
		list = wrapped.Teams
	}
	var problems []error
	for i, e := range list {
		if strings.TrimSpace(e.Village) == "" {
			problems = append(problems, fmt.Errorf("teams file %s: entry %d has no village", path, i+1))
		}
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	for _, e := range list {
		t, err := db.AddTeam(ctx, e.Village, e.TelegramGroup)
		switch {
		case errors.Is(err, storage.ErrTeamExists):
			if t, err = db.Team(ctx, strings.TrimSpace(e.Village)); err != nil {
				return err
			}
			if e.TelegramGroup != "" && e.TelegramGroup != t.GroupChat {
				if err := db.SetTeamGroup(ctx, t.ID, e.TelegramGroup); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "updated\t%d\t%s\t%s\n", t.ID, t.Village, t.JoinCode)
			} else {
				fmt.Fprintf(a.stdout, "exists\t%d\t%s\t%s\n", t.ID, t.Village, t.JoinCode)
			}
		case err != nil:
			return err
		default:
			fmt.Fprintf(a.stdout, "added\t%d\t%s\t%s\n", t.ID, t.Village, t.JoinCode)
		}
	}
	return nil
}

// openDB opens the configured database with the app's clock.
func (a *app) openDB(ctx context.Context, cfg *Config) (*storage.DB, error) {
	db, err := storage.OpenCommune(ctx, cfg.dsn(), cfg.Xa, storage.Options{Now: a.now})
	if err != nil {
		return nil, err
	}
	if a.now != nil {
		db.Now = a.now
	}
	return db, nil
}

// parseAnywhere parses flags that may come before, between or after the
// positional arguments, which it returns.
func parseAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}
