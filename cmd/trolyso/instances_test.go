package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot/alert"
	"github.com/colecommune/trolyso/cmd/trolyso/internal/bench"
	"github.com/colecommune/trolyso/knowledge"
	"github.com/colecommune/trolyso/storage"
	"github.com/colecommune/trolyso/storage/storagetest"
)

// provinceCommunes is how many synthetic communes the multi-instance test
// serves (Ninh Bình's communes and wards).
const provinceCommunes = 129

// writeSyntheticCommunes writes n commune profiles xa-001… named
// "xã Thử Nghiệm 001"….
func writeSyntheticCommunes(t *testing.T, n int) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	base := string(knowledge.EmbeddedProfile())
	var slugs []string
	for i := 1; i <= n; i++ {
		slug := fmt.Sprintf("xa-%03d", i)
		p := strings.Replace(base, `name: "xã Cổ Lễ"`, fmt.Sprintf(`name: "xã Thử Nghiệm %03d"`, i), 1)
		p = strings.Replace(p, `phone: "[CẦN ĐIỀN: số điện thoại]"`, fmt.Sprintf(`phone: "0229 %03d %03d"`, i, i), 1)
		if err := os.WriteFile(filepath.Join(dir, slug+".yaml"), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
		slugs = append(slugs, slug)
	}
	return dir, slugs
}

// webLoad is closed-loop web chat load: residents each send a question,
// wait for the answer and send again, to the servers in turn, until ctx
// ends. Every acknowledged answer (200 with an exchange id) is recorded
// with its commune.
type webLoad struct {
	mu      sync.Mutex
	lat     []time.Duration
	acked   map[string][]int64 // commune -> exchange ids acknowledged
	errors  atomic.Int64
	answers atomic.Int64
}

func runWebLoad(ctx context.Context, urls func() []string, slugs []string, residents int, questions []string) *webLoad {
	l := &webLoad{acked: map[string][]int64{}}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: residents}}
	var wg sync.WaitGroup
	for r := range residents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			cookie := fmt.Sprintf("%032x", r+1)
			for i := 0; ctx.Err() == nil; i++ {
				us := urls()
				if len(us) == 0 {
					return
				}
				u := us[(r+i)%len(us)]
				slug := slugs[rng.IntN(len(slugs))]
				body, _ := json.Marshal(map[string]string{"text": questions[rng.IntN(len(questions))]})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u+"/xa/"+slug+"/api/message", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.AddCookie(&http.Cookie{Name: "trolyso_sid", Value: cookie})
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						l.errors.Add(1)
						time.Sleep(20 * time.Millisecond)
					}
					continue
				}
				var out struct {
					ExchangeID int64  `json:"exchange_id"`
					Band       string `json:"band"`
				}
				json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					l.errors.Add(1)
					continue
				}
				d := time.Since(t0)
				l.answers.Add(1)
				l.mu.Lock()
				l.lat = append(l.lat, d)
				if out.ExchangeID != 0 {
					l.acked[slug] = append(l.acked[slug], out.ExchangeID)
				}
				l.mu.Unlock()
			}
		}()
	}
	go func() { wg.Wait() }()
	return l
}

func (l *webLoad) figures(d time.Duration) (perSec float64, p50, p99 time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lat := append([]time.Duration(nil), l.lat...)
	if len(lat) == 0 {
		return 0, 0, 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return float64(len(lat)) / d.Seconds(), lat[len(lat)/2], lat[len(lat)*99/100]
}

// TestThreeInstancesOneDatabase runs three `trolyso serve` processes on
// one PostgreSQL database with 129 communes: web chat load through all
// three, a reminder due every minute for 40 teams, an alert to 1,000
// residents; the instance running those jobs is SIGKILLed in the middle.
// Every acknowledged message is stored, no reminder or alert is sent
// twice or skipped, and the other instances finish the dead one's work
// within a minute. It logs the throughput of one and of three instances.
func TestThreeInstancesOneDatabase(t *testing.T) {
	// About four minutes (reminder slots are a minute apart) with three
	// children of 129 communes each: too long for the race detector's run
	// of the package, so .ci/run runs it in a step of its own.
	if os.Getenv("TROLYSO_MULTI_INSTANCE_TEST") == "" {
		t.Skip("!!! MULTI-INSTANCE TEST NOT RUN: set TROLYSO_MULTI_INSTANCE_TEST=1 (and TROLYSO_TEST_POSTGRES); .ci/run runs it")
	}
	pgURL := storagetest.URL(t, t.Name())
	ctx := context.Background()
	communes, slugs := writeSyntheticCommunes(t, provinceCommunes)
	api := newAlertBotAPI(t, "5151:province")
	dir := t.TempDir()
	env := []string{"TROLYSO_DATABASE_URL=" + pgURL, "TROLYSO_COMMUNES=" + communes,
		"TELEGRAM_BOT_TOKEN=" + api.token, "TELEGRAM_API_URL=" + api.srv.URL,
		"TELEGRAM_WEBHOOK_URL=http://127.0.0.1:1/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET=province-test-secret"}

	// The first instance creates the communes' schemas; then the jobs
	// are seeded: 40 teams of xa-001 with a reminder every minute, and
	// 1,000 subscribers of xa-002.
	first := startChild(t, filepath.Join(dir, "i1.db"), env...)
	t.Logf("first instance ready in %v (129 communes, schemas created)", first.Ready.Round(time.Millisecond))
	db, err := storage.OpenURL(ctx, pgURL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	teams, subs := must(t, db, "xa-001"), must(t, db, "xa-002")
	members := map[int64]bool{}
	for i := range 40 {
		tm, err := teams.AddTeam(ctx, fmt.Sprintf("Thôn %02d", i+1), "")
		if err != nil {
			t.Fatal(err)
		}
		chat := int64(700000 + i)
		key := teams.UserKey("telegram", strconv.FormatInt(chat, 10))
		if err := teams.SetAddress(ctx, "telegram", key, strconv.FormatInt(chat, 10)); err != nil {
			t.Fatal(err)
		}
		if _, err := teams.JoinTeam(ctx, "telegram", key, tm.JoinCode, ""); err != nil {
			t.Fatal(err)
		}
		members[chat] = true
	}
	if err := teams.AddReminder(ctx, &storage.Reminder{Name: "Mỗi phút", Cron: "* * * * *", Target: "all", Template: "Nhắc {{.Team}}", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	seedSubscribers(t, subs, 800000, 1000)

	// Throughput with one instance, then with three.
	questions := bench.Queries(mustShipped(t), 200, 3)
	measure := func(label string, urls []string) {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		l := runWebLoad(lctx, func() []string { return urls }, slugs, 60, questions)
		<-lctx.Done()
		cancel()
		time.Sleep(200 * time.Millisecond)
		n, p50, p99 := l.figures(5 * time.Second)
		t.Logf("%s: %.0f answered messages/s, p50 %v, p99 %v, %d errors (60 residents, closed loop, 129 communes)",
			label, n, p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), l.errors.Load())
	}
	measure("one instance", []string{first.URL})
	second := startChild(t, filepath.Join(dir, "i2.db"), env...)
	third := startChild(t, filepath.Join(dir, "i3.db"), env...)
	measure("three instances", []string{first.URL, second.URL, third.URL})

	// The first instance holds every commune's leases (it started alone):
	// wait for a reminder slot it sends, then start the alert.
	waitUntil(t, "a reminder run before the kill", func() bool {
		rs, _ := teams.RecentRuns(ctx, 0, 1)
		return len(rs) == 1 && rs[0].Status == storage.RunDone
	})
	job := storage.AlertJob{Kind: storage.AlertNotice, Title: "Lịch tiêm chủng", Body: "Thông báo thử", Text: "Thông báo thử nghiệm toàn xã",
		CreatedBy: "kiểm thử", ExpiresAt: time.Now().Add(24 * time.Hour), Planned: 1000}
	if err := subs.CreateAlertJob(ctx, &job); err != nil {
		t.Fatal(err)
	}
	var live atomic.Pointer[[]string]
	all := []string{first.URL, second.URL, third.URL}
	live.Store(&all)
	lctx, stopLoad := context.WithCancel(ctx)
	load := runWebLoad(lctx, func() []string { return *live.Load() }, slugs, 30, questions)
	alertSends := func() int {
		n := 0
		for _, s := range api.sent() {
			if s.chat >= 800000 {
				n++
			}
		}
		return n
	}
	waitUntil(t, "300 alert messages before the kill", func() bool { return alertSends() >= 300 })
	first.Kill()
	killed := time.Now()
	rest := []string{second.URL, third.URL}
	live.Store(&rest)
	sentAtKill := len(api.sent())
	t.Logf("SIGKILL of the first instance after %d alert messages", alertSends())

	done := waitJob(t, subs, job.ID, 120*time.Second)
	var resumed time.Time
	for _, s := range api.sent()[sentAtKill:] {
		if s.chat >= 800000 {
			resumed = s.at
			break
		}
	}
	// The next reminder slot after the kill, sent by another instance.
	slotAfter := killed.Truncate(time.Minute).Add(time.Minute)
	waitUntil(t, "the reminder slot after the kill", func() bool {
		rs, _ := teams.RecentRuns(ctx, 0, 5)
		for _, r := range rs {
			if !r.ScheduledFor.Before(slotAfter) && r.Status == storage.RunDone {
				return true
			}
		}
		return false
	})
	stopLoad()
	time.Sleep(300 * time.Millisecond)

	// Alerts: each resident once, or "unknown" (caught between claim and
	// send by the kill) and never re-sent.
	per := map[int64]int{}
	remindersPer := map[[2]int64]int{} // chat, minute
	for _, s := range api.sent() {
		if s.chat >= 800000 {
			per[s.chat]++
		} else if members[s.chat] {
			remindersPer[[2]int64{s.chat, s.at.Truncate(time.Minute).Unix()}]++
		}
	}
	ds, err := subs.AlertDeliveries(ctx, job.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	unknown := 0
	for _, d := range ds {
		chat, _ := strconv.ParseInt(d.Address, 10, 64)
		switch d.State {
		case storage.DeliverySent:
			if per[chat] != 1 {
				t.Errorf("alert: chat %d (sent) received %d messages", chat, per[chat])
			}
		case storage.DeliveryUnknown:
			unknown++
			if per[chat] > 1 {
				t.Errorf("alert: chat %d (unknown) received %d messages", chat, per[chat])
			}
		default:
			t.Errorf("alert: chat %d ended %s (%s)", chat, d.State, d.Error)
		}
	}
	if len(ds) != 1000 || done.Status != storage.JobDone {
		t.Errorf("alert: %d rows, job %s", len(ds), done.Status)
	}
	if unknown > alert.DefaultWorkers {
		t.Errorf("alert: %d rows unknown; at most the %d sends in flight at the kill can be", unknown, alert.DefaultWorkers)
	}
	if resumed.IsZero() || resumed.Sub(killed) > time.Minute {
		t.Errorf("alert resumed %v after the kill", resumed.Sub(killed))
	}
	// Reminders: every slot from the first to the last has one delivery
	// per team, none sent twice, none skipped.
	runs, _ := teams.RecentRuns(ctx, 0, 20)
	sort.Slice(runs, func(i, j int) bool { return runs[i].ScheduledFor.Before(runs[j].ScheduledFor) })
	twice, skipped, unknownR := 0, 0, 0
	for i, r := range runs {
		if i > 0 && r.ScheduledFor.Sub(runs[i-1].ScheduledFor) != time.Minute {
			t.Errorf("reminders: slot %v follows %v (a slot skipped)", r.ScheduledFor, runs[i-1].ScheduledFor)
		}
		rds, _ := teams.RunDeliveries(ctx, r.ID)
		if len(rds) != 40 {
			t.Errorf("reminders: run %v has %d deliveries, want 40", r.ScheduledFor, len(rds))
		}
		for _, d := range rds {
			switch d.State {
			case storage.DeliverySent:
			case storage.DeliveryUnknown:
				unknownR++
			default:
				skipped++
				t.Errorf("reminders: run %v delivery %s: %s", r.ScheduledFor, d.State, d.Error)
			}
		}
	}
	for k, n := range remindersPer {
		if n > 1 {
			twice++
			t.Errorf("reminders: chat %d got %d messages in the minute %v", k[0], n, time.Unix(k[1], 0))
		}
	}
	// Web chat: every acknowledged answer is stored in its commune.
	lost := 0
	load.mu.Lock()
	acked := load.acked
	load.mu.Unlock()
	total := 0
	for slug, ids := range acked {
		c := must(t, db, slug)
		for _, id := range ids {
			total++
			if _, err := c.Exchange(ctx, id); err != nil {
				lost++
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged answers are not stored", lost, total)
	}
	t.Logf("after the kill: alert resumed %.1f s later and finished (%d delivered, %d unknown, 0 twice); reminder slots %d, each 40 deliveries (%d unknown, %d twice, %d skipped); web chat %d answers acknowledged during the kill phase, %d lost, %d failed requests",
		resumed.Sub(killed).Seconds(), len(per), unknown, len(runs), unknownR, twice, skipped, total, lost, load.errors.Load())
	if m := measureSends(api.sent()); m > 30 {
		t.Errorf("%d Telegram messages in one second across the instances", m)
	}
}

// measureSends is the most messages in any one second.
func measureSends(sends []tgSend) int {
	best := 0
	for i := range sends {
		n := 0
		for j := i; j < len(sends) && sends[j].at.Sub(sends[i].at) < time.Second; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

func mustShipped(t *testing.T) *knowledge.Base {
	t.Helper()
	b, err := bench.Shipped(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return b
}
