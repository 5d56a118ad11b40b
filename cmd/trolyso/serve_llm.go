package main

import "context"

// configureLLM plugs composed answers into the engine when configured.
func configureLLM(ctx context.Context, s *server) error {
	return nil // TODO(llm): not built yet
}
