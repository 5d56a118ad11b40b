package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/colecommune/trolyso/knowledge"
)

// reviewPage is "Cần rà soát": the knowledge-base entries whose review
// date has passed or is at most knowledge.ReviewWarnDays away, with their
// sources as links to check the answers against.
type reviewPage struct {
	page
	Today    time.Time
	WarnDays int
	Rows     []reviewRow
	Overdue  int
	// Next is the earliest review date after the listed ones (zero when
	// every entry is listed or there are none).
	Next      time.Time
	NextTitle string
}

type reviewRow struct {
	*knowledge.Entry
	Days  int // to the review date: 0 on the day, negative once passed
	Links []sourceLink
}

// sourceLink is a source URL with a short text to show for it.
type sourceLink struct{ URL, Text string }

// maxLinkText bounds the shown text of a source link (the link itself is
// the full URL, also in its title).
const maxLinkText = 60

func sourceLinks(urls []string) []sourceLink {
	out := make([]sourceLink, 0, len(urls))
	for _, u := range urls {
		text := strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
		text = strings.TrimPrefix(text, "www.")
		if r := []rune(text); len(r) > maxLinkText {
			text = string(r[:maxLinkText-1]) + "…"
		}
		out = append(out, sourceLink{URL: u, Text: text})
	}
	return out
}

func (r reviewRow) Overdue() bool { return r.Days < 0 }
func (r reviewRow) Late() int     { return -r.Days }

// today is the dashboard's current day in Vietnamese time.
func (h *Handler) today() time.Time { return h.now().In(h.loc) }

// reviewCount is how many entries the navigation's "Cần rà soát" link
// counts.
func (h *Handler) reviewCount() int {
	if b := h.kb(); b != nil {
		return len(b.NeedsReview(h.today()))
	}
	return 0
}

func (h *Handler) review(w http.ResponseWriter, r *http.Request) {
	p := reviewPage{page: h.basePage(r, "Cần rà soát", "review"), Today: h.today(), WarnDays: knowledge.ReviewWarnDays}
	if b := h.kb(); b != nil {
		listed := map[string]bool{}
		for _, rv := range b.NeedsReview(p.Today) {
			p.Rows = append(p.Rows, reviewRow{Entry: rv.Entry, Days: rv.Days, Links: sourceLinks(rv.Entry.Sources)})
			listed[rv.Entry.ID] = true
			if rv.Overdue() {
				p.Overdue++
			}
		}
		for _, e := range b.Entries {
			if !listed[e.ID] && !e.ReviewBy.IsZero() && (p.Next.IsZero() || e.ReviewBy.Before(p.Next)) {
				p.Next, p.NextTitle = e.ReviewBy, e.Title
			}
		}
	}
	h.render(w, http.StatusOK, "review", p)
}
