package knowledge

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestEmbeddedModelIsFresh: the model in the binary was trained on the
// embedded base. When this fails, run `go generate ./knowledge`.
func TestEmbeddedModelIsFresh(t *testing.T) {
	b, err := Load(EmbeddedBase(), testProfile(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !EmbeddedModelFresh(b) {
		t.Fatal("knowledge/model.gob was not trained on the embedded base: run `go generate ./knowledge` and commit model.gob")
	}
	if ix := shipped(t); !ix.Info().Cached {
		t.Error("the embedded base was trained at load instead of using the embedded model")
	}
}

// smallBase is a base of three entries (no embedded model matches it).
func smallBase(t *testing.T, extra string) *Base {
	t.Helper()
	entry := func(id, title string, qs ...string) *fstest.MapFile {
		s := "---\nid: " + id + "\ntitle: " + title + "\ncategory: a\nquestions:\n"
		for _, q := range qs {
			s += "  - " + q + "\n"
		}
		return &fstest.MapFile{Data: []byte(s + "sources: [https://example.org/]\nupdated: 2026-01-01\n---\n" + title + ". " + extra + "\n")}
	}
	fsys := fstest.MapFS{
		"a.md": entry("a", "Quên mật khẩu", "quên mật khẩu thì làm sao", "lấy lại mật khẩu", "không nhớ mật khẩu đăng nhập", "đặt lại mật khẩu mới", "mat khau quen roi"),
		"b.md": entry("b", "Đăng ký khai sinh", "đăng ký khai sinh cho con", "làm giấy khai sinh", "khai sinh online", "con mới sinh làm giấy tờ gì", "khai sinh o dau"),
		"c.md": entry("c", "Đổi số điện thoại", "đổi số điện thoại", "thay số điện thoại mới", "cập nhật số điện thoại", "số điện thoại cũ mất rồi", "doi sdt"),
	}
	b, err := Load(fsys, testProfile(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestModelCache(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	opts := IndexOptions{CacheDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx := context.Background()
	b := smallBase(t, "")
	first, err := NewIndexContext(ctx, b, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.Info().Cached {
		t.Fatal("first build claims to be cached")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "model-*.gob"))
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}
	second, err := NewIndexContext(ctx, b, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Info().Cached || second.Bands() != first.Bands() {
		t.Fatalf("second build: cached %v bands %+v vs %+v", second.Info().Cached, second.Bands(), first.Bands())
	}
	for _, q := range []string{"quen mat khau", "làm khai sinh cho con", "đổi sđt", "giá vàng hôm nay"} {
		a, c := first.Decide(q), second.Decide(q)
		if a.Band != c.Band || ids(a.Ranked)[0] != ids(c.Ranked)[0] || a.Features.Top != c.Features.Top {
			t.Errorf("%q: trained %s %v %.4f, cached %s %v %.4f", q, a.Band, ids(a.Ranked), a.Features.Top, c.Band, ids(c.Ranked), c.Features.Top)
		}
	}
	// A changed base does not use the old model.
	changed, err := NewIndexContext(ctx, smallBase(t, "Thêm một câu."), opts)
	if err != nil {
		t.Fatal(err)
	}
	if changed.Info().Cached || changed.Info().Fingerprint == first.Info().Fingerprint {
		t.Error("a changed base reused the cached model")
	}
	// A damaged cache file is reported and the base trained again.
	if err := os.WriteFile(files[0], []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	again, err := NewIndexContext(ctx, b, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Info().Cached || !strings.Contains(logs.String(), "cache unusable") {
		t.Errorf("damaged cache: cached %v, log %q", again.Info().Cached, logs.String())
	}
}

func TestNewIndexStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewIndexContext(ctx, smallBase(t, ""), IndexOptions{}); err == nil {
		t.Error("a cancelled build returned an index")
	}
}

// TestProvisionalIndexIsQuick: an index built with bands kept from before
// (a reload, before calibration) trains on fewer variants, is not cached,
// and still answers the base's questions with their entries.
func TestProvisionalIndexIsQuick(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b := smallBase(t, "")
	bands := DefaultBands()
	quick, err := NewIndexContext(ctx, b, IndexOptions{CacheDir: dir, Bands: &bands})
	if err != nil {
		t.Fatal(err)
	}
	full, err := NewIndexContext(ctx, b, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !quick.Info().Provisional || full.Info().Provisional {
		t.Fatalf("provisional: quick %v, full %v", quick.Info().Provisional, full.Info().Provisional)
	}
	if q, f := quick.Info().Examples, full.Info().Examples; q >= f {
		t.Errorf("quick index trained on %d examples, the calibrated one on %d: want fewer", q, f)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "model-*.gob")); len(files) != 0 {
		t.Errorf("a provisional model was cached: %v", files)
	}
	for _, tt := range []struct{ q, want string }{
		{"quên mật khẩu thì làm sao", "a"},
		{"lam giay khai sinh cho con", "b"},
		{"đổi số điện thoại", "c"},
	} {
		if got := quick.Search(tt.q, 1); len(got) == 0 || got[0].Entry.ID != tt.want {
			t.Errorf("quick index: %q ranked %v first, want %s", tt.q, ids(got), tt.want)
		}
	}
}

// TestQuickTrainingWhateverTheSize: a provisional model trains on the
// unaccented variant only, also when the base is large enough for the
// size rule to choose its own, richer set of variants.
func TestQuickTrainingWhateverTheSize(t *testing.T) {
	b := smallBase(t, "")
	ix, oos, _ := prepare(b)
	fp, tp := paramsFor(len(b.Entries))
	all := samples(b.Entries, oos, tp.folds)
	n := 0
	for _, s := range all {
		if s.fold != -1 {
			n++
		}
	}
	var want int
	for _, tt := range []struct {
		name        string
		maxExamples int
	}{
		{"small base: every variant", 1 << 30},
		{"large base: two variants", n * 4},
		{"very large base: one variant", n * 2},
	} {
		quick := quickParams(tp)
		quick.maxExamples = tt.maxExamples
		got := len(buildTrainingSet(all, -1, len(b.Entries)+1, ix.canon, fp, quick).examples)
		if want == 0 {
			want = got
		}
		if got != want {
			t.Errorf("%s: quick training on %d examples, want %d (the unaccented variant only)", tt.name, got, want)
		}
	}
}

// TestRecalibrationKeepsPreviousBands: a changed base calibrated with the
// bands of the model it replaces keeps them when the best bands found are
// no clearly better, and drops them when they are clearly worse; the bands
// of a written model can be read back for that (genmodel does).
func TestRecalibrationKeepsPreviousBands(t *testing.T) {
	ctx := context.Background()
	first, err := NewIndexContext(ctx, smallBase(t, ""), IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := first.WriteModel(&buf); err != nil {
		t.Fatal(err)
	}
	read, err := ModelBands(&buf, false)
	if err != nil || read != first.Bands() {
		t.Fatalf("ModelBands: %+v, %v; want %+v", read, err, first.Bands())
	}
	if _, err := ModelBands(strings.NewReader("not a model"), true); err == nil {
		t.Error("ModelBands read a damaged model")
	}
	// Bands of another engine version are kept only on request.
	var old bytes.Buffer
	if err := gob.NewEncoder(&old).Encode(cacheFile{Version: "trolyso-engine-0", Bands: read}); err != nil {
		t.Fatal(err)
	}
	if _, err := ModelBands(bytes.NewReader(old.Bytes()), false); !errors.Is(err, errStale) {
		t.Errorf("ModelBands read another engine version's bands: %v", err)
	}
	if got, err := ModelBands(bytes.NewReader(old.Bytes()), true); err != nil || got != read {
		t.Errorf("ModelBands(any version) = %+v, %v; want %+v", got, err, read)
	}
	near := read
	near.Answer += 0.001 // decides every held-out question as the best bands do, or nearly
	worse := read
	worse.Floor, worse.Answer, worse.Agree = 0.99, 0.99, 0.99 // declines everything
	changed := smallBase(t, "Thêm một câu.")
	for _, tt := range []struct {
		name     string
		previous Bands
		kept     bool
	}{
		{"within noise", near, true},
		{"clearly worse", worse, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := NewIndexContext(ctx, changed, IndexOptions{Previous: &tt.previous})
			if err != nil {
				t.Fatal(err)
			}
			if kept := ix.Bands() == tt.previous; kept != tt.kept || ix.Info().CV.KeptPrevious != tt.kept {
				t.Errorf("bands %+v (kept_previous %v), previous %+v: want kept = %v", ix.Bands(), ix.Info().CV.KeptPrevious, tt.previous, tt.kept)
			}
		})
	}
}

// TestCalibratedBands: a reload anchors its recalibration on the bands in
// use only when they were calibrated, not on a quick index's borrowed ones.
func TestCalibratedBands(t *testing.T) {
	ctx := context.Background()
	b := smallBase(t, "")
	borrowed := DefaultBands()
	quick, err := NewIndexContext(ctx, b, IndexOptions{Bands: &borrowed})
	if err != nil {
		t.Fatal(err)
	}
	full, err := NewIndexContext(ctx, b, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		ix     *Index
		anchor bool
	}{
		{"calibrated", full, true},
		{"quick index with borrowed bands", quick, false},
		{"no index", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.ix.CalibratedBands()
			if (got != nil) != tt.anchor {
				t.Fatalf("anchor %+v, want an anchor: %v", got, tt.anchor)
			}
			if got != nil && *got != tt.ix.Bands() {
				t.Errorf("anchor %+v, want the index's bands %+v", *got, tt.ix.Bands())
			}
		})
	}
}
