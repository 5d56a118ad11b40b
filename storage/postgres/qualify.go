package postgres

import (
	"regexp"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// A commune's queries name its tables with its schema ("xa_co_le".users)
// instead of switching the connection's search_path, which would cost a
// round trip whenever consecutive queries on a pooled connection belong
// to different communes. qualify rewrites the table names that follow
// FROM, JOIN, INTO and UPDATE, for the tables of the migrations; schema
// changes (CREATE, ALTER, DROP…) are left to the search_path.

// tables are the names the migrations create, and schema_migrations.
var tables = func() map[string]bool {
	m := map[string]bool{"schema_migrations": true}
	ms, err := List()
	if err != nil {
		return m
	}
	re := regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)`)
	for _, mg := range ms {
		for _, x := range re.FindAllStringSubmatch(mg.SQL, -1) {
			m[strings.ToLower(x[1])] = true
		}
	}
	return m
}()

// template is a query cut where a schema goes.
type template struct {
	parts []string // text between the places
	ok    bool     // false: not a query qualify handles (DDL)
}

var templates sync.Map // query -> *template

// qualify returns query with its tables in schema, false when the query
// must run with the schema as search_path instead.
func qualify(query, schema string) (string, bool) {
	v, found := templates.Load(query)
	if !found {
		v, _ = templates.LoadOrStore(query, cut(query))
	}
	t := v.(*template)
	if !t.ok {
		return query, false
	}
	if len(t.parts) == 1 {
		return query, true
	}
	q := pgx.Identifier{schema}.Sanitize() + "."
	var b strings.Builder
	b.Grow(len(query) + len(t.parts)*len(q))
	for i, p := range t.parts {
		if i > 0 {
			b.WriteString(q)
		}
		b.WriteString(p)
	}
	return b.String(), true
}

func isWord(ch byte) bool {
	return ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9'
}

// cut finds where the schema goes in query.
func cut(query string) *template {
	first := strings.ToUpper(strings.TrimSpace(query))
	for _, ddl := range []string{"CREATE", "ALTER", "DROP", "SET", "RESET", "LISTEN", "COMMENT", "TRUNCATE"} {
		if strings.HasPrefix(first, ddl) {
			return &template{}
		}
	}
	t := &template{ok: true}
	last := 0
	expect := false // the previous word was FROM, JOIN, INTO or UPDATE
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch {
		case ch == '\'' || ch == '"':
			j := i + 1
			for j < len(query) && !(query[j] == ch && (j+1 >= len(query) || query[j+1] != ch)) {
				if query[j] == ch {
					j++
				}
				j++
			}
			i = j
			expect = false
		case ch == '-' && i+1 < len(query) && query[i+1] == '-':
			if j := strings.IndexByte(query[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(query)
			}
		case isWord(ch) && (i == 0 || !isWord(query[i-1])):
			j := i
			for j < len(query) && isWord(query[j]) {
				j++
			}
			w := query[i:j]
			dotted := (i > 0 && query[i-1] == '.') || (j < len(query) && query[j] == '.')
			if expect && !dotted && tables[strings.ToLower(w)] {
				t.parts = append(t.parts, query[last:i])
				last = i
			}
			switch strings.ToUpper(w) {
			case "FROM", "JOIN", "INTO", "UPDATE":
				expect = true
			default:
				expect = false
			}
			i = j - 1
		case ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r':
		default:
			expect = false
		}
	}
	t.parts = append(t.parts, query[last:])
	return t
}
