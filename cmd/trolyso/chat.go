package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/bot/privacy"
)

const (
	chatHint     = "(Gõ câu hỏi, hoặc số của một nút để bấm nút đó. Thoát: Ctrl-D hoặc /thoat.)"
	chatNoButton = "Không có nút số %d. Hãy gõ một số từ 1 đến %d, hoặc gõ câu hỏi."
	chatNoChoice = "Tin nhắn trên không có nút nào để bấm. Hãy gõ câu hỏi."
)

// maxButtonDigits: a line of at most this many digits is a button number,
// never a question (a longer number goes to the engine, which masks ID and
// phone numbers).
const maxButtonDigits = 3

// runChat is a terminal conversation: type questions, or the number of a
// button to tap it. Ctrl-D or /thoat ends it; an empty line only repeats
// the hint. Nothing is recorded in the database unless --record is given.
// Log lines are held back during a turn and printed before the reply, so
// they never split a reply or follow the prompt.
func runChat(ctx context.Context, a *app, args []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("chat")
	cfg.storageFlags(fs)
	record := fs.Bool("record", false, "record the conversation in the database (counted in stats and the unanswered list like a resident's)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logs := &turnLog{}
	level := slog.LevelWarn
	if a.getenv("TROLYSO_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level, ReplaceAttr: privacy.ReplaceAttr}))
	eng, closeFn, err := a.newEngine(ctx, cfg, *record, log)
	if err != nil {
		return err
	}
	defer closeFn()
	if *record {
		fmt.Fprintf(a.stdout, "(Đang ghi vào %s như tin nhắn của người dân.)\n", cfg.DB)
	}
	var buttons []bot.Button
	show := func(r bot.Reply) {
		logs.flush(a.stderr)
		fmt.Fprintf(a.stdout, "\n%s\n", markup.Plain(r.Text))
		printButtons(a, r)
		buttons = buttons[:0]
		for _, row := range r.Buttons {
			buttons = append(buttons, row...)
		}
	}
	prompt := func() { fmt.Fprint(a.stdout, "\n> ") }
	show(eng.Welcome())
	fmt.Fprintln(a.stdout, "\n"+chatHint)
	prompt()
	in := bufio.NewScanner(a.stdin)
	in.Buffer(make([]byte, 64<<10), 64<<10)
	for in.Scan() {
		if ctx.Err() != nil {
			return nil
		}
		line := strings.TrimSpace(in.Text())
		switch strings.ToLower(line) {
		case "":
			fmt.Fprintln(a.stdout, chatHint)
			prompt()
			continue
		case "/thoat", "/quit", "/exit":
			return nil
		}
		m := bot.Message{Channel: bot.ChannelCLI, UserKey: "cli:local", Text: line}
		if n, ok := buttonNumber(line); ok {
			switch {
			case n >= 1 && n <= len(buttons) && buttons[n-1].Payload != "":
				m = bot.Message{Channel: bot.ChannelCLI, UserKey: "cli:local", Payload: buttons[n-1].Payload}
			case len(buttons) == 0:
				fmt.Fprintln(a.stdout, chatNoChoice)
				prompt()
				continue
			default:
				fmt.Fprintf(a.stdout, chatNoButton+"\n", n, len(buttons))
				prompt()
				continue
			}
		}
		show(eng.Handle(ctx, m))
		prompt()
	}
	fmt.Fprintln(a.stdout)
	return in.Err()
}

// buttonNumber recognises a typed button number ("2", "2.").
func buttonNumber(line string) (int, bool) {
	line = strings.TrimSuffix(line, ".")
	if line == "" || len(line) > maxButtonDigits {
		return 0, false
	}
	n, err := strconv.Atoi(line)
	return n, err == nil
}

// turnLog holds log lines written during a turn until flush.
type turnLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *turnLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *turnLog) flush(w io.Writer) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 0 {
		w.Write(l.buf.Bytes())
		l.buf.Reset()
	}
}
