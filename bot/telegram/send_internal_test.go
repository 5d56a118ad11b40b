package telegram

import (
	"context"
	"errors"
	"net"
	"net/url"
	"testing"

	"github.com/colecommune/trolyso/bot"
)

func TestAmbiguous(t *testing.T) {
	dial := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	read := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset")}}
	timeout := &url.Error{Op: "Post", URL: "http://x", Err: errors.New("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"refused to connect", dial, false},
		{"reset after sending", read, true},
		{"timed out awaiting headers", timeout, true},
		{"api error", errors.New("error response from telegram for method sendMessage, 500"), false},
	}
	for _, tt := range tests {
		if got := ambiguous(tt.err); got != tt.want {
			t.Errorf("%s: ambiguous = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A reminder whose request may have reached Telegram is not sent again
// (at most once); a resident's reply is retried (better twice than never).
func TestAmbiguousFailureRetryPolicy(t *testing.T) {
	e := newEnv(t, nil)
	e.api.script("sendMessage", scriptHangUp)
	if err := e.a.SendTo(context.Background(), "7", bot.Reply{Text: "Nhắc lịch"}); err == nil {
		t.Fatal("SendTo after a dropped connection reported success")
	}
	if n := len(e.api.callsOf("sendMessage")); n != 1 {
		t.Fatalf("%d sendMessage calls for a reminder, want 1", n)
	}
	e.api.script("sendMessage", scriptHangUp)
	e.api.push(textUpdate(8, 8, 1, "/help"))
	e.api.wait("sendMessage", 3)
}
