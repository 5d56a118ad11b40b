package compose

import (
	"context"
	"errors"
	"fmt"
	"github.com/colecommune/trolyso/knowledge/vi"
	"io"
	"path"
	"strings"
	"unicode"

	openai "github.com/sashabaranov/go-openai"

	"github.com/colecommune/trolyso/storage"
)

// DefaultMaxVoiceSeconds is the longest voice message transcribed.
const DefaultMaxVoiceSeconds = 90

// Voice errors; channels answer them with their own polite texts.
var (
	// ErrNoSpeechModel: no transcription model is configured.
	ErrNoSpeechModel = errors.New("no speech-to-text model configured")
	// ErrVoiceTooLong: the voice message is longer than the limit.
	ErrVoiceTooLong = errors.New("voice message too long")
	// ErrNoSpeech: the transcription came back empty.
	ErrNoSpeech = errors.New("no speech recognised")
)

// TextYouAsked shows a transcribed question back to the resident.
const TextYouAsked = "Bạn hỏi: “%s”"

// CanTranscribe reports whether a transcription model is configured.
func (c *Composer) CanTranscribe() bool { return c != nil && c.cfg.STTModel != "" }

// MaxVoiceSeconds is the longest voice message Transcribe accepts.
func (c *Composer) MaxVoiceSeconds() int { return c.cfg.MaxVoiceSeconds }

// Transcribe turns a Vietnamese voice message into text. fileName is the
// name the audio is sent under; Telegram's ".oga" (and a missing
// extension) becomes ".ogg", which every speech API accepts. seconds is the
// duration the platform reported. The text is cleaned and cut to the
// question length limit; it is not redacted (the engine redacts what it
// stores, and Compose what it sends).
func (c *Composer) Transcribe(ctx context.Context, r io.Reader, fileName string, seconds int) (string, error) {
	if !c.CanTranscribe() {
		return "", ErrNoSpeechModel
	}
	if seconds > c.cfg.MaxVoiceSeconds {
		return "", fmt.Errorf("%w: %d s (limit %d s)", ErrVoiceTooLong, seconds, c.cfg.MaxVoiceSeconds)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*c.cfg.Timeout)
	defer cancel()
	resp, err := c.client.CreateTranscription(ctx, openai.AudioRequest{
		Model:    c.cfg.STTModel,
		Reader:   r,
		FilePath: audioName(fileName),
		Language: "vi",
		Format:   openai.AudioResponseFormatJSON,
	})
	c.account(ctx, storage.LLMUsage{Transcriptions: 1, AudioSeconds: int64(max(seconds, 0))})
	if err != nil {
		return "", fmt.Errorf("transcribe voice message: %s", describe(err))
	}
	text := strings.TrimFunc(vi.StripInvisible(resp.Text, ""), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return "", ErrNoSpeech
	}
	if rs := []rune(text); len(rs) > c.cfg.MaxQuestion {
		text = string(rs[:c.cfg.MaxQuestion])
	}
	return text, nil
}

// audioName returns the base name to send audio under, with ".oga" and a
// missing extension replaced by ".ogg".
func audioName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" || name == "" {
		name = "voice"
	}
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".oga", ".opus", "":
		return strings.TrimSuffix(name, path.Ext(name)) + ".ogg"
	}
	return name
}
