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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/colecommune/trolyso/storage"
)

// LoadOptions shape a load run of simulated residents.
type LoadOptions struct {
	// Residents is the number of simulated residents (default 500); each
	// has its own session and never has two messages in flight.
	Residents int
	// Rate is the total messages per second the residents aim at together
	// (open loop: a late reply delays nothing but the resident's next
	// message, and latency is measured from the planned send time, so a
	// slow server shows in the figures). 0 means closed loop: every
	// resident sends its next message as soon as the reply arrives.
	Rate float64
	// Duration bounds the run (default 10 s); MaxMessages too (0: none).
	Duration    time.Duration
	MaxMessages int
	// Questions are asked in turn (with a per-resident offset).
	Questions []string
	// RateShare is the share of answers the resident rates 👍/👎 with
	// its next message (default 0.3; negative: never).
	RateShare float64
	Seed      uint64
	// Progress, when set, counts acknowledged exchanges and ratings as they
	// arrive, so that a caller can act in the middle of a run.
	Progress *Progress
}

// Progress counts what a running load has had acknowledged so far.
type Progress struct {
	Acked, Rated atomic.Int64
}

func (o *LoadOptions) defaults() {
	if o.Residents <= 0 {
		o.Residents = 500
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.RateShare == 0 {
		o.RateShare = 0.3
	}
	if len(o.Questions) == 0 {
		o.Questions = []string{"quên mật khẩu vneid"}
	}
}

// LoadResult is what a load run measured.
type LoadResult struct {
	Sent     int64
	Answered int64 // 200 replies with a non-empty text
	Ratings  int64 // of which rating taps
	// Status counts HTTP statuses; Errors transport failures.
	Status map[int]int64
	Errors int64
	// Locked counts replies that mention "database is locked".
	Locked     int64
	Elapsed    time.Duration
	Throughput float64 // answered messages per second
	Latencies
	// Acked lists the exchange ids acknowledged to a client (200 with
	// exchange_id), and RatedIDs the exchanges whose rating was
	// acknowledged; fault tests check them against the database.
	Acked    []int64
	RatedIDs []int64
}

type webResp struct {
	Band       string `json:"band"`
	Text       string `json:"text"`
	Error      string `json:"error"`
	ExchangeID int64  `json:"exchange_id"`
	Buttons    [][]struct {
		Payload string `json:"payload"`
	} `json:"buttons"`
}

// NewLoopbackTransport returns a transport for n concurrent clients of a
// server on this machine.
func NewLoopbackTransport(n int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        n,
		MaxIdleConnsPerHost: n,
		IdleConnTimeout:     30 * time.Second,
	}
}

// RunWeb drives POST /api/message of the server at baseURL (http://host:port)
// with simulated residents until the duration or message count is reached
// or ctx ends.
func RunWeb(ctx context.Context, baseURL string, o LoadOptions) LoadResult {
	o.defaults()
	tr := NewLoopbackTransport(o.Residents)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := strings.TrimRight(baseURL, "/") + "/api/message"

	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	var (
		sent, answered, ratings, errs, locked atomic.Int64
		mu                                    sync.Mutex
		lat                                   []time.Duration
		status                                = map[int]int64{}
		acked, rated                          []int64
		wg                                    sync.WaitGroup
	)
	budget := func() bool {
		n := sent.Add(1)
		return o.MaxMessages <= 0 || n <= int64(o.MaxMessages)
	}
	start := time.Now()
	interval := time.Duration(0)
	if o.Rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(o.Residents) / o.Rate)
	}
	for i := 0; i < o.Residents; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(o.Seed, uint64(i)))
			var sid string
			var myLat []time.Duration
			var myAcked, myRated []int64
			defer func() {
				mu.Lock()
				lat = append(lat, myLat...)
				acked = append(acked, myAcked...)
				rated = append(rated, myRated...)
				mu.Unlock()
			}()
			next := start
			if interval > 0 {
				next = start.Add(time.Duration(r.Int64N(int64(interval))))
			}
			q := r.IntN(len(o.Questions))
			pendingRate := ""
			var pendingID int64
			for ctx.Err() == nil {
				if interval > 0 {
					if !sleepUntil(ctx, next) {
						return
					}
				} else {
					next = time.Now()
				}
				if !budget() {
					cancel()
					break
				}
				body := map[string]string{}
				if pendingRate != "" {
					body["payload"] = pendingRate
				} else {
					body["text"] = o.Questions[q%len(o.Questions)]
					q++
				}
				b, _ := json.Marshal(body)
				req, _ := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, url, bytes.NewReader(b))
				req.Header.Set("Content-Type", "application/json")
				if sid != "" {
					req.AddCookie(&http.Cookie{Name: "trolyso_sid", Value: sid})
				}
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					pendingRate = ""
					time.Sleep(20 * time.Millisecond) // server gone: do not spin
					if interval > 0 {
						next = next.Add(interval)
					}
					continue
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				took := time.Since(next)
				for _, c := range resp.Cookies() {
					if c.Name == "trolyso_sid" {
						sid = c.Value
					}
				}
				mu.Lock()
				status[resp.StatusCode]++
				mu.Unlock()
				if bytes.Contains(raw, []byte("database is locked")) {
					locked.Add(1)
				}
				var wr webResp
				json.Unmarshal(raw, &wr)
				wasRate := pendingRate != ""
				pendingRate = ""
				if resp.StatusCode == http.StatusOK && wr.Text != "" {
					answered.Add(1)
					myLat = append(myLat, took)
					if wasRate && strings.Contains(wr.Text, "Cảm ơn bạn đã") {
						ratings.Add(1)
						myRated = append(myRated, pendingID)
						if o.Progress != nil {
							o.Progress.Rated.Add(1)
						}
					}
					if wr.ExchangeID > 0 {
						myAcked = append(myAcked, wr.ExchangeID)
						if o.Progress != nil {
							o.Progress.Acked.Add(1)
						}
						if o.RateShare > 0 && r.Float64() < o.RateShare {
							if p := ratePayload(wr, r); p != "" {
								pendingRate, pendingID = p, wr.ExchangeID
							}
						}
					}
				}
				if interval > 0 {
					next = next.Add(interval)
				}
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := LoadResult{
		Sent: min(sent.Load(), int64(max(o.MaxMessages, 0))), Answered: answered.Load(), Ratings: ratings.Load(),
		Status: status, Errors: errs.Load(), Locked: locked.Load(), Elapsed: elapsed,
		Latencies: Summarize(lat), Acked: acked, RatedIDs: rated,
	}
	if o.MaxMessages <= 0 {
		res.Sent = sent.Load()
	}
	res.Throughput = float64(res.Answered) / elapsed.Seconds()
	return res
}

// ratePayload picks the 👍 or 👎 button of an answer, if it has one.
func ratePayload(wr webResp, r *rand.Rand) string {
	want := ":+"
	if r.IntN(5) == 0 {
		want = ":-"
	}
	for _, row := range wr.Buttons {
		for _, b := range row {
			if strings.HasPrefix(b.Payload, "r:") && strings.HasSuffix(b.Payload, want) {
				return b.Payload
			}
		}
	}
	return ""
}

// String renders a one-line summary.
func (r LoadResult) String() string {
	return fmt.Sprintf("%d sent, %d answered (%d ratings) in %v: %.0f/s, p50 %v p99 %v max %v, status %v, %d transport errors, %d locked",
		r.Sent, r.Answered, r.Ratings, r.Elapsed.Round(time.Millisecond), r.Throughput, r.P50, r.P99, r.Max, r.Status, r.Errors, r.Locked)
}

// sleepUntil waits until t, or returns false as soon as ctx ends.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// Lost opens the database of a stopped server and returns how many of the
// acknowledged exchanges (by id) and ratings (by exchange id) it does not
// hold.
func Lost(ctx context.Context, dbPath string, acked, rated []int64) (int, error) {
	db, err := storage.Open(ctx, dbPath, storage.Options{})
	if err != nil {
		return 0, fmt.Errorf("check stored exchanges: %w", err)
	}
	defer db.Close()
	have := func(query string) (map[int64]bool, error) {
		rows, err := db.Reader().QueryContext(ctx, query)
		if err != nil {
			return nil, fmt.Errorf("check stored exchanges: %w", err)
		}
		defer rows.Close()
		ids := map[int64]bool{}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, fmt.Errorf("check stored exchanges: %w", err)
			}
			ids[id] = true
		}
		return ids, rows.Err()
	}
	exchanges, err := have(`SELECT id FROM exchanges`)
	if err != nil {
		return 0, err
	}
	ratings, err := have(`SELECT exchange_id FROM ratings`)
	if err != nil {
		return 0, err
	}
	lost := 0
	for _, id := range acked {
		if !exchanges[id] {
			lost++
		}
	}
	for _, id := range rated {
		if !ratings[id] {
			lost++
		}
	}
	return lost, nil
}
