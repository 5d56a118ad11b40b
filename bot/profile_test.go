package bot

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/colecommune/trolyso/knowledge"
)

const filledProfile = `placeholder: false
name: "xã Cổ Lễ"
province: "tỉnh Ninh Bình"
centre:
  name: "Trung tâm Phục vụ hành chính công xã Cổ Lễ"
  address: "Số 1 đường Trần Hưng Đạo"
  hours: "Thứ Hai – Thứ Sáu, 7:30–17:00"
  phone: "0228 3800 001"
police:
  name: "Công an xã Cổ Lễ"
  address: "Số 3 đường Trần Hưng Đạo"
  phone: "0228 3800 113"
teams:
  - village: "Thôn Đông"
    leader: "Nguyễn Văn An"
    phone: "0912 000 001"
`

// engineWith is an engine over the embedded base rendered with profile.
func engineWith(t *testing.T, profile string) *Engine {
	t.Helper()
	p, err := knowledge.ParseProfile([]byte(profile))
	if err != nil {
		t.Fatal(err)
	}
	base, err := knowledge.Load(knowledge.EmbeddedBase(), p, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{Now: func() time.Time { return testNow }}, base)
}

// TestResidentsNeverSeePlaceholders: with the shipped (unfilled) profile no
// answer and no engine text shows "[CẦN ĐIỀN …]"; generic wording stands
// in, and the profile lists what staff still have to fill in.
func TestResidentsNeverSeePlaceholders(t *testing.T) {
	eng := engineWith(t, string(knowledge.EmbeddedProfile()))
	ctx := context.Background()
	texts := map[string]string{}
	for _, en := range eng.Base().Entries {
		texts["entry "+en.ID] = en.Title + "\n" + en.Answer
	}
	for _, q := range []string{"giá vàng hôm nay bao nhiêu", "xin chào", "bạn là ai", "/start", "/help"} {
		texts["reply to "+q] = eng.Handle(ctx, Message{Channel: ChannelWeb, UserKey: "web:p", Text: q}).Text
	}
	for where, text := range texts {
		if strings.Contains(strings.ToUpper(text), "CẦN ĐIỀN") {
			t.Errorf("%s shows a placeholder:\n%s", where, text)
		}
	}
	decline := texts["reply to giá vàng hôm nay bao nhiêu"]
	for _, want := range []string{"trụ sở UBND xã", "số của bộ phận một cửa UBND xã", "hỏi trưởng thôn"} {
		if !strings.Contains(decline, want) {
			t.Errorf("decline lacks the generic %q:\n%s", want, decline)
		}
	}
	if !strings.Contains(texts["entry dvc-trung-tam-hcc"], "số của công an xã") {
		t.Errorf("centre entry lacks the police's generic phone:\n%s", texts["entry dvc-trung-tam-hcc"])
	}
	p := eng.Base().Profile
	if !p.Placeholder || len(p.Missing) == 0 {
		t.Fatalf("the shipped profile is not reported unfinished: %+v", p)
	}
}

func TestProfileGenericWordingPerField(t *testing.T) {
	partial := strings.NewReplacer(
		`phone: "0228 3800 113"`, `phone: "[CẦN ĐIỀN: số điện thoại]"`,
		`    phone: "0912 000 001"`, `    phone: "[CẦN ĐIỀN: số điện thoại]"
  - village: "[CẦN ĐIỀN: tên thôn]"
    leader: "[CẦN ĐIỀN: tổ trưởng]"
    phone: ""`,
	).Replace(filledProfile)
	tests := []struct {
		name, profile string
		missing       []string
		teamLine      string
		police        string
	}{
		{"complete", filledProfile, nil, "Thôn Đông: Nguyễn Văn An – 0912 000 001", "(0228 3800 113)"},
		{"partial", partial, []string{"police.phone", "teams[1].phone", "teams[2].village"},
			"Thôn Đông: Nguyễn Văn An – số điện thoại hỏi trưởng thôn", "(số của công an xã)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := engineWith(t, tt.profile)
			p := eng.Base().Profile
			var fields []string
			for _, m := range p.Missing {
				fields = append(fields, m.Field)
			}
			if !slices.Equal(fields, tt.missing) || p.Placeholder != (len(tt.missing) > 0) {
				t.Fatalf("missing %v (placeholder %v), want %v", fields, p.Placeholder, tt.missing)
			}
			team, _ := eng.Base().Entry("to-cong-nghe-so")
			if !strings.Contains(team.Answer, "- "+tt.teamLine+"\n") || strings.Contains(team.Answer, "CẦN ĐIỀN") {
				t.Errorf("team list lacks %q:\n%s", tt.teamLine, team.Answer)
			}
			_, list, _ := strings.Cut(team.Answer, "Liên hệ tổ ở thôn mình:")
			list, _, _ = strings.Cut(list, "Không thấy thôn")
			if strings.Count(list, "\n- ") != 1 {
				t.Errorf("a team without a village is listed:\n%s", team.Answer)
			}
			police, _ := eng.Base().Entry("vneid-lua-dao")
			if !strings.Contains(police.Answer, tt.police) {
				t.Errorf("police contact lacks %q:\n%s", tt.police, police.Answer)
			}
		})
	}
}
