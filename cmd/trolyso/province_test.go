package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
	"github.com/colecommune/trolyso/storage/storagetest"
)

// writeCommunes writes a TROLYSO_COMMUNES folder: three communes with
// their own name and centre phone, and one entry of Yên Từ's own.
func writeCommunes(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	base := string(knowledge.EmbeddedProfile())
	for slug, v := range map[string][2]string{
		"co-le": {"xã Cổ Lễ", "0228 111 111"}, "yen-tu": {"xã Yên Từ", "0229 222 222"}, "hoa-lu": {"phường Hoa Lư", "0229 333 333"},
	} {
		p := strings.Replace(base, `name: "xã Cổ Lễ"`, `name: "`+v[0]+`"`, 1)
		p = strings.Replace(p, `phone: "[CẦN ĐIỀN: số điện thoại]"`, `phone: "`+v[1]+`"`, 1)
		if err := os.WriteFile(filepath.Join(dir, slug+".yaml"), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "yen-tu"), 0o755); err != nil {
		t.Fatal(err)
	}
	own := `---
id: xa-lich-tiep-dan
title: Lịch tiếp công dân của xã
category: lien-he
questions:
  - Lịch tiếp công dân của xã vào ngày nào?
  - xa tiep dan ngay nao
  - muốn gặp chủ tịch xã thì đến hôm nào
  - lịch tiếp dân của ủy ban xã
tags: [tiếp dân]
sources: [https://ninhbinh.gov.vn]
updated: 2026-10-01
---
Chủ tịch UBND xã Yên Từ tiếp công dân sáng thứ Năm hằng tuần.
`
	if err := os.WriteFile(filepath.Join(dir, "yen-tu", "xa-lich-tiep-dan.md"), []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// askCommune sends q to a commune's web chat on the server at addr and
// returns the reply.
func askCommune(t *testing.T, addr, slug, q string) map[string]any {
	t.Helper()
	return postMessage(t, "http://"+addr+"/xa/"+slug+"/api/message", q)
}

// askWeb asks q on a one-commune server's web chat API and returns its
// JSON reply.
func askWeb(t *testing.T, addr, q string) map[string]any {
	t.Helper()
	return postMessage(t, "http://"+addr+"/api/message", q)
}

// postMessage posts q to a web chat API at url and returns its JSON reply.
func postMessage(t *testing.T, url, q string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"text": q})
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d", url, resp.StatusCode)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: reply: %v", url, err)
	}
	return out
}

// onBothBackends runs test once on SQLite and once on PostgreSQL.
func onBothBackends(t *testing.T, test func(t *testing.T, backend string)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) { test(t, backend) })
	}
}

// provinceConfig is a province deployment over the communes folder, its
// database in dir on backend ("sqlite" or "postgres").
func provinceConfig(t *testing.T, backend, dir, communes string) *Config {
	cfg := &Config{Addr: "127.0.0.1:0", DB: filepath.Join(dir, "p.db"), Communes: communes, MaxLen: 1000,
		WebRate: 1000, LLM: LLMConfig{Timeout: time.Second}, Alerts: AlertsConfig{ZaloRate: 10}}
	if backend == "postgres" {
		cfg.DatabaseURL = storagetest.URL(t, t.Name())
	}
	return cfg
}

func TestProvinceWebChat(t *testing.T) {
	onBothBackends(t, testProvinceWebChat)
}

func testProvinceWebChat(t *testing.T, backend string) {
	dir := t.TempDir()
	cfg := provinceConfig(t, backend, dir, writeCommunes(t))
	addr, stop := startServe(t, quietApp(t), cfg)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ask := func(slug, q string) map[string]any { t.Helper(); return askCommune(t, addr, slug, q) }
	// The bare address asks which commune; a search narrows the list.
	if code, page := get("/"); code != 200 || !strings.Contains(page, `href="/xa/co-le/"`) || !strings.Contains(page, "phường Hoa Lư") {
		t.Fatalf("/: %d %s", code, page)
	}
	if _, page := get("/?q=yen+tu"); !strings.Contains(page, "xã Yên Từ") || strings.Contains(page, "xã Cổ Lễ") {
		t.Errorf("/?q=yen tu: %s", page)
	}
	if code, page := get("/xa/co-le/"); code != 200 || !strings.Contains(page, `src="static/app.js"`) {
		t.Errorf("/xa/co-le/: %d", code)
	}
	if code, _ := get("/xa/khong-co/"); code != 404 {
		t.Errorf("unknown commune: %d", code)
	}
	// Each commune answers with its own profile; Yên Từ's own entry is
	// its own.
	const q = "ra xa nho can bo nop ho so online"
	if r := ask("co-le", q); r["band"] != "answer" || !strings.Contains(r["html"].(string), "0228 111 111") {
		t.Errorf("Cổ Lễ: %v", r)
	}
	if r := ask("hoa-lu", q); !strings.Contains(r["html"].(string), "0229 333 333") {
		t.Errorf("Hoa Lư: %v", r)
	}
	if r := ask("yen-tu", "xa tiep dan ngay nao"); r["band"] != "answer" || r["entry_id"] != "xa-lich-tiep-dan" {
		t.Errorf("Yên Từ's own entry: %v", r)
	}
	if r := ask("co-le", "xa tiep dan ngay nao"); r["entry_id"] == "xa-lich-tiep-dan" {
		t.Errorf("Cổ Lễ answered with Yên Từ's entry: %v", r)
	}
	if _, m := get("/metrics"); !strings.Contains(m, `trolyso_commune_replies_total{band="answer",commune="yen-tu"} 1`) {
		t.Errorf("metrics lack the commune label:\n%s", grepLines(m, "commune"))
	}
	if code, h := get("/healthz"); code != 200 || !strings.Contains(h, "database: "+backend+" ok") {
		t.Errorf("/healthz: %d %q", code, h)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Every exchange is in its commune's store.
	ctx := context.Background()
	db, err := storage.OpenURL(ctx, cfg.dsn(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for slug, want := range map[string]int{"co-le": 2, "hoa-lu": 1, "yen-tu": 1, "": 0} {
		c, err := db.Commune(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		n, err := c.CountExchanges(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil || n != want {
			t.Errorf("commune %q: %d exchanges (%v), want %d", slug, n, err, want)
		}
	}
}

func TestProvinceConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Co Le.yaml"), knowledge.EmbeddedProfile(), 0o644)
	if _, err := communeFiles(dir); err == nil || !strings.Contains(err.Error(), "slug") {
		t.Errorf("a profile named with spaces: %v", err)
	}
	if _, err := communeFiles(t.TempDir()); err == nil {
		t.Error("an empty folder was accepted")
	}
	c := &Config{Addr: "127.0.0.1:1", DB: "x.db", MaxLen: 100, WebRate: 1, Alerts: AlertsConfig{ZaloRate: 1}, ZaloCommune: "co-le"}
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), "TROLYSO_ZALO_COMMUNE needs TROLYSO_COMMUNES") {
		t.Errorf("validate: %v", err)
	}
}

// TestProvinceCalibratesAtStartUp: a province base neither the binary nor
// the model cache holds answers at once with a quick index; the index
// calibrated in the background then serves every commune (each with its
// own profile and entries still), and the server keeps answering.
func TestProvinceCalibratesAtStartUp(t *testing.T) {
	dir := t.TempDir()
	kb, _ := smallKB(t, dir)
	logs := &syncBuffer{}
	a := quietApp(t)
	a.log = slog.New(slog.NewTextHandler(logs, nil))
	cfg := provinceConfig(t, "sqlite", dir, writeCommunes(t))
	cfg.KBDir = kb
	addr, stop := startServe(t, a, cfg)
	ask := func(slug, q string) map[string]any { t.Helper(); return askCommune(t, addr, slug, q) }
	if !poll(func() bool {
		return strings.Contains(logs.String(), `calibrated index in use" why=start-up communes=3`)
	}) {
		t.Fatalf("the communes never moved onto the calibrated index; logs:\n%s", logs.String())
	}
	tests := []struct {
		slug, q, entry, phone string
	}{
		{"co-le", "quên mật khẩu vneid", "vneid-quen-mat-khau", ""},
		{"yen-tu", "xa tiep dan ngay nao", "xa-lich-tiep-dan", ""},
		{"hoa-lu", "ra xa nho can bo nop ho so online", "", "0229 333 333"},
	}
	for _, tc := range tests {
		r := ask(tc.slug, tc.q)
		if tc.entry != "" && r["entry_id"] != tc.entry {
			t.Errorf("%s %q after calibration: %v", tc.slug, tc.q, r)
		}
		if tc.phone != "" && !strings.Contains(fmt.Sprint(r["html"]), tc.phone) {
			t.Errorf("%s %q lost its profile after calibration: %v", tc.slug, tc.q, r)
		}
	}
	if r := ask("co-le", "xa tiep dan ngay nao"); r["entry_id"] == "xa-lich-tiep-dan" {
		t.Errorf("Cổ Lễ answered with Yên Từ's entry after calibration: %v", r)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
