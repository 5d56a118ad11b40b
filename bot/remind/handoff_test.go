package remind

import (
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot/remind/spec"
	"github.com/colecommune/trolyso/storage"
)

// The weekly digest tells the teams how many residents' requests to
// commune staff are still open ({{.OpenHandoffs}}).
func TestDigestCountsOpenHandoffs(t *testing.T) {
	e := newEnv(t, time.Date(2026, 3, 16, 0, 30, 0, 0, time.UTC))
	for _, user := range []string{"1", "2", "3"} {
		if _, _, err := e.db.OpenTicket(e.ctx, "telegram", e.db.UserKey("telegram", user), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.db.CloseTicket(e.ctx, 3, "An", storage.ClosedByStaff, "đóng", nil); err != nil {
		t.Fatal(err)
	}
	d, err := Figures(e.ctx, e.db, e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d.OpenHandoffs != 2 {
		t.Fatalf("OpenHandoffs = %d, want 2", d.OpenHandoffs)
	}
	var digest string
	for _, r := range Defaults {
		if r.SeedKey == "weekly-digest" {
			digest = r.Template
		}
	}
	out, err := spec.Render(digest, d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Yêu cầu gặp cán bộ xã đang chờ xử lý: **2**") {
		t.Errorf("digest:\n%s", out)
	}
}
