package zalo

// Everything that describes Zalo's wire format lives in this file: event
// shapes, the signature rule, request and response bodies, URL paths, limits
// and error codes. The official documentation (developers.zalo.me) could not
// be checked when this was written; the shapes come from third-party SDKs
// and write-ups (see ../shared/libs.md §5). Correct them here.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// URL paths, appended to the configured API and OAuth base URLs.
const (
	// PathCSMessage sends a customer-service ("tư vấn") message.
	PathCSMessage = "/v3.0/oa/message/cs"
	// PathAccessToken exchanges a refresh token for a new token pair.
	PathAccessToken = "/v4/oa/access_token"
)

// Webhook signature.
const (
	// SignatureHeader carries "mac=" + lowercase hex SHA-256 of
	// app_id + raw body + timestamp + OA secret key (not an HMAC).
	SignatureHeader = "X-ZEvent-Signature"
	signaturePrefix = "mac="
	// RetryHeader is reported on redeliveries [unconfirmed]; only logged.
	RetryHeader = "num_retry"
)

// Signature computes the expected X-ZEvent-Signature value (with "mac=").
func Signature(appID string, body []byte, timestamp, oaSecretKey string) string {
	h := sha256.New()
	h.Write([]byte(appID))
	h.Write(body)
	h.Write([]byte(timestamp))
	h.Write([]byte(oaSecretKey))
	return signaturePrefix + hex.EncodeToString(h.Sum(nil))
}

// Event names.
const (
	EventUserSendText = "user_send_text"
	EventFollow       = "follow"
	EventUnfollow     = "unfollow"
)

// Event is a webhook event. Ids are numeric strings (never float64);
// Timestamp is Unix milliseconds as a string.
type Event struct {
	AppID       flexString `json:"app_id"`
	UserIDByApp flexString `json:"user_id_by_app"`
	EventName   string     `json:"event_name"`
	Timestamp   flexString `json:"timestamp"`
	Sender      struct {
		ID flexString `json:"id"`
	} `json:"sender"`
	Recipient struct {
		ID flexString `json:"id"`
	} `json:"recipient"`
	Message struct {
		MsgID       flexString      `json:"msg_id"`
		Text        string          `json:"text"`
		QuoteMsgID  flexString      `json:"quote_msg_id"`
		Attachments json.RawMessage `json:"attachments"`
	} `json:"message"`
	// Follower and OAID come with follow / unfollow.
	Follower struct {
		ID flexString `json:"id"`
	} `json:"follower"`
	OAID   flexString `json:"oa_id"`
	Source string     `json:"source"`
}

// flexString decodes a JSON string or number into its text (ids and
// timestamps have been seen as both); a number keeps its exact digits.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			// Name the JSON kind only: the value comes from an
			// unauthenticated body and must not reach the logs.
			return fmt.Errorf("want a string or a number, got %s", jsonKind(b))
		}
		*f = flexString(n.String())
	}
	return nil
}

// jsonKind names the kind of a JSON value by its first byte.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	return "something else"
}

// Limits [unconfirmed: seen in SDKs].
const (
	MaxTextLen     = 2000 // characters (counted as UTF-16 units, to be safe)
	MaxButtons     = 5    // template buttons per message
	MaxButtonTitle = 100  // characters of a button title [guess]
	// PayloadPrefix marks a button payload, so that a tap (which comes back
	// as user_send_text with the payload as text) is recognised.
	PayloadPrefix = "#"
)

// Button types.
const (
	ButtonQueryHide = "oa.query.hide" // tap sends the payload as hidden text
	ButtonOpenURL   = "oa.open.url"   // payload {"url": …}
)

// sendRequest is the body of PathCSMessage.
type sendRequest struct {
	Recipient struct {
		UserID string `json:"user_id"`
	} `json:"recipient"`
	Message outMessage `json:"message"`
}

type outMessage struct {
	Text       string      `json:"text"`
	Attachment *attachment `json:"attachment,omitempty"`
}

type attachment struct {
	Type    string            `json:"type"` // "template"
	Payload attachmentPayload `json:"payload"`
}

type attachmentPayload struct {
	// TemplateType: some code sends "button", most sends nothing.
	TemplateType string       `json:"template_type,omitempty"`
	Buttons      []wireButton `json:"buttons"`
}

type wireButton struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Payload any    `json:"payload"` // string for query buttons, {"url"} for links
}

const (
	attachmentTemplate = "template"
	templateType       = "" // set to "button" if Zalo demands it
)

func queryButton(title, payload string) wireButton {
	return wireButton{Title: title, Type: ButtonQueryHide, Payload: PayloadPrefix + payload}
}

func urlButton(title, url string) wireButton {
	return wireButton{Title: title, Type: ButtonOpenURL, Payload: map[string]string{"url": url}}
}

// apiResponse is every OA API answer: HTTP 200 even for errors, with
// error != 0.
type apiResponse struct {
	Error   int             `json:"error"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// tokenResponse is the answer of PathAccessToken. expires_in is a string of
// seconds (a number is accepted too). Errors carry error (negative) and
// error_name / error_reason / error_description.
type tokenResponse struct {
	AccessToken      string     `json:"access_token"`
	RefreshToken     string     `json:"refresh_token"`
	ExpiresIn        flexString `json:"expires_in"`
	Error            int        `json:"error"`
	ErrorName        string     `json:"error_name"`
	ErrorReason      string     `json:"error_reason"`
	ErrorDescription string     `json:"error_description"`
	Message          string     `json:"message"`
}

func (t tokenResponse) expiresIn() (int64, error) {
	n, err := strconv.ParseInt(string(t.ExpiresIn), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("expires_in %q is not a positive number of seconds", string(t.ExpiresIn))
	}
	return n, nil
}

// Token request form fields; the app secret goes in the secret_key header.
const (
	formRefreshToken = "refresh_token"
	formAppID        = "app_id"
	formGrantType    = "grant_type"
	grantRefresh     = "refresh_token"
	headerSecretKey  = "secret_key"
	headerAccessTok  = "access_token"
)

// Error codes of the OA API.
const (
	// CodeInvalidToken: "Access token is invalid" / "has expired": refresh
	// once and retry once.
	CodeInvalidToken = -216
	// CodeTokenExpired [unconfirmed, third-party list]: treated like -216.
	CodeTokenExpired = -220
	// CodeNotFollower [unconfirmed]: the user does not follow the OA.
	CodeNotFollower = -213
	// CodeNoInteraction [unconfirmed]: the user has not interacted with the
	// OA within the allowed period (outside the messaging window).
	CodeNoInteraction = -230
	// CodeInvalidParams [unconfirmed]: invalid parameters; with template
	// buttons this triggers the numbered-text fallback.
	CodeInvalidParams = -201
)

func isTokenError(code int) bool { return code == CodeInvalidToken || code == CodeTokenExpired }

// APIError is an OA API answer with error != 0 (or a non-200 status).
type APIError struct {
	Status  int // HTTP status
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("zalo api: HTTP %d, error %d: %s", e.Status, e.Code, e.Message)
}

// Is maps error codes to the engine's delivery errors.
func (e *APIError) Is(target error) bool {
	switch e.Code {
	case CodeNotFollower:
		return target == errBlocked
	case CodeNoInteraction:
		return target == errUndeliverable
	}
	return false
}

var errTokenResponse = errors.New("zalo token refresh failed")
