// Package knowledge holds the curated knowledge base: entries parsed from
// Markdown files with YAML front matter, the commune profile they render,
// validation, and the retrieval index that matches residents' questions.
package knowledge

import (
	"time"
)

// Category is one group of the topic menu. A base lists its categories,
// in menu order, in its _base.yaml file.
type Category struct {
	ID    string `yaml:"id" json:"id"`
	Label string `yaml:"label" json:"label"`
}

// Entry is one curated question/answer topic.
type Entry struct {
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	Category  string   `json:"category"`
	Questions []string `json:"questions"`
	Tags      []string `json:"tags"`
	Sources   []string `json:"sources"`
	// Service, when set, names the public service the entry explains;
	// such entries are the choices of the service-satisfaction survey.
	Service string    `json:"service,omitempty"`
	Updated time.Time `json:"updated"`
	// ReviewBy is when the entry must be checked again against its
	// sources: review_by, or DefaultReviewMonths after Updated when the
	// file sets none (ReviewByDefault).
	ReviewBy        time.Time `json:"review_by,omitzero"`
	ReviewByDefault bool      `json:"-"`
	// Body is the answer as written in the file (restricted Markdown that
	// may contain commune-profile template placeholders).
	Body string `json:"body"`
	// Answer is Body rendered with the commune profile.
	Answer string `json:"-"`

	// File is the path of the source file inside the base, and BodyLine
	// the line the body starts on; both are used in error messages.
	File     string `json:"-"`
	BodyLine int    `json:"-"`

	categoryLine int
}
