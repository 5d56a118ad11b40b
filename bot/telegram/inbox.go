package telegram

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-telegram/bot/models"

	"github.com/colecommune/trolyso/bot/privacy"
	"github.com/colecommune/trolyso/storage"
)

// item turns a raw update into an inbox item: its key is the bot, the
// update id and a digest of what is kept of it, its chat the ordering key,
// its payload the update stripped to what answering needs (storedUpdate).
// ok is false for updates the bot does not answer (edited messages, channel
// posts…), which are acknowledged without being stored.
//
// The digest makes a redelivery (the same update again) a duplicate while
// an update id reused for another update (Telegram picks ids at random
// after a week without updates; a Bot API server replaced by another) is
// not mistaken for one.
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
	payload, err := storedUpdate(raw, a.staffOf(chatID) != nil)
	if err != nil {
		return it, false, err
	}
	return storage.InboxItem{
		Key:     a.itemKey(u.ID, payload),
		Chat:    strconv.FormatInt(chatID, 10),
		Payload: payload,
	}, true, nil
}

// itemKey is the inbox key of an update.
func (a *Adapter) itemKey(updateID int64, payload []byte) string {
	sum := sha256.Sum256(payload)
	return strconv.FormatInt(a.botID, 10) + ":" + strconv.FormatInt(updateID, 10) + ":" + hex.EncodeToString(sum[:8])
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
	// staffShape: the staff group's members are shown by name on the
	// tickets they answer (commune staff, not residents).
	staffShape = shape{"id": keep, "is_bot": keep, "first_name": keep, "last_name": keep, "username": keep}
	chatShape  = shape{"id": keep, "type": keep}
	// messageShape is what handleMessage reads of a message: who, where,
	// the text or caption (redacted), a voice note's file, the author of
	// the message replied to, and which kind of media it carries (not the
	// media itself: a contact card holds a phone number).
	messageShape = shape{
		"message_id": keep, "date": keep, "chat": chatShape, "from": userShape,
		"text": redactText, "caption": redactText, "migrate_to_chat_id": keep,
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

// staffUpdateShape is what is kept of an update of the staff group: the
// members' names, and their replies as written (they are what the resident
// is sent; the handoff desk stores them so).
var staffUpdateShape = func() shape {
	msg := shape{}
	for k, v := range messageShape {
		msg[k] = v
	}
	msg["from"], msg["text"], msg["caption"] = staffShape, keep, keep
	return shape{
		"update_id": keep,
		"message":   msg,
		"callback_query": shape{"id": keep, "from": staffShape, "data": keep, "chat_instance": keep,
			"message": shape{"message_id": keep, "date": keep, "chat": chatShape, "from": userShape, "reply_markup": keep}},
		"my_chat_member": updateShape["my_chat_member"],
	}
}()

// storedUpdate returns the update in the Bot API's JSON with only the
// fields answering needs: names, usernames, media contents, entities and
// everything else are dropped, and the text and caption redacted — except
// in the staff group (staff), whose members' names and replies are kept.
func storedUpdate(raw []byte, staff bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // ids keep their exact digits
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("stored update: %w", err)
	}
	s := updateShape
	if staff {
		s = staffUpdateShape
	}
	return json.Marshal(pruneObject(v, s))
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
