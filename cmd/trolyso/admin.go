package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"golang.org/x/crypto/bcrypt"

	"github.com/colecommune/trolyso/bot/admin"
	"github.com/colecommune/trolyso/storage"
)

// runAdmin implements "trolyso admin add|list|passwd|rm": the dashboard
// accounts of a province deployment, kept in the database.
func runAdmin(ctx context.Context, a *app, args []string) error {
	const usage = "admin add NAME --commune SLUG|--province [--password-stdin] | admin list | admin passwd NAME [--password-stdin] | admin rm NAME"
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, usage)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("admin " + args[0])
	fs.StringVar(&cfg.DB, "db", cfg.DB, "SQLite database file (TROLYSO_DB)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL database URL (TROLYSO_DATABASE_URL)")
	commune := fs.String("commune", "", "the commune (its profile's slug) the account sees")
	province := fs.Bool("province", false, "the account sees every commune (province roll-up)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of printing a one-time code")
	sub := args[0]
	// Flags may follow the name: "admin add lan --commune co-le".
	var name string
	rest := args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	db, err := a.openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	password := func() (string, bool, error) {
		if !*fromStdin {
			code, err := oneTimeCode()
			return code, true, err
		}
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", false, errors.New("--password-stdin: no password on standard input")
		}
		pw := strings.TrimRight(line, "\r\n")
		if len([]rune(pw)) < admin.MinPasswordLen {
			return "", false, fmt.Errorf("the password needs at least %d characters", admin.MinPasswordLen)
		}
		return pw, false, nil
	}
	switch sub {
	case "add":
		if name == "" || (*commune == "") == !*province {
			return fmt.Errorf("%w: admin add NAME --commune SLUG|--province [--password-stdin]", errUsage)
		}
		if *commune != "" && !storage.ValidSlug(*commune) {
			return fmt.Errorf("--commune %q: %w", *commune, storage.ErrBadSlug)
		}
		pw, oneTime, err := password()
		if err != nil {
			return err
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
		if err != nil {
			return err
		}
		acc, err := db.AddAdmin(ctx, name, *commune, string(hash), oneTime)
		if err != nil {
			return err
		}
		scope := "commune " + acc.Commune
		if acc.Province() {
			scope = "the whole province"
		}
		fmt.Fprintf(a.stdout, "admin %s added (sees %s)\n", acc.Name, scope)
		if oneTime {
			fmt.Fprintf(a.stdout, "one-time password (to be changed at the first login at /admin/login):\n%s\n", pw)
		}
		return nil
	case "passwd":
		if name == "" {
			return fmt.Errorf("%w: admin passwd NAME [--password-stdin]", errUsage)
		}
		pw, oneTime, err := password()
		if err != nil {
			return err
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
		if err != nil {
			return err
		}
		if err := db.SetAdminPassword(ctx, name, string(hash), oneTime); err != nil {
			return fmt.Errorf("admin passwd %s: %w", name, err)
		}
		fmt.Fprintf(a.stdout, "password of %s replaced; its sessions ended\n", storage.CleanAdminName(name))
		if oneTime {
			fmt.Fprintf(a.stdout, "one-time password (to be changed at the next login):\n%s\n", pw)
		}
		return nil
	case "rm":
		if name == "" {
			return fmt.Errorf("%w: admin rm NAME", errUsage)
		}
		if err := db.DeleteAdmin(ctx, name); err != nil {
			return fmt.Errorf("admin rm %s: %w", name, err)
		}
		fmt.Fprintf(a.stdout, "admin %s removed\n", storage.CleanAdminName(name))
		return nil
	case "list":
		as, err := db.Admins(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "name\tsees\tpassword\tcreated")
		for _, ac := range as {
			scope, pw := ac.Commune, "set"
			if ac.Province() {
				scope = "province"
			}
			if ac.MustChange {
				pw = "one-time code, not yet changed"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ac.Name, scope, pw, ac.CreatedAt.Format("2006-01-02"))
		}
		return tw.Flush()
	}
	return fmt.Errorf("%w: %s", errUsage, usage)
}

// oneTimeCode is a random password to be replaced at the first login.
func oneTimeCode() (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:8]) + "-" + string(b[8:12]) + "-" + string(b[12:]), nil
}
