package bot

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/colecommune/trolyso/knowledge/vi"
	"github.com/colecommune/trolyso/storage"
)

// Handler answers a channel's messages: an Engine (one commune), or a
// Router sending each resident to their commune's engine (one bot for a
// province).
type Handler interface {
	Handle(ctx context.Context, m Message) Reply
	Welcome() Reply
	Observer() Observer
}

var (
	_ Handler = (*Engine)(nil)
	_ Handler = (*Router)(nil)
)

// RouteCommune is one commune a Router serves.
type RouteCommune struct {
	Slug string
	// Name is how residents know it ("xã Cổ Lễ", "phường Hoa Lư").
	Name   string
	Engine *Engine
}

// Router is the province's bot: a resident chooses their commune once
// (type a few letters of its name, tap it), the choice is kept in the
// province's store, and from then on their messages go to that commune's
// engine. /doixa changes it. Nothing is kept in memory between messages,
// so any number of instances may serve the same residents.
type Router struct {
	store    *storage.DB
	communes []RouteCommune
	bySlug   map[string]RouteCommune
	obs      Observer
	log      *slog.Logger
	now      func() time.Time
}

// ChooseCommunePayload prefixes the payload of a commune button.
const ChooseCommunePayload = "xa"

// maxCommuneButtons bounds the communes offered at once.
const maxCommuneButtons = 8

// NewRouter returns the router of a province's communes (the store is
// the province's default store, which keeps residents' choices).
func NewRouter(store *storage.DB, communes []RouteCommune, obs Observer, log *slog.Logger, now func() time.Time) *Router {
	r := &Router{store: store, bySlug: map[string]RouteCommune{}, obs: obs, log: log, now: now}
	if r.obs == nil {
		r.obs = NopObserver{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.communes = append(r.communes, communes...)
	sort.Slice(r.communes, func(i, j int) bool { return r.communes[i].Slug < r.communes[j].Slug })
	for _, c := range r.communes {
		r.bySlug[c.Slug] = c
	}
	return r
}

// Observer returns where monitoring events go.
func (r *Router) Observer() Observer { return r.obs }

// Welcome asks a resident to choose their commune.
func (r *Router) Welcome() Reply {
	return Reply{Band: BandMenu, Text: textChooseCommune}
}

// Handle routes one message.
func (r *Router) Handle(ctx context.Context, m Message) (reply Reply) {
	if m.Time.IsZero() {
		m.Time = r.now()
	}
	routed := false
	start := time.Now()
	defer func() {
		if !routed {
			r.obs.Handled(m, reply, time.Since(start))
		}
	}()
	if slug, ok := strings.CutPrefix(m.Payload, ChooseCommunePayload+":"); ok {
		c, known := r.bySlug[slug]
		if !known {
			return r.Welcome()
		}
		if err := r.store.SetResidentCommune(ctx, m.UserKey, slug); err != nil {
			r.log.Error("router: store the commune chosen", "err", err)
			return Reply{Band: BandRefused, Text: textError}
		}
		// The commune's reminders and alerts reach residents at the
		// address the channel gave (a private chat, never a group).
		if a, ok := DeliveryAddressFrom(ctx); ok && !a.Group && !m.Group {
			if err := c.Engine.store.SetAddress(ctx, a.Channel, m.UserKey, a.Address); err != nil {
				r.log.Error("router: store the delivery address in the commune", "err", err)
			}
		}
		w := c.Engine.Welcome()
		w.Text = "Đã chọn **" + c.Name + "**. Bạn đổi xã bất cứ lúc nào bằng lệnh /doixa.\n\n" + w.Text
		return w
	}
	text := cleanText(m.Text)
	word := commandWord(text)
	if word == "doixa" {
		if err := r.store.StartChoosingCommune(ctx, m.UserKey); err != nil {
			r.log.Error("router: start choosing a commune", "err", err)
			return Reply{Band: BandRefused, Text: textError}
		}
		return Reply{Band: BandMenu, Text: textChangeCommune}
	}
	rc, err := r.store.ResidentCommune(ctx, m.UserKey)
	if err != nil {
		r.log.Error("router: read the resident's commune", "err", err)
		return Reply{Band: BandRefused, Text: textError}
	}
	c, known := r.bySlug[rc.Commune]
	if known && !rc.Choosing {
		routed = true
		return c.Engine.Handle(ctx, m)
	}
	if m.Payload != "" || text == "" || word != "" {
		return r.Welcome()
	}
	return r.search(text)
}

// search offers the communes whose name contains what the resident typed
// (without diacritics, any case): names starting with it first.
func (r *Router) search(text string) Reply {
	if searchKey(text) == "" {
		return r.Welcome()
	}
	found := MatchCommunes(r.communes, text)
	if len(found) == 0 {
		return Reply{Band: BandMenu, Text: textNoCommune}
	}
	var rows [][]Button
	for _, c := range found[:min(len(found), maxCommuneButtons)] {
		rows = append(rows, []Button{{Label: c.Name, Payload: ChooseCommunePayload + ":" + c.Slug}})
	}
	t := textPickCommune
	if len(found) > maxCommuneButtons {
		t = textPickCommuneMore
	}
	return Reply{Band: BandMenu, Text: t, Buttons: rows}
}

// MatchCommunes returns the communes whose name contains q (without
// diacritics, any case, "xã"/"phường" ignored), those starting with it
// first; all of them, in order, for an empty q.
func MatchCommunes(cs []RouteCommune, q string) []RouteCommune {
	key := searchKey(q)
	if key == "" {
		return cs
	}
	var first, rest []RouteCommune
	for _, c := range cs {
		k := searchKey(c.Name)
		switch {
		case strings.HasPrefix(k, key):
			first = append(first, c)
		case strings.Contains(k, key):
			rest = append(rest, c)
		}
	}
	return append(first, rest...)
}

// searchKey folds a commune name or a query for matching: no diacritics,
// lower case, without the words "xã", "phường", "thị trấn".
func searchKey(s string) string {
	f := vi.Fold(s)
	for _, p := range []string{"thi tran ", "phuong ", "xa "} {
		f = strings.TrimPrefix(f, p)
	}
	return strings.TrimSpace(f)
}

// commandWord returns the command of a "/word args" text, lower case and
// without a bot name ("/doixa@trolyso_bot"); "" for other text.
func commandWord(text string) string {
	if !strings.HasPrefix(text, "/") {
		return ""
	}
	w := text[1:]
	if i := strings.IndexFunc(w, unicode.IsSpace); i >= 0 {
		w = w[:i]
	}
	w, _, _ = strings.Cut(w, "@")
	return strings.ToLower(w)
}

// Texts of the commune choice.
const (
	textChooseCommune   = "Chào bạn! Trợ lý số phục vụ các xã, phường của tỉnh. Bạn ở **xã/phường nào**? Hãy gõ vài chữ trong tên (ví dụ: cổ lễ), rồi chọn xã của bạn."
	textChangeCommune   = "Bạn muốn chuyển sang xã/phường nào? Hãy gõ vài chữ trong tên xã (ví dụ: cổ lễ)."
	textNoCommune       = "Chưa tìm thấy xã/phường nào có tên như vậy. Bạn gõ lại vài chữ trong tên xã nhé (ví dụ: cổ lễ)."
	textPickCommune     = "Bạn chọn xã/phường của mình:"
	textPickCommuneMore = "Có nhiều xã/phường trùng tên. Bạn chọn xã của mình, hoặc gõ thêm chữ để thu hẹp:"
)
