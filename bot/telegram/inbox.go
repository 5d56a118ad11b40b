package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-telegram/bot/models"

	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/storage"
)

// item turns a raw update into an inbox item: its key is the bot and the
// update id, its chat the ordering key, its payload the update stripped to
// what answering needs (storedUpdate). ok is false for updates the bot
// does not answer (edited messages, channel posts…), which are
// acknowledged without being stored.
func (a *Adapter) item(raw []byte) (it storage.InboxItem, ok bool, err error) {
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		return it, false, err
	}
	if u.ID == 0 {
		return it, false, errors.New("update without update_id")
	}
	chatID, ok := chatOf(&u)
	if !ok {
		return it, false, nil
	}
	payload, err := storedUpdate(raw)
	if err != nil {
		return it, false, err
	}
	return storage.InboxItem{
		Key:     a.itemKey(u.ID),
		Chat:    strconv.FormatInt(chatID, 10),
		Payload: payload,
	}, true, nil
}

// itemKey is the inbox key of an update: the bot and the update id.
func (a *Adapter) itemKey(updateID int64) string {
	return strconv.FormatInt(a.botID, 10) + ":" + strconv.FormatInt(updateID, 10)
}

// answerItem answers one update from the inbox.
func (a *Adapter) answerItem(ctx context.Context, it storage.InboxItem) {
	var u models.Update
	if err := json.Unmarshal(it.Payload, &u); err != nil {
		a.log.Error("telegram: stored update unreadable; skipped", "item", it.ID, "err", err)
		return
	}
	a.process(ctx, &u)
}

// rule says what to keep of a JSON value in a stored update.
type rule int

const (
	keep       rule = iota // the value as it is
	redactText             // a string, with personal data masked
	marker                 // only that it is there: {} or [{}]
)

// shape lists the fields of a JSON object to keep, each with a rule or
// the shape of a nested object.
type shape map[string]any

var (
	userShape = shape{"id": keep, "is_bot": keep}
	chatShape = shape{"id": keep, "type": keep}
	// messageShape is what handleMessage reads of a message: who, where,
	// the text or caption (redacted), a voice note's file, the author of
	// the message replied to, and which kind of media it carries (not the
	// media itself: a contact card holds a phone number).
	messageShape = shape{
		"message_id": keep, "date": keep, "chat": chatShape, "from": userShape,
		"text": redactText, "caption": redactText,
		"voice":            shape{"file_id": keep, "file_unique_id": keep, "duration": keep, "mime_type": keep, "file_size": keep},
		"reply_to_message": shape{"message_id": keep, "date": keep, "chat": chatShape, "from": userShape},
		"sticker":          marker, "photo": marker, "document": marker, "location": marker, "venue": marker,
		"audio": marker, "video": marker, "video_note": marker, "animation": marker, "contact": marker,
		"poll": marker, "dice": marker,
	}
	memberShape = shape{"status": keep, "user": userShape}
	updateShape = shape{
		"update_id": keep,
		"message":   messageShape,
		// A button tap: the bot's own message it sits under is kept with
		// its keyboard (menu navigation edits it), without its text.
		"callback_query": shape{"id": keep, "from": userShape, "data": keep, "chat_instance": keep,
			"message": shape{"message_id": keep, "date": keep, "chat": chatShape, "from": userShape, "reply_markup": keep}},
		"my_chat_member": shape{"chat": chatShape, "from": userShape, "date": keep,
			"old_chat_member": memberShape, "new_chat_member": memberShape},
	}
)

// storedUpdate returns the update in the Bot API's JSON with only the
// fields answering needs: names, usernames, media contents, entities and
// everything else are dropped, and the text and caption redacted.
func storedUpdate(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // ids keep their exact digits
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("stored update: %w", err)
	}
	return json.Marshal(pruneObject(v, updateShape))
}

func pruneObject(v map[string]any, s shape) map[string]any {
	out := make(map[string]any, len(s))
	for k, r := range s {
		x, ok := v[k]
		if !ok {
			continue
		}
		switch r := r.(type) {
		case shape:
			if obj, ok := x.(map[string]any); ok {
				out[k] = pruneObject(obj, r)
			}
		case rule:
			switch r {
			case keep:
				out[k] = x
			case redactText:
				if str, ok := x.(string); ok {
					out[k] = privacy.Redact(str)
				}
			case marker:
				if _, ok := x.([]any); ok {
					out[k] = []any{map[string]any{}}
				} else {
					out[k] = map[string]any{}
				}
			}
		}
	}
	return out
}
