package alert

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

func TestCanhBaoPageAndPin(t *testing.T) {
	h := newHarness(t)
	base := testBase(t)
	now := time.Now()
	mk := func(s Spec) storage.AlertJob {
		j, err := Build(s, base, now, "A")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.db.CreateAlertJob(h.ctx, &j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	scam := mk(Spec{Kind: "scam", Title: "Giả danh <công an>", Body: "Không đọc **OTP**. <script>alert(1)</script>"})
	storm := mk(Spec{Kind: "disaster", Title: "Bão số 3", Body: "Sơ tán khỏi bãi sông.", Expires: "2h"})
	old := mk(Spec{Kind: "disaster", Title: "Lũ tháng trước", Body: "Đã qua.", Expires: "1h"})
	later := mk(Spec{Kind: "disaster", Title: "Chưa gửi", Body: "x", At: now.Add(time.Hour)})
	cancelled := mk(Spec{Kind: "notice", Title: "Đã huỷ", Body: "x"})
	h.db.SetAlertJobStatus(h.ctx, cancelled.ID, storage.JobCancelled)
	if _, err := h.db.StartDueAlertJobs(h.ctx, now); err != nil {
		t.Fatal(err)
	}
	clock := now.Add(90 * time.Minute) // the old flood warning has expired
	p := &Public{Store: h.db, Base: func() *knowledge.Base { return base }, Now: func() time.Time { return clock }}
	mux := http.NewServeMux()
	p.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, page := get("/canhbao")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("status %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	cur, earlier, _ := strings.Cut(page, "trước đây")
	for _, want := range []string{"Giả danh &lt;công an&gt;", "<b>OTP</b>", "Bão số 3", `id="a` + strconv.FormatInt(scam.ID, 10) + `"`} {
		if !strings.Contains(cur, want) {
			t.Errorf("current alerts lack %q", want)
		}
	}
	if !strings.Contains(earlier, "Lũ tháng trước") {
		t.Error("the expired alert is not under the earlier ones")
	}
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "Chưa gửi") || strings.Contains(page, "Đã huỷ") {
		t.Error("page shows a raw script, an alert not yet sent, or a cancelled one")
	}
	resp, body := get("/canhbao/ghim.json")
	var pins struct{ Pins []Pin }
	if err := json.Unmarshal([]byte(body), &pins); err != nil || resp.StatusCode != 200 {
		t.Fatalf("pins: %d %v %s", resp.StatusCode, err, body)
	}
	if len(pins.Pins) != 1 || pins.Pins[0].ID != storm.ID || !strings.Contains(pins.Pins[0].Heading, "THIÊN TAI") {
		t.Errorf("pins = %+v (want only the current storm warning)", pins.Pins)
	}
	clock = now.Add(3 * time.Hour)
	if _, body := get("/canhbao/ghim.json"); !strings.Contains(body, `"pins":[]`) {
		t.Errorf("expired warning still pinned: %s", body)
	}
	if resp, js := get("/canhbao/ghim.js"); resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(js, "\"canhbao/ghim.json\"") {
		t.Errorf("pin script: %q", resp.Header.Get("Content-Type"))
	}
	_, _ = old, later
}
