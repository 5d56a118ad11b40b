// Package knowledge holds the curated knowledge base: entries parsed from
// Markdown files with YAML front matter, the commune profile they render,
// validation, and the retrieval index that matches residents' questions.
package knowledge

import (
	"time"
)

// Categories are the topic groups of the bot's menu, in menu order.
var Categories = []Category{
	{ID: "vneid", Label: "VNeID"},
	{ID: "dvc", Label: "Dịch vụ công trực tuyến"},
	{ID: "cks", Label: "Chữ ký số"},
	{ID: "can-cuoc", Label: "Căn cước"},
	{ID: "to-cns", Label: "Tổ công nghệ số"},
	{ID: "lien-he", Label: "Liên hệ xã"},
}

// Category is one group of the topic menu.
type Category struct {
	ID    string
	Label string
}

// CategoryByID returns the category with the given id.
func CategoryByID(id string) (Category, bool) {
	for _, c := range Categories {
		if c.ID == id {
			return c, true
		}
	}
	return Category{}, false
}

// Entry is one curated question/answer topic.
type Entry struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Category  string    `json:"category"`
	Questions []string  `json:"questions"`
	Tags      []string  `json:"tags"`
	Sources   []string  `json:"sources"`
	Updated   time.Time `json:"updated"`
	ReviewBy  time.Time `json:"review_by,omitzero"`
	// Body is the answer as written in the file (restricted Markdown that
	// may contain commune-profile template placeholders).
	Body string `json:"body"`
	// Answer is Body rendered with the commune profile.
	Answer string `json:"-"`

	// File is the path of the source file inside the base, and BodyLine
	// the line the body starts on; both are used in error messages.
	File     string `json:"-"`
	BodyLine int    `json:"-"`
}
