package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FakeBotAPI is a Telegram Bot API on 127.0.0.1 that accepts what the
// adapter sends (getMe, setWebhook, sendMessage, …) and tells waiting
// simulated residents when a message for their chat arrives.
type FakeBotAPI struct {
	Token string
	srv   *http.Server
	ln    net.Listener
	msgID atomic.Int64
	sends atomic.Int64

	mu      sync.Mutex
	waiters map[int64]chan time.Time
	// rateUp holds, per chat, the 👍 payload of the last answer sent.
	rateUp map[int64]string
	// Delay, when set, is slept before answering sendMessage; Fail, when
	// it returns a status, answers sendMessage with that error instead.
	Delay func() time.Duration
	Fail  func() int
}

// NewFakeBotAPI starts the fake API for token.
func NewFakeBotAPI(token string) (*FakeBotAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake bot api: %w", err)
	}
	f := &FakeBotAPI{Token: token, ln: ln, waiters: map[int64]chan time.Time{}, rateUp: map[int64]string{}}
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 5 * time.Second}
	go f.srv.Serve(ln)
	return f, nil
}

// URL is the API's base URL (TELEGRAM_API_URL).
func (f *FakeBotAPI) URL() string { return "http://" + f.ln.Addr().String() }

// Sends is how many sendMessage calls succeeded.
func (f *FakeBotAPI) Sends() int64 { return f.sends.Load() }

// Close stops the server.
func (f *FakeBotAPI) Close() error { return f.srv.Close() }

// expect registers interest in the next message to chat.
func (f *FakeBotAPI) expect(chat int64) chan time.Time {
	c := make(chan time.Time, 4)
	f.mu.Lock()
	f.waiters[chat] = c
	f.mu.Unlock()
	return c
}

func (f *FakeBotAPI) forget(chat int64) {
	f.mu.Lock()
	delete(f.waiters, chat)
	f.mu.Unlock()
}

func (f *FakeBotAPI) serve(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+f.Token+"/")
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"ok":false,"error_code":404,"description":"Not Found"}`)
		return
	}
	r.ParseMultipartForm(1 << 20)
	form := func(k string) string {
		if r.MultipartForm != nil && len(r.MultipartForm.Value[k]) > 0 {
			return r.MultipartForm.Value[k][0]
		}
		return r.FormValue(k)
	}
	switch method {
	case "getMe":
		fmt.Fprint(w, `{"ok":true,"result":{"id":999,"is_bot":true,"first_name":"Trợ lý số","username":"trolyso_bench_bot"}}`)
	case "sendMessage", "editMessageText":
		if f.Delay != nil {
			select {
			case <-time.After(f.Delay()):
			case <-r.Context().Done():
				return
			}
		}
		if f.Fail != nil {
			if code := f.Fail(); code != 0 {
				w.WriteHeader(code)
				desc := "Internal Server Error"
				params := ""
				if code == http.StatusTooManyRequests {
					desc, params = "Too Many Requests: retry after 1", `,"parameters":{"retry_after":1}`
				}
				fmt.Fprintf(w, `{"ok":false,"error_code":%d,"description":%q%s}`, code, desc, params)
				return
			}
		}
		chat, _ := strconv.ParseInt(form("chat_id"), 10, 64)
		id := f.msgID.Add(1)
		res, _ := json.Marshal(map[string]any{
			"message_id": id, "date": time.Now().Unix(), "text": form("text"),
			"chat": map[string]any{"id": chat, "type": "private"},
			"from": map[string]any{"id": 999, "is_bot": true, "first_name": "Trợ lý số"},
		})
		fmt.Fprintf(w, `{"ok":true,"result":%s}`, res)
		f.sends.Add(1)
		rate := ratePayloadTG(form("reply_markup"))
		f.mu.Lock()
		c := f.waiters[chat]
		if rate != "" {
			f.rateUp[chat] = rate
		}
		f.mu.Unlock()
		if c != nil {
			select {
			case c <- time.Now():
			default:
			}
		}
	case "editMessageReplyMarkup": // a tapped button marked chosen
		chat, _ := strconv.ParseInt(form("chat_id"), 10, 64)
		id, _ := strconv.Atoi(form("message_id"))
		res, _ := json.Marshal(map[string]any{
			"message_id": id, "date": time.Now().Unix(), "text": "…",
			"chat": map[string]any{"id": chat, "type": "private"},
			"from": map[string]any{"id": 999, "is_bot": true, "first_name": "Trợ lý số"},
		})
		fmt.Fprintf(w, `{"ok":true,"result":%s}`, res)
	case "getUpdates":
		fmt.Fprint(w, `{"ok":true,"result":[]}`)
	default: // setWebhook, deleteWebhook, answerCallbackQuery, setMyCommands…
		fmt.Fprint(w, `{"ok":true,"result":true}`)
	}
}

// ratePayloadTG finds the 👍 callback data ("r:<id>:+") in an inline
// keyboard.
func ratePayloadTG(markup string) string {
	if markup == "" {
		return ""
	}
	var kb struct {
		InlineKeyboard [][]struct {
			CallbackData string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if json.Unmarshal([]byte(markup), &kb) != nil {
		return ""
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if strings.HasPrefix(b.CallbackData, "r:") && strings.HasSuffix(b.CallbackData, ":+") {
				return b.CallbackData
			}
		}
	}
	return ""
}

// takeRating returns and forgets the 👍 payload last offered in chat.
func (f *FakeBotAPI) takeRating(chat int64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.rateUp[chat]
	delete(f.rateUp, chat)
	return p
}

// TelegramOptions shape a Telegram webhook load run.
type TelegramOptions struct {
	LoadOptions
	// WebhookURL is the server's local webhook endpoint and Secret its
	// secret token.
	WebhookURL, Secret string
	// Users is the pool of Telegram users the residents write as (default
	// 100 × Residents), so that no user exceeds the per-user flood limit.
	Users int
}

// RunTelegram posts text updates to the webhook as simulated residents
// and measures, for each, the time until the bot's sendMessage for that
// chat reaches api. A resident waits for its reply (at most 10 s) before
// its next message.
func RunTelegram(ctx context.Context, api *FakeBotAPI, o TelegramOptions) LoadResult {
	o.defaults()
	if o.Users <= 0 {
		o.Users = 100 * o.Residents
	}
	tr := NewLoopbackTransport(o.Residents)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var (
		sent, answered, errs atomic.Int64
		ratings              atomic.Int64
		updateID             atomic.Int64
		mu                   sync.Mutex
		lat                  []time.Duration
		status               = map[int]int64{}
		wg                   sync.WaitGroup
	)
	interval := time.Duration(0)
	if o.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(o.Residents) / o.Rate)
	}
	start := time.Now()
	for i := 0; i < o.Residents; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(o.Seed, uint64(i)+1<<32))
			var myLat []time.Duration
			var user, rateUser int64
			var ratePayload string
			defer func() {
				mu.Lock()
				lat = append(lat, myLat...)
				mu.Unlock()
			}()
			next := start
			if interval > 0 {
				next = start.Add(time.Duration(r.Int64N(int64(interval))))
			}
			for k := 0; ctx.Err() == nil; k++ {
				// A 👍 tap follows its answer at once, off the schedule.
				sendAt := next
				if rateUser != 0 {
					sendAt = time.Now()
				} else if interval > 0 {
					if !sleepUntil(ctx, next) {
						return
					}
				} else {
					next = time.Now()
					sendAt = next
				}
				if n := sent.Add(1); o.MaxMessages > 0 && n > int64(o.MaxMessages) {
					cancel()
					break
				}
				// Users are partitioned between residents: user ids
				// i, i+Residents, i+2·Residents… belong to resident i.
				uid := updateID.Add(1)
				var body string
				rating := false
				if rateUser != 0 {
					// Tap 👍 under the answer just received.
					user = rateUser
					data, _ := json.Marshal(ratePayload)
					body = fmt.Sprintf(`{"update_id":%d,"callback_query":{"id":"cq%d","from":{"id":%d,"is_bot":false,"first_name":"Dân"},"chat_instance":"ci","data":%s,`+
						`"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private"},"from":{"id":999,"is_bot":true,"first_name":"Trợ lý số"},"text":"…","reply_markup":{}}}}`,
						uid, uid, user, data, k, time.Now().Unix(), user)
					rateUser, rating = 0, true
				} else {
					user = int64(1_000_000 + i + o.Residents*r.IntN(max(o.Users/o.Residents, 1)))
					text, _ := json.Marshal(o.Questions[(i+k)%len(o.Questions)])
					body = fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private","first_name":"Dân"},"from":{"id":%d,"is_bot":false,"first_name":"Dân"},"text":%s}}`,
						uid, k+1, time.Now().Unix(), user, user, text)
				}
				wait := api.expect(user)
				req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, o.WebhookURL, bytes.NewReader([]byte(body)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", o.Secret)
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					api.forget(user)
					if !rating {
						next = next.Add(interval)
					}
					time.Sleep(20 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				status[resp.StatusCode]++
				mu.Unlock()
				if resp.StatusCode == http.StatusOK {
					t := time.NewTimer(10 * time.Second)
					select {
					case at := <-wait:
						answered.Add(1)
						myLat = append(myLat, at.Sub(sendAt))
						if rating {
							ratings.Add(1)
						} else if o.RateShare > 0 && r.Float64() < o.RateShare {
							// The payload is noted before the waiter is told.
							if p := api.takeRating(user); p != "" {
								rateUser, ratePayload = user, p
							}
						}
					case <-t.C:
					}
					t.Stop()
				}
				api.forget(user)
				if !rating {
					next = next.Add(interval)
				}
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := LoadResult{Sent: sent.Load(), Answered: answered.Load(), Ratings: ratings.Load(), Status: status, Errors: errs.Load(),
		Elapsed: elapsed, Latencies: Summarize(lat)}
	if o.MaxMessages > 0 && res.Sent > int64(o.MaxMessages) {
		res.Sent = int64(o.MaxMessages)
	}
	res.Throughput = float64(res.Answered) / elapsed.Seconds()
	return res
}
