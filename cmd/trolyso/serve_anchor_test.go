package main

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/colecommune/trolyso/knowledge"
)

// A reload recalibrates anchored on the bands in use only when they were
// calibrated: the shipped base's bands (from the binary) are kept unless
// clearly better ones are found; a quick index's borrowed bands are not.
func TestReloadAnchorsOnCalibratedBandsOnly(t *testing.T) {
	ctx := context.Background()
	shipped, err := knowledge.Load(knowledge.EmbeddedBase(), nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	entry := func(id, title string, qs ...string) *fstest.MapFile {
		s := "---\nid: " + id + "\ntitle: " + title + "\ncategory: a\nquestions:\n"
		for _, q := range qs {
			s += "  - " + q + "\n"
		}
		return &fstest.MapFile{Data: []byte(s + "sources: [https://example.org/]\nupdated: 2026-01-01\n---\n" + title + ".\n")}
	}
	small, err := knowledge.Load(fstest.MapFS{
		"a.md": entry("a", "Quên mật khẩu", "quên mật khẩu thì làm sao", "lấy lại mật khẩu", "không nhớ mật khẩu", "đặt lại mật khẩu"),
		"b.md": entry("b", "Đăng ký khai sinh", "đăng ký khai sinh cho con", "làm giấy khai sinh", "khai sinh online", "khai sinh ở đâu"),
	}, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	borrowed := knowledge.DefaultBands()
	tests := []struct {
		name   string
		base   *knowledge.Base
		opts   knowledge.IndexOptions
		anchor bool
	}{
		{"calibrated model from the binary", shipped, knowledge.IndexOptions{}, true},
		{"quick index with borrowed bands", small, knowledge.IndexOptions{Bands: &borrowed}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := knowledge.NewIndexContext(ctx, tt.base, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := calibratedBands(ix)
			if (got != nil) != tt.anchor {
				t.Fatalf("anchor %+v (provisional %v), want an anchor: %v", got, ix.Info().Provisional, tt.anchor)
			}
			if got != nil && *got != ix.Bands() {
				t.Errorf("anchor %+v, want the index's bands %+v", *got, ix.Bands())
			}
		})
	}
}
