package knowledge

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var layerNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// communeProfile is the embedded profile with another commune's name and
// centre phone.
func communeProfile(t testing.TB, name, phone string) *Profile {
	t.Helper()
	p, err := ParseProfile(EmbeddedProfile())
	if err != nil {
		t.Fatal(err)
	}
	p.Name, p.Centre.Phone = name, phone
	return p
}

const overlayReplace = `---
id: vneid-quen-mat-khau
title: Quên mật khẩu VNeID (xã Yên Từ)
category: vneid
questions:
  - Tôi quên mật khẩu đăng nhập VNeID, lấy lại thế nào?
  - lay lai mat khau vneid
  - quen mk dang nhap vneid
  - Đặt lại mật khẩu VNeID bằng cách nào?
tags: [vneid]
sources: [https://vneid.gov.vn]
updated: 2026-10-01
---
Ở xã Yên Từ, mang căn cước đến bàn một cửa sáng thứ Bảy để được hỗ trợ lấy lại mật khẩu.
`

const overlayAdd = `---
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
Chủ tịch UBND xã tiếp công dân sáng thứ Năm hằng tuần tại trụ sở xã.
`

func TestLayersShareTheProvinceModel(t *testing.T) {
	ctx := context.Background()
	province, err := Load(EmbeddedBase(), nil, layerNow)
	if err != nil {
		t.Fatal(err)
	}
	pix := NewIndex(province)
	overlay := fstest.MapFS{"vneid-quen-mat-khau.md": {Data: []byte(overlayReplace)}, "xa-lich-tiep-dan.md": {Data: []byte(overlayAdd)}}
	b, added, err := LoadLayer(EmbeddedBase(), overlay, communeProfile(t, "xã Yên Từ", "0229 999 888"), layerNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 1 || added[0].ID != "xa-lich-tiep-dan" || len(b.Entries) != len(province.Entries)+1 {
		t.Fatalf("added %d entries, base has %d", len(added), len(b.Entries))
	}
	aix, err := NewAddedIndex(ctx, b, added, province, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lix := pix.Layer(b, aix)

	for _, tc := range []struct {
		q, id, body string
	}{
		{"quen mat khau vneid", "vneid-quen-mat-khau", "sáng thứ Bảy"},                // replaced
		{"xã tiếp dân vào hôm nào vậy", "xa-lich-tiep-dan", "sáng thứ Năm"},           // added
		{"ra xa nho can bo nop ho so online", "dvc-ho-tro-truc-tiep", "0229 999 888"}, // province, commune profile
	} {
		d := lix.Decide(tc.q)
		if d.Band != BandAnswer || d.Matches[0].Entry.ID != tc.id || !strings.Contains(d.Matches[0].Entry.Answer, tc.body) {
			var got string
			if len(d.Matches) > 0 {
				got = d.Matches[0].Entry.ID + ": " + d.Matches[0].Entry.Answer
			}
			t.Errorf("%q: band %s, %s; want %s with %q", tc.q, d.Band, got, tc.id, tc.body)
		}
	}
	// A question the commune did not add still declines.
	if d := lix.Decide("giá vàng hôm nay bao nhiêu"); d.Band == BandAnswer {
		t.Errorf("out of scope answered by %s", d.Matches[0].Entry.ID)
	}
	// The province index is untouched: its own texts, no added entry.
	d := pix.Decide("quen mat khau vneid")
	if d.Band != BandAnswer || strings.Contains(d.Matches[0].Entry.Answer, "Yên Từ") {
		t.Errorf("province answer changed: %+v", d.Matches)
	}
	if d := pix.Decide("ra xa nho can bo nop ho so online"); len(d.Matches) == 0 || strings.Contains(d.Matches[0].Entry.Answer, "0229 999 888") {
		t.Error("the province index renders the commune's phone")
	}
	// Without an overlay a commune's layer is the province model with its
	// own rendering.
	b2, added2, err := LoadLayer(EmbeddedBase(), nil, communeProfile(t, "xã Khánh", "0229 111 222"), layerNow)
	if err != nil || len(added2) != 0 {
		t.Fatal(err, added2)
	}
	if d := pix.Layer(b2, nil).Decide("ra xa nho can bo nop ho so online"); len(d.Matches) == 0 || !strings.Contains(d.Matches[0].Entry.Answer, "0229 111 222") {
		t.Errorf("layer without overlay: %+v", d.Matches)
	}
}

func TestLayerRefusesBadOverlay(t *testing.T) {
	bad := fstest.MapFS{"x.md": {Data: []byte(strings.Replace(overlayAdd, "category: lien-he", "category: khong-co", 1))}}
	if _, _, err := LoadLayer(EmbeddedBase(), bad, nil, layerNow); err == nil {
		t.Error("an overlay entry in an unknown category was accepted")
	}
}

// layerQuestions is a fixed mix for the layered-answer benchmark.
var layerQuestions = []string{"quen mat khau vneid", "đăng ký chữ ký số ở đâu", "xa tiep dan ngay nao", "giá vàng hôm nay",
	"ra xa nho can bo nop ho so online", "làm căn cước cho con", "cach nop ho so khai sinh online", "tra cứu hồ sơ đã nộp"}

// BenchmarkDecideProvince and BenchmarkDecideLayered compare answering
// from the province base alone with answering from a commune's layer (one
// replaced and one added entry): the layer must cost less than twice.
func BenchmarkDecideProvince(b *testing.B) {
	province, err := Load(EmbeddedBase(), nil, layerNow)
	if err != nil {
		b.Fatal(err)
	}
	ix := NewIndex(province)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ix.Decide(layerQuestions[i%len(layerQuestions)])
	}
}

func BenchmarkDecideLayered(b *testing.B) {
	province, err := Load(EmbeddedBase(), nil, layerNow)
	if err != nil {
		b.Fatal(err)
	}
	pix := NewIndex(province)
	overlay := fstest.MapFS{"vneid-quen-mat-khau.md": {Data: []byte(overlayReplace)}, "xa-lich-tiep-dan.md": {Data: []byte(overlayAdd)}}
	lb, added, err := LoadLayer(EmbeddedBase(), overlay, communeProfile(b, "xã Yên Từ", "0229 999 888"), layerNow)
	if err != nil {
		b.Fatal(err)
	}
	aix, err := NewAddedIndex(context.Background(), lb, added, province, IndexOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ix := pix.Layer(lb, aix)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ix.Decide(layerQuestions[i%len(layerQuestions)])
	}
}

func TestCheckOverlay(t *testing.T) {
	province, err := Load(EmbeddedBase(), nil, layerNow)
	if err != nil {
		t.Fatal(err)
	}
	dupe := strings.Replace(overlayAdd, "title:", "title: Bản hai", 1)
	for _, tc := range []struct {
		name    string
		fsys    fstest.MapFS
		wantErr string // "" for no error
	}{
		{"one added entry", fstest.MapFS{"x.md": {Data: []byte(overlayAdd)}}, ""},
		{"unknown category", fstest.MapFS{"x.md": {Data: []byte(strings.Replace(overlayAdd, "category: lien-he", "category: khong-co", 1))}}, `unknown category "khong-co"`},
		{"same id twice", fstest.MapFS{"x.md": {Data: []byte(overlayAdd)}, "y.md": {Data: []byte(dupe)}}, "duplicate id"},
		{"broken front matter", fstest.MapFS{"x.md": {Data: []byte("no front matter")}}, "missing front matter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := CheckOverlay(tc.fsys, province.Categories, nil, layerNow)
			got := ""
			for _, p := range ps {
				if !p.Warning {
					got += p.String() + "\n"
				}
			}
			if tc.wantErr == "" && got != "" || tc.wantErr != "" && !strings.Contains(got, tc.wantErr) {
				t.Errorf("problems %q, want %q", got, tc.wantErr)
			}
		})
	}
}
