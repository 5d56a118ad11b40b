package knowledge

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Profile holds the commune-specific details that answers render: the
// public administrative service centre, the commune police and the village
// digital technology teams. Operators edit it as YAML.
type Profile struct {
	// Placeholder is true while the profile still holds the shipped
	// "[CẦN ĐIỀN …]" values (or says placeholder: true); the server warns
	// about it at start-up and the dashboard shows a banner.
	Placeholder bool   `yaml:"placeholder" json:"placeholder"`
	Name        string `yaml:"name" json:"name"`
	Province    string `yaml:"province" json:"province"`
	Centre      Office `yaml:"centre" json:"centre"`
	Police      Office `yaml:"police" json:"police"`
	Teams       []Team `yaml:"teams" json:"teams"`
	// StaffTelegramChat is the id of the commune staff's Telegram group
	// in a province deployment (TROLYSO_COMMUNES): residents' requests to
	// staff are posted there and staff answer there. 0 when the commune's
	// staff answer from the dashboard only. A one-commune install sets
	// TROLYSO_STAFF_TELEGRAM_CHAT instead. Not rendered in answers.
	StaffTelegramChat int64 `yaml:"staff_telegram_chat" json:"-"`
	// Missing lists the details still to fill in. Their values above have
	// been replaced by generic wording ("số của công an xã"),
	// so that residents never read a placeholder.
	Missing []Missing `yaml:"-" json:"-"`
}

// Missing is one detail of the commune profile still to fill in.
type Missing struct {
	// Field is the YAML path, like "centre.phone" or "teams[2].leader".
	Field string
	// What describes it for commune staff, in Vietnamese.
	What string
}

func (m Missing) String() string { return m.Field + ": " + m.What }

// placeholderMark marks a value still to be filled in the shipped profile.
const placeholderMark = "CẦN ĐIỀN"

// Generic wording residents read while a detail is not filled in.
const (
	genericProvince      = "tỉnh"
	genericCentreAddress = "trụ sở UBND xã"
	genericCentreHours   = "giờ hành chính các ngày làm việc"
	genericCentrePhone   = "số của bộ phận một cửa UBND xã"
	genericPoliceName    = "công an xã"
	genericPoliceAddress = "trụ sở công an xã"
	genericPolicePhone   = "số của công an xã"
	genericVillage       = "Thôn của bạn"
	genericLeader        = "hỏi trưởng thôn"
	genericTeamPhone     = "hoặc bộ phận một cửa của UBND xã"
	genericLeaderPhone   = "số điện thoại hỏi trưởng thôn"
)

// unfilled reports whether a value is empty or still a placeholder.
func unfilled(v string) bool {
	v = strings.TrimSpace(v)
	return v == "" || strings.Contains(strings.ToUpper(v), placeholderMark)
}

// fillGeneric replaces every unfilled detail by generic wording and lists
// it in Missing.
func (p *Profile) fillGeneric() {
	p.Missing = nil
	fill := func(v *string, field, what, generic string) {
		if unfilled(*v) {
			p.Missing = append(p.Missing, Missing{Field: field, What: what})
			*v = generic
		}
	}
	fill(&p.Province, "province", "tên tỉnh", genericProvince)
	fill(&p.Centre.Address, "centre.address", "địa chỉ Trung tâm Phục vụ hành chính công", genericCentreAddress)
	fill(&p.Centre.Hours, "centre.hours", "giờ làm việc của Trung tâm", genericCentreHours)
	fill(&p.Centre.Phone, "centre.phone", "số điện thoại của Trung tâm", genericCentrePhone)
	fill(&p.Police.Name, "police.name", "tên Công an xã", genericPoliceName)
	fill(&p.Police.Address, "police.address", "địa chỉ Công an xã", genericPoliceAddress)
	fill(&p.Police.Phone, "police.phone", "số điện thoại của Công an xã", genericPolicePhone)
	if unfilled(p.Centre.Email) {
		p.Centre.Email = "" // optional: no generic wording, never a placeholder
	}
	teams := make([]Team, 0, len(p.Teams))
	for i, t := range p.Teams {
		field := fmt.Sprintf("teams[%d]", i+1)
		if unfilled(t.Village) {
			p.Missing = append(p.Missing, Missing{Field: field + ".village", What: "tên thôn, tổ trưởng và số điện thoại của Tổ công nghệ số thứ " + fmt.Sprint(i+1)})
			continue // a team without a village is not shown at all
		}
		phone := genericLeaderPhone
		if unfilled(t.Leader) {
			phone = genericTeamPhone
		}
		fill(&t.Leader, field+".leader", "tổ trưởng Tổ công nghệ số "+t.Village, genericLeader)
		fill(&t.Phone, field+".phone", "số điện thoại Tổ công nghệ số "+t.Village, phone)
		teams = append(teams, t)
	}
	if len(p.Teams) == 0 {
		p.Missing = append(p.Missing, Missing{Field: "teams", What: "danh sách Tổ công nghệ số cộng đồng các thôn"})
	}
	if len(teams) == 0 {
		teams = []Team{{Village: genericVillage, Leader: genericLeader, Phone: genericTeamPhone}}
	}
	p.Teams = teams
	if p.Placeholder {
		p.Missing = append(p.Missing, Missing{Field: "placeholder", What: "vẫn là true: đổi thành false khi đã điền và kiểm tra xong hồ sơ"})
	}
	p.Placeholder = len(p.Missing) > 0
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
	if unfilled(p.Name) {
		return nil, fmt.Errorf("parse commune profile: name is empty or a placeholder")
	}
	if unfilled(p.Centre.Name) {
		return nil, fmt.Errorf("parse commune profile: centre.name is empty or a placeholder")
	}
	p.fillGeneric()
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
