package storage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"
)

// subscribe makes a subscriber with a delivery address on channel.
func subscribe(t *testing.T, db *DB, channel, id, village string) string {
	t.Helper()
	ctx := context.Background()
	key := db.UserKey(channel, id)
	if err := db.SetAddress(ctx, channel, key, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Subscribe(ctx, channel, key); err != nil {
		t.Fatal(err)
	}
	if village != "" {
		if err := db.SetSubscriberVillage(ctx, key, village); err != nil {
			t.Fatal(err)
		}
	}
	return key
}

func newJob(t *testing.T, db *DB, j AlertJob) AlertJob {
	t.Helper()
	if j.Kind == "" {
		j.Kind = AlertScam
	}
	j.Title, j.Text, j.CreatedBy = "Cảnh báo", "**Cảnh báo**", "test"
	if j.ExpiresAt.IsZero() {
		j.ExpiresAt = db.now().Add(30 * 24 * time.Hour)
	}
	if err := db.CreateAlertJob(context.Background(), &j); err != nil {
		t.Fatal(err)
	}
	return j
}

func TestSubscribeVillageUnsubscribeAndOffer(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	db := openTestDB(t, &now)
	ctx := context.Background()
	key := db.UserKey("telegram", "42")

	if ok, err := db.OfferAlerts(ctx, "telegram", key); err != nil || !ok {
		t.Fatalf("first offer = %v, %v; want true", ok, err)
	}
	if ok, _ := db.OfferAlerts(ctx, "telegram", key); ok {
		t.Error("offered twice")
	}
	s, created, err := db.Subscribe(ctx, "telegram", key)
	if err != nil || !created || !s.Active || s.Village != "" {
		t.Fatalf("subscribe = %+v, %v, %v", s, created, err)
	}
	if _, created, _ := db.Subscribe(ctx, "telegram", key); created {
		t.Error("subscribing again reported a new subscription")
	}
	if err := db.SetSubscriberVillage(ctx, key, "  Thôn   Đông "); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Subscriber(ctx, key); s.Village != "Thôn Đông" {
		t.Errorf("village = %q", s.Village)
	}
	if ok, err := db.Unsubscribe(ctx, key); err != nil || !ok {
		t.Fatalf("unsubscribe = %v, %v", ok, err)
	}
	if ok, _ := db.Unsubscribe(ctx, key); ok {
		t.Error("unsubscribed twice")
	}
	if err := db.SetSubscriberVillage(ctx, key, "Thôn Tây"); !errors.Is(err, ErrNotFound) {
		t.Errorf("village of an unsubscribed resident: %v", err)
	}
	s, _ = db.Subscriber(ctx, key)
	if s.Active || s.UnsubReason != UnsubUser || s.UnsubscribedAt.IsZero() {
		t.Errorf("after unsubscribing: %+v", s)
	}
	// Subscribing again keeps the village chosen before.
	if s, created, _ := db.Subscribe(ctx, "telegram", key); !created || s.Village != "Thôn Đông" || s.UnsubReason != "" {
		t.Errorf("resubscribed: %+v, created %v", s, created)
	}
	// Someone who subscribed without ever being asked is never asked.
	other := db.UserKey("zalo", "7")
	if _, _, err := db.Subscribe(ctx, "zalo", other); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.OfferAlerts(ctx, "zalo", other); ok {
		t.Error("a subscriber was offered alerts")
	}
}

func TestAlertRecipientsFollowTheTarget(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	db := openTestDB(t, &now)
	ctx := context.Background()
	subscribe(t, db, "telegram", "1", "Thôn Đông")
	subscribe(t, db, "telegram", "2", "Thôn Tây")
	subscribe(t, db, "zalo", "3", "Thôn Đông")
	subscribe(t, db, "zalo", "4", "")
	gone := subscribe(t, db, "telegram", "5", "")
	db.Unsubscribe(ctx, gone)
	blocked := subscribe(t, db, "telegram", "6", "")
	db.SetActive(ctx, blocked, false)
	// Subscribed but without an address (cannot be reached): not counted.
	db.Subscribe(ctx, "web", db.UserKey("web", "w"))
	if _, err := db.AddTeam(ctx, "Thôn Đông", "-100"); err != nil {
		t.Fatal(err)
	}
	db.AddTeam(ctx, "Thôn Tây", "")

	for _, tt := range []struct {
		name   string
		target AlertTarget
		want   map[string]int
	}{
		{"everyone", AlertTarget{}, map[string]int{"telegram": 2, "zalo": 2}},
		{"one village", AlertTarget{Villages: []string{"thôn đông"}}, map[string]int{}},
		{"one village exact", AlertTarget{Villages: []string{"Thôn Đông"}}, map[string]int{"telegram": 1, "zalo": 1}},
		{"zalo only", AlertTarget{Channels: []string{"zalo"}}, map[string]int{"zalo": 2}},
		{"disaster ignores villages, adds groups", AlertTarget{Villages: []string{"Thôn Tây"}, Groups: true}, map[string]int{"telegram": 2, "zalo": 2, "group": 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := db.CountAlertRecipients(ctx, tt.target)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, n := range tt.want {
				total += n
			}
			if c.Total != total || fmt.Sprint(c.ByChannel) != fmt.Sprint(tt.want) {
				t.Errorf("count = %d %v, want %d %v", c.Total, c.ByChannel, total, tt.want)
			}
		})
	}
}

func TestAlertJobLifecycle(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	db := openTestDB(t, &now)
	ctx := context.Background()
	var keys []string
	for i := range 5 {
		keys = append(keys, subscribe(t, db, "telegram", fmt.Sprint(100+i), ""))
	}
	later := newJob(t, db, AlertJob{ScheduledFor: now.Add(time.Hour)})
	notice := newJob(t, db, AlertJob{Kind: AlertNotice, Priority: 1})
	disaster := newJob(t, db, AlertJob{Kind: AlertDisaster, Priority: 0})

	started, err := db.StartDueAlertJobs(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(started) != 2 || started[0].ID != disaster.ID || started[1].ID != notice.ID {
		t.Fatalf("started %+v; want the disaster warning then the notice, not the later job", started)
	}
	if again, _ := db.StartDueAlertJobs(ctx, now); len(again) != 0 {
		t.Errorf("jobs started twice: %+v", again)
	}
	j, _ := db.AlertJob(ctx, notice.ID)
	if j.Status != JobRunning || j.Recipients != 5 || j.StartedAt.IsZero() {
		t.Errorf("notice job after start: %+v", j)
	}

	// Disaster deliveries come first.
	next, err := db.NextAlertDeliveries(ctx, 100)
	if err != nil || len(next) != 10 {
		t.Fatalf("next = %d rows, %v", len(next), err)
	}
	for i, d := range next {
		want := disaster.ID
		if i >= 5 {
			want = notice.ID
		}
		if d.JobID != want || d.Address == "" || d.UserKey == "" {
			t.Fatalf("row %d: %+v (want job %d with an address)", i, d, want)
		}
	}

	// A claimed delivery is never claimed again.
	d := next[0]
	if ok, _ := db.ClaimAlertDelivery(ctx, d.ID); !ok {
		t.Fatal("first claim refused")
	}
	if ok, _ := db.ClaimAlertDelivery(ctx, d.ID); ok {
		t.Fatal("claimed twice")
	}
	if err := db.FinishAlertDelivery(ctx, d, DeliverySent, ""); err != nil {
		t.Fatal(err)
	}
	// A blocked resident is unsubscribed, the job noted as the cause.
	b := next[1]
	db.ClaimAlertDelivery(ctx, b.ID)
	if err := db.FinishAlertDelivery(ctx, b, DeliveryBlocked, "403"); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Subscriber(ctx, b.UserKey); s.Active || s.UnsubReason != UnsubBlocked {
		t.Errorf("blocked subscriber: %+v", s)
	}
	if n, _ := db.AlertUnsubscribed(ctx, disaster.ID); n[UnsubBlocked] != 1 {
		t.Errorf("unsubscribed by the disaster job: %v", n)
	}

	// Pausing stops claims; resuming allows them again.
	if _, err := db.SetAlertJobStatus(ctx, disaster.ID, JobPaused); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.ClaimAlertDelivery(ctx, next[2].ID); ok {
		t.Error("claimed a delivery of a paused job")
	}
	if rows, _ := db.NextAlertDeliveries(ctx, 100); len(rows) != 5 || rows[0].JobID != notice.ID {
		t.Errorf("a paused job's rows are offered: %d rows", len(rows))
	}
	if _, err := db.SetAlertJobStatus(ctx, disaster.ID, JobPaused); !errors.Is(err, ErrJobState) {
		t.Errorf("pausing twice: %v", err)
	}
	if _, err := db.SetAlertJobStatus(ctx, disaster.ID, JobRunning); err != nil {
		t.Fatal(err)
	}
	// A row left in 'sending' by a stopped sender becomes 'unknown' when
	// another takes over, and is never offered again.
	if ok, _ := db.ClaimAlertDelivery(ctx, next[2].ID); !ok {
		t.Fatal("claim after resume refused")
	}
	if held, rec, err := db.AcquireAlertSender(ctx, "a", now, 10*time.Second); err != nil || !held || rec != 1 {
		t.Fatalf("first sender: held %v, recovered %d, %v", held, rec, err)
	}
	if held, _, _ := db.AcquireAlertSender(ctx, "b", now.Add(5*time.Second), 10*time.Second); held {
		t.Error("a second sender took a live lease")
	}
	if held, rec, _ := db.AcquireAlertSender(ctx, "a", now.Add(5*time.Second), 10*time.Second); !held || rec != 0 {
		t.Errorf("renewal: held %v, recovered %d", held, rec)
	}
	if s, err := db.CurrentAlertSender(ctx, now.Add(14*time.Second)); err != nil || s.Owner != "a" {
		t.Errorf("current sender = %+v, %v", s, err)
	}
	if _, err := db.CurrentAlertSender(ctx, now.Add(16*time.Second)); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired lease still counts: %v", err)
	}
	if held, _, _ := db.AcquireAlertSender(ctx, "b", now.Add(16*time.Second), 10*time.Second); !held {
		t.Error("expired lease not taken over")
	}
	unknown, _ := db.AlertDeliveries(ctx, disaster.ID, DeliveryUnknown)
	if len(unknown) != 1 || unknown[0].ID != next[2].ID {
		t.Errorf("unknown rows = %+v", unknown)
	}
	if err := db.ReleaseAlertSender(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CurrentAlertSender(ctx, now.Add(17*time.Second)); err != nil {
		t.Error("another owner's release freed the lease")
	}
	db.ReleaseAlertSender(ctx, "b")
	if _, err := db.CurrentAlertSender(ctx, now.Add(17*time.Second)); !errors.Is(err, ErrNotFound) {
		t.Error("release kept the lease")
	}

	// Cancelling marks the rest cancelled; a cancelled job cannot resume.
	if _, err := db.SetAlertJobStatus(ctx, notice.ID, JobCancelled); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetAlertJobStatus(ctx, notice.ID, JobRunning); !errors.Is(err, ErrJobState) {
		t.Errorf("resumed a cancelled job: %v", err)
	}
	if p, _ := db.AlertJobProgress(ctx, notice.ID, now); p.States[DeliveryCancelled] != 5 || p.Left != 0 {
		t.Errorf("cancelled job progress: %+v", p)
	}
	// The scheduled job can be cancelled before it starts.
	if _, err := db.SetAlertJobStatus(ctx, later.ID, JobCancelled); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.StartDueAlertJobs(ctx, now.Add(2*time.Hour)); len(s) != 0 {
		t.Error("a cancelled scheduled job started")
	}

	// Finish the disaster job and mark it done.
	now = now.Add(30 * time.Second)
	for _, d := range next[3:5] {
		db.ClaimAlertDelivery(ctx, d.ID)
		db.FinishAlertDelivery(ctx, d, DeliverySent, "")
	}
	if n, _ := db.FinishDrainedAlertJobs(ctx, now); n != 1 {
		t.Fatalf("finished %d jobs, want 1", n)
	}
	j, _ = db.AlertJob(ctx, disaster.ID)
	if j.Status != JobDone || !j.FinishedAt.Equal(now) {
		t.Errorf("disaster job = %s finished %v", j.Status, j.FinishedAt)
	}
	p, err := db.AlertJobProgress(ctx, disaster.ID, now)
	if err != nil || p.Sent != 3 || p.Failed != 2 || p.Left != 0 || p.Total != 5 {
		t.Errorf("progress = %+v, %v", p, err)
	}
	fails, _ := db.AlertJobFailures(ctx, disaster.ID)
	sort.Slice(fails, func(i, k int) bool { return fails[i].State < fails[k].State })
	if len(fails) != 2 || fails[0].State != DeliveryBlocked || fails[1].State != DeliveryUnknown {
		t.Errorf("failures = %+v", fails)
	}
	_ = keys
}

func TestCurrentAlertForEntryAndUnsubscribeAttribution(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	db := openTestDB(t, &now)
	ctx := context.Background()
	key := subscribe(t, db, "zalo", "9", "")
	v0 := db.AlertsVersion()
	old := newJob(t, db, AlertJob{Entries: []string{"vneid-lua-dao"}, ExpiresAt: now.Add(time.Hour)})
	newJob(t, db, AlertJob{}) // linked to no entry
	if js, _ := db.CurrentLinkedAlerts(ctx, now); len(js) != 0 {
		t.Errorf("alerts not yet sent are current: %+v", js)
	}
	db.StartDueAlertJobs(ctx, now)
	if db.AlertsVersion() == v0 {
		t.Error("starting jobs did not change the version")
	}
	now = now.Add(time.Minute)
	newer := newJob(t, db, AlertJob{Entries: []string{"a", "vneid-lua-dao"}, ExpiresAt: now.Add(48 * time.Hour)})
	db.StartDueAlertJobs(ctx, now)
	ids := func(at time.Time) string {
		js, err := db.CurrentLinkedAlerts(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, j := range js {
			out = append(out, fmt.Sprint(j.ID))
		}
		return fmt.Sprint(out)
	}
	if got, want := ids(now), fmt.Sprint([]string{fmt.Sprint(newer.ID), fmt.Sprint(old.ID)}); got != want {
		t.Errorf("current = %s, want %s (newest first)", got, want)
	}
	if got, want := ids(now.Add(2*time.Hour)), fmt.Sprint([]string{fmt.Sprint(newer.ID)}); got != want {
		t.Errorf("after the first expired: %s, want %s", got, want)
	}
	v := db.AlertsVersion()
	db.SetAlertJobStatus(ctx, newer.ID, JobPaused)
	if db.AlertsVersion() == v {
		t.Error("a status change did not change the version")
	}
	db.SetAlertJobStatus(ctx, newer.ID, JobRunning)
	_ = old
	// The resident received the newer alert, then said "dừng" within a day:
	// the unsubscribing is put down to that alert.
	ds, _ := db.AlertDeliveries(ctx, newer.ID, "")
	for _, d := range ds {
		db.ClaimAlertDelivery(ctx, d.ID)
		db.FinishAlertDelivery(ctx, d, DeliverySent, "")
	}
	now = now.Add(3 * time.Hour)
	if ok, _ := db.Unsubscribe(ctx, key); !ok {
		t.Fatal("unsubscribe failed")
	}
	if n, _ := db.AlertUnsubscribed(ctx, newer.ID); n[UnsubUser] != 1 {
		t.Errorf("unsubscribed by the newer alert: %v", n)
	}
	if n, _ := db.AlertUnsubscribed(ctx, old.ID); len(n) != 0 {
		t.Errorf("the older alert got the unsubscribing: %v", n)
	}
}

func TestTakeOverAlertSender(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	db := openTestDB(t, &now)
	ctx := context.Background()
	subscribe(t, db, "telegram", "1", "")
	j := newJob(t, db, AlertJob{})
	db.StartDueAlertJobs(ctx, now)
	ds, _ := db.AlertDeliveries(ctx, j.ID, "")
	db.AcquireAlertSender(ctx, "old", now, time.Hour)
	db.ClaimAlertDelivery(ctx, ds[0].ID)
	if held, _, _ := db.TakeOverAlertSender(ctx, "new", "someone else", now, time.Minute); held {
		t.Error("took over from an owner that does not hold the lease")
	}
	held, rec, err := db.TakeOverAlertSender(ctx, "new", "old", now, time.Minute)
	if err != nil || !held || rec != 1 {
		t.Fatalf("take over = %v, %d, %v", held, rec, err)
	}
	if s, _ := db.CurrentAlertSender(ctx, now); s.Owner != "new" {
		t.Errorf("holder = %q", s.Owner)
	}
}

func TestUnsubscribedBeforeSendingIsSkipped(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	db := openTestDB(t, &now)
	ctx := context.Background()
	stay := subscribe(t, db, "telegram", "1", "")
	leave := subscribe(t, db, "telegram", "2", "")
	if _, err := db.AddTeam(ctx, "Thôn Đông", "-5"); err != nil {
		t.Fatal(err)
	}
	j := newJob(t, db, AlertJob{Kind: AlertDisaster, Priority: 0})
	db.StartDueAlertJobs(ctx, now)
	db.Unsubscribe(ctx, leave)
	ds, _ := db.AlertDeliveries(ctx, j.ID, "")
	claimed := map[string]bool{}
	for _, d := range ds {
		ok, err := db.ClaimAlertDelivery(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		claimed[d.Recipient] = ok
	}
	if !claimed["user:"+stay] || claimed["user:"+leave] || !claimed["group:1"] {
		t.Errorf("claimed = %v", claimed)
	}
	skipped, _ := db.AlertDeliveries(ctx, j.ID, DeliverySkipped)
	if len(skipped) != 1 || skipped[0].UserKey != leave || skipped[0].Error == "" {
		t.Errorf("skipped = %+v", skipped)
	}
}
