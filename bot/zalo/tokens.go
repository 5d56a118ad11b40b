package zalo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/colecommune/trolyso/storage"
)

// tokens keeps the OA access token fresh. The refresh token is single-use:
// each refresh stores the new pair in SQLite before the access token is
// used. A mutex makes concurrent callers during expiry share one refresh.
type tokens struct {
	store     *storage.DB
	http      *http.Client
	log       *slog.Logger
	now       func() time.Time
	oauthURL  string
	appID     string
	appSecret string
	// early is how long before expiry a token is refreshed (capped at a
	// tenth of its lifetime).
	early time.Duration
	// backoff is how long a failed refresh is not retried; callers get the
	// failure instead.
	backoff time.Duration

	mu        sync.Mutex
	cur       storage.ZaloTokens
	loaded    bool
	failedAt  time.Time
	failErr   error
	rejected  string // the access token Zalo last rejected
	refreshes int    // successful refreshes, for logs and tests
}

// Token returns a usable access token, refreshing it first when it is about
// to expire.
func (t *tokens) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.loadLocked(ctx); err != nil {
		return "", err
	}
	if t.cur.Access != "" && !t.dueLocked(t.early) {
		return t.cur.Access, nil
	}
	if t.cur.Refresh == "" {
		if t.cur.Access != "" {
			// Nothing to refresh with: keep using what we have.
			return t.cur.Access, nil
		}
		return "", errors.New("zalo: no access token and no refresh token")
	}
	if err := t.refreshLocked(ctx); err != nil {
		if t.cur.Access != "" && !t.expiredLocked() {
			t.log.Warn("zalo token refresh failed; using the current token until it expires", "err", err)
			return t.cur.Access, nil
		}
		return "", err
	}
	return t.cur.Access, nil
}

// Invalidate reports that Zalo rejected access token bad; the next Token
// call refreshes, unless another caller already replaced that token.
func (t *tokens) Invalidate(bad string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur.Access == bad && t.rejected != bad {
		// The first report of this token allows an immediate refresh even
		// during the backoff of an earlier failure; later reports of the
		// same token (concurrent sends) do not start more attempts.
		t.rejected = bad
		t.cur.ExpiresAt = t.now().Add(-time.Second)
		t.failedAt = time.Time{}
	}
}

// RefreshIfDue refreshes the token when it expires within the early margin
// (the proactive loop calls it).
func (t *tokens) RefreshIfDue(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.loadLocked(ctx); err != nil {
		return err
	}
	if t.cur.Refresh == "" || !t.dueLocked(t.early) {
		return nil
	}
	return t.refreshLocked(ctx)
}

// loadLocked reads the pair from SQLite (a pair stored by another process
// or before a restart wins over the one in memory).
func (t *tokens) loadLocked(ctx context.Context) error {
	st, err := t.store.ZaloTokens(ctx)
	if errors.Is(err, storage.ErrNotFound) {
		if !t.loaded {
			return errors.New("zalo: no tokens stored; set ZALO_ACCESS_TOKEN or ZALO_REFRESH_TOKEN")
		}
		return nil
	}
	if err != nil {
		if t.loaded {
			t.log.Warn("zalo tokens: read failed; using the pair in memory", "err", err)
			return nil
		}
		return err
	}
	if !t.loaded || st.UpdatedAt.After(t.cur.UpdatedAt) {
		t.cur = st
	}
	t.loaded = true
	return nil
}

func (t *tokens) expiredLocked() bool {
	return !t.cur.ExpiresAt.IsZero() && !t.now().Before(t.cur.ExpiresAt)
}

// dueLocked reports whether the token expires within margin (capped at a
// tenth of its lifetime). An unknown expiry is never due: Zalo's -216 tells.
func (t *tokens) dueLocked(margin time.Duration) bool {
	if t.cur.ExpiresAt.IsZero() {
		return false
	}
	if life := t.cur.ExpiresAt.Sub(t.cur.UpdatedAt); life > 0 && margin > life/10 {
		margin = life / 10
	}
	return !t.now().Before(t.cur.ExpiresAt.Add(-margin))
}

func (t *tokens) refreshLocked(ctx context.Context) error {
	if !t.failedAt.IsZero() && t.now().Sub(t.failedAt) < t.backoff {
		return t.failErr
	}
	next, err := t.requestRefresh(ctx, t.cur.Refresh)
	if err != nil {
		t.failedAt, t.failErr = t.now(), err
		return err
	}
	t.failedAt, t.failErr = time.Time{}, nil
	// Zalo has already consumed the old refresh token: store the new pair
	// before anything uses it. On failure keep it in memory anyway (it is
	// the only valid one) and shout.
	if err := t.store.SaveZaloTokens(context.WithoutCancel(ctx), next); err != nil {
		t.log.Error("zalo: the new token pair could not be stored; it lives only in memory until the next refresh. After a restart, set new tokens in ZALO_ACCESS_TOKEN/ZALO_REFRESH_TOKEN and clear the zalo_tokens table", "err", err)
	}
	t.cur = next
	t.refreshes++
	t.log.Info("zalo access token refreshed", "expires_at", next.ExpiresAt)
	return nil
}

func (t *tokens) requestRefresh(ctx context.Context, refresh string) (storage.ZaloTokens, error) {
	form := url.Values{}
	form.Set(formRefreshToken, refresh)
	form.Set(formAppID, t.appID)
	form.Set(formGrantType, grantRefresh)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.oauthURL+PathAccessToken, strings.NewReader(form.Encode()))
	if err != nil {
		return storage.ZaloTokens{}, fmt.Errorf("refresh zalo token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(headerSecretKey, t.appSecret)
	start := t.now()
	resp, err := t.http.Do(req)
	if err != nil {
		return storage.ZaloTokens{}, fmt.Errorf("refresh zalo token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return storage.ZaloTokens{}, fmt.Errorf("refresh zalo token: read answer: %w", err)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return storage.ZaloTokens{}, fmt.Errorf("refresh zalo token: HTTP %d, undecodable answer: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || tr.Error != 0 || tr.AccessToken == "" || tr.RefreshToken == "" {
		return storage.ZaloTokens{}, fmt.Errorf("%w: HTTP %d, error %d %s: %s %s", errTokenResponse, resp.StatusCode, tr.Error,
			tr.ErrorName, tr.ErrorReason, firstNonEmpty(tr.ErrorDescription, tr.Message))
	}
	secs, err := tr.expiresIn()
	if err != nil {
		return storage.ZaloTokens{}, fmt.Errorf("refresh zalo token: %w", err)
	}
	return storage.ZaloTokens{
		Access:    tr.AccessToken,
		Refresh:   tr.RefreshToken,
		ExpiresAt: start.Add(time.Duration(secs) * time.Second).UTC(),
		UpdatedAt: start.UTC(),
	}, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
