package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/colecommune/trolyso/bot/admin"
	"github.com/colecommune/trolyso/storage"
)

// Entries published from the dashboard are written into the publishing
// instance's TROLYSO_KB folder and recorded in the database
// (kb_publishes). Every instance follows that log: on PostgreSQL it is
// told at once (LISTEN/NOTIFY on storage.KnowledgeChannel), and it checks
// every minute anyway (a notification missed while reconnecting, an
// instance that was down); it writes the published files its folder lacks
// and reloads. So every instance answers from the same base. In a
// province an entry is published into a commune's own folder and logged
// in that commune's store; instances follow every commune's log and write
// into their own copy of that commune's folder (followCommunePublishes).

// followPublishes keeps this instance's knowledge-base folder in step
// with the publish log until ctx ends.
func (s *server) followPublishes(ctx context.Context) error {
	if s.province() {
		return s.followCommunePublishes(ctx)
	}
	if s.cfg.KBDir == "" {
		return nil
	}
	var last int64
	poll := time.Minute
	if s.db.Backend() == "sqlite" {
		poll = 2 * time.Second
	}
	return s.db.Listen(ctx, storage.KnowledgeChannel, poll, func() {
		ps, err := s.db.PublishesAfter(ctx, last)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("knowledge base: read the publish log", "err", err)
			}
			return
		}
		changed := 0
		for _, p := range ps {
			last = p.ID
			if wrote, err := s.writePublished(p); err != nil {
				s.log.Error("knowledge base: write a published entry", "file", p.File, "err", err)
			} else if wrote {
				changed++
			}
		}
		if changed > 0 {
			s.reload(ctx, "entry published on another instance", false)
		}
	})
}

// writePublished writes a published file into the folder unless it is
// already there as published (the instance that published it, or a
// folder shared by every instance) or the file there is newer.
func (s *server) writePublished(p storage.Publish) (bool, error) {
	return writePublishedInto(s.cfg.KBDir, p, false)
}

// writePublishedInto writes a published file into dir (see
// writePublished); flat (a commune's folder) takes plain file names only
// and creates dir when needed.
func writePublishedInto(dir string, p storage.Publish, flat bool) (bool, error) {
	if !filepath.IsLocal(filepath.FromSlash(p.File)) || !strings.HasSuffix(p.File, ".md") || flat && !admin.OverlayFileName(p.File) {
		return false, errors.New("not a file of the base")
	}
	full := filepath.Join(dir, filepath.FromSlash(p.File))
	cur, err := os.ReadFile(full)
	if err == nil && bytes.Equal(cur, []byte(p.Content)) {
		return false, nil
	}
	// A file changed on this machine after the publish (edited by hand)
	// is left alone.
	if fi, serr := os.Stat(full); serr == nil && fi.ModTime().After(p.CreatedAt) {
		return false, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return false, err
	}
	tmp := full + ".sync.tmp"
	if err := os.WriteFile(tmp, []byte(p.Content), 0o644); err != nil {
		return false, err
	}
	return true, os.Rename(tmp, full)
}

// followCommunePublishes is followPublishes for a province: entries are
// published into a commune's own folder and logged in the commune's store
// (whose kb_publishes holds that commune's publishes only); one listener
// for every commune (NOTIFY is database-wide), then each commune's log
// is read, its new files written into its folder on this machine, and
// that commune alone reloaded.
func (s *server) followCommunePublishes(ctx context.Context) error {
	last := make(map[string]int64, len(s.communes))
	poll := time.Minute
	if s.db.Backend() == "sqlite" {
		poll = 2 * time.Second
	}
	return s.db.Listen(ctx, storage.KnowledgeChannel, poll, func() {
		for _, c := range s.communes {
			ps, err := c.db.PublishesAfter(ctx, last[c.slug])
			if err != nil {
				if ctx.Err() == nil {
					s.log.Error("knowledge base: read the publish log", "commune", c.slug, "err", err)
				}
				continue
			}
			changed := 0
			for _, p := range ps {
				last[c.slug] = p.ID
				if wrote, err := writePublishedInto(c.overlay, p, true); err != nil {
					s.log.Error("knowledge base: write a published entry", "commune", c.slug, "file", p.File, "err", err)
				} else if wrote {
					changed++
				}
			}
			if changed > 0 {
				if err := s.reloadCommune(ctx, c); err != nil && ctx.Err() == nil {
					s.log.Error("knowledge base: reload a commune after a publish on another instance; keeping its previous layer", "commune", c.slug, "err", err)
				}
			}
		}
	})
}
