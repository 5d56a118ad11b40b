package knowledge

import (
	"bytes"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// Profile holds the commune-specific details that answers render: the
// public administrative service centre, the commune police and the village
// digital technology teams. Operators edit it as YAML.
type Profile struct {
	// Placeholder is true while the profile still holds the shipped
	// "[CẦN ĐIỀN …]" values; the server warns about it at start-up.
	Placeholder bool   `yaml:"placeholder" json:"placeholder"`
	Name        string `yaml:"name" json:"name"`
	Province    string `yaml:"province" json:"province"`
	Centre      Office `yaml:"centre" json:"centre"`
	Police      Office `yaml:"police" json:"police"`
	Teams       []Team `yaml:"teams" json:"teams"`
}

// Office is a place residents can go to or call.
type Office struct {
	Name    string `yaml:"name" json:"name"`
	Address string `yaml:"address" json:"address"`
	Hours   string `yaml:"hours" json:"hours"`
	Phone   string `yaml:"phone" json:"phone"`
	Email   string `yaml:"email" json:"email"`
}

// Team is one village's community digital technology team contact.
type Team struct {
	Village string `yaml:"village" json:"village"`
	Leader  string `yaml:"leader" json:"leader"`
	Phone   string `yaml:"phone" json:"phone"`
}

// ParseProfile decodes a commune profile, rejecting unknown keys so that a
// misspelt field is reported instead of silently ignored.
func ParseProfile(data []byte) (*Profile, error) {
	var p Profile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse commune profile: %w", err)
	}
	if p.Name == "" {
		return nil, fmt.Errorf("parse commune profile: name is empty")
	}
	if p.Centre.Name == "" {
		return nil, fmt.Errorf("parse commune profile: centre.name is empty")
	}
	return &p, nil
}

// LoadProfile reads the commune profile at path, or the embedded example
// profile when path is empty.
func LoadProfile(path string) (*Profile, error) {
	if path == "" {
		return ParseProfile(embeddedProfile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read commune profile: %w", err)
	}
	return ParseProfile(data)
}
