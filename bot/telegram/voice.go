package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/colecommune/trolyso/bot"
)

// Limits on voice notes handed to a VoiceHandler.
const (
	MaxVoiceDuration = 90 * time.Second
	// maxVoiceBytes is below the cloud Bot API's 20 MB download limit.
	maxVoiceBytes = 10 << 20
)

// Voice is a downloaded voice note.
type Voice struct {
	Data []byte
	// FileName ends in ".ogg" (Telegram's ".oga" is renamed, since some
	// speech-to-text APIs refuse that extension).
	FileName string
	MimeType string
	Duration time.Duration
}

// VoiceHandler turns a voice note into the text of a question
// (speech-to-text). It is the seam for the LLM feature: set
// Config.Voice to enable voice questions. An error or empty text gets a
// polite "please type" reply.
type VoiceHandler func(ctx context.Context, v Voice) (string, error)

// transcribe downloads a voice note and runs the voice handler. When it
// cannot, it returns the reply to send instead.
func (a *Adapter) transcribe(ctx context.Context, v *models.Voice) (string, bot.Reply, bool) {
	failed := bot.Reply{Band: bot.BandRefused, Text: textVoiceFailed, Buttons: mediaReply().Buttons}
	d := time.Duration(v.Duration) * time.Second
	if d > MaxVoiceDuration || v.FileSize > maxVoiceBytes {
		return "", bot.Reply{Band: bot.BandRefused, Text: fmt.Sprintf(textVoiceTooLong, int(MaxVoiceDuration.Seconds()))}, false
	}
	data, name, err := a.DownloadFile(ctx, v.FileID, maxVoiceBytes)
	if err != nil {
		a.log.Warn("telegram: download voice note", "err", err)
		return "", failed, false
	}
	mime := v.MimeType
	if mime == "" {
		mime = "audio/ogg"
	}
	if strings.HasSuffix(name, ".oga") || !strings.Contains(name, ".") {
		name = strings.TrimSuffix(name, ".oga") + ".ogg"
	}
	text, err := a.voice(ctx, Voice{Data: data, FileName: name, MimeType: mime, Duration: d})
	if err != nil || strings.TrimSpace(text) == "" {
		if err != nil {
			a.log.Warn("telegram: transcribe voice note", "err", err)
		}
		return "", failed, false
	}
	return text, bot.Reply{}, true
}

// DownloadFile fetches a file the user sent (getFile, then the file
// link), refusing files over maxBytes. It returns the data and the base
// name of the file's path. Errors never contain the bot token.
func (a *Adapter) DownloadFile(ctx context.Context, fileID string, maxBytes int64) ([]byte, string, error) {
	var f *models.File
	err := a.call(ctx, 0, "getFile", func(ctx context.Context) error {
		var err error
		f, err = a.b.GetFile(ctx, &tgbot.GetFileParams{FileID: fileID})
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("get file: %s", a.scrub(err))
	}
	if f.FileSize > maxBytes {
		return nil, "", fmt.Errorf("get file: %d bytes is over the %d-byte limit", f.FileSize, maxBytes)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.b.FileDownloadLink(f), nil)
	if err != nil {
		return nil, "", fmt.Errorf("download file: %s", a.scrub(err))
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("download file: %s", a.scrub(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("download file: status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("download file: %s", a.scrub(err))
	}
	if int64(len(data)) > maxBytes {
		return nil, "", errors.New("download file: over the size limit")
	}
	name := f.FilePath
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return data, name, nil
}
