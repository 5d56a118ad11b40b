package main

import "context"

// countDeliveryFailures wraps every channel's reminder sender so that
// failed deliveries show in /metrics. It runs after the channels started
// and before the reminders take the senders.
func countDeliveryFailures(ctx context.Context, s *server) error {
	for ch, snd := range s.senders {
		s.senders[ch] = s.metrics.Sender(ch, snd)
	}
	return nil
}
