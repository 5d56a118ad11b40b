package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	tgbot "github.com/go-telegram/bot"

	"github.com/colecommune/trolyso/bot/inbox"
	"github.com/colecommune/trolyso/storage"
)

// maxPollBatch is the most updates one getUpdates may return (Telegram's
// limit).
const maxPollBatch = 100

// poll receives updates by long polling until ctx ends. Telegram forgets
// an update once a getUpdates asks for a later offset, so a batch is
// committed to the inbox before the next call moves the offset past it:
// after a crash, the updates not committed come again (and those that were,
// again too, but their keys are known). While the inbox is full it waits
// without asking for more; Telegram keeps them.
func (a *Adapter) poll(ctx context.Context) error {
	var offset int64
	var wait, backoff time.Duration
	full := false
	for {
		if wait > 0 {
			if sleep(ctx, wait) != nil {
				return nil
			}
			wait = 0
		}
		if ctx.Err() != nil {
			return nil
		}
		free := a.inbox.Free()
		if free <= 0 {
			if !full {
				a.log.Warn("telegram: inbox full; updates stay with Telegram until there is room")
			}
			full, wait = true, time.Second
			continue
		}
		full = false
		raws, err := a.getUpdates(ctx, offset, min(maxPollBatch, free))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, tgbot.ErrorUnauthorized) || errors.Is(err, tgbot.ErrorNotFound) {
				return fmt.Errorf("telegram getUpdates: bot token refused: %s", a.scrub(err))
			}
			backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
			wait = backoff
			var tooMany *tgbot.TooManyRequestsError
			if errors.As(err, &tooMany) && tooMany.RetryAfter > 0 {
				wait = time.Duration(tooMany.RetryAfter) * time.Second
			}
			if errors.Is(err, tgbot.ErrorConflict) {
				a.log.Warn("telegram getUpdates: conflict (another process polls this bot, or a webhook was set)", "err", a.scrub(err))
			} else {
				a.log.Warn("telegram getUpdates failed; retrying", "in", wait, "err", a.scrub(err))
			}
			continue
		}
		backoff = 0
		// Take the updates in order while they fit (Telegram honours the
		// limit; should a batch still not fit, the rest comes again).
		next := offset
		var items []storage.InboxItem
		for _, raw := range raws {
			var head struct {
				ID int64 `json:"update_id"`
			}
			if json.Unmarshal(raw, &head) != nil || head.ID == 0 {
				a.log.Warn("telegram: polled update without update_id; skipped", "bytes", len(raw))
				continue
			}
			it, ok, err := a.item(raw)
			if err != nil {
				a.log.Warn("telegram: malformed polled update; skipped", "update", head.ID)
				ok = false
			}
			if ok {
				if len(items) == free {
					break
				}
				items = append(items, it)
			}
			next = max(next, head.ID+1)
		}
		if len(items) > 0 {
			if _, err := a.inbox.Add(ctx, items...); err != nil {
				if ctx.Err() != nil || errors.Is(err, inbox.ErrClosed) {
					return nil
				}
				// The offset stays: Telegram sends the batch again.
				a.log.Error("telegram: store polled updates; asking again", "err", err)
				wait = time.Second
				continue
			}
		}
		offset = next
	}
}

// pollResponse is the Bot API's answer to getUpdates.
type pollResponse struct {
	OK          bool              `json:"ok"`
	Result      []json.RawMessage `json:"result"`
	ErrorCode   int               `json:"error_code"`
	Description string            `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// getUpdates asks for up to limit updates from offset, waiting up to the
// poll timeout for one to arrive. Errors map to the library's error values
// (tgbot.ErrorUnauthorized, tgbot.ErrorConflict, *tgbot.TooManyRequestsError…).
func (a *Adapter) getUpdates(ctx context.Context, offset int64, limit int) ([]json.RawMessage, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	allowed, _ := json.Marshal(allowedUpdates)
	fields := [][2]string{
		{"limit", strconv.Itoa(limit)},
		{"timeout", strconv.Itoa(int((a.cfg.PollTimeout - time.Second).Seconds()))},
		{"allowed_updates", string(allowed)},
	}
	if offset > 0 {
		fields = append(fields, [2]string{"offset", strconv.FormatInt(offset, 10)})
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.APIURL+"/bot"+a.cfg.Token+"/getUpdates", &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read getUpdates response: %w", err)
	}
	var r pollResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode getUpdates response (HTTP %d): %w", resp.StatusCode, err)
	}
	if r.OK {
		return r.Result, nil
	}
	switch r.ErrorCode {
	case http.StatusUnauthorized:
		return nil, fmt.Errorf("%w: %s", tgbot.ErrorUnauthorized, r.Description)
	case http.StatusNotFound:
		return nil, fmt.Errorf("%w: %s", tgbot.ErrorNotFound, r.Description)
	case http.StatusConflict:
		return nil, fmt.Errorf("%w: %s", tgbot.ErrorConflict, r.Description)
	case http.StatusTooManyRequests:
		return nil, &tgbot.TooManyRequestsError{Message: r.Description, RetryAfter: r.Parameters.RetryAfter}
	}
	return nil, fmt.Errorf("getUpdates: error %d: %s", r.ErrorCode, r.Description)
}
