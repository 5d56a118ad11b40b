package telegram

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
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

// A reminder to a group that became a supergroup follows it: the team's
// group chat id is updated and the message goes to the new chat, once.
func TestSendToFollowsMigratedGroup(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	team, err := e.db.AddTeam(ctx, "Thôn Bắc", "-4001")
	if err != nil {
		t.Fatal(err)
	}
	e.api.script("sendMessage", `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009876}}`)
	if err := e.a.SendTo(ctx, "-4001", bot.Reply{Text: "Nhắc lịch"}); err != nil {
		t.Fatalf("SendTo: %v", err)
	}
	calls := e.api.callsOf("sendMessage")
	if len(calls) != 2 || calls[0].Form["chat_id"] != "-4001" || calls[1].Form["chat_id"] != "-1009876" {
		t.Fatalf("calls: %+v", calls)
	}
	got, err := e.db.Team(ctx, strconv.FormatInt(team.ID, 10))
	if err != nil || got.GroupChat != "-1009876" {
		t.Errorf("team group = %q, %v; want the supergroup id", got.GroupChat, err)
	}
}
