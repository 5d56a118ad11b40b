package storage

import (
	"context"
	"fmt"
	"time"
)

// dayLayout is how llm_usage days are stored: the operator's local date.
const dayLayout = "2006-01-02"

// LLMUsage is language-model usage over one day or a period.
type LLMUsage struct {
	PromptTokens     int64
	CompletionTokens int64
	// Calls counts chat requests sent to the model (retries included).
	Calls int64
	// Composed, Fallback and Refused count answer-band replies: composed by
	// the model, base answer sent after a failed or rejected attempt, and
	// refused prompt-injection attempts.
	Composed int64
	Fallback int64
	Refused  int64
	// Transcriptions counts voice messages sent for transcription, and
	// AudioSeconds their total length.
	Transcriptions int64
	AudioSeconds   int64
}

// Tokens is the total of prompt and completion tokens.
func (u LLMUsage) Tokens() int64 { return u.PromptTokens + u.CompletionTokens }

// AddLLMUsage adds u to the usage of the day containing t (the date in t's
// location).
func (db *DB) AddLLMUsage(ctx context.Context, t time.Time, u LLMUsage) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO llm_usage(day, prompt_tokens, completion_tokens, calls, composed, fallback, refused, transcriptions, audio_seconds)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(day) DO UPDATE SET
			prompt_tokens = llm_usage.prompt_tokens + excluded.prompt_tokens,
			completion_tokens = llm_usage.completion_tokens + excluded.completion_tokens,
			calls = llm_usage.calls + excluded.calls,
			composed = llm_usage.composed + excluded.composed,
			fallback = llm_usage.fallback + excluded.fallback,
			refused = llm_usage.refused + excluded.refused,
			transcriptions = llm_usage.transcriptions + excluded.transcriptions,
			audio_seconds = llm_usage.audio_seconds + excluded.audio_seconds`,
		t.Format(dayLayout), u.PromptTokens, u.CompletionTokens, u.Calls, u.Composed, u.Fallback, u.Refused, u.Transcriptions, u.AudioSeconds)
	if err != nil {
		return fmt.Errorf("add llm usage: %w", err)
	}
	return nil
}

// LLMUsage sums the usage of the days touching [from, to): from the date of
// from to the date of the last instant before to, both in from's location.
func (db *DB) LLMUsage(ctx context.Context, from, to time.Time) (LLMUsage, error) {
	var u LLMUsage
	if !to.After(from) {
		return u, nil
	}
	lo := from.Format(dayLayout)
	hi := to.Add(-time.Nanosecond).In(from.Location()).Format(dayLayout)
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), coalesce(sum(calls), 0),
			coalesce(sum(composed), 0), coalesce(sum(fallback), 0), coalesce(sum(refused), 0),
			coalesce(sum(transcriptions), 0), coalesce(sum(audio_seconds), 0)
		FROM llm_usage WHERE day >= ? AND day <= ?`, lo, hi).
		Scan(&u.PromptTokens, &u.CompletionTokens, &u.Calls, &u.Composed, &u.Fallback, &u.Refused, &u.Transcriptions, &u.AudioSeconds)
	if err != nil {
		return LLMUsage{}, fmt.Errorf("read llm usage: %w", err)
	}
	return u, nil
}

// LLMTokensOn returns the tokens spent on the day containing t (the date in
// t's location); the daily budget is checked against it.
func (db *DB) LLMTokensOn(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := db.r.QueryRowContext(ctx, `SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM llm_usage WHERE day = ?`, t.Format(dayLayout)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read llm tokens: %w", err)
	}
	return n, nil
}
