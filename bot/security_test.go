package bot

import (
	"context"
	"sort"
	"strings"
	"testing"
)

// TestAdminCommandsRefuseNonAdmins enumerates every registered admin
// command and checks that a non-admin (private chat or group, any
// spelling) gets exactly the unknown-command reply and changes nothing,
// while an admin reaches the command.
func TestAdminCommandsRefuseNonAdmins(t *testing.T) {
	eng, db := newTestEngine(t)
	ctx := context.Background()
	var names []string
	for name, c := range eng.commands {
		if c.Admin {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		t.Fatal("no admin commands registered")
	}
	unknown := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:u1", Text: "/khongcolenhnay"})
	counts := func() (n int) {
		for _, table := range []string{"teams", "reminders", "settings", "exchanges"} {
			var c int
			if err := db.Reader().QueryRow(`SELECT count(*) FROM ` + table).Scan(&c); err != nil {
				t.Fatalf("count %s: %v", table, err)
			}
			n += c
		}
		return n
	}
	before := counts()
	for _, name := range names {
		for _, text := range []string{"/" + name, "/" + strings.ToUpper(name), "/" + name + "@trolyso_bot", "/" + name + " Thôn Đông 1", "  /" + name + " 1  "} {
			for _, group := range []bool{false, true} {
				r := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:u1", Text: text, Group: group})
				if r.Text != unknown.Text || r.Band != unknown.Band {
					t.Errorf("non-admin %q (group %v) got %q, want the unknown-command reply", text, group, r.Text)
				}
			}
		}
		r := eng.Handle(ctx, Message{Channel: ChannelTelegram, UserKey: "telegram:admin", Text: "/" + name, Admin: true})
		if r.Text == unknown.Text {
			t.Errorf("admin /%s got the unknown-command reply", name)
		}
	}
	if after := counts(); after != before {
		t.Errorf("non-admin commands changed the database: %d rows before, %d after", before, after)
	}
	// /help lists admin commands to admins only.
	help := eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:u1", Text: "/help"})
	for _, name := range names {
		if strings.Contains(help.Text, "/"+name) {
			t.Errorf("/help shows admin command /%s to a non-admin", name)
		}
	}
}
