package admin

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// ownEntry is an entry of a commune's own folder.
const ownEntry = `---
id: xa-lich-tiep-dan
title: Lịch tiếp công dân của xã
category: lien-he
questions:
  - Lịch tiếp công dân của xã vào ngày nào?
  - xa tiep dan ngay nao
  - muốn gặp chủ tịch xã thì đến hôm nào
  - lịch tiếp dân của ủy ban xã
sources: [https://ninhbinh.gov.vn]
updated: 2026-08-01
---
Chủ tịch UBND xã tiếp công dân sáng thứ Năm hằng tuần.
`

// TestCommuneDraftCheckAndPublish: on a commune's dashboard a draft is
// checked against the commune's layered base and published into its own
// folder only.
func TestCommuneDraftCheckAndPublish(t *testing.T) {
	root := t.TempDir()
	overlay := filepath.Join(root, "co-le")
	if err := os.Mkdir(overlay, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(overlay, "xa-lich-tiep-dan.md"), []byte(ownEntry), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func() *knowledge.Base {
		b, _, err := knowledge.LoadLayer(knowledge.EmbeddedBase(), os.DirFS(overlay), nil, testNow)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	base := load()
	db, err := storage.Open(context.Background(), filepath.Join(root, "a.db"), storage.Options{Secret: "s", Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reloads := 0
	h := &Handler{store: db, base: func() *knowledge.Base { return base }, log: slog.New(slog.DiscardHandler), now: func() time.Time { return testNow },
		loc: time.UTC, overlayDir: overlay, reload: func() error { base = load(); reloads++; return nil }}
	valid := draft{Title: "Giờ mở cửa nhà văn hóa", Category: "lien-he", Sources: "https://ninhbinh.gov.vn", Updated: "2026-08-14",
		Questions: "nhà văn hóa mở cửa mấy giờ\nnha van hoa mo cua luc nao\ngiờ mở cửa nhà văn hóa thôn\nnhà văn hóa có mở buổi tối không",
		Body:      "Nhà văn hóa mở cửa từ 7 giờ đến 21 giờ."}
	with := func(f func(*draft)) draft { d := valid; f(&d); return d }
	for _, tc := range []struct {
		name                  string
		d                     draft
		ok                    bool
		file                  string
		replaces, prov        bool
		problem, problemField string
	}{
		{name: "new entry", d: with(func(d *draft) { d.ID = "nha-van-hoa" }), ok: true, file: "nha-van-hoa.md"},
		{name: "new draft with a province id", d: with(func(d *draft) { d.ID = "vneid-cai-dat" }), file: "vneid-cai-dat.md",
			problem: "đã có ở tệp vneid-cai-dat.md", problemField: "id"},
		{name: "editing a province entry replaces it for the commune", d: with(func(d *draft) { d.ID, d.File = "vneid-cai-dat", "vneid-cai-dat.md" }),
			ok: true, file: "vneid-cai-dat.md", prov: true},
		{name: "new draft with the commune's own id", d: with(func(d *draft) { d.ID = "xa-lich-tiep-dan" }), file: "xa-lich-tiep-dan.moi.md",
			problem: "đã có ở tệp", problemField: "id"},
		{name: "editing the commune's own entry", d: with(func(d *draft) { d.ID, d.File = "xa-lich-tiep-dan", "xa-lich-tiep-dan.md" }),
			ok: true, file: "xa-lich-tiep-dan.md", replaces: true},
		{name: "a forged file is a new draft", d: with(func(d *draft) { d.ID, d.File = "nha-van-hoa", "../yen-tu/nha-van-hoa.md" }), ok: true, file: "nha-van-hoa.md"},
		{name: "category outside the province menu", d: with(func(d *draft) { d.ID, d.Category = "nha-van-hoa", "khong-co" }), file: "nha-van-hoa.md",
			problem: "không có trong danh sách chủ đề"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _, err := h.check(tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tc.ok || res.File != tc.file || res.Replaces != tc.replaces || res.ReplacesProvince != tc.prov {
				t.Errorf("check = ok %v file %q replaces %v/%v, want %v %q %v/%v (%+v)", res.OK, res.File, res.Replaces, res.ReplacesProvince,
					tc.ok, tc.file, tc.replaces, tc.prov, res.Problems)
			}
			if tc.problem != "" {
				found := false
				for _, p := range res.Problems {
					found = found || strings.Contains(p.Message, tc.problem) && (tc.problemField == "" || p.Field == tc.problemField)
				}
				if !found {
					t.Errorf("no problem %q on %q: %+v", tc.problem, tc.problemField, res.Problems)
				}
			}
		})
	}
	// Publishing a replacement of a province entry writes it into the
	// commune's folder (never the province base), reloads, and logs it.
	r := httptest.NewRequest("POST", "/admin/hoidap/draft", nil)
	file, err := h.publish(r, with(func(d *draft) { d.ID, d.File = "vneid-cai-dat", "vneid-cai-dat.md" }), "Lan")
	if err != nil || file != "vneid-cai-dat.md" {
		t.Fatalf("publish: %q %v", file, err)
	}
	if _, err := os.Stat(filepath.Join(overlay, "vneid-cai-dat.md")); err != nil || reloads != 1 {
		t.Fatalf("the replacement is not in the commune's folder (%v), reloads %d", err, reloads)
	}
	if e, ok := base.Entry("vneid-cai-dat"); !ok || !strings.Contains(e.Body, "Nhà văn hóa mở cửa") {
		t.Error("the commune's base does not have the replacement")
	}
	if ps, _ := db.Publishes(context.Background(), 10); len(ps) != 1 || ps[0].File != "vneid-cai-dat.md" {
		t.Errorf("publish log: %+v", ps)
	}
	for _, name := range []string{"muc-moi.md", "a/b.md", "../x.md", ".x.md", "_x.md", "x.txt", "x..md"} {
		if name != "muc-moi.md" && OverlayFileName(name) || name == "muc-moi.md" && !OverlayFileName(name) {
			t.Errorf("OverlayFileName(%q) = %v", name, OverlayFileName(name))
		}
	}
}
