package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/colecommune/trolyso/bot"
	"github.com/colecommune/trolyso/storage"
)

func TestStartSendsWelcomeWithTopicKeyboard(t *testing.T) {
	e := newEnv(t, nil)
	e.api.push(textUpdate(7, 7, 1, "/start"))
	c := e.api.wait("sendMessage", 1)[0]

	if got := c.Form["chat_id"]; got != "7" {
		t.Errorf("chat_id = %q, want 7", got)
	}
	if got := c.Form["parse_mode"]; got != "HTML" {
		t.Errorf("parse_mode = %q, want HTML", got)
	}
	if !strings.Contains(c.Form["text"], "<b>trợ lý số tự động</b>") {
		t.Errorf("welcome text = %q, want the bold assistant notice", c.Form["text"])
	}
	if !strings.Contains(c.Form["link_preview_options"], `"is_disabled":true`) {
		t.Errorf("link_preview_options = %q, want previews off", c.Form["link_preview_options"])
	}
	data := callbackData(keyboardOf(t, c))
	for _, want := range []string{"c:vneid", "c:dvc", "c:cks", "c:can-cuoc"} {
		if !slices.Contains(data, want) {
			t.Errorf("keyboard %v lacks %s", data, want)
		}
	}
	// Long polling starts only after any webhook was deleted.
	ms := e.api.methods()
	if i, j := slices.Index(ms, "deleteWebhook"), slices.Index(ms, "getUpdates"); i < 0 || j < 0 || i > j {
		t.Errorf("calls %v: want deleteWebhook before getUpdates", ms)
	}
	// /start in a private chat keeps the chat id for delivery, under the
	// pseudonymous key.
	key := e.db.UserKey("telegram", "7")
	if !strings.HasPrefix(key, "telegram:") || len(key) < 20 {
		t.Errorf("user key %q does not look pseudonymous", key)
	}
	ch, addr, err := e.db.Address(context.Background(), key)
	if err != nil || ch != "telegram" || addr != "7" {
		t.Errorf("Address = %q, %q, %v; want telegram, 7", ch, addr, err)
	}
}

func TestMenuNavigationThroughCallbacks(t *testing.T) {
	e := newEnv(t, nil)
	e.api.push(textUpdate(7, 7, 1, "/start"))
	welcome := e.api.wait("sendMessage", 1)[0]

	// Topic: the menu message is edited into the list of questions.
	e.api.push(callbackUpdate(7, 7, 1001, "c:vneid", welcome.Form["reply_markup"]))
	edit := e.api.wait("editMessageText", 1)[0]
	if edit.Form["message_id"] != "1001" || edit.Form["parse_mode"] != "HTML" {
		t.Errorf("edit form = %v, want message 1001 in HTML", edit.Form)
	}
	if !strings.Contains(edit.Form["text"], "VNeID") {
		t.Errorf("topic text = %q, want VNeID", edit.Form["text"])
	}
	var entry string
	for _, d := range callbackData(keyboardOf(t, edit)) {
		if strings.HasPrefix(d, "e:") {
			entry = d
			break
		}
	}
	if entry == "" {
		t.Fatalf("topic keyboard %v has no question buttons", keyboardOf(t, edit))
	}
	en, ok := e.eng.Base().Entry(strings.TrimPrefix(entry, "e:"))
	if !ok {
		t.Fatalf("entry %s not in the base", entry)
	}

	// Question: the answer is a new message, with the menu button.
	e.api.push(callbackUpdate(7, 7, 1001, entry, edit.Form["reply_markup"]))
	answer := e.api.wait("sendMessage", 2)[1]
	if !strings.Contains(answer.Form["text"], "<b>"+htmlEscape(en.Title)+"</b>") {
		t.Errorf("answer = %q, want the bold title %q", answer.Form["text"], en.Title)
	}
	if !slices.Contains(callbackData(keyboardOf(t, answer)), "m") {
		t.Errorf("answer keyboard %v lacks the menu button", keyboardOf(t, answer))
	}

	// Menu under an answer: a new message, the answer stays.
	e.api.push(callbackUpdate(7, 7, 1003, "m", answer.Form["reply_markup"]))
	menu := e.api.wait("sendMessage", 3)[2]
	if !slices.Contains(callbackData(keyboardOf(t, menu)), "c:vneid") {
		t.Errorf("menu keyboard %v lacks topics", keyboardOf(t, menu))
	}
	if n := len(e.api.callsOf("editMessageText")); n != 1 {
		t.Errorf("%d edits, want 1 (only the topic)", n)
	}
	// Every tap is answered.
	acks := e.api.wait("answerCallbackQuery", 3)
	if acks[0].Form["callback_query_id"] != "cq1001" {
		t.Errorf("answerCallbackQuery form %v", acks[0].Form)
	}
}

func TestFreeTextGetsEngineReply(t *testing.T) {
	e := newEnv(t, nil)
	e.api.push(textUpdate(8, 8, 1, "cách cài ứng dụng VNeID trên điện thoại"))
	c := e.api.wait("sendMessage", 1)[0]
	if strings.TrimSpace(c.Form["text"]) == "" || c.Form["reply_markup"] == "" {
		t.Errorf("reply = %v, want text and keyboard", c.Form)
	}
	ex, err := e.db.Exchange(context.Background(), 1)
	if err != nil {
		t.Fatalf("exchange not recorded: %v", err)
	}
	if ex.Channel != "telegram" || ex.UserKey != e.db.UserKey("telegram", "8") {
		t.Errorf("exchange = %+v", ex)
	}
}

func TestTooManyRequestsWaitsRetryAfter(t *testing.T) {
	e := newEnv(t, nil)
	e.api.script("sendMessage", `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`)
	e.api.push(textUpdate(7, 7, 1, "/help"))
	calls := e.api.wait("sendMessage", 2)
	if gap := calls[1].At.Sub(calls[0].At); gap < 900*time.Millisecond {
		t.Errorf("retried after %v, want about retry_after (1s)", gap)
	}
	if calls[1].Form["text"] != calls[0].Form["text"] {
		t.Error("retry sent a different text")
	}
}

func TestForbiddenMarksUserInactiveWithoutRetry(t *testing.T) {
	e := newEnv(t, nil)
	e.api.script("sendMessage", `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`)
	e.api.push(textUpdate(7, 7, 1, "/help"))
	e.api.wait("sendMessage", 1)
	key := e.db.UserKey("telegram", "7")
	deadline := time.Now().Add(5 * time.Second)
	for {
		u, err := e.db.UserByKey(context.Background(), key)
		if err == nil && !u.Active {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("user still active (err %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(e.api.callsOf("sendMessage")); n != 1 {
		t.Errorf("%d sendMessage calls, want 1 (no retry after 403)", n)
	}
}

func TestSendToBlockedWrapsErrBlocked(t *testing.T) {
	e := newEnv(t, nil)
	e.api.script("sendMessage", `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`)
	err := e.a.SendTo(context.Background(), "7", bot.Reply{Text: "Nhắc lịch"})
	if !errors.Is(err, bot.ErrBlocked) {
		t.Fatalf("SendTo error = %v, want ErrBlocked", err)
	}
	if n := len(e.api.callsOf("sendMessage")); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
	if err := e.a.SendTo(context.Background(), "not-a-chat", bot.Reply{Text: "x"}); !errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("bad address error = %v, want ErrUndeliverable", err)
	}
}

func TestSendToEscapesHTML(t *testing.T) {
	e := newEnv(t, nil)
	err := e.a.SendTo(context.Background(), "7", bot.Reply{
		Text:    "Tom & Jerry <script>alert(1)</script> **đậm** [Cổng DVC](https://dichvucong.gov.vn)",
		Buttons: [][]bot.Button{{{Label: "Mở", URL: "https://dichvucong.gov.vn"}, {Label: "Chủ đề", Payload: "m"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.api.wait("sendMessage", 1)[0]
	text := c.Form["text"]
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "Tom &amp; Jerry", "<b>đậm</b>", `<a href="https://dichvucong.gov.vn">Cổng DVC</a>`} {
		if !strings.Contains(text, want) {
			t.Errorf("text %q lacks %q", text, want)
		}
	}
	if strings.Contains(text, "<script") {
		t.Errorf("text %q contains a raw <script>", text)
	}
	kb := keyboardOf(t, c)
	if len(kb) != 1 || len(kb[0]) != 2 || kb[0][0]["url"] != "https://dichvucong.gov.vn" || kb[0][1]["callback_data"] != "m" {
		t.Errorf("keyboard = %v", kb)
	}
}

func TestLongReplyIsSplitOnParagraphs(t *testing.T) {
	e := newEnv(t, nil)
	var paras []string
	for i := range 30 {
		paras = append(paras, fmt.Sprintf("Đoạn %d: ", i)+strings.Repeat("câu hướng dẫn & chi tiết ", 12))
	}
	err := e.a.SendTo(context.Background(), "7", bot.Reply{Text: strings.Join(paras, "\n\n"), Buttons: [][]bot.Button{{{Label: "Chủ đề", Payload: "m"}}}})
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the last part (it carries the keyboard).
	var calls []apiCall
	for n := 2; ; n++ {
		calls = e.api.wait("sendMessage", n)
		if calls[n-1].Form["reply_markup"] != "" {
			break
		}
	}
	if len(calls) < 2 {
		t.Fatalf("%d parts, want at least 2", len(calls))
	}
	var all []string
	for i, c := range calls {
		if n := utf16Len(c.Form["text"]); n > MaxTextLen {
			t.Errorf("part %d is %d long, over %d", i, n, MaxTextLen)
		}
		if i < len(calls)-1 && c.Form["reply_markup"] != "" {
			t.Errorf("part %d has a keyboard; only the last may", i)
		}
		parts := strings.Split(c.Form["text"], "\n\n")
		for _, p := range parts {
			if !strings.HasPrefix(p, "Đoạn ") {
				t.Errorf("part %d was cut inside a paragraph: %.40q", i, p)
			}
		}
		all = append(all, parts...)
	}
	if len(all) != 30 {
		t.Errorf("%d paragraphs delivered, want 30", len(all))
	}
}

func TestParseErrorFallsBackToPlainText(t *testing.T) {
	e := newEnv(t, nil)
	e.api.script("sendMessage", `{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0"}`)
	if err := e.a.SendTo(context.Background(), "7", bot.Reply{Text: "**Chú ý**: mang theo [căn cước](https://example.gov.vn)."}); err != nil {
		t.Fatal(err)
	}
	calls := e.api.wait("sendMessage", 2)
	if calls[1].Form["parse_mode"] != "" {
		t.Errorf("fallback parse_mode = %q, want none", calls[1].Form["parse_mode"])
	}
	if want := "Chú ý: mang theo căn cước (https://example.gov.vn)."; calls[1].Form["text"] != want {
		t.Errorf("fallback text = %q, want %q", calls[1].Form["text"], want)
	}
}

func TestWebhook(t *testing.T) {
	const secret = "s3cret_Token-1"
	e := newEnv(t, func(c *Config) {
		c.WebhookURL = "https://bot.example.vn/telegram/hook"
		c.WebhookSecret = secret
	})
	set := e.api.wait("setWebhook", 1)[0]
	if set.Form["url"] != "https://bot.example.vn/telegram/hook" || set.Form["secret_token"] != secret {
		t.Errorf("setWebhook form = %v", set.Form)
	}
	if got := WebhookPath("https://bot.example.vn/telegram/hook"); got != "/telegram/hook" {
		t.Errorf("WebhookPath = %q", got)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /telegram/hook", e.a.WebhookHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	update := func(id int64, text string) string {
		return strings.Replace(textUpdate(7, 7, int(id), text), "%d", strconv.FormatInt(id, 10), 1)
	}
	tests := []struct {
		name   string
		secret string
		body   string
		want   int
	}{
		{"missing secret", "", update(1, "/menu"), http.StatusUnauthorized},
		{"wrong secret", "wrong", update(2, "/menu"), http.StatusUnauthorized},
		{"secret prefix", secret[:5], update(3, "/menu"), http.StatusUnauthorized},
		{"malformed body", secret, `{"update_id":`, http.StatusBadRequest},
		{"not an update", secret, `[1,2,3]`, http.StatusBadRequest},
		{"right secret", secret, update(4, "/help"), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/telegram/hook", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.secret != "" {
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", tt.secret)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	// Only the authenticated update was processed: one reply, the help.
	c := e.api.wait("sendMessage", 1)
	time.Sleep(300 * time.Millisecond)
	if n := len(e.api.callsOf("sendMessage")); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
	if !strings.Contains(c[0].Form["text"], "Cách dùng") {
		t.Errorf("reply = %q, want the help", c[0].Form["text"])
	}
	if slices.Contains(e.api.methods(), "deleteWebhook") {
		t.Error("webhook mode deleted the webhook")
	}
}

func TestGroupAnswersOnlyWhenAddressed(t *testing.T) {
	e := newEnv(t, nil)
	const group = -100123
	replyToBot := `"reply_to_message":{"message_id":500,"date":1,"chat":{"id":-100123,"type":"supergroup"},"from":{"id":999,"is_bot":true,"first_name":"Trợ lý số"},"text":"…"}`
	replyToUser := `"reply_to_message":{"message_id":501,"date":1,"chat":{"id":-100123,"type":"supergroup"},"from":{"id":5,"is_bot":false,"first_name":"Mai"},"text":"…"}`
	tests := []struct {
		msgID    int
		text     string
		extra    string
		answered bool
	}{
		{1, "cách cài VNeID", "", false},
		{2, "@colebot cách cài VNeID", "", true},
		{3, "hỏi @CoLeBot về chữ ký số", "", true},
		{4, "@colebot_fan chào", "", false},
		{5, "/help", "", false},
		{6, "/help@CoLeBot", "", true},
		{7, "/help@otherbot", "", false},
		{8, "cảm ơn", replyToBot, true},
		{9, "cảm ơn", replyToUser, false},
		{10, "", `"sticker":{"file_id":"s","file_unique_id":"s","type":"regular","width":1,"height":1,"is_animated":false,"is_video":false}`, false},
	}
	for _, tt := range tests {
		e.api.push(groupUpdate(group, 11, tt.msgID, tt.text, tt.extra))
	}
	// A last addressed message: once it is answered, every earlier one in
	// this chat has been handled (per-chat order).
	e.api.push(groupUpdate(group, 11, 99, "/menu@colebot", ""))
	var want []string
	for _, tt := range tests {
		if tt.answered {
			want = append(want, strconv.Itoa(tt.msgID))
		}
	}
	want = append(want, "99")
	calls := e.api.wait("sendMessage", len(want))
	var got []string
	for _, c := range calls {
		var rp struct {
			MessageID int `json:"message_id"`
		}
		if err := json.Unmarshal([]byte(c.Form["reply_parameters"]), &rp); err != nil {
			t.Fatalf("reply_parameters %q: %v", c.Form["reply_parameters"], err)
		}
		got = append(got, strconv.Itoa(rp.MessageID))
		if c.Form["chat_id"] != strconv.Itoa(group) {
			t.Errorf("reply went to %s", c.Form["chat_id"])
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("answered messages %v, want %v", got, want)
	}
	// Group chats keep no delivery address.
	if _, _, err := e.db.Address(context.Background(), e.db.UserKey("telegram", "11")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("group user has an address (err %v)", err)
	}
}

func TestStripMention(t *testing.T) {
	tests := []struct {
		text, name, want string
		found            bool
	}{
		{"@colebot hỏi gì", "colebot", "hỏi gì", true},
		{"hỏi @CoLeBot nhé", "colebot", "hỏi nhé", true},
		{"@colebot_fan hi", "colebot", "@colebot_fan hi", false},
		{"İİİ @colebot ĞÜŞ", "colebot", "İİİ ĞÜŞ", true},
		{"không nhắc", "colebot", "không nhắc", false},
		{"@colebot", "", "@colebot", false},
	}
	for _, tt := range tests {
		got, found := stripMention(tt.text, tt.name)
		if got != tt.want || found != tt.found {
			t.Errorf("stripMention(%q, %q) = %q, %v; want %q, %v", tt.text, tt.name, got, found, tt.want, tt.found)
		}
	}
}

func TestPerChatOrdering(t *testing.T) {
	e := newEnv(t, nil)
	// Random-ish delays on sendMessage would reorder replies if updates
	// of one chat were handled concurrently.
	var n atomic.Int64
	e.api.setDelay(func() time.Duration { return time.Duration(n.Add(1)*7%5) * 5 * time.Millisecond })
	cmds := []string{"/start", "/help", "/menu"}
	const count = 15
	for i := range count {
		e.api.push(textUpdate(7, 7, i+1, cmds[i%3]))
		e.api.push(textUpdate(8, 8, i+1, cmds[(i+1)%3])) // another chat, interleaved
	}
	calls := e.api.wait("sendMessage", 2*count)
	want := map[string]string{"/start": "trợ lý số tự động", "/help": "Cách dùng", "/menu": "chủ đề nào"}
	seen := map[string]int{}
	for _, c := range calls {
		chat := c.Form["chat_id"]
		i := seen[chat]
		seen[chat]++
		cmd := cmds[i%3]
		if chat == "8" {
			cmd = cmds[(i+1)%3]
		}
		if !strings.Contains(c.Form["text"], want[cmd]) {
			t.Errorf("chat %s reply %d = %.50q, want the reply to %s", chat, i, c.Form["text"], cmd)
		}
	}
	// Idle chats keep no worker.
	deadline := time.Now().Add(5 * time.Second)
	for {
		q := e.a.inbox.Chats()
		if q == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d chat queues still alive", q)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHostileInputDoesNotCrash(t *testing.T) {
	e := newEnv(t, nil)
	huge := strings.Repeat("VNeID ", 20000)
	// Raw bytes: invalid UTF-8 inside the JSON string, a lone surrogate,
	// control characters.
	e.api.push("{\"update_id\":%d,\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":7,\"type\":\"private\"},\"from\":{\"id\":7,\"is_bot\":false,\"first_name\":\"L\"},\"text\":\"\xff\xfe c\xe1ch c\xc3i \\ud800 \\u0000\\u001b\"}}")
	e.api.push(textUpdate(7, 7, 2, huge))
	e.api.push(callbackUpdate(7, 7, 3, strings.Repeat("e:", 100), ""))                                                     // over-long payload
	e.api.push(callbackUpdate(7, 7, 4, "c:"+strings.Repeat("\u00ff", 30)+"</b>", ""))                                      // unknown topic
	e.api.push(`{"update_id":%d,"message":{"message_id":5,"date":1,"chat":{"id":7,"type":"private"},"text":"no sender"}}`) // no from
	e.api.push(`{"update_id":%d,"edited_message":{"message_id":6,"date":1,"chat":{"id":7,"type":"private"},"text":"sửa"}}`)
	e.api.push(textUpdate(7, 7, 7, "/help"))
	calls := e.api.wait("sendMessage", 5)
	if !strings.Contains(calls[1].Form["text"], "dài quá") {
		t.Errorf("huge message reply = %q, want the too-long refusal", calls[1].Form["text"])
	}
	for i, c := range calls {
		if !utf8Valid(c.Form["text"]) {
			t.Errorf("reply %d is not valid UTF-8", i)
		}
	}
	if !strings.Contains(calls[4].Form["text"], "Cách dùng") {
		t.Errorf("last reply = %q, want the help (the adapter still works)", calls[4].Form["text"])
	}
}

func TestMediaGetsTypeYourQuestion(t *testing.T) {
	e := newEnv(t, nil)
	media := []string{
		`"sticker":{"file_id":"s","file_unique_id":"s","type":"regular","width":1,"height":1,"is_animated":false,"is_video":false}`,
		`"photo":[{"file_id":"p","file_unique_id":"p","width":1,"height":1}]`,
		`"document":{"file_id":"d","file_unique_id":"d","file_name":"cccd.pdf"}`,
		`"location":{"latitude":20.3,"longitude":106.2}`,
		`"voice":{"file_id":"v","file_unique_id":"v","duration":3,"mime_type":"audio/ogg"}`,
	}
	for i, m := range media {
		e.api.push(mediaUpdate(7, 7, i+1, m))
	}
	calls := e.api.wait("sendMessage", len(media))
	for i, c := range calls {
		if !strings.Contains(c.Form["text"], "hãy gõ câu hỏi") {
			t.Errorf("reply %d = %q, want the type-your-question reply", i, c.Form["text"])
		}
		if !slices.Contains(callbackData(keyboardOf(t, c)), "m") {
			t.Errorf("reply %d has no menu button", i)
		}
	}
}

// A photo with a caption in a private chat: the caption is answered, with
// a note that the photo itself was not read.
func TestPhotoCaptionIsAnswered(t *testing.T) {
	e := newEnv(t, nil)
	e.api.push(mediaUpdate(7, 7, 1, `"photo":[{"file_id":"p","file_unique_id":"p","width":1,"height":1}],"caption":"quên mật khẩu vneid thì làm sao"`))
	c := e.api.wait("sendMessage", 1)[0]
	text := c.Form["text"]
	if !strings.Contains(text, "chưa xem được ảnh") || !strings.Contains(text, "Quên mật khẩu VNeID") {
		t.Errorf("reply = %q, want the caption answered with the note", text)
	}
}

func TestVoiceHandlerSeam(t *testing.T) {
	var got Voice
	e := newEnv(t, func(c *Config) {
		c.Voice = func(ctx context.Context, v Voice) (string, error) {
			got = v
			return "/help", nil
		}
	})
	e.api.push(mediaUpdate(7, 7, 1, `"voice":{"file_id":"v1","file_unique_id":"v","duration":3,"mime_type":"audio/ogg","file_size":15}`))
	c := e.api.wait("sendMessage", 1)[0]
	if !strings.Contains(c.Form["text"], "Cách dùng") || !strings.HasPrefix(c.Form["text"], "Bạn hỏi: “/help”") {
		t.Errorf("reply = %q, want the transcription shown back, then the help", c.Form["text"])
	}
	if got.FileName != "file_1.ogg" || string(got.Data) != "OggS-fake-voice" || got.Duration != 3*time.Second {
		t.Errorf("voice = %+v", got)
	}
}

func TestFloodLimitOneNotice(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.FloodLimit = 3 })
	for i := range 7 {
		e.api.push(textUpdate(7, 7, i+1, "/menu"))
	}
	e.api.push(textUpdate(9, 9, 1, "/help")) // another user is not limited
	calls := e.api.wait("sendMessage", 5)
	time.Sleep(300 * time.Millisecond)
	calls = e.api.callsOf("sendMessage")
	var notices, menus, other int
	for _, c := range calls {
		switch {
		case c.Form["chat_id"] == "9":
			other++
		case strings.Contains(c.Form["text"], "hơi nhanh"):
			notices++
		default:
			menus++
		}
	}
	if menus != 3 || notices != 1 || other != 1 {
		t.Errorf("menus %d, notices %d, other user %d; want 3, 1, 1", menus, notices, other)
	}
}

func TestAdminCommandsByTelegramID(t *testing.T) {
	e := newEnv(t, nil, func(eng *bot.Engine) {
		eng.HandleCommand("thongke", bot.Command{Admin: true, Help: "thống kê", Handle: func(ctx context.Context, m bot.Message, _ string) bot.Reply {
			return bot.Reply{Band: bot.BandCommand, Text: "Thống kê tuần"}
		}})
	})
	e.api.push(textUpdate(42, 42, 1, "/thongke")) // admin (AdminIDs 42)
	e.api.push(textUpdate(43, 43, 1, "/thongke"))
	e.api.push(textUpdate(43, 43, 2, "/khongco"))
	calls := e.api.wait("sendMessage", 3)
	byChat := map[string][]string{}
	for _, c := range calls {
		byChat[c.Form["chat_id"]] = append(byChat[c.Form["chat_id"]], c.Form["text"])
	}
	if got := byChat["42"]; len(got) != 1 || got[0] != "Thống kê tuần" {
		t.Errorf("admin got %q", got)
	}
	if got := byChat["43"]; len(got) != 2 || got[0] != got[1] {
		t.Errorf("non-admin got %q; want the unknown-command reply twice", got)
	}
}

func TestSplitMarkdown(t *testing.T) {
	long := strings.Repeat("x", 50)
	tests := []struct {
		name  string
		in    string
		limit int
		want  []string
	}{
		{"short", "một đoạn", 100, []string{"một đoạn"}},
		{"paragraphs", "aaa\n\nbbb\n\nccc", 8, []string{"aaa\n\nbbb", "ccc"}},
		{"lines", "aaaa\nbbbb\ncccc", 9, []string{"aaaa\nbbbb", "cccc"}},
		{"huge line", long, 20, []string{long[:20], long[20:40], long[40:]}},
		{"words", "một hai ba bốn năm", 10, []string{"một hai ba", "bốn năm"}},
		{"word boundary", "một hai bab bốn năm", 10, []string{"một hai", "bab bốn", "năm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitMarkdown(tt.in, tt.limit)
			if !slices.Equal(got, tt.want) {
				t.Errorf("splitMarkdown = %q, want %q", got, tt.want)
			}
			for _, p := range got {
				if htmlLen(p) > tt.limit {
					t.Errorf("part %q over the limit", p)
				}
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	eng, db := newEngine(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no token", Config{Engine: eng, Store: db}},
		{"no engine", Config{Token: testToken, Store: db}},
		{"webhook without secret", Config{Token: testToken, Engine: eng, Store: db, WebhookURL: "https://x.vn/hook"}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil {
			t.Errorf("%s: New succeeded", tt.name)
		}
	}
}

func TestRunFailsOnRefusedToken(t *testing.T) {
	api := newFakeAPI(t)
	eng, db := newEngine(t)
	a, err := New(Config{Token: "1:wrong", APIURL: api.URL(), Engine: eng, Store: db})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "token refused") || strings.Contains(err.Error(), "1:wrong") {
		t.Errorf("Run = %v, want a token-refused error without the token", err)
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// TestRatingMarksChosenButton: after 👍 the answer's keyboard is edited so
// that 👍 shows as chosen; a later 👎 moves the mark.
func TestRatingMarksChosenButton(t *testing.T) {
	e := newEnv(t, nil)
	e.api.push(textUpdate(7, 7, 1, "quên mật khẩu vneid"))
	answer := e.api.wait("sendMessage", 1)[0]
	var up, down string
	for _, d := range callbackData(keyboardOf(t, answer)) {
		switch {
		case strings.HasPrefix(d, "r:") && strings.HasSuffix(d, ":+"):
			up = d
		case strings.HasPrefix(d, "r:") && strings.HasSuffix(d, ":-"):
			down = d
		}
	}
	if up == "" || down == "" {
		t.Fatalf("answer keyboard %v lacks rating buttons", keyboardOf(t, answer))
	}
	labels := func(c apiCall) map[string]string {
		var kb struct {
			InlineKeyboard [][]struct {
				Text string `json:"text"`
				Data string `json:"callback_data"`
			} `json:"inline_keyboard"`
		}
		if err := json.Unmarshal([]byte(c.Form["reply_markup"]), &kb); err != nil {
			t.Fatalf("reply_markup %q: %v", c.Form["reply_markup"], err)
		}
		out := map[string]string{}
		for _, row := range kb.InlineKeyboard {
			for _, b := range row {
				out[b.Data] = b.Text
			}
		}
		return out
	}
	e.api.push(callbackUpdate(7, 7, 1, up, answer.Form["reply_markup"]))
	mark := e.api.wait("editMessageReplyMarkup", 1)[0]
	if l := labels(mark); mark.Form["message_id"] != "1" || l[up] != "✅ 👍 Hài lòng" || l[down] != "👎 Chưa hài lòng" || l["m"] != "📋 Chủ đề" {
		t.Fatalf("after 👍: message %s, labels %v", mark.Form["message_id"], l)
	}
	if thanks := e.api.wait("sendMessage", 2)[1]; !strings.Contains(thanks.Form["text"], "Đã ghi nhận") {
		t.Errorf("reply to 👍 = %q", thanks.Form["text"])
	}
	e.api.push(callbackUpdate(7, 7, 1, down, mark.Form["reply_markup"]))
	mark = e.api.wait("editMessageReplyMarkup", 2)[1]
	if l := labels(mark); l[up] != "👍 Hài lòng" || l[down] != "✅ 👎 Chưa hài lòng" {
		t.Fatalf("after 👎: labels %v", l)
	}
	// Tapping the chosen button again changes nothing: no edit.
	e.api.push(callbackUpdate(7, 7, 1, down, mark.Form["reply_markup"]))
	e.api.wait("answerCallbackQuery", 3)
	e.api.wait("sendMessage", 4)
	if n := len(e.api.callsOf("editMessageReplyMarkup")); n != 2 {
		t.Errorf("%d keyboard edits, want 2", n)
	}
}
