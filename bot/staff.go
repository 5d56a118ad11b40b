package bot

import "context"

// StaffMember is a member of the commune staff answering residents'
// handoff requests (bot/handoff).
type StaffMember struct {
	// Name is how colleagues and residents see them ("Chị Hoa").
	Name string
	// Via is where they act: StaffViaTelegram (the staff group) or
	// StaffViaDashboard.
	Via string
}

// Where staff act.
const (
	StaffViaTelegram  = "telegram"
	StaffViaDashboard = "dashboard"
)

// StaffDesk receives what staff do in the staff group chat; the channel
// adapter serving that chat (bot/telegram) calls it. bot/handoff
// implements it.
type StaffDesk interface {
	// StaffReply handles a staff member's message that replies to the
	// bot's message replyTo (the channel's message id). It returns what
	// to tell the group, "" for nothing (a reply to a message that is not
	// about a request is ignored).
	StaffReply(ctx context.Context, replyTo string, who StaffMember, text string) string
	// StaffTap handles a button tap in the staff group and returns the
	// short notice shown to the staff member who tapped.
	StaffTap(ctx context.Context, payload string, who StaffMember) string
	// StaffChatState reports that the bot was removed from the staff
	// group (member false) or added back.
	StaffChatState(ctx context.Context, member bool)
}

// StaffChat posts to the staff group chat (bot/telegram implements it).
type StaffChat interface {
	// Post sends r to the staff group, as a reply to the message replyTo
	// when it is not "", and returns the id of the (last) message sent.
	Post(ctx context.Context, r Reply, replyTo string) (string, error)
	// SetButtons replaces the buttons of a message the bot posted there.
	SetButtons(ctx context.Context, msgID string, rows [][]Button) error
}
