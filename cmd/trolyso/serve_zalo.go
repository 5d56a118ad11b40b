package main

import "context"

// startZalo starts the zalo component when it is configured.
func startZalo(ctx context.Context, s *server) error {
	return nil // TODO(zalo): not built yet
}
