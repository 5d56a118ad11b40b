package privacy

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

type question struct{ Text string }

type phoneStringer string

func (p phoneStringer) String() string { return "gọi " + string(p) }

// TestReplaceAttrRedactsEveryKind: values logged with slog.Any (slices,
// structs, Stringers, wrapped errors), in groups and in the message
// itself, are redacted like strings.
func TestReplaceAttrRedactsEveryKind(t *testing.T) {
	const phone, id, mail = "0912345678", "001234567890", "an@example.vn"
	tests := []struct {
		name string
		log  func(*slog.Logger)
	}{
		{"string", func(l *slog.Logger) { l.Info("q", "text", "số "+phone) }},
		{"message", func(l *slog.Logger) { l.Info("hỏi " + id) }},
		{"error", func(l *slog.Logger) { l.Info("q", "err", fmt.Errorf("send: %w", errors.New(mail))) }},
		{"slice", func(l *slog.Logger) { l.Info("q", "candidates", []string{"a", phone}) }},
		{"struct", func(l *slog.Logger) { l.Info("q", "ex", question{Text: "cccd " + id}) }},
		{"pointer", func(l *slog.Logger) { l.Info("q", "ex", &question{Text: mail}) }},
		{"stringer", func(l *slog.Logger) { l.Info("q", "who", phoneStringer(phone)) }},
		{"group", func(l *slog.Logger) { l.Info("q", slog.Group("user", "phone", phone, "list", []string{id})) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, h := range []func(*bytes.Buffer) slog.Handler{
				func(b *bytes.Buffer) slog.Handler {
					return slog.NewTextHandler(b, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr})
				},
				func(b *bytes.Buffer) slog.Handler {
					return slog.NewJSONHandler(b, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr})
				},
			} {
				var buf bytes.Buffer
				tt.log(slog.New(h(&buf)))
				out := buf.String()
				for _, leak := range []string{phone, id, mail} {
					if strings.Contains(out, leak) {
						t.Errorf("log leaked %q: %s", leak, out)
					}
				}
			}
		})
	}
	// Values without personal data keep their structure.
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: ReplaceAttr})).Info("q", "ids", []string{"vneid", "dvc"})
	if !strings.Contains(buf.String(), `"ids":["vneid","dvc"]`) {
		t.Errorf("clean slice changed: %s", buf.String())
	}
}
