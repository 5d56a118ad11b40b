package web

import (
	"sync"

	"github.com/colecommune/trolyso/bot/markup"
)

// renderCacheSize bounds the reply texts whose rendering is kept. Answers
// are the same text every time an entry is shown, so a small cache saves
// the Markdown parse on almost every reply.
const renderCacheSize = 4096

// renderCache keeps markup.HTML and markup.Plain of recent reply texts.
type renderCache struct {
	mu sync.RWMutex
	m  map[string]rendered
}

type rendered struct{ html, plain string }

func newRenderCache() *renderCache { return &renderCache{m: make(map[string]rendered)} }

// render returns the HTML and plain forms of the restricted Markdown md.
func (c *renderCache) render(md string) (html, plain string) {
	c.mu.RLock()
	r, ok := c.m[md]
	c.mu.RUnlock()
	if ok {
		return r.html, r.plain
	}
	r = rendered{html: markup.HTML(md), plain: markup.Plain(md)}
	if len(md) > 16<<10 {
		return r.html, r.plain // not worth keeping
	}
	c.mu.Lock()
	if len(c.m) >= renderCacheSize {
		clear(c.m) // simple and bounded; hot texts come back at once
	}
	c.m[md] = r
	c.mu.Unlock()
	return r.html, r.plain
}
