package main

import "context"

// startReminders starts the reminders component when it is configured.
func startReminders(ctx context.Context, s *server) error {
	return nil // TODO(reminders): not built yet
}
