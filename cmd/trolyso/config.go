package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/colecommune/trolyso/bot/inbox"
	"github.com/colecommune/trolyso/storage"
	"github.com/colecommune/trolyso/storage/postgres"
)

// profile is the commune profile a command uses: with --xa in a province
// deployment, that commune's (TROLYSO_COMMUNES/<slug>.yaml).
func (c *Config) profile() string {
	if c.Xa != "" && c.Communes != "" {
		return filepath.Join(c.Communes, c.Xa+".yaml")
	}
	return c.CommunePath
}

// dsn names the database to open: the PostgreSQL URL when one is set,
// else the SQLite file.
func (c *Config) dsn() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return c.DB
}

// Config is trolyso's whole configuration, read from environment variables
// (mirrored by flags where useful) and validated in one place.
type Config struct {
	Addr string // TROLYSO_ADDR
	DB   string // TROLYSO_DB
	// DatabaseURL, when set, is the PostgreSQL database used instead of
	// the SQLite file (a province deployment).
	DatabaseURL string // TROLYSO_DATABASE_URL
	KBDir       string // TROLYSO_KB
	CommunePath string // TROLYSO_COMMUNE
	// Communes, when set, is the folder of a province deployment's commune
	// profiles (<slug>.yaml, with an optional <slug>/ folder of the
	// commune's own entries).
	Communes string // TROLYSO_COMMUNES
	// ZaloCommune is the commune a province's Zalo OA answers for.
	ZaloCommune string // TROLYSO_ZALO_COMMUNE
	// Xa is the commune a command works on in a province deployment
	// (--xa SLUG: its teams, reminders, alerts, statistics).
	Xa     string
	MaxLen int // TROLYSO_MAX_MESSAGE_LEN
	// WebRate is how many web chat API requests one client address may
	// send per minute.
	WebRate int // TROLYSO_WEB_RATE
	// TrustedProxies are reverse proxies (addresses or CIDR ranges) whose
	// X-Forwarded-For header names the real client.
	TrustedProxies []netip.Prefix // TROLYSO_TRUSTED_PROXIES

	Telegram TelegramConfig
	Zalo     ZaloConfig
	LLM      LLMConfig

	// InboxCapacity bounds, per channel, the Telegram updates and Zalo
	// events accepted and not yet answered.
	InboxCapacity int // TROLYSO_INBOX_MAX

	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string // TROLYSO_METRICS_TOKEN

	AdminPassword     string // TROLYSO_ADMIN_PASSWORD
	AdminPasswordHash string // TROLYSO_ADMIN_PASSWORD_HASH (bcrypt)

	ReminderGrace time.Duration // TROLYSO_REMINDER_GRACE
	ReminderNudge time.Duration // TROLYSO_REMINDER_NUDGE (0: no nudges)

	Alerts AlertsConfig

	// StaffChat is the commune staff's Telegram group chat id; residents'
	// requests to staff are posted there (0: none, the dashboard only).
	StaffChat     int64         // TROLYSO_STAFF_TELEGRAM_CHAT
	HandoffIdle   time.Duration // TROLYSO_HANDOFF_IDLE
	HandoffRepost time.Duration // TROLYSO_HANDOFF_REPOST (working time)

	// reloadEvery is how often a knowledge-base folder is polled for
	// changes (default 2 s; tests shorten it).
	reloadEvery time.Duration
}

// TelegramConfig enables the Telegram channel when Token is set.
type TelegramConfig struct {
	Token         string  // TELEGRAM_BOT_TOKEN
	APIURL        string  // TELEGRAM_API_URL
	WebhookURL    string  // TELEGRAM_WEBHOOK_URL
	WebhookSecret string  // TELEGRAM_WEBHOOK_SECRET
	AdminIDs      []int64 // TROLYSO_ADMIN_TELEGRAM_IDS
}

// errProvinceStaffChat refuses the one-commune staff group in a province.
var errProvinceStaffChat = errors.New("TROLYSO_STAFF_TELEGRAM_CHAT is the one-commune setting: in a province deployment (TROLYSO_COMMUNES) set each commune's staff group as staff_telegram_chat in its profile")

// Enabled reports whether the channel is configured.
func (c TelegramConfig) Enabled() bool { return c.Token != "" }

// ZaloConfig enables the Zalo OA channel when the app id, OA secret key and
// a token are set.
type ZaloConfig struct {
	AppID        string // ZALO_APP_ID
	AppSecret    string // ZALO_APP_SECRET
	OASecretKey  string // ZALO_OA_SECRET_KEY
	AccessToken  string // ZALO_ACCESS_TOKEN
	RefreshToken string // ZALO_REFRESH_TOKEN
	APIURL       string // ZALO_API_URL
	OAuthURL     string // ZALO_OAUTH_URL
	// MaxEventAge refuses webhook events older than this (replays).
	MaxEventAge time.Duration // ZALO_EVENT_MAX_AGE
	// Window is how long after a resident's last message the OA may still
	// write to them (reminders); third-party notes say 7 days for paid
	// "tư vấn" messages, 48 hours for free ones — unconfirmed.
	Window time.Duration // ZALO_WINDOW
	// AdminIDs are the Zalo user ids (sender.id of the OA's webhook events)
	// allowed to use admin commands.
	AdminIDs []string // TROLYSO_ADMIN_ZALO_IDS
}

// Enabled reports whether the channel is configured.
func (c ZaloConfig) Enabled() bool { return c.AppID != "" && c.OASecretKey != "" }

// LLMConfig enables composed answers when BaseURL, APIKey and Model are set.
type LLMConfig struct {
	BaseURL     string        // OPENAI_BASE_URL
	APIKey      string        // OPENAI_API_KEY
	Model       string        // TROLYSO_LLM_MODEL
	Timeout     time.Duration // TROLYSO_LLM_TIMEOUT
	STTModel    string        // TROLYSO_STT_MODEL
	DailyTokens int           // TROLYSO_LLM_DAILY_TOKENS
	PromptsDir  string        // TROLYSO_PROMPTS
}

// Enabled reports whether composed answers are configured.
func (c LLMConfig) Enabled() bool { return c.BaseURL != "" && c.APIKey != "" && c.Model != "" }

// AlertsConfig tunes alerts to residents (bot/alert).
type AlertsConfig struct {
	// TelegramLink and ZaloLink are offered on the web chat to residents
	// who want alerts (a browser cannot be messaged).
	TelegramLink string // TROLYSO_TELEGRAM_LINK, e.g. https://t.me/xacole_bot
	ZaloLink     string // TROLYSO_ZALO_LINK, e.g. https://zalo.me/<OA id>
	// ZaloRate is how many alert messages a second go to Zalo.
	ZaloRate float64 // TROLYSO_ALERT_ZALO_RATE
}

// Defaults.
const (
	DefaultAddr          = "127.0.0.1:8080"
	DefaultDB            = "./data/trolyso.db"
	DefaultTelegramAPI   = "https://api.telegram.org"
	DefaultZaloAPI       = "https://openapi.zalo.me"
	DefaultZaloOAuth     = "https://oauth.zaloapp.com"
	DefaultZaloEventAge  = 10 * time.Minute
	DefaultZaloWindow    = 7 * 24 * time.Hour
	DefaultLLMTimeout    = 12 * time.Second
	DefaultReminderGrace = 6 * time.Hour
	DefaultAlertZaloRate = 10.0
	DefaultHandoffIdle   = 24 * time.Hour
	DefaultHandoffRepost = 2 * time.Hour
)

// loadConfig reads the environment. Call validate after flags are parsed.
func (a *app) loadConfig() (*Config, error) {
	env := func(k string) string { return strings.TrimSpace(a.getenv(k)) }
	def := func(k, d string) string {
		if v := env(k); v != "" {
			return v
		}
		return d
	}
	c := &Config{
		Addr:        def("TROLYSO_ADDR", DefaultAddr),
		DB:          def("TROLYSO_DB", DefaultDB),
		DatabaseURL: env("TROLYSO_DATABASE_URL"),
		Communes:    env("TROLYSO_COMMUNES"),
		ZaloCommune: env("TROLYSO_ZALO_COMMUNE"),
		KBDir:       env("TROLYSO_KB"),
		CommunePath: env("TROLYSO_COMMUNE"),
		Telegram: TelegramConfig{
			Token:         env("TELEGRAM_BOT_TOKEN"),
			APIURL:        strings.TrimRight(def("TELEGRAM_API_URL", DefaultTelegramAPI), "/"),
			WebhookURL:    env("TELEGRAM_WEBHOOK_URL"),
			WebhookSecret: env("TELEGRAM_WEBHOOK_SECRET"),
		},
		Zalo: ZaloConfig{
			AppID:        env("ZALO_APP_ID"),
			AppSecret:    env("ZALO_APP_SECRET"),
			OASecretKey:  env("ZALO_OA_SECRET_KEY"),
			AccessToken:  env("ZALO_ACCESS_TOKEN"),
			RefreshToken: env("ZALO_REFRESH_TOKEN"),
			APIURL:       strings.TrimRight(def("ZALO_API_URL", DefaultZaloAPI), "/"),
			OAuthURL:     strings.TrimRight(def("ZALO_OAUTH_URL", DefaultZaloOAuth), "/"),
		},
		LLM: LLMConfig{
			BaseURL:    env("OPENAI_BASE_URL"),
			APIKey:     env("OPENAI_API_KEY"),
			Model:      env("TROLYSO_LLM_MODEL"),
			STTModel:   env("TROLYSO_STT_MODEL"),
			PromptsDir: env("TROLYSO_PROMPTS"),
		},
		Alerts: AlertsConfig{
			TelegramLink: env("TROLYSO_TELEGRAM_LINK"),
			ZaloLink:     env("TROLYSO_ZALO_LINK"),
		},
		MetricsToken:      env("TROLYSO_METRICS_TOKEN"),
		AdminPassword:     a.getenv("TROLYSO_ADMIN_PASSWORD"),
		AdminPasswordHash: env("TROLYSO_ADMIN_PASSWORD_HASH"),
	}
	var errs []error
	var err error
	if c.MaxLen, err = envInt(env, "TROLYSO_MAX_MESSAGE_LEN", 1000); err != nil {
		errs = append(errs, err)
	}
	if v := env("TROLYSO_TRUSTED_PROXIES"); v != "" {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			p, err := netip.ParsePrefix(f)
			if err != nil {
				a, aerr := netip.ParseAddr(f)
				if aerr != nil {
					errs = append(errs, fmt.Errorf("TROLYSO_TRUSTED_PROXIES: %q is not an IP address or CIDR range", f))
					continue
				}
				p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
	}
	if c.InboxCapacity, err = envInt(env, "TROLYSO_INBOX_MAX", inbox.DefaultCapacity); err != nil {
		errs = append(errs, err)
	}
	if c.WebRate, err = envInt(env, "TROLYSO_WEB_RATE", 60); err != nil {
		errs = append(errs, err)
	}
	if c.LLM.DailyTokens, err = envInt(env, "TROLYSO_LLM_DAILY_TOKENS", 0); err != nil {
		errs = append(errs, err)
	}
	if c.LLM.Timeout, err = envDuration(env, "TROLYSO_LLM_TIMEOUT", DefaultLLMTimeout); err != nil {
		errs = append(errs, err)
	}
	if c.ReminderGrace, err = envDuration(env, "TROLYSO_REMINDER_GRACE", DefaultReminderGrace); err != nil {
		errs = append(errs, err)
	}
	if c.ReminderNudge, err = envDuration(env, "TROLYSO_REMINDER_NUDGE", 0); err != nil {
		errs = append(errs, err)
	}
	c.Alerts.ZaloRate = DefaultAlertZaloRate
	if v := env("TROLYSO_ALERT_ZALO_RATE"); v != "" {
		if c.Alerts.ZaloRate, err = strconv.ParseFloat(v, 64); err != nil {
			errs = append(errs, fmt.Errorf("TROLYSO_ALERT_ZALO_RATE %q: not a number of messages a second", v))
		}
	}
	if c.HandoffIdle, err = envDuration(env, "TROLYSO_HANDOFF_IDLE", DefaultHandoffIdle); err != nil {
		errs = append(errs, err)
	}
	if c.HandoffRepost, err = envDuration(env, "TROLYSO_HANDOFF_REPOST", DefaultHandoffRepost); err != nil {
		errs = append(errs, err)
	}
	if v := env("TROLYSO_STAFF_TELEGRAM_CHAT"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id == 0 {
			errs = append(errs, fmt.Errorf("TROLYSO_STAFF_TELEGRAM_CHAT %q: not a Telegram chat id (a group's id is a negative number, like -1001234567890)", v))
		} else {
			c.StaffChat = id
		}
	}
	if c.Zalo.MaxEventAge, err = envDuration(env, "ZALO_EVENT_MAX_AGE", DefaultZaloEventAge); err != nil {
		errs = append(errs, err)
	}
	if c.Zalo.Window, err = envDuration(env, "ZALO_WINDOW", DefaultZaloWindow); err != nil {
		errs = append(errs, err)
	}
	if ids := env("TROLYSO_ADMIN_TELEGRAM_IDS"); ids != "" {
		for _, f := range strings.Split(ids, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("TROLYSO_ADMIN_TELEGRAM_IDS: %q is not a Telegram user id", f))
				continue
			}
			c.Telegram.AdminIDs = append(c.Telegram.AdminIDs, id)
		}
	}
	if ids := env("TROLYSO_ADMIN_ZALO_IDS"); ids != "" {
		for _, f := range strings.Split(ids, ",") {
			f = strings.TrimSpace(f)
			if f == "" {
				continue
			}
			if !validZaloID(f) {
				errs = append(errs, fmt.Errorf("TROLYSO_ADMIN_ZALO_IDS: %q is not a Zalo user id (digits only)", f))
				continue
			}
			c.Zalo.AdminIDs = append(c.Zalo.AdminIDs, f)
		}
	}
	return c, errors.Join(errs...)
}

// validZaloID reports whether s looks like a Zalo user id as the OA's
// webhook sends it: a decimal number (kept as text: it may exceed int64).
func validZaloID(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// storageFlags adds the flags shared by commands that open the database and
// the knowledge base.
func (c *Config) storageFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DB, "db", c.DB, "SQLite database file (TROLYSO_DB)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL database URL used instead of the SQLite file (TROLYSO_DATABASE_URL)")
	fs.StringVar(&c.Communes, "communes", c.Communes, "folder of commune profiles for a province deployment (TROLYSO_COMMUNES)")
	fs.StringVar(&c.Xa, "xa", c.Xa, "in a province deployment, the commune (its slug) whose data the command works on")
	fs.StringVar(&c.KBDir, "kb", c.KBDir, "knowledge-base folder replacing the embedded one (TROLYSO_KB)")
	fs.StringVar(&c.CommunePath, "commune", c.CommunePath, "commune profile YAML file (TROLYSO_COMMUNE)")
}

// validate checks the configuration as a whole, reporting every problem.
func (c *Config) validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("TROLYSO_ADDR %q: want host:port", c.Addr))
	}
	if c.DB == "" && c.DatabaseURL == "" {
		errs = append(errs, errors.New("TROLYSO_DB is empty"))
	}
	if c.Xa != "" && !storage.ValidSlug(c.Xa) {
		errs = append(errs, fmt.Errorf("--xa %q: %w", c.Xa, storage.ErrBadSlug))
	}
	if c.ZaloCommune != "" && c.Communes == "" {
		errs = append(errs, errors.New("TROLYSO_ZALO_COMMUNE needs TROLYSO_COMMUNES (a province deployment)"))
	}
	if c.Communes != "" && c.StaffChat != 0 {
		errs = append(errs, errProvinceStaffChat)
	}
	if c.Communes != "" && c.Zalo.Enabled() && c.ZaloCommune == "" {
		errs = append(errs, errors.New("a province's Zalo OA answers for one commune: set TROLYSO_ZALO_COMMUNE to its slug"))
	}
	if c.DatabaseURL != "" && !postgres.IsURL(c.DatabaseURL) {
		errs = append(errs, errors.New("TROLYSO_DATABASE_URL: want postgres://user:password@host:port/database"))
	}
	if c.MaxLen < 10 {
		errs = append(errs, errors.New("TROLYSO_MAX_MESSAGE_LEN must be at least 10"))
	}
	if c.InboxCapacity < 1 {
		errs = append(errs, errors.New("TROLYSO_INBOX_MAX must be at least 1"))
	}
	if c.WebRate < 1 {
		errs = append(errs, errors.New("TROLYSO_WEB_RATE must be at least 1 request per minute"))
	}
	checkURL := func(name, v string) {
		if v == "" {
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q: want an http(s) URL", name, v))
		}
	}
	checkURL("TELEGRAM_API_URL", c.Telegram.APIURL)
	checkURL("TELEGRAM_WEBHOOK_URL", c.Telegram.WebhookURL)
	checkURL("ZALO_API_URL", c.Zalo.APIURL)
	checkURL("ZALO_OAUTH_URL", c.Zalo.OAuthURL)
	checkURL("OPENAI_BASE_URL", c.LLM.BaseURL)
	checkURL("TROLYSO_TELEGRAM_LINK", c.Alerts.TelegramLink)
	checkURL("TROLYSO_ZALO_LINK", c.Alerts.ZaloLink)
	if c.Alerts.ZaloRate <= 0 || c.Alerts.ZaloRate > 1000 {
		errs = append(errs, errors.New("TROLYSO_ALERT_ZALO_RATE must be between 0 and 1000 messages a second"))
	}
	if c.Telegram.WebhookURL != "" && c.Telegram.WebhookSecret == "" {
		errs = append(errs, errors.New("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET (webhook requests are checked against it)"))
	}
	if c.Telegram.WebhookSecret != "" && !validWebhookSecret(c.Telegram.WebhookSecret) {
		errs = append(errs, errors.New("TELEGRAM_WEBHOOK_SECRET: 1–256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"))
	}
	if u, err := url.Parse(c.Telegram.WebhookURL); c.Telegram.WebhookURL != "" && err == nil && !validWebhookPath(u.Path) {
		errs = append(errs, fmt.Errorf("TELEGRAM_WEBHOOK_URL path %q: use only letters, digits, /, _, - and . (it is also the local path the webhook is served on)", u.Path))
	}
	if u, err := url.Parse(c.Telegram.WebhookURL); c.Telegram.WebhookURL != "" && err == nil && serverPath(u.Path) {
		errs = append(errs, fmt.Errorf("TELEGRAM_WEBHOOK_URL path %q is one of the server's own routes (%s); choose another, e.g. /telegram/webhook", u.Path, strings.Join(serverRoutes, ", ")))
	}
	if c.Telegram.WebhookURL != "" && c.Telegram.Token == "" {
		errs = append(errs, errors.New("TELEGRAM_WEBHOOK_URL is set but TELEGRAM_BOT_TOKEN is not"))
	}
	if c.Zalo.Enabled() && c.Zalo.AccessToken == "" && c.Zalo.RefreshToken == "" {
		errs = append(errs, errors.New("Zalo: set ZALO_ACCESS_TOKEN or ZALO_REFRESH_TOKEN"))
	}
	if z := c.Zalo; !z.Enabled() && (z.AppID != "" || z.OASecretKey != "" || z.AppSecret != "" || z.AccessToken != "" || z.RefreshToken != "") {
		errs = append(errs, errors.New("Zalo: set both ZALO_APP_ID and ZALO_OA_SECRET_KEY (webhook signatures) to enable the channel"))
	}
	if c.Zalo.Enabled() && c.Zalo.RefreshToken != "" && c.Zalo.AppSecret == "" {
		errs = append(errs, errors.New("Zalo: ZALO_REFRESH_TOKEN needs ZALO_APP_SECRET (token refresh is authenticated with it)"))
	}
	if c.Zalo.MaxEventAge <= 0 {
		errs = append(errs, errors.New("ZALO_EVENT_MAX_AGE must be positive"))
	}
	if c.Zalo.Window <= 0 {
		errs = append(errs, errors.New("ZALO_WINDOW must be positive"))
	}
	if c.LLM.Timeout <= 0 {
		errs = append(errs, errors.New("TROLYSO_LLM_TIMEOUT must be positive"))
	}
	if c.LLM.DailyTokens < 0 {
		errs = append(errs, errors.New("TROLYSO_LLM_DAILY_TOKENS must not be negative"))
	}
	if c.ReminderGrace < 0 {
		errs = append(errs, errors.New("TROLYSO_REMINDER_GRACE must not be negative"))
	}
	if c.ReminderNudge < 0 {
		errs = append(errs, errors.New("TROLYSO_REMINDER_NUDGE must not be negative (0 turns nudges off)"))
	}
	if c.StaffChat != 0 && c.Telegram.Token == "" {
		errs = append(errs, errors.New("TROLYSO_STAFF_TELEGRAM_CHAT is set but TELEGRAM_BOT_TOKEN is not (the bot posts requests to the group)"))
	}
	if c.HandoffIdle <= 0 {
		errs = append(errs, errors.New("TROLYSO_HANDOFF_IDLE must be positive"))
	}
	if c.HandoffRepost <= 0 {
		errs = append(errs, errors.New("TROLYSO_HANDOFF_REPOST must be positive"))
	}
	if c.MetricsToken != "" && !validBearerToken(c.MetricsToken) {
		errs = append(errs, errors.New("TROLYSO_METRICS_TOKEN: at least 16 characters of A-Z, a-z, 0-9, -, ., _, ~, +, / (a bearer token; e.g. from `openssl rand -hex 24`)"))
	}
	return errors.Join(errs...)
}

// validWebhookPath accepts the paths that can be mounted on the server's
// mux as they are ("" means the default path).
func validWebhookPath(p string) bool {
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return !strings.Contains(p, "..") && !strings.Contains(p, "//")
}

// serverRoutes are the paths (a trailing slash: and everything below) that
// serve mounts itself; a webhook there would collide with them.
var serverRoutes = []string{"/api/", "/static/", "/admin", "/admin/", "/zalo/", "/metrics", "/healthz", "/canhbao", "/canhbao/"}

// serverPath reports whether p is, or is below, one of serverRoutes.
func serverPath(p string) bool {
	for _, r := range serverRoutes {
		if p == r || p == strings.TrimSuffix(r, "/") || strings.HasSuffix(r, "/") && strings.HasPrefix(p, r) {
			return true
		}
	}
	return false
}

// validBearerToken accepts an RFC 6750 token (b64token characters) long
// enough not to be guessed.
func validBearerToken(s string) bool {
	if len(s) < 16 || len(s) > 512 {
		return false
	}
	for _, r := range strings.TrimRight(s, "=") {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~+/", r)) {
			return false
		}
	}
	return true
}

func validWebhookSecret(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func envInt(env func(string) string, key string, def int) (int, error) {
	v := env(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def, fmt.Errorf("%s %q: not a whole number", key, v)
	}
	return n, nil
}

func envDuration(env func(string) string, key string, def time.Duration) (time.Duration, error) {
	v := env(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return def, fmt.Errorf("%s %q: not a duration (like 12s or 6h)", key, v)
	}
	return d, nil
}
