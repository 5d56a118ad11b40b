package main

import (
	"context"

	"github.com/colecommune/trolyso/bot/admin"
)

// mountAdmin mounts the admin dashboard at /admin when TROLYSO_ADMIN_PASSWORD
// or TROLYSO_ADMIN_PASSWORD_HASH is set; otherwise /admin answers 404.
func mountAdmin(ctx context.Context, s *server) error {
	if s.province() {
		var boards []admin.CommuneDashboard
		for _, c := range s.communes {
			boards = append(boards, admin.CommuneDashboard{Slug: c.slug, Name: c.name, Store: c.db, Base: c.eng.Base, Desk: c.desk,
				Overlay: c.overlay, Reload: func() error { return s.reloadCommune(s.ctx, c) }})
		}
		p, err := admin.NewProvince(admin.ProvinceConfig{Store: s.db, Communes: boards, Logger: s.log, Now: s.a.now, TrustedProxies: s.cfg.TrustedProxies})
		if err != nil {
			return err
		}
		p.Routes(s.mux)
		s.log.Info("province dashboard enabled: accounts from `trolyso admin add`", "path", "/admin/", "communes", len(boards))
		return nil
	}
	if s.cfg.AdminPassword == "" && s.cfg.AdminPasswordHash == "" {
		admin.Off(s.mux)
		s.log.Info("admin dashboard off: set TROLYSO_ADMIN_PASSWORD or TROLYSO_ADMIN_PASSWORD_HASH to enable /admin")
		return nil
	}
	h, err := admin.New(admin.Config{
		Store:          s.db,
		Base:           s.eng.Base,
		Logger:         s.log,
		Password:       s.cfg.AdminPassword,
		PasswordHash:   s.cfg.AdminPasswordHash,
		Now:            s.a.now,
		TrustedProxies: s.cfg.TrustedProxies,
		Desk:           s.desk,
		KBDir:          s.cfg.KBDir,
		Reload:         s.reloadNow,
	})
	if err != nil {
		return err
	}
	h.Routes(s.mux)
	s.log.Info("admin dashboard enabled", "path", "/admin/")
	return nil
}
