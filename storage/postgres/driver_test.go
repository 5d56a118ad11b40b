package postgres

import "testing"

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		{`SELECT ?1, ?2, ?1`, `SELECT $1, $2, $1`},
		{`SELECT '?' , ?`, `SELECT '?' , $1`},
		{`SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{`SELECT "a?b" FROM t WHERE x = ?`, `SELECT "a?b" FROM t WHERE x = $1`},
		{"SELECT ? -- what?\n, ?", "SELECT $1 -- what?\n, $2"},
		{`LIMIT ?3`, `LIMIT $3`},
	} {
		if got := Rebind(tc.in); got != tc.want {
			t.Errorf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:secret@h:5432/db":     "postgres://u:xxxxx@h:5432/db",
		"postgres://u@h/db":                 "postgres://u@h/db",
		"postgresql://h/db?sslmode=disable": "postgresql://h/db?sslmode=disable",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMigrationsAreNumberedOnce(t *testing.T) {
	ms, err := List()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no migrations embedded")
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version <= ms[i-1].Version {
			t.Errorf("%s after %s", ms[i].Name, ms[i-1].Name)
		}
	}
}

func TestQualify(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT e.id FROM exchanges e JOIN users u ON u.id = e.user_id WHERE e.id = ?`,
			`SELECT e.id FROM "xa_a".exchanges e JOIN "xa_a".users u ON u.id = e.user_id WHERE e.id = ?`},
		{`INSERT INTO users(key) VALUES (?) ON CONFLICT(key) DO UPDATE SET active = users.active`,
			`INSERT INTO "xa_a".users(key) VALUES (?) ON CONFLICT(key) DO UPDATE SET active = users.active`},
		{`UPDATE alert_jobs SET n = (SELECT count(*) FROM alert_deliveries d WHERE d.job_id = alert_jobs.id)`,
			`UPDATE "xa_a".alert_jobs SET n = (SELECT count(*) FROM "xa_a".alert_deliveries d WHERE d.job_id = alert_jobs.id)`},
		{`DELETE FROM pending_states WHERE user_key = 'FROM users'`, `DELETE FROM "xa_a".pending_states WHERE user_key = 'FROM users'`},
		{`SELECT nspname FROM pg_namespace`, `SELECT nspname FROM pg_namespace`},
		{`SELECT x FROM public.users`, `SELECT x FROM public.users`},
		{"SELECT a -- FROM users\nFROM settings", "SELECT a -- FROM users\nFROM \"xa_a\".settings"},
	} {
		got, ok := qualify(tc.in, "xa_a")
		if !ok || got != tc.want {
			t.Errorf("qualify(%q) = %q %v, want %q", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := qualify(`CREATE TABLE users (id INT)`, "xa_a"); ok {
		t.Error("DDL was qualified")
	}
}
