package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// newTestProvince returns a router over three communes sharing one
// province index, each answering from its own store and profile.
func newTestProvince(t *testing.T) (*Router, *storage.DB) {
	t.Helper()
	ctx := context.Background()
	clock := func() time.Time { return testNow }
	db, err := storage.Open(ctx, t.TempDir()+"/p.db", storage.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	province, err := knowledge.Load(knowledge.EmbeddedBase(), nil, testNow)
	if err != nil {
		t.Fatal(err)
	}
	pix := knowledge.NewIndex(province)
	var cs []RouteCommune
	for _, c := range []struct{ slug, name, phone string }{
		{"co-le", "xã Cổ Lễ", "0228 111 111"}, {"co-loa", "xã Cổ Loa", "0228 222 222"}, {"hoa-lu", "phường Hoa Lư", "0229 333 333"},
	} {
		p, err := knowledge.ParseProfile(knowledge.EmbeddedProfile())
		if err != nil {
			t.Fatal(err)
		}
		p.Name, p.Centre.Phone = c.name, c.phone
		b, _, err := knowledge.LoadLayer(knowledge.EmbeddedBase(), nil, p, testNow)
		if err != nil {
			t.Fatal(err)
		}
		cdb, err := db.Commune(ctx, c.slug)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, RouteCommune{Slug: c.slug, Name: c.name, Engine: New(Config{Store: cdb, Now: clock, Index: pix.Layer(b, nil)}, b)})
	}
	return NewRouter(db, cs, nil, nil, clock), db
}

func TestRouterCommuneChoice(t *testing.T) {
	r, db := newTestProvince(t)
	ctx := context.Background()
	key := db.UserKey("telegram", "1")
	send := func(text, payload string) Reply {
		return r.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: key, Text: text, Payload: payload})
	}
	// /start and questions before a choice ask for the commune.
	if rep := send("/start", ""); !strings.Contains(rep.Text, "xã/phường nào") {
		t.Fatalf("/start: %q", rep.Text)
	}
	// A few letters without diacritics offer the matching communes.
	rep := send("co l", "")
	if len(rep.Buttons) != 2 || rep.Buttons[0][0].Payload != "xa:co-le" || rep.Buttons[1][0].Payload != "xa:co-loa" {
		t.Fatalf("search 'co l': %+v", rep.Buttons)
	}
	if rep := send("hoa lư", ""); len(rep.Buttons) != 1 || rep.Buttons[0][0].Label != "phường Hoa Lư" {
		t.Errorf("search 'hoa lư': %+v", rep.Buttons)
	}
	if rep := send("hà nội", ""); len(rep.Buttons) != 0 || !strings.Contains(rep.Text, "Chưa tìm thấy") {
		t.Errorf("unknown commune: %+v", rep)
	}
	if rep := send("", "xa:khong-co"); !strings.Contains(rep.Text, "xã/phường nào") {
		t.Errorf("unknown slug: %q", rep.Text)
	}
	// Tapping one answers with that commune's welcome and remembers it.
	if rep := send("", "xa:co-le"); !strings.Contains(rep.Text, "Đã chọn **xã Cổ Lễ**") {
		t.Fatalf("choice: %q", rep.Text)
	}
	ask := func() Reply { return send("ra xa nho can bo nop ho so online", "") }
	if rep := ask(); rep.Band != BandAnswer || !strings.Contains(rep.Text, "0228 111 111") {
		t.Fatalf("answer in Cổ Lễ: %s %q", rep.Band, rep.Text)
	}
	// The exchange is Cổ Lễ's, nobody else's.
	day := [2]time.Time{testNow.Add(-time.Hour), testNow.Add(time.Hour)}
	for slug, want := range map[string]int{"co-le": 1, "co-loa": 0, "hoa-lu": 0} {
		c, _ := db.Commune(ctx, slug)
		if n, _ := c.CountExchanges(ctx, day[0], day[1]); n != want {
			t.Errorf("%s has %d exchanges, want %d", slug, n, want)
		}
	}
	// /doixa: the next text searches again, then the new commune answers.
	if rep := send("/doixa@trolyso_bot", ""); !strings.Contains(rep.Text, "chuyển sang") {
		t.Fatalf("/doixa: %q", rep.Text)
	}
	if rep := send("hoa lu", ""); len(rep.Buttons) != 1 {
		t.Fatalf("search after /doixa: %+v", rep)
	}
	send("", "xa:hoa-lu")
	if rep := ask(); !strings.Contains(rep.Text, "0229 333 333") {
		t.Errorf("answer after moving to Hoa Lư: %q", rep.Text)
	}
	// Another resident is asked first, whatever the first one chose.
	other := r.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: db.UserKey("telegram", "2"), Text: "quen mat khau vneid"})
	if other.Band == BandAnswer {
		t.Errorf("a resident without a commune was answered: %+v", other)
	}
}
