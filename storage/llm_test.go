package storage

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestLLMUsage(t *testing.T) { forEachBackend(t, testLLMUsage) }

func testLLMUsage(t *testing.T, tb testBackend) {
	ctx := context.Background()
	db, err := tb.Open(ctx, filepath.Join(t.TempDir(), "t.db"), Options{Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	loc := time.FixedZone("ICT", 7*3600)
	d1 := time.Date(2026, 3, 1, 23, 30, 0, 0, loc) // 16:30 UTC: still 1 March locally
	d2 := time.Date(2026, 3, 2, 8, 0, 0, 0, loc)
	for _, a := range []struct {
		t time.Time
		u LLMUsage
	}{
		{d1, LLMUsage{PromptTokens: 100, CompletionTokens: 20, Calls: 1, Composed: 1}},
		{d1, LLMUsage{PromptTokens: 50, CompletionTokens: 5, Calls: 2, Fallback: 1}},
		{d1, LLMUsage{Refused: 1}},
		{d2, LLMUsage{PromptTokens: 10, CompletionTokens: 1, Calls: 1, Composed: 1, Transcriptions: 1, AudioSeconds: 12}},
	} {
		if err := db.AddLLMUsage(ctx, a.t, a.u); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.LLMTokensOn(ctx, d1)
	if err != nil || n != 175 {
		t.Fatalf("tokens on 1 March = %d, %v; want 175", n, err)
	}
	if n, _ := db.LLMTokensOn(ctx, d2.AddDate(0, 0, 1)); n != 0 {
		t.Fatalf("tokens on an empty day = %d", n)
	}
	day1 := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	tests := []struct {
		name     string
		from, to time.Time
		want     LLMUsage
	}{
		{"first day", day1, day1.AddDate(0, 0, 1), LLMUsage{PromptTokens: 150, CompletionTokens: 25, Calls: 3, Composed: 1, Fallback: 1, Refused: 1}},
		{"both days", day1, d2, LLMUsage{PromptTokens: 160, CompletionTokens: 26, Calls: 4, Composed: 2, Fallback: 1, Refused: 1, Transcriptions: 1, AudioSeconds: 12}},
		{"second day", day1.AddDate(0, 0, 1), day1.AddDate(0, 0, 2), LLMUsage{PromptTokens: 10, CompletionTokens: 1, Calls: 1, Composed: 1, Transcriptions: 1, AudioSeconds: 12}},
		{"empty", day1.AddDate(0, 0, 5), day1.AddDate(0, 0, 6), LLMUsage{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.LLMUsage(ctx, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if u, _ := db.LLMUsage(ctx, day1, day1.AddDate(0, 0, 1)); u.Tokens() != 175 {
		t.Fatalf("Tokens() = %d", u.Tokens())
	}
}
