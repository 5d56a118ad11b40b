package main

import (
	"bytes"
	"context"
	"fmt"

	"github.com/colecommune/trolyso/bot/compose"
	"github.com/colecommune/trolyso/bot/telegram"
	"github.com/colecommune/trolyso/prompts"
)

// configureLLM plugs composed answers into the engine when OPENAI_BASE_URL,
// OPENAI_API_KEY and TROLYSO_LLM_MODEL are set. The prompt templates are
// loaded (and, when overridden with TROLYSO_PROMPTS, checked) here, so a
// broken template stops the start-up.
func configureLLM(ctx context.Context, s *server) error {
	c := s.cfg.LLM
	if !c.Enabled() {
		if c.BaseURL != "" || c.APIKey != "" || c.Model != "" || c.STTModel != "" || c.PromptsDir != "" || c.DailyTokens > 0 {
			s.log.Warn("composed answers and voice questions stay off: they need all of OPENAI_BASE_URL, OPENAI_API_KEY and TROLYSO_LLM_MODEL (local servers accept any key)")
		}
		return nil
	}
	ps, err := prompts.Load(c.PromptsDir)
	if err != nil {
		return fmt.Errorf("TROLYSO_PROMPTS: %w", err)
	}
	// One composer per commune: its name in the prompt, its usage counted
	// in its store (the daily budget is per commune).
	for _, cm := range s.communes {
		comp, err := s.newComposer(ps, cm)
		if err != nil {
			return err
		}
		if s.composer == nil {
			s.composer = comp
		}
		cm.eng.SetComposer(comp)
	}
	s.log.Info("composed answers on", "model", c.Model, "prompts", ps.Source, "timeout", c.Timeout.String(),
		"voice", s.composer.CanTranscribe(), "daily_tokens", c.DailyTokens, "communes", len(s.communes))
	return nil
}

func (s *server) newComposer(ps *prompts.Set, cm *communeRT) (*compose.Composer, error) {
	c := s.cfg.LLM
	return compose.New(compose.Config{
		BaseURL:     c.BaseURL,
		APIKey:      c.APIKey,
		Model:       c.Model,
		Timeout:     c.Timeout,
		STTModel:    c.STTModel,
		DailyTokens: c.DailyTokens,
		Prompts:     ps,
		Commune:     cm.eng.Base().Profile.Name,
		Store:       cm.db,
		Logger:      s.log,
		Now:         s.a.now,
		// Keep voice in step with what the Telegram adapter accepts.
		MaxVoiceSeconds: int(telegram.MaxVoiceDuration.Seconds()),
		OnFallback:      cm.eng.Observer().LLMFallback,
	})
}

// telegramVoice is the Telegram adapter's voice handler: nil (voice notes
// get the "please type" reply) unless a transcription model is set.
func (s *server) telegramVoice() telegram.VoiceHandler {
	if s.composer == nil || !s.composer.CanTranscribe() {
		return nil
	}
	comp := s.composer
	return func(ctx context.Context, v telegram.Voice) (string, error) {
		return comp.Transcribe(ctx, bytes.NewReader(v.Data), v.FileName, int(v.Duration.Seconds()))
	}
}
