package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/colecommune/trolyso/bot/stats"
	"github.com/colecommune/trolyso/storage"
)

func TestStatsJSONAndReport(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := storage.Open(ctx, path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 8, 3, 2, 0, 0, 0, time.UTC)
	for i := 0; i < 20; i++ {
		id, _ := db.RecordExchange(ctx, &storage.Exchange{UserKey: "web:a", Channel: "web", Question: "q", Band: "answer", EntryID: "dvc-khai-sinh", CreatedAt: at})
		v := 1
		if i == 0 {
			v = -1
		}
		if _, err := db.Rate(ctx, "web:a", id, v); err != nil {
			t.Fatal(err)
		}
	}
	db.RecordExchange(ctx, &storage.Exchange{UserKey: "web:a", Channel: "web", Question: "giá vàng", Normalized: "gia vang", Band: "decline", CreatedAt: at})
	db.Close()

	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		a := &app{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, now: func() time.Time { return at }}
		if code := a.main(ctx, append(args, "--db", path)); code != 0 {
			t.Fatalf("trolyso %v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	var got struct {
		Answers, Service struct {
			Rated, Satisfied int
			Needed           int `json:"needed_for_target"`
		}
		Unanswered []struct {
			Text     string
			Count    int
			LastSeen string `json:"last_seen"`
		}
	}
	raw := run("stats", "--json", "--from", "2026-08-01", "--to", "2026-08-31")
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	if got.Answers.Rated != 20 || got.Answers.Satisfied != 19 || got.Answers.Needed != 0 || got.Service.Needed != 1 ||
		len(got.Unanswered) != 1 || got.Unanswered[0].Text != "gia vang" || got.Unanswered[0].Count != 1 || got.Unanswered[0].LastSeen == "" {
		t.Fatalf("stats --json: %+v", got)
	}
	for _, k := range []string{`"rate": 0.95`, `"ci_low": 0.763`, `"ci_high": 0.991`} {
		if !strings.Contains(raw, k) {
			t.Errorf("stats --json lacks %s", k)
		}
	}
	if out := run("stats", "--period", "month"); !strings.Contains(out, "19/20 hài lòng = 95,0%") {
		t.Errorf("stats text:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "q3.csv")
	run("report", "--quarter", "2026Q3", "--out", file)
	b, err := os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(b, []byte("\uFEFFPhần,Mục")) {
		t.Fatalf("report csv: %v %q", err, b[:min(len(b), 40)])
	}
	if html := run("report", "--quarter", "2026Q3", "--format", "html"); !strings.Contains(html, "20/09/2026") {
		t.Error("html report lacks the deadline")
	}
	xlsx := filepath.Join(t.TempDir(), "q3.xlsx")
	run("report", "--quarter", "2026Q3", "--format", "xlsx", "--out", xlsx)
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatalf("report --format xlsx: %v", err)
	}
	defer f.Close()
	if rated, _ := f.GetCellValue(stats.SheetSummary, "B10"); f.SheetCount != 7 || rated != "20" {
		t.Errorf("xlsx: %d sheets %v, %q answers rated", f.SheetCount, f.GetSheetList(), rated)
	}
}
