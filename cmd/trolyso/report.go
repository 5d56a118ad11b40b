package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/colecommune/trolyso/bot/stats"
)

// runReport writes a quarter's satisfaction report as an Excel workbook,
// CSV (for scripts) or a printable HTML page.
func runReport(ctx context.Context, a *app, args []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("report")
	cfg.storageFlags(fs)
	quarter := fs.String("quarter", "", "quarter, like 2026Q3 (required)")
	format := fs.String("format", "csv", "xlsx (Excel workbook), csv (for scripts) or html (printable)")
	out := fs.String("out", "", "file to write (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *quarter == "" {
		return fmt.Errorf("%w: --quarter is required, like --quarter 2026Q3", errUsage)
	}
	r, err := stats.ParseQuarter(*quarter, stats.Location())
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *format != "csv" && *format != "html" && *format != "xlsx" {
		return fmt.Errorf("%w: --format must be xlsx, csv or html", errUsage)
	}
	rep, commune, err := a.buildReport(ctx, cfg, r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	switch *format {
	case "csv":
		err = stats.WriteCSV(&buf, rep, commune)
	case "xlsx":
		err = stats.WriteXLSX(&buf, rep, commune, a.now().In(stats.Location()))
	default:
		err = stats.WriteHTML(&buf, rep, commune, a.now().In(stats.Location()))
	}
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = a.stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(a.stderr, "report for %s written to %s (due before %s)\n", rep.Label, *out, stats.Deadline(r).Format("02/01/2006"))
	return nil
}
