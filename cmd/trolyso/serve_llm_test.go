package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/telegram"
	"github.com/colecommune/trolyso/prompts"
	"github.com/colecommune/trolyso/storage"
)

// llmTestServer builds the parts of a server configureLLM needs.
func llmTestServer(t *testing.T, env map[string]string) (*server, error) {
	t.Helper()
	env["TROLYSO_DB"] = filepath.Join(t.TempDir(), "t.db")
	a := &app{getenv: func(k string) string { return env[k] }, now: time.Now, log: slog.New(slog.DiscardHandler)}
	cfg, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	base, err := a.loadBase("", "")
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(context.Background(), cfg.DB, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &server{a: a, cfg: cfg, log: a.log, db: db, eng: bot.New(bot.Config{Store: db}, base)}
	s.communes = []*communeRT{{name: base.Profile.Name, db: db, eng: s.eng}}
	return s, configureLLM(context.Background(), s)
}

func TestConfigureLLM(t *testing.T) {
	var chats, transcriptions atomic.Int32
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/chat/completions":
			chats.Add(1)
			var req struct {
				Messages []struct{ Content string } `json:"messages"`
			}
			json.NewDecoder(r.Body).Decode(&req)
			if len(req.Messages) != 2 || !strings.Contains(req.Messages[1].Content, `<muc id="vneid-quen-mat-khau">`) {
				http.Error(w, "unexpected prompt", 400)
				return
			}
			io.WriteString(w, `{"choices":[{"index":0,"message":{"role":"assistant","content":"Bạn bấm **Quên mật khẩu** ở màn hình đăng nhập VNeID.\n[nguon: vneid-quen-mat-khau]"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5}}`)
		case "/v1/audio/transcriptions":
			transcriptions.Add(1)
			io.WriteString(w, `{"text":"quên mật khẩu vneid"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer fake.Close()
	on := func(extra map[string]string) map[string]string {
		env := map[string]string{"OPENAI_BASE_URL": fake.URL + "/v1", "OPENAI_API_KEY": "k", "TROLYSO_LLM_MODEL": "m"}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}

	t.Run("off", func(t *testing.T) {
		s, err := llmTestServer(t, map[string]string{"TROLYSO_STT_MODEL": "whisper-1"})
		if err != nil || s.composer != nil || s.telegramVoice() != nil {
			t.Fatalf("err %v, composer %v", err, s.composer)
		}
		r := s.eng.Handle(context.Background(), bot.Message{Channel: bot.ChannelWeb, UserKey: "web:a", Text: "quên mật khẩu vneid"})
		if r.Band != bot.BandAnswer || chats.Load() != 0 {
			t.Fatalf("band %s, %d calls", r.Band, chats.Load())
		}
	})

	t.Run("composed answers and voice", func(t *testing.T) {
		s, err := llmTestServer(t, on(map[string]string{"TROLYSO_STT_MODEL": "whisper-1"}))
		if err != nil {
			t.Fatal(err)
		}
		r := s.eng.Handle(context.Background(), bot.Message{Channel: bot.ChannelWeb, UserKey: "web:a", Text: "quên mật khẩu vneid"})
		if r.Band != bot.BandAnswer || !strings.HasPrefix(r.Text, "Bạn bấm **Quên mật khẩu**") || chats.Load() != 1 {
			t.Fatalf("band %s, %d calls: %q", r.Band, chats.Load(), r.Text)
		}
		voice := s.telegramVoice()
		if voice == nil {
			t.Fatal("no voice handler with TROLYSO_STT_MODEL set")
		}
		text, err := voice(context.Background(), telegram.Voice{Data: []byte("OggS"), FileName: "file_1.ogg", Duration: 4 * time.Second})
		if err != nil || text != "quên mật khẩu vneid" || transcriptions.Load() != 1 {
			t.Fatalf("voice: %q %v", text, err)
		}
	})

	t.Run("no voice without a speech model", func(t *testing.T) {
		s, err := llmTestServer(t, on(nil))
		if err != nil || s.composer == nil || s.telegramVoice() != nil {
			t.Fatalf("err %v", err)
		}
	})

	t.Run("broken prompt override stops start-up", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, prompts.AnswerSystem), []byte("Rules {{.Commune"), 0o600)
		_, err := llmTestServer(t, on(map[string]string{"TROLYSO_PROMPTS": dir}))
		if err == nil || !strings.Contains(err.Error(), "TROLYSO_PROMPTS") || !strings.Contains(err.Error(), prompts.AnswerUser) {
			t.Fatalf("err = %v", err)
		}
	})
}
