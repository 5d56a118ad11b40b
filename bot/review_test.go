package bot

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"

	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// TestCommandArgsAfterAnyWhitespace: a command followed by a newline or a
// tab (phones insert them) is still that command.
func TestCommandArgsAfterAnyWhitespace(t *testing.T) {
	eng, _ := newTestEngine(t)
	ctx := context.Background()
	var got []string
	eng.HandleCommand("vidu", Command{Handle: func(_ context.Context, _ Message, args string) Reply {
		got = append(got, args)
		return Reply{Band: BandCommand, Text: "ok"}
	}})
	tests := []struct{ text, args string }{
		{"/vidu AB3K7Q", "AB3K7Q"},
		{"/vidu\nAB3K7Q", "AB3K7Q"},
		{"/vidu\tAB3K7Q Nguyễn Văn An", "AB3K7Q Nguyễn Văn An"},
		{"/vidu@trolyso_bot\nAB3K7Q", "AB3K7Q"},
		{"/VIDU", ""},
	}
	for _, tt := range tests {
		got = nil
		r := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:u", Text: tt.text})
		if r.Text != "ok" || len(got) != 1 || got[0] != tt.args {
			t.Errorf("%q: reply %q, args %q; want args %q", tt.text, r.Text, got, tt.args)
		}
	}
}

// TestAdminHelpIsSorted: /help lists the admin commands in a stable,
// alphabetical order (not the map's random one).
func TestAdminHelpIsSorted(t *testing.T) {
	eng, _ := newTestEngine(t)
	ctx := context.Background()
	first := ""
	for range 20 {
		r := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:admin", Text: "/help", Admin: true})
		if first == "" {
			first = r.Text
		} else if r.Text != first {
			t.Fatalf("admin help changes between calls:\n%s\n---\n%s", first, r.Text)
		}
	}
	var names []string
	for _, line := range strings.Split(first, "\n") {
		if name, ok := strings.CutPrefix(line, "- /"); ok {
			name, _, _ = strings.Cut(name, " ")
			names = append(names, name)
		}
	}
	if len(names) < 2 || !slices.IsSorted(names) {
		t.Fatalf("admin commands not sorted: %v", names)
	}
}

// TestSurveyPayloadsFitEveryStep: a service offered by /danhgia must have
// level buttons whose payloads fit MaxPayloadLen too (Telegram drops
// longer callback data, leaving the resident with no buttons).
func TestSurveyPayloadsFitEveryStep(t *testing.T) {
	ctx := context.Background()
	entry := func(id string) string {
		return "---\nid: " + id + "\ntitle: Dịch vụ " + id[:8] + "\ncategory: dvc\nservice: Dịch vụ " + id[:8] + "\nquestions:\n" +
			"  - câu hỏi một về dịch vụ " + id[:8] + "\n  - câu hỏi hai về dịch vụ " + id[:8] + "\n" +
			"  - câu hỏi ba về dịch vụ " + id[:8] + "\n  - câu hỏi bốn về dịch vụ " + id[:8] + "\n" +
			"sources:\n  - https://dichvucong.gov.vn\nupdated: 2026-11-01\n---\nTrả lời.\n"
	}
	// The loader refuses ids over knowledge.MaxIDLen, so the longest id a
	// base can hold must fit every survey step.
	ids := []string{strings.Repeat("a", knowledge.MaxIDLen), strings.Repeat("b", knowledge.MaxIDLen-1)}
	fsys := fstest.MapFS{}
	for _, id := range ids {
		fsys[id+".md"] = &fstest.MapFile{Data: []byte(entry(id))}
	}
	profile, err := knowledge.LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(fsys, profile, testNow)
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(ctx, t.TempDir()+"/s.db", storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	eng := New(Config{Store: db, Now: func() time.Time { return testNow }}, base)
	start := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:s", Text: "/danhgia"})
	offered := 0
	for _, row := range start.Buttons {
		for _, b := range row {
			if len(b.Payload) > MaxPayloadLen {
				t.Errorf("start payload %q is %d bytes", b.Payload, len(b.Payload))
			}
			if !strings.HasPrefix(b.Payload, "sv:s:") || strings.HasSuffix(b.Payload, ":"+storage.SurveyService) {
				continue
			}
			offered++
			levels := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:s", Payload: b.Payload})
			if len(levels.Buttons) != 6 {
				t.Errorf("%s: %d level buttons, want 5 levels and the way back", b.Payload, len(levels.Buttons))
			}
			for _, lr := range levels.Buttons {
				for _, l := range lr {
					if len(l.Payload) > MaxPayloadLen {
						t.Errorf("level payload %q is %d bytes (max %d)", l.Payload, len(l.Payload), MaxPayloadLen)
					}
				}
			}
		}
	}
	if offered != len(ids) {
		t.Errorf("%d long-id services offered, want %d", offered, len(ids))
	}
}

// TestJoinNameIsRedactedAndInert: the free-text name after /dangky is
// stored without phone or ID numbers, and cannot add links or bold to the
// admins' member list.
func TestJoinNameIsRedactedAndInert(t *testing.T) {
	eng, db := newTestEngine(t)
	ctx := context.Background()
	team, err := db.AddTeam(ctx, "Thôn Đông", "")
	if err != nil {
		t.Fatal(err)
	}
	key := db.UserKey(ChannelTelegram, "222")
	name := "An **0912 345 678** [bấm đây](https://lua-dao.example) <https://lua-dao.example> 001234567890\n" + strings.Repeat("x", 300)
	if r := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: key, Text: "/dangky " + team.JoinCode + " " + name}); !strings.Contains(r.Text, "Bạn đã tham gia") {
		t.Fatalf("join: %q", r.Text)
	}
	ms, err := db.TeamMembers(ctx, team.ID)
	if err != nil || len(ms) != 1 {
		t.Fatalf("members %+v, %v", ms, err)
	}
	got := ms[0].DisplayName
	if strings.Contains(got, "0912") || strings.Contains(got, "001234567890") || utf8.RuneCountInString(got) > 81 {
		t.Errorf("stored name %q keeps numbers or is too long", got)
	}
	text := TeamMembersText(team, ms)
	if links := markup.Links(text); len(links) != 0 {
		t.Errorf("member list has links %v:\n%s", links, text)
	}
	if html := markup.HTML(text); strings.Count(html, "<b>") != 1 {
		t.Errorf("member list has injected bold:\n%s", html)
	}
}
