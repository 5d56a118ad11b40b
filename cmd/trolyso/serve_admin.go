package main

import "context"

// mountAdmin mounts the admin dashboard when an admin password is set.
func mountAdmin(ctx context.Context, s *server) error {
	return nil // TODO(admin): not built yet
}
