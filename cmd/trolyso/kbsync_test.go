package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/storage"
	"github.com/colecommune/trolyso/storage/storagetest"
)

// TestPublishReachesEveryInstance: two servers on one PostgreSQL database,
// each with its own copy of the base folder. An entry published on the
// first (written into its folder and logged, as the dashboard does) is
// written into the second's folder and answered there, through
// LISTEN/NOTIFY, without a restart.
func TestPublishReachesEveryInstance(t *testing.T) {
	pgURL := storagetest.URL(t, t.Name())
	start := func(name string) (string, string) {
		dir := t.TempDir()
		kb, _ := smallKB(t, dir)
		cfg := &Config{Addr: "127.0.0.1:0", DB: filepath.Join(dir, "t.db"), DatabaseURL: pgURL, KBDir: kb, MaxLen: 1000, WebRate: 1000,
			LLM: LLMConfig{Timeout: time.Second}, Alerts: AlertsConfig{ZaloRate: 10}, reloadEvery: time.Hour}
		addr, _ := startServe(t, quietApp(t), cfg)
		return addr, kb
	}
	_, kbA := start("a")
	addrB, kbB := start("b")
	entry := "---\nid: thu-vien-xa\ntitle: Giờ mở cửa thư viện xã\ncategory: lien-he\nquestions:\n" +
		"  - thư viện xã mở cửa lúc nào\n  - giờ mở cửa thư viện\n  - thu vien xa mo cua may gio\n  - thư viện có mở chủ nhật không\n" +
		"tags: [thư viện]\nsources:\n  - https://dichvucong.gov.vn\nupdated: 2026-11-01\n---\nThư viện mở cửa theo giờ hành chính.\n"
	if err := os.WriteFile(filepath.Join(kbA, "thu-vien-xa.md"), []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := storage.OpenURL(context.Background(), pgURL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.RecordPublish(context.Background(), storage.Publish{File: "thu-vien-xa.md", EntryID: "thu-vien-xa", StaffName: "Lan", Content: entry}); err != nil {
		t.Fatal(err)
	}
	if !poll(func() bool {
		return askWeb(t, addrB, "thư viện xã mở cửa lúc nào")["entry_id"] == "thu-vien-xa"
	}) {
		t.Fatal("the second instance never answered the entry published on the first")
	}
	got, err := os.ReadFile(filepath.Join(kbB, "thu-vien-xa.md"))
	if err != nil || !strings.Contains(string(got), "Thư viện mở cửa") {
		t.Errorf("the second instance's folder: %v", err)
	}
}
