package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/knowledge"
)

// TestPublishReloadsInBackgroundOnce: a publish from the dashboard checks
// the base at once but does not wait for training (a reload already under
// way does not hold it up), and the folder watcher noticing the same file
// does not train it a second time. A broken file is refused at publish;
// SIGHUP reloads even an unchanged folder.
func TestPublishReloadsInBackgroundOnce(t *testing.T) {
	dir := t.TempDir()
	kb, _ := smallKB(t, dir)
	logs := &syncBuffer{}
	a := &app{getenv: func(string) string { return "" }, now: time.Now, stdout: io.Discard, stderr: io.Discard,
		log: slog.New(slog.NewTextHandler(logs, nil))}
	cfg := &Config{DB: filepath.Join(dir, "t.db"), KBDir: kb, MaxLen: 1000}
	ctx, cancel := context.WithCancel(context.Background())
	db, err := a.openDB(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base, err := a.loadBase(kb, "")
	if err != nil {
		t.Fatal(err)
	}
	bands := knowledge.DefaultBands()
	ix, err := knowledge.NewIndexContext(ctx, base, knowledge.IndexOptions{Bands: &bands})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{a: a, cfg: cfg, log: a.log, db: db, ctx: ctx,
		eng: bot.New(bot.Config{Store: db, Logger: a.log, Now: a.now, MaxLen: cfg.MaxLen, Index: ix}, base)}
	s.loaded = s.sourceStamp()
	defer func() {
		// Stop the background calibrations before the folder goes.
		cancel()
		s.wg.Wait()
	}()
	reloads := func() int { return strings.Count(logs.String(), `msg="knowledge base reloaded"`) }

	// A broken file is refused at once; nothing is reloaded.
	if err := os.WriteFile(filepath.Join(kb, "broken.md"), []byte("---\nid: broken\n---\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.reloadNow(); err == nil {
		t.Fatal("publishing a broken file: no error")
	}
	if err := os.Remove(filepath.Join(kb, "broken.md")); err != nil {
		t.Fatal(err)
	}

	entry := "---\nid: thu-vien-xa\ntitle: Giờ mở cửa thư viện xã\ncategory: lien-he\nquestions:\n" +
		"  - thư viện xã mở cửa lúc nào\n  - giờ mở cửa thư viện\n  - thu vien xa mo cua may gio\n  - thư viện có mở chủ nhật không\n" +
		"tags: [thư viện]\nsources:\n  - https://dichvucong.gov.vn\nupdated: 2026-11-01\n---\nThư viện mở cửa theo giờ hành chính.\n"
	if err := os.WriteFile(filepath.Join(kb, "thu-vien-xa.md"), []byte(entry), 0o644); err != nil {
		t.Fatal(err)
	}
	// Another reload holds the lock: the publish still returns.
	s.reloadMu.Lock()
	returned := make(chan error, 1)
	go func() { returned <- s.reloadNow() }()
	select {
	case err := <-returned:
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
	case <-time.After(30 * time.Second):
		s.reloadMu.Unlock()
		t.Fatal("the publish waited for a reload under way")
	}
	// The watcher notices the same change meanwhile.
	watcher := make(chan struct{})
	go func() {
		defer close(watcher)
		s.reload(ctx, "files changed", false)
	}()
	s.reloadMu.Unlock()
	<-watcher
	// The publish's reload has run too once every background job is done
	// (it, then the calibration of the new base).
	s.wg.Wait()
	if _, ok := s.eng.Base().Entry("thu-vien-xa"); !ok {
		t.Fatalf("the published entry is not in service:\n%s", logs.String())
	}
	if n := reloads(); n != 1 {
		t.Fatalf("the published file was loaded %d times, want once:\n%s", n, logs.String())
	}
	// Nothing changed: the watcher does nothing; SIGHUP reloads anyway.
	s.reload(ctx, "files changed", false)
	if n := reloads(); n != 1 {
		t.Fatalf("an unchanged folder was reloaded (%d reloads)", n)
	}
	s.reload(ctx, "SIGHUP", true)
	if n := reloads(); n != 2 {
		t.Fatalf("SIGHUP: %d reloads, want 2", n)
	}
}
