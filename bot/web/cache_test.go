package web

import (
	"fmt"
	"testing"

	"github.com/colecommune/trolyso/bot/markup"
)

func TestRenderCacheMatchesMarkupAndIsBounded(t *testing.T) {
	c := newRenderCache()
	for _, md := range []string{"**Đậm** và [liên kết](https://dichvucong.gov.vn)", "<script>alert(1)</script>", "1. một\n2. hai", ""} {
		for i := 0; i < 2; i++ { // miss, then hit
			html, plain := c.render(md)
			if html != markup.HTML(md) || plain != markup.Plain(md) {
				t.Errorf("render(%q) = %q, %q", md, html, plain)
			}
		}
	}
	for i := 0; i < 3*renderCacheSize; i++ {
		c.render(fmt.Sprint("câu ", i))
	}
	if len(c.m) > renderCacheSize {
		t.Errorf("cache holds %d texts, bound %d", len(c.m), renderCacheSize)
	}
}
