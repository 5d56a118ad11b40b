// Package alert sends the commune's alerts — scam warnings, notices and
// disaster warnings — to the residents who opted in (package bot handles
// the opting in) and to the teams' Telegram groups.
//
// An alert is written as a Markdown file with YAML front matter (Spec),
// checked against the knowledge base and the commune profile, and turned
// into a job (Build) whose messages are fixed at confirmation, so the
// preview (Preview) is exactly what each channel shows. A Sender delivers
// jobs like the reminders do: every recipient is a row written before the
// first message; each row is claimed (committed) before its message is
// sent and its outcome recorded after; a row found claimed by a stopped
// sender is recorded "unknown" and never sent again. Sends are paced per
// channel (remind.Pacer), disaster warnings go first, and only the process
// holding the sender lease sends, so a server and the CLI never send at
// the same time.
package alert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/markup"
	"github.com/colecommune/trolyso/bot/remind/spec"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
)

// Limits of an alert.
const (
	MaxTitle = 150 // characters
	MaxURL   = 500 // bytes
	// MaxZaloText and MaxTelegramText bound the message so that it goes out
	// as one message on every channel (one row, one message: exactly once
	// means exactly one message).
	MaxZaloText     = 2000 // UTF-16 units of the plain text (Zalo's limit)
	MaxTelegramText = 4096 // UTF-16 units of the HTML (Telegram's limit)
	// ConfirmAbove is the recipient count above which the count itself
	// must be typed to confirm a send.
	ConfirmAbove = 500
)

// Default lifetimes by kind: how long an alert stays current (added under
// linked answers, listed as current on /canhbao, pinned on the web chat).
var DefaultExpiry = map[string]time.Duration{
	storage.AlertScam:     30 * 24 * time.Hour,
	storage.AlertNotice:   30 * 24 * time.Hour,
	storage.AlertDisaster: 48 * time.Hour,
}

// Channels alerts can be sent on.
var Channels = []string{bot.ChannelTelegram, bot.ChannelZalo}

// Spec is an alert as written: a Markdown body after YAML front matter.
//
//	---
//	kind: scam            # scam | notice | disaster
//	title: Giả danh công an gọi điện đòi mã OTP
//	link: https://…       # optional, a "Xem chi tiết" button
//	image: https://…      # optional, a "Xem hình ảnh" button
//	entries: [vneid-lua-dao]   # knowledge-base entries whose answers carry it
//	villages: [Thôn Đông]      # optional: only subscribers of these villages
//	channels: [telegram, zalo] # optional: only these channels
//	expires: 30d          # optional: 72h, 30d or a date 2026-12-31
//	sources: [https://…]  # where the facts come from (not sent)
//	---
//	Body in restricted Markdown; {{.Police.Phone}} and the other commune
//	profile placeholders are filled in.
type Spec struct {
	Kind     string   `yaml:"kind"`
	Title    string   `yaml:"title"`
	Link     string   `yaml:"link"`
	Image    string   `yaml:"image"`
	Entries  []string `yaml:"entries"`
	Villages []string `yaml:"villages"`
	Channels []string `yaml:"channels"`
	Expires  string   `yaml:"expires"`
	Sources  []string `yaml:"sources"`
	Body     string   `yaml:"-"`
	// At is when to send (zero: now); not a file field (--at, the form).
	At time.Time `yaml:"-"`
}

// Parse reads an alert file. Unknown front-matter keys are refused so that
// a misspelt one is reported.
func Parse(data []byte) (Spec, error) {
	var s Spec
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.TrimPrefix(text, "\ufeff")
	rest, ok := strings.CutPrefix(text, "---\n")
	if !ok {
		return s, errors.New("the file must start with a line \"---\", then the fields (kind, title…), then \"---\" and the text")
	}
	head, body, ok := strings.Cut(rest, "\n---\n")
	if !ok {
		head, ok = strings.CutSuffix(rest, "\n---")
		if !ok {
			return s, errors.New("no closing \"---\" after the fields")
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader([]byte(head)))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return s, fmt.Errorf("fields: %w", err)
	}
	s.Body = strings.TrimSpace(body)
	return s, nil
}

// Format writes a spec back as a file (for the dashboard's templates and
// `trolyso alert templates`).
func Format(s Spec) ([]byte, error) {
	head, err := yaml.Marshal(struct {
		Kind     string   `yaml:"kind"`
		Title    string   `yaml:"title"`
		Link     string   `yaml:"link,omitempty"`
		Image    string   `yaml:"image,omitempty"`
		Entries  []string `yaml:"entries,omitempty,flow"`
		Villages []string `yaml:"villages,omitempty,flow"`
		Channels []string `yaml:"channels,omitempty,flow"`
		Expires  string   `yaml:"expires,omitempty"`
		Sources  []string `yaml:"sources,omitempty"`
	}{s.Kind, s.Title, s.Link, s.Image, s.Entries, s.Villages, s.Channels, s.Expires, s.Sources})
	if err != nil {
		return nil, err
	}
	return []byte("---\n" + string(head) + "---\n" + s.Body + "\n"), nil
}

// ParseExpiry reads an expiry: a Go duration (72h), a number of days (30d)
// or a date (2026-12-31, the end of that day in Vietnamese time). An empty
// value gives the kind's default. The result is relative to from.
func ParseExpiry(v, kind string, from time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return from.Add(DefaultExpiry[kind]), nil
	case strings.HasSuffix(v, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(v, "d"))
		if err != nil || n <= 0 || n > 3660 {
			return time.Time{}, fmt.Errorf("expires %q: want a number of days like 30d", v)
		}
		return from.Add(time.Duration(n) * 24 * time.Hour), nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("expires %q: must be positive", v)
		}
		return from.Add(d), nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, spec.Location()); err == nil {
		return t.AddDate(0, 0, 1), nil
	}
	return time.Time{}, fmt.Errorf("expires %q: want 72h, 30d or a date like 2026-12-31", v)
}

// ParseTime reads a send time: RFC 3339, or "2006-01-02 15:04" /
// "2006-01-02T15:04" in Vietnamese time.
func ParseTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, spec.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want 2026-12-01 07:30 (Vietnamese time) or RFC 3339", v)
}

// SplitList splits a comma-separated flag or form value, trimming items
// and dropping empty ones.
func SplitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

func checkURL(name, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(v) > MaxURL || strings.ContainsAny(v, " \n\t") {
		return fmt.Errorf("%s %q: want an http(s) link of at most %d characters", name, v, MaxURL)
	}
	return nil
}

// Problems is every problem found in a spec.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "; ") }

// Build checks s against the knowledge base (entries, commune profile,
// villages) and returns the job it describes, its messages rendered, to be
// confirmed by (who, and from where). now is the time of confirmation.
// Every problem is reported at once (as Problems).
func Build(s Spec, base *knowledge.Base, now time.Time, by string) (storage.AlertJob, error) {
	var p Problems
	j := storage.AlertJob{Kind: strings.TrimSpace(s.Kind), Title: strings.Join(strings.Fields(s.Title), " "),
		Link: strings.TrimSpace(s.Link), Image: strings.TrimSpace(s.Image), CreatedBy: strings.TrimSpace(by)}
	if j.Kind == "" {
		p = append(p, "kind is not given: scam, notice or disaster")
	} else if _, ok := DefaultExpiry[j.Kind]; !ok {
		p = append(p, fmt.Sprintf("kind %q: want scam, notice or disaster", s.Kind))
	}
	if j.Kind == storage.AlertDisaster {
		j.Priority = 0
	} else {
		j.Priority = 1
	}
	switch n := utf8.RuneCountInString(j.Title); {
	case n == 0:
		p = append(p, "title is empty")
	case n > MaxTitle:
		p = append(p, fmt.Sprintf("title has %d characters, at most %d", n, MaxTitle))
	}
	if j.CreatedBy == "" {
		p = append(p, "who confirms the send is not given")
	}
	for _, e := range []error{checkURL("link", j.Link), checkURL("image", j.Image)} {
		if e != nil {
			p = append(p, e.Error())
		}
	}
	body := strings.TrimSpace(s.Body)
	if body == "" {
		p = append(p, "the text (after the second ---) is empty")
	} else if base != nil && base.Profile != nil {
		rendered, err := knowledge.Render(body, base.Profile)
		if err != nil {
			p = append(p, "text: "+err.Error())
		}
		body = rendered
	}
	j.Body = body
	seen := map[string]bool{}
	for _, id := range s.Entries {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		if base != nil {
			if _, ok := base.Entry(id); !ok {
				p = append(p, fmt.Sprintf("entries: no knowledge-base entry %q (see trolyso kb export --json)", id))
				continue
			}
		}
		j.Entries = append(j.Entries, id)
	}
	known := bot.ProfileVillages(base)
	for _, v := range s.Villages {
		v = bot.CleanVillage(v)
		if v == "" {
			continue
		}
		match := ""
		for _, k := range known {
			if strings.EqualFold(k, v) {
				match = k
			}
		}
		if match == "" {
			if len(known) == 0 {
				p = append(p, fmt.Sprintf("villages: %q, but the commune profile lists no villages (fill in its teams)", v))
			} else {
				p = append(p, fmt.Sprintf("villages: %q is not one of %s", v, strings.Join(known, ", ")))
			}
			continue
		}
		if !contains(j.Villages, match) {
			j.Villages = append(j.Villages, match)
		}
	}
	if j.Kind == storage.AlertDisaster {
		j.Villages, j.Channels = nil, nil // to everyone, on every channel
	} else {
		for _, c := range s.Channels {
			c = strings.ToLower(strings.TrimSpace(c))
			if c == "" || contains(j.Channels, c) {
				continue
			}
			if !contains(Channels, c) {
				p = append(p, fmt.Sprintf("channels: %q: want telegram or zalo", c))
				continue
			}
			j.Channels = append(j.Channels, c)
		}
	}
	j.ScheduledFor = now
	if !s.At.IsZero() {
		if s.At.Before(now.Add(-time.Minute)) {
			p = append(p, fmt.Sprintf("send time %s is in the past", bot.VNTime(s.At)))
		}
		j.ScheduledFor = s.At
	}
	exp, err := ParseExpiry(s.Expires, j.Kind, j.ScheduledFor)
	if err != nil {
		p = append(p, err.Error())
	} else if !exp.After(j.ScheduledFor) {
		p = append(p, "expires before it is sent")
	}
	j.ExpiresAt = exp
	commune := ""
	if base != nil && base.Profile != nil {
		commune = base.Profile.Name
	}
	j.Text = bot.AlertMessage(j.Kind, j.Title, j.Body, commune, false)
	j.GroupText = bot.AlertMessage(j.Kind, j.Title, j.Body, commune, true)
	if n := utf16Len(markup.Plain(j.Text)); n > MaxZaloText {
		p = append(p, fmt.Sprintf("the message is %d characters long; at most %d fit in one Zalo message — shorten the text", n, MaxZaloText))
	}
	if n := utf16Len(markup.TelegramHTML(j.Text)); n > MaxTelegramText {
		p = append(p, fmt.Sprintf("the message is %d characters long as Telegram HTML; at most %d fit in one Telegram message", n, MaxTelegramText))
	}
	if len(p) > 0 {
		return j, p
	}
	return j, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
