package bot

import (
	"context"
	"errors"
	"time"
)

// Observer receives operational events for monitoring; bot/metrics
// implements it with Prometheus counters and histograms. Methods must be
// fast and safe for concurrent use.
type Observer interface {
	// Handled is called once for every message Handle answered, with the
	// reply and how long answering took.
	Handled(m Message, r Reply, d time.Duration)
	// Rated counts a resident's rating (+1 or -1) of an answer.
	Rated(channel string, value int)
	// LLMFallback counts a composed answer that fell back to the
	// knowledge-base text; reason is a short machine word such as
	// "timeout", "error", "budget" or "rejected".
	LLMFallback(reason string)
	// DeliveryFailed counts a reply or reminder a channel could not
	// deliver; reason is a short machine word such as "blocked",
	// "undeliverable" or "error".
	DeliveryFailed(channel, reason string)
}

// NopObserver ignores every event.
type NopObserver struct{}

// Handled implements Observer.
func (NopObserver) Handled(Message, Reply, time.Duration) {}

// Rated implements Observer.
func (NopObserver) Rated(string, int) {}

// LLMFallback implements Observer.
func (NopObserver) LLMFallback(string) {}

// DeliveryFailed implements Observer.
func (NopObserver) DeliveryFailed(string, string) {}

// Observer returns the engine's observer (a NopObserver when none was
// configured), for features and channels that report events.
func (e *Engine) Observer() Observer { return e.obs }

// FailureReason classifies a delivery error for Observer.DeliveryFailed:
// "blocked" (ErrBlocked), "undeliverable" (ErrUndeliverable), "timeout",
// or "error"; it returns "" for nil or a cancelled context of our own
// (shutting down), which is not counted.
func FailureReason(err error) string {
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, ErrBlocked):
		return "blocked"
	case errors.Is(err, ErrUndeliverable):
		return "undeliverable"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	default:
		return "error"
	}
}
