package handoff

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/storage"
)

const (
	// maxAttempts bounds the tries of a message the platform refused.
	maxAttempts = 5
	// sendTimeout bounds one send (the channel's own retries included).
	sendTimeout = 2 * time.Minute
	// batch is how many due messages one pass reads.
	batch = 20
	// maxMerged bounds the resident messages merged into one staff post.
	maxMerged = 10
	// sweepEvery is how often idle and unclaimed tickets are looked at.
	sweepEvery = time.Minute
)

// backoff is the wait before try n+1 of a refused message.
func backoff(attempts int) time.Duration {
	switch attempts {
	case 0, 1:
		return 30 * time.Second
	case 2:
		return 2 * time.Minute
	case 3:
		return 10 * time.Minute
	default:
		return 30 * time.Minute
	}
}

// AddSender registers the sender of a residents' channel (call before
// Run, after the channel is created).
func (d *Desk) AddSender(channel string, s bot.Sender) {
	d.mu.Lock()
	defer d.mu.Unlock()
	senders := make(map[string]bot.Sender, len(d.cfg.Senders)+1)
	for k, v := range d.cfg.Senders {
		senders[k] = v
	}
	senders[channel] = s
	d.cfg.Senders = senders
}

func (d *Desk) sender(channel string) bot.Sender {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg.Senders[channel]
}

// Run delivers queued messages and closes idle tickets and reposts
// unclaimed ones (every minute) until ctx ends. Messages left being sent by
// a previous run are reported to staff first, not sent again.
func (d *Desk) Run(ctx context.Context) error {
	if err := d.Recover(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	for _, target := range []string{storage.TargetResident, storage.TargetStaff} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.worker(ctx, target)
		}()
	}
	defer wg.Wait()
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		if err := d.Sweep(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("handoff: sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// worker sends target's due messages, sleeping until the next is due or
// new ones are queued.
func (d *Desk) worker(ctx context.Context, target string) {
	for ctx.Err() == nil {
		n, err := d.Deliver(ctx, target)
		if err != nil && ctx.Err() == nil {
			d.log.Error("handoff: deliver", "target", target, "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		wait := sweepEvery
		if next, err := d.store.NextOutboxDue(ctx, target); err == nil && !next.IsZero() {
			wait = min(wait, max(next.Sub(d.now()), time.Second))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-d.kick[target]:
		case <-t.C:
		}
		t.Stop()
	}
}

// Recover reports the messages a stopped run left being sent: they become
// "possibly sent" and staff are told about the answers among them. The
// messages waiting for a retry are tried at once.
func (d *Desk) Recover(ctx context.Context) error {
	lost, err := d.store.MarkOutboxInterrupted(ctx)
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	if n, err := d.store.RetryNow(ctx); err != nil {
		return fmt.Errorf("handoff: %w", err)
	} else if n > 0 {
		d.log.Info("handoff: messages saved before the restart are sent now", "count", n)
	}
	for _, o := range lost {
		d.log.Warn("handoff: a message was being sent when the server stopped; reported as possibly sent, not sent again",
			"ticket", o.TicketID, "outbox", o.ID, "target", o.Target, "kind", o.Kind)
		if o.Target == storage.TargetResident && o.Kind == storage.OutboxReply {
			d.tellStaff(ctx, o, storage.DeliveryUnknown)
		}
	}
	return nil
}

// Deliver sends target's messages due now, one pass; it returns how many
// it tried. Stopping ctx lets the send in progress finish (bounded).
func (d *Desk) Deliver(ctx context.Context, target string) (int, error) {
	items, err := d.store.DueOutbox(ctx, target, d.now(), batch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range items {
		if ctx.Err() != nil {
			break
		}
		var err error
		if target == storage.TargetResident {
			err = d.sendResident(ctx, o)
		} else {
			err = d.sendStaff(ctx, o)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// maybeSent reports a failure after which the message may have arrived:
// bot.ErrMaybeSent from the channel, a network error once the request was
// on its way (anything but failing to connect), or a timeout. Error answers of the platform are not: it
// answered, and did not send.
func maybeSent(err error) bool {
	if errors.Is(err, bot.ErrMaybeSent) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		return false
	}
	var op *net.OpError
	return !(errors.As(err, &op) && op.Op == "dial")
}

// outcome classifies a send error: the state to record and, for a refusal
// worth trying again, when.
func (d *Desk) outcome(o storage.OutboxItem, err error) (state string, retryAt time.Time) {
	switch {
	case err == nil:
		return storage.DeliverySent, time.Time{}
	case errors.Is(err, bot.ErrBlocked):
		return storage.DeliveryBlocked, time.Time{}
	case errors.Is(err, bot.ErrUndeliverable):
		return storage.DeliveryUndeliverable, time.Time{}
	case maybeSent(err):
		return storage.DeliveryUnknown, time.Time{}
	case o.Attempts+1 >= maxAttempts:
		return storage.DeliveryFailed, time.Time{}
	default:
		return storage.DeliveryPending, d.now().Add(backoff(o.Attempts + 1))
	}
}

// sendCtx bounds one send; it survives the stop of ctx so that a send in
// progress at shutdown is finished and recorded.
func sendCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
}

// sendResident delivers one message to a resident.
func (d *Desk) sendResident(ctx context.Context, o storage.OutboxItem) error {
	sender := d.sender(o.Channel)
	channel, addr, aerr := d.store.Address(ctx, o.UserKey)
	if aerr != nil && !errors.Is(aerr, storage.ErrNotFound) {
		return aerr
	}
	ok, err := d.store.ClaimOutbox(ctx, o.ID)
	if err != nil || !ok {
		return err
	}
	var state, errText string
	var retryAt time.Time
	switch {
	case sender == nil:
		state, errText = storage.DeliveryPending, "channel "+o.Channel+" is not running"
		retryAt = d.now().Add(backoff(o.Attempts + 1))
		if o.Attempts+1 >= maxAttempts {
			state, retryAt = storage.DeliveryFailed, time.Time{}
		}
	case aerr != nil || channel != o.Channel:
		state, errText = storage.DeliveryUndeliverable, "no delivery address on "+o.Channel
	default:
		sctx, cancel := sendCtx(ctx)
		err := sender.SendTo(sctx, addr, bot.Reply{Band: Band, Text: o.Text, Buttons: decodeButtons(o.Buttons)})
		cancel()
		state, retryAt = d.outcome(o, err)
		if err != nil {
			errText = privacy.Redact(err.Error())
		}
	}
	if err := d.store.FinishOutbox(context.WithoutCancel(ctx), o.ID, state, errText, retryAt); err != nil {
		return err
	}
	switch state {
	case storage.DeliverySent:
		d.log.Info("handoff: delivered to the resident", "ticket", o.TicketID, "kind", o.Kind, "channel", o.Channel)
		return nil
	case storage.DeliveryPending:
		d.log.Warn("handoff: delivery refused; will try again", "ticket", o.TicketID, "outbox", o.ID, "at", retryAt.Format(time.RFC3339), "err", errText)
		return nil
	case storage.DeliveryBlocked:
		if err := d.store.SetActive(context.WithoutCancel(ctx), o.UserKey, false); err != nil && !errors.Is(err, storage.ErrNotFound) {
			d.log.Error("handoff: mark blocked user inactive", "err", err)
		}
	}
	d.log.Warn("handoff: message not delivered to the resident", "ticket", o.TicketID, "outbox", o.ID, "state", state, "err", errText)
	if o.Kind == storage.OutboxReply {
		d.tellStaff(ctx, o, state)
	}
	return nil
}

// tellStaff posts, in the staff group, that an answer did not reach the
// resident and what to do.
func (d *Desk) tellStaff(ctx context.Context, o storage.OutboxItem, state string) {
	if d.staffChat() == nil {
		return
	}
	key := state
	if state == storage.DeliveryUndeliverable && o.Channel == bot.ChannelZalo {
		key = "undeliverable-zalo"
	}
	what, ok := problemTexts[key]
	if !ok {
		return
	}
	err := d.store.Enqueue(context.WithoutCancel(ctx), o.TicketID, []storage.NewOutbox{{Target: storage.TargetStaff, Channel: bot.ChannelTelegram,
		Kind: storage.OutboxPost, Text: fmt.Sprintf(textStaffLost, o.TicketID, what)}})
	if err != nil {
		d.log.Error("handoff: queue a note to staff", "err", err)
		return
	}
	d.wake(storage.TargetStaff)
}

// ProblemText explains to staff why an answer did not reach the resident
// ("" for a delivered or waiting one).
func ProblemText(state, channel string) string {
	if state == storage.DeliveryUndeliverable && channel == bot.ChannelZalo {
		state = "undeliverable-zalo"
	}
	return problemTexts[state]
}

// sendStaff delivers one message to the staff group: a ticket's card, a
// post (consecutive posts of a ticket are merged), or a card update.
func (d *Desk) sendStaff(ctx context.Context, o storage.OutboxItem) error {
	chat := d.staffChat()
	items := []storage.OutboxItem{o}
	if o.Kind == storage.OutboxPost {
		more, err := d.store.TicketOutbox(ctx, o.TicketID)
		if err != nil {
			return err
		}
		size := len(o.Text)
		for _, m := range more {
			if m.ID <= o.ID || m.Target != storage.TargetStaff || m.State != storage.DeliveryPending {
				continue
			}
			if m.Kind != storage.OutboxPost || len(items) >= maxMerged || size+len(m.Text) > 3500 {
				break
			}
			items = append(items, m)
			size += len(m.Text)
		}
	}
	claimed := items[:0]
	for _, it := range items {
		ok, err := d.store.ClaimOutbox(ctx, it.ID)
		if err != nil {
			return err
		}
		if ok {
			claimed = append(claimed, it)
		}
	}
	if len(claimed) == 0 {
		return nil
	}
	items = claimed
	var err error
	card := false
	var reply bot.Reply
	replyTo := ""
	if chat != nil {
		switch o.Kind {
		case storage.OutboxCard:
			var t storage.Ticket
			if t, err = d.store.Ticket(ctx, o.TicketID); err == nil {
				reply, err = d.card(ctx, t, o.Text == "repost")
			}
			card = true
		case storage.OutboxEdit:
			var t storage.Ticket
			if t, err = d.store.Ticket(ctx, o.TicketID); err == nil && t.CardPost != "" {
				sctx, cancel := sendCtx(ctx)
				err = chat.SetButtons(sctx, t.CardPost, cardButtons(t))
				cancel()
			}
		default:
			texts := make([]string, len(items))
			for i, it := range items {
				texts[i] = it.Text
			}
			reply = bot.Reply{Band: Band, Text: strings.Join(texts, "\n\n")}
			replyTo = o.CardPost
		}
	}
	var postID string
	if chat != nil && err == nil && o.Kind != storage.OutboxEdit {
		sctx, cancel := sendCtx(ctx)
		postID, err = chat.Post(sctx, reply, replyTo)
		cancel()
	}
	var state, errText string
	var retryAt time.Time
	switch {
	case chat == nil:
		state, errText = storage.DeliveryFailed, "no staff group configured"
	default:
		state, retryAt = d.outcome(o, err)
		if err != nil {
			errText = privacy.Redact(err.Error())
		}
	}
	if state == storage.DeliverySent && postID != "" {
		if err := d.store.AddTicketPost(context.WithoutCancel(ctx), o.TicketID, postID, card); err != nil {
			d.log.Error("handoff: record the staff-group post", "ticket", o.TicketID, "err", err)
		}
	}
	if state == storage.DeliveryBlocked {
		d.StaffChatState(context.WithoutCancel(ctx), false)
	}
	if state != storage.DeliverySent && state != storage.DeliveryPending {
		d.log.Warn("handoff: staff-group message not delivered", "ticket", o.TicketID, "kind", o.Kind, "state", state, "err", errText)
	}
	for _, it := range items {
		if err := d.store.FinishOutbox(context.WithoutCancel(ctx), it.ID, state, errText, retryAt); err != nil {
			return err
		}
	}
	return nil
}

// Sweep closes the tickets idle for the idle time (telling the resident)
// and posts once more the unclaimed ones older than the repost delay in
// working hours.
func (d *Desk) Sweep(ctx context.Context) error {
	now := d.now()
	var errs []error
	idle, err := d.store.IdleTickets(ctx, now.Add(-d.cfg.Idle))
	if err != nil {
		errs = append(errs, err)
	}
	for _, t := range idle {
		if _, err := d.closeIdle(ctx, t, true); err != nil && !errors.Is(err, storage.ErrTicketClosed) {
			errs = append(errs, err)
		}
	}
	if d.staffChat() == nil {
		return errors.Join(errs...)
	}
	ts, err := d.store.RepostCandidates(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	h := d.Hours()
	for _, t := range ts {
		if h.Elapsed(t.CreatedAt, now) < d.cfg.Repost {
			continue
		}
		ok, err := d.store.MarkReposted(ctx, t.ID, []storage.NewOutbox{{Target: storage.TargetStaff, Channel: bot.ChannelTelegram, Kind: storage.OutboxCard, Text: "repost"}})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			d.log.Info("handoff: unclaimed ticket posted again", "ticket", t.ID)
			d.wake(storage.TargetStaff)
		}
	}
	return errors.Join(errs...)
}
