// Package alerts holds the ready-made alert templates: Markdown files with
// YAML front matter in the format package bot/alert reads (see
// alert.Spec), written from sourced facts (each lists its sources).
// Copy one, adjust it, and send it with `trolyso alert send --file`, or
// pick it on the dashboard's /admin/thongbao page.
package alerts

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.md
var files embed.FS

// Names lists the templates (file names without ".md"), sorted.
func Names() []string {
	ms, _ := fs.Glob(files, "*.md")
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, strings.TrimSuffix(m, ".md"))
	}
	sort.Strings(out)
	return out
}

// Read returns the file of a template.
func Read(name string) ([]byte, error) {
	return files.ReadFile(name + ".md")
}
