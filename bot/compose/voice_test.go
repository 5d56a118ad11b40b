package compose

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestTranscribe(t *testing.T) {
	audio, err := os.ReadFile("testdata/voice.oga")
	if err != nil {
		t.Fatal(err)
	}
	type part struct {
		fileName, contentType string
		data                  []byte
	}
	var got map[string]part
	f := newFakeLLM(t, func(w http.ResponseWriter, r *http.Request, _ int, body []byte) {
		if r.URL.Path != "/v1/audio/transcriptions" {
			http.NotFound(w, r)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		got = map[string]part{}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			data, _ := io.ReadAll(p)
			got[p.FormName()] = part{p.FileName(), p.Header.Get("Content-Type"), data}
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"text":" Làm thế nào để\u200b kích hoạt VNeID? \n"}`)
	})
	s := newTestComposer(t, f.URL, nil)
	text, err := s.c.Transcribe(context.Background(), bytes.NewReader(audio), "voice/file_12.oga", 7)
	if err != nil {
		t.Fatal(err)
	}
	if text != "Làm thế nào để kích hoạt VNeID?" {
		t.Fatalf("text = %q", text)
	}
	if f.paths[0] != "POST /v1/audio/transcriptions" {
		t.Fatalf("path %s", f.paths[0])
	}
	file := got["file"]
	if !strings.HasSuffix(file.fileName, ".ogg") || file.fileName != "file_12.ogg" || !bytes.Equal(file.data, audio) {
		t.Fatalf("file part = %q (%d bytes)", file.fileName, len(file.data))
	}
	if string(got["model"].data) != "whisper-1" || string(got["language"].data) != "vi" {
		t.Fatalf("model %q language %q", got["model"].data, got["language"].data)
	}
	if u := s.usage(t); u.Transcriptions != 1 || u.AudioSeconds != 7 {
		t.Fatalf("usage = %+v", u)
	}

	// Refusals before any call.
	calls := f.count()
	if _, err := s.c.Transcribe(context.Background(), bytes.NewReader(audio), "a.oga", s.c.MaxVoiceSeconds()+1); !errors.Is(err, ErrVoiceTooLong) {
		t.Fatalf("long voice: err = %v", err)
	}
	noSTT := newTestComposer(t, f.URL, func(c *Config) { c.STTModel = "" })
	if noSTT.c.CanTranscribe() {
		t.Fatal("CanTranscribe without a model")
	}
	if _, err := noSTT.c.Transcribe(context.Background(), bytes.NewReader(audio), "a.oga", 3); !errors.Is(err, ErrNoSpeechModel) {
		t.Fatalf("no model: err = %v", err)
	}
	if f.count() != calls {
		t.Fatal("a refused voice message reached the server")
	}
}

func TestTranscribeFailures(t *testing.T) {
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, n int, body []byte)
		want    error
	}{
		{"empty text", func(w http.ResponseWriter, r *http.Request, _ int, _ []byte) { io.WriteString(w, `{"text":"  "}`) }, ErrNoSpeech},
		{"server error", func(w http.ResponseWriter, r *http.Request, _ int, _ []byte) { apiError(w, 500, "boom") }, nil},
		{"html page", func(w http.ResponseWriter, r *http.Request, _ int, _ []byte) {
			w.WriteHeader(502)
			io.WriteString(w, "<html>Bad Gateway</html>")
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeLLM(t, tt.handler)
			s := newTestComposer(t, f.URL, nil)
			_, err := s.c.Transcribe(context.Background(), strings.NewReader("OggS"), "voice", 2)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAudioName(t *testing.T) {
	for in, want := range map[string]string{
		"voice/file_12.oga": "file_12.ogg",
		"file_3.OGA":        "file_3.ogg",
		"voice":             "voice.ogg",
		"":                  "voice.ogg",
		"a.opus":            "a.ogg",
		"note.ogg":          "note.ogg",
		"clip.mp3":          "clip.mp3",
	} {
		if got := audioName(in); got != want {
			t.Errorf("audioName(%q) = %q, want %q", in, got, want)
		}
	}
}
