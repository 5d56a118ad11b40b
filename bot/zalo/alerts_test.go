package zalo

import (
	"net/http"
	"strings"
	"testing"
)

// Following the OA shows the "Nhận cảnh báo" button; tapping it subscribes
// the resident with their Zalo id as the delivery address.
func TestFollowAndSubscribeToAlerts(t *testing.T) {
	h := newHarness(t, nil)
	b := h.followEvent("follow", userA, h.clock.Now())
	if st := h.post(b, sign(b, testOAKey)); st != http.StatusOK {
		t.Fatalf("follow status %d", st)
	}
	h.ch.Wait()
	welcome := h.api.messages()[0]
	if !contains(welcome.payloads(), PayloadPrefix+"al:sub") {
		t.Fatalf("welcome buttons = %v", welcome.payloads())
	}
	r := h.say(userA, PayloadPrefix+"al:sub")
	if !strings.Contains(r.Req.Message.Text, "Bạn đã đăng ký nhận") {
		t.Fatalf("subscribe reply = %q", r.Req.Message.Text)
	}
	key := h.db.UserKey("zalo", userA)
	if _, addr, err := h.db.Address(h.ctx, key); err != nil || addr != userA {
		t.Errorf("address = %q, %v", addr, err)
	}
	if s, err := h.db.Subscriber(h.ctx, key); err != nil || !s.Active {
		t.Errorf("subscriber = %+v, %v", s, err)
	}
	if r := h.say(userA, "dừng"); !strings.Contains(r.Req.Message.Text, "ngừng nhận") {
		t.Errorf("dừng = %q", r.Req.Message.Text)
	}
}
