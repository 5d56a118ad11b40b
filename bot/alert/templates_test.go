package alert

import (
	"strings"
	"testing"

	"github.com/colecommune/trolyso/knowledge/alerts"
	"github.com/colecommune/trolyso/storage"
)

// TestShippedTemplates checks the ready-made alerts: they parse, pass every
// check against the shipped base (their entries exist), fit one message on
// every channel, are scam warnings and list their sources.
func TestShippedTemplates(t *testing.T) {
	base := testBase(t)
	names := alerts.Names()
	if len(names) < 3 {
		t.Fatalf("templates = %v, want at least 3", names)
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			b, err := alerts.Read(n)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			j, err := Build(s, base, testNow, "kiểm thử")
			if err != nil {
				t.Fatalf("template refused: %v", err)
			}
			if j.Kind != storage.AlertScam || len(j.Entries) == 0 || len(s.Sources) < 2 {
				t.Errorf("kind %s, entries %v, %d sources", j.Kind, j.Entries, len(s.Sources))
			}
			if strings.Contains(j.Body, "{{") || !strings.Contains(j.Body, "Công an xã Cổ Lễ (0228 111 111)") && !strings.Contains(j.Body, "Công an xã Cổ Lễ** (0228 111 111)") {
				t.Errorf("profile placeholders not filled in: %q", j.Body)
			}
			t.Logf("%s: %d characters on Zalo", n, utf16Len(PreviewOf(j).ZaloText))
		})
	}
}
