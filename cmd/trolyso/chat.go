package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
)

// runChat is a terminal conversation: type questions, or the number of a
// button to tap it. An empty line or Ctrl-D ends it.
func runChat(ctx context.Context, a *app, args []string) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	fs := a.newFlags("chat")
	cfg.storageFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	eng, closeFn, err := a.newEngine(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer closeFn()
	show := func(r bot.Reply) []bot.Button {
		fmt.Fprintf(a.stdout, "\n%s\n", markup.Plain(r.Text))
		printButtons(a, r)
		var flat []bot.Button
		for _, row := range r.Buttons {
			flat = append(flat, row...)
		}
		fmt.Fprint(a.stdout, "\n> ")
		return flat
	}
	buttons := show(eng.Welcome())
	in := bufio.NewScanner(a.stdin)
	in.Buffer(make([]byte, 64<<10), 64<<10)
	for in.Scan() {
		if ctx.Err() != nil {
			return nil
		}
		line := strings.TrimSpace(in.Text())
		if line == "" {
			return nil
		}
		m := bot.Message{Channel: bot.ChannelCLI, UserKey: "cli:local", Text: line}
		if n, err := strconv.Atoi(line); err == nil && n >= 1 && n <= len(buttons) && buttons[n-1].Payload != "" {
			m = bot.Message{Channel: bot.ChannelCLI, UserKey: "cli:local", Payload: buttons[n-1].Payload}
		}
		buttons = show(eng.Handle(ctx, m))
	}
	return in.Err()
}
