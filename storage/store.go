// This file lists what the store offers; both backends (SQLite and
// PostgreSQL) provide it through *DB and are held to it by the contract
// tests (backend_test.go).

package storage

import (
	"context"
	"time"
)

// Store is everything trolyso keeps, whichever the database: the
// interface the engine, the channels, the dashboard and the commands use.
type Store interface {
	ReportsStore
	AdminsStore
	AlertsStore
	CommunesStore
	CopyStore
	CoreStore
	ExchangesStore
	InboxStore
	JobsStore
	LLMUsageStore
	RatingsStore
	RemindersStore
	TeamsStore
	HandoffStore
	UsersStore
	ZaloStore
}

var _ Store = (*DB)(nil)

// ReportsStore reads the figures of a period for statistics and reports.
type ReportsStore interface {
	ReminderAcks(ctx context.Context, from, to time.Time) ([]TeamAcks, error)
	AnswerRows(ctx context.Context, from, to time.Time) ([]AnswerRow, error)
	Surveys(ctx context.Context, from, to time.Time) ([]Survey, error)
	UnansweredQuestions(ctx context.Context, from, to time.Time, limit int) ([]Unanswered, error)
	BandCounts(ctx context.Context, from, to time.Time) (map[string]int, error)
}

// AdminsStore keeps dashboard accounts.
type AdminsStore interface {
	AddAdmin(ctx context.Context, name, commune, hash string, mustChange bool) (Admin, error)
	AdminByName(ctx context.Context, name string) (Admin, error)
	AdminByID(ctx context.Context, id int64) (Admin, error)
	Admins(ctx context.Context) ([]Admin, error)
	SetAdminPassword(ctx context.Context, name, hash string, mustChange bool) error
	DeleteAdmin(ctx context.Context, name string) error
	CreateAdminSession(ctx context.Context, s AdminSession) error
	AdminSession(ctx context.Context, tokenHash string, now time.Time) (AdminSession, error)
	SetSessionCommune(ctx context.Context, tokenHash, commune string) error
	DeleteAdminSession(ctx context.Context, tokenHash string) error
	ReserveLoginAttempt(ctx context.Context, addr string, now time.Time, max int, window time.Duration) (bool, error)
	LoginFailures(ctx context.Context, addr string) (int, error)
	ClearLoginFailures(ctx context.Context, addr string) error
}

// AlertsStore keeps alert jobs, subscribers, deliveries and the sender lease.
type AlertsStore interface {
	CreateAlertJob(ctx context.Context, j *AlertJob) error
	AlertJob(ctx context.Context, id int64) (AlertJob, error)
	AlertJobs(ctx context.Context, limit int) ([]AlertJob, error)
	AlertJobsBetween(ctx context.Context, from, to time.Time) ([]AlertJob, error)
	PublishedAlerts(ctx context.Context, kind string, limit int) ([]AlertJob, error)
	AlertsVersion() int64
	CurrentLinkedAlerts(ctx context.Context, now time.Time) ([]AlertJob, error)
	CountAlertRecipients(ctx context.Context, t AlertTarget) (AlertCount, error)
	StartDueAlertJobs(ctx context.Context, now time.Time) ([]AlertJob, error)
	SetAlertJobStatus(ctx context.Context, id int64, status string) (AlertJob, error)
	FinishDrainedAlertJobs(ctx context.Context, now time.Time) (int, error)
	HasActiveAlertJobs(ctx context.Context) (active bool, nextDue time.Time, err error)
	NextAlertDeliveries(ctx context.Context, limit int) ([]AlertDelivery, error)
	AlertDeliveries(ctx context.Context, jobID int64, state string) ([]AlertDelivery, error)
	ClaimAlertDelivery(ctx context.Context, id int64) (bool, error)
	FinishAlertDelivery(ctx context.Context, d AlertDelivery, state, errText string) error
	AcquireAlertSender(ctx context.Context, owner string, now time.Time, ttl time.Duration) (held bool, recovered int, err error)
	TakeOverAlertSender(ctx context.Context, owner, from string, now time.Time, ttl time.Duration) (held bool, recovered int, err error)
	ReleaseAlertSender(ctx context.Context, owner string) error
	CurrentAlertSender(ctx context.Context, now time.Time) (AlertSender, error)
	AlertJobProgress(ctx context.Context, jobID int64, now time.Time) (AlertProgress, error)
	AlertJobFailures(ctx context.Context, jobID int64) ([]AlertFailure, error)
	AlertUnsubscribed(ctx context.Context, jobID int64) (map[string]int, error)
	Subscribe(ctx context.Context, channel, key string) (Subscriber, bool, error)
	Subscriber(ctx context.Context, key string) (Subscriber, error)
	SetSubscriberVillage(ctx context.Context, key, village string) error
	Unsubscribe(ctx context.Context, key string) (bool, error)
	OfferAlerts(ctx context.Context, channel, key string) (bool, error)
	SubscriberCounts(ctx context.Context) ([]SubscriberCount, error)
}

// CommunesStore keeps which commune residents chose.
type CommunesStore interface {
	CommuneSlug() string
	Province() *DB
	Commune(ctx context.Context, slug string) (*DB, error)
	OpenCommunes() []string
	ResidentCommune(ctx context.Context, userKey string) (ResidentCommune, error)
	SetResidentCommune(ctx context.Context, userKey, slug string) error
	StartChoosingCommune(ctx context.Context, userKey string) error
	ResidentsByCommune(ctx context.Context) (map[string]int, error)
}

// CopyStore copies data between stores.
type CopyStore interface {
	CopyFrom(ctx context.Context, src *DB) (CopyReport, error)
}

// CoreStore is the store as a whole: its backend, health, settings and pseudonymous user keys.
type CoreStore interface {
	Backend() string
	Close() error
	Ping(ctx context.Context) error
	UserKey(channel, platformID string) string
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

// ExchangesStore records questions and how they were answered.
type ExchangesStore interface {
	RecordExchange(ctx context.Context, ex *Exchange) (int64, error)
	SetAnswerMode(ctx context.Context, id int64, mode string) error
	Exchange(ctx context.Context, id int64) (Exchange, error)
	CountExchanges(ctx context.Context, from, to time.Time) (int, error)
}

// InboxStore keeps the durable inbox of channel updates.
type InboxStore interface {
	AddInbox(ctx context.Context, items []InboxItem, claim InboxClaim) ([]bool, error)
	InboxHas(ctx context.Context, channel string, keys []string) (bool, error)
	TakeInbox(ctx context.Context, channel string, claim InboxClaim, now time.Time, gone []string, limit, maxAttempts int) (items []InboxItem, failed int, err error)
	RenewInbox(ctx context.Context, channel string, claim InboxClaim) ([]int64, error)
	ReleaseInbox(ctx context.Context, channel, owner string) error
	InboxOwners(ctx context.Context, channel, except string, now time.Time) ([]string, error)
	InboxAhead(ctx context.Context, channel, chat string, id int64, owner string) (bool, error)
	FinishInbox(ctx context.Context, id int64, state string) error
	PruneInbox(ctx context.Context, channel string, before time.Time) (int64, error)
	InboxCounts(ctx context.Context, channel string) (map[string]int, error)
}

// JobsStore keeps leases and shared pacing across instances.
type JobsStore interface {
	AcquireLease(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
	TakeOverLease(ctx context.Context, name, owner, from string, now time.Time, ttl time.Duration) (bool, error)
	LeaseOf(ctx context.Context, name string) (Lease, error)
	TakeTurn(ctx context.Context, name string, now time.Time, every time.Duration) (time.Time, error)
	PausePacing(ctx context.Context, name string, until time.Time) error
	Listen(ctx context.Context, channel string, poll time.Duration, fn func()) error
}

// LLMUsageStore counts language-model usage per day.
type LLMUsageStore interface {
	AddLLMUsage(ctx context.Context, t time.Time, u LLMUsage) error
	LLMUsage(ctx context.Context, from, to time.Time) (LLMUsage, error)
	LLMTokensOn(ctx context.Context, t time.Time) (int64, error)
}

// RatingsStore keeps 👍/👎 ratings, surveys and pending conversation states.
type RatingsStore interface {
	Rate(ctx context.Context, userKey string, id int64, value int) (RateResult, error)
	SetRatingReason(ctx context.Context, userKey string, id int64, reason string) error
	SetRatingComment(ctx context.Context, userKey string, id int64, comment string) error
	RatingOf(ctx context.Context, id int64) (Rating, error)
	RecordSurvey(ctx context.Context, channel, userKey, service string, level int, window time.Duration) (int64, error)
	SetSurveyComment(ctx context.Context, userKey string, id int64, comment string) error
	SurveyByID(ctx context.Context, id int64) (Survey, error)
	OfferSurvey(ctx context.Context, channel, userKey string, now time.Time, every time.Duration) (bool, error)
	SetPending(ctx context.Context, userKey string, p Pending) error
	TakePending(ctx context.Context, userKey string, now time.Time) (p Pending, ok bool, err error)
	HasPending(ctx context.Context, userKey string) (bool, error)
	ClearPending(ctx context.Context, userKey string) error
}

// RemindersStore keeps reminders, their runs and per-recipient deliveries.
type RemindersStore interface {
	AddReminder(ctx context.Context, r *Reminder) error
	SeedReminders(ctx context.Context, defaults []Reminder) (int, error)
	Reminders(ctx context.Context) ([]Reminder, error)
	Reminder(ctx context.Context, id int64) (Reminder, error)
	UpdateReminder(ctx context.Context, r Reminder) error
	SetReminderEnabled(ctx context.Context, id int64, enabled bool) error
	DeleteReminder(ctx context.Context, id int64) error
	AdvanceAnchor(ctx context.Context, id int64, t time.Time) error
	StartRun(ctx context.Context, reminderID int64, slot time.Time, late bool, ds []NewDelivery) (Run, bool, error)
	UnfinishedRuns(ctx context.Context) ([]Run, error)
	RecentRuns(ctx context.Context, reminderID int64, limit int) ([]Run, error)
	Run(ctx context.Context, id int64) (Run, error)
	FinishRun(ctx context.Context, id int64) error
	MarkInterrupted(ctx context.Context, runID int64) (int, error)
	SkipPending(ctx context.Context, runID int64, why string) (int, error)
	RunDeliveries(ctx context.Context, runID int64) ([]Delivery, error)
	PendingDeliveries(ctx context.Context, runID int64) ([]Delivery, error)
	Delivery(ctx context.Context, id int64) (Delivery, error)
	ClaimDelivery(ctx context.Context, id int64) (bool, error)
	FinishDelivery(ctx context.Context, id int64, state, errText string) error
	AckDelivery(ctx context.Context, id int64, userKey string) (d Delivery, already bool, err error)
	NudgeCandidates(ctx context.Context, from, to time.Time) ([]Delivery, error)
	OldestNudgeDue(ctx context.Context, from time.Time) (time.Time, error)
	ClaimNudge(ctx context.Context, id int64) (bool, error)
	Stats(ctx context.Context, from, to time.Time) (WeekStats, error)
}

// TeamsStore keeps the digital technology teams and their members.
type TeamsStore interface {
	AddTeam(ctx context.Context, village, groupChat string) (Team, error)
	MoveGroupChat(ctx context.Context, from, to string) (int64, error)
	SetTeamGroup(ctx context.Context, id int64, groupChat string) error
	Teams(ctx context.Context) ([]Team, error)
	Team(ctx context.Context, ref string) (Team, error)
	JoinTeam(ctx context.Context, channel, key, code, displayName string) (Team, error)
	Membership(ctx context.Context, key string) (Member, error)
	LeaveTeam(ctx context.Context, key string) (Member, error)
	TeamMembers(ctx context.Context, teamID int64) ([]Member, error)
	ActiveMembers(ctx context.Context, teamIDs []int64) ([]Member, error)
}

// HandoffStore keeps tickets to commune staff, their durable outbox and the publish log.
type HandoffStore interface {
	Ticket(ctx context.Context, id int64) (Ticket, error)
	OpenTicketOf(ctx context.Context, userKey string) (Ticket, error)
	OpenTicket(ctx context.Context, channel, userKey string, msgs []NewTicketMessage, out []NewOutbox) (t Ticket, created bool, err error)
	AddResidentMessage(ctx context.Context, ticketID int64, text string, out []NewOutbox) (int64, error)
	AddStaffReply(ctx context.Context, ticketID int64, staffName, via, text string, out []NewOutbox) (TicketMessage, error)
	ClaimTicket(ctx context.Context, ticketID int64, staffName string, out []NewOutbox) (t Ticket, previous string, changed bool, err error)
	CloseTicket(ctx context.Context, ticketID int64, by, reason, note string, out []NewOutbox) (Ticket, error)
	Enqueue(ctx context.Context, ticketID int64, out []NewOutbox) error
	RateTicket(ctx context.Context, userKey string, ticketID int64, value int) error
	SetTicketEntry(ctx context.Context, ticketID int64, entryID string) error
	TicketMessages(ctx context.Context, ticketID int64) ([]TicketMessage, error)
	ListTickets(ctx context.Context, f TicketFilter) ([]Ticket, error)
	IdleTickets(ctx context.Context, before time.Time) ([]Ticket, error)
	RepostCandidates(ctx context.Context) ([]Ticket, error)
	MarkReposted(ctx context.Context, ticketID int64, out []NewOutbox) (bool, error)
	DueOutbox(ctx context.Context, target string, now time.Time, limit int) ([]OutboxItem, error)
	NextOutboxDue(ctx context.Context, target string) (time.Time, error)
	OutboxItem(ctx context.Context, id int64) (OutboxItem, error)
	TicketOutbox(ctx context.Context, ticketID int64) ([]OutboxItem, error)
	ClaimOutbox(ctx context.Context, id int64) (bool, error)
	FinishOutbox(ctx context.Context, id int64, state, errText string, notBefore time.Time) error
	ResendOutbox(ctx context.Context, id int64) (bool, error)
	MarkOutboxInterrupted(ctx context.Context) ([]OutboxItem, error)
	RetryNow(ctx context.Context) (int, error)
	TakeWebOutbox(ctx context.Context, userKey string) ([]OutboxItem, error)
	HasWebOutbox(ctx context.Context, userKey string) (bool, error)
	AddTicketPost(ctx context.Context, ticketID int64, postID string, card bool) error
	TicketByPost(ctx context.Context, postID string) (int64, error)
	CountOpenTickets(ctx context.Context) (int, error)
	HandoffFigures(ctx context.Context, from, to, now time.Time, over time.Duration) (HandoffFigures, error)
	RecordPublish(ctx context.Context, p Publish) (int64, error)
	PublishesAfter(ctx context.Context, id int64) ([]Publish, error)
	Publishes(ctx context.Context, limit int) ([]Publish, error)
	DeclinedExamples(ctx context.Context, texts []string, limit int) ([]string, error)
	RecentExchanges(ctx context.Context, userKey string, since time.Time, limit int) ([]Exchange, error)
}

// UsersStore keeps pseudonymous users and their delivery addresses.
type UsersStore interface {
	TouchUser(ctx context.Context, channel, key string) (User, error)
	UserByKey(ctx context.Context, key string) (User, error)
	SetActive(ctx context.Context, key string, active bool) error
	SetAddress(ctx context.Context, channel, key, address string) error
	Address(ctx context.Context, key string) (channel, address string, err error)
}

// ZaloStore keeps the Zalo OA tokens, events, messaging windows and offers.
type ZaloStore interface {
	ZaloTokens(ctx context.Context) (ZaloTokens, error)
	SaveZaloTokens(ctx context.Context, t ZaloTokens) error
	SeedZaloTokens(ctx context.Context, t ZaloTokens) (ZaloTokens, error)
	ZaloInbound(ctx context.Context, key, address string, at time.Time) error
	SetZaloFollowed(ctx context.Context, key string, followed bool) error
	ZaloUser(ctx context.Context, key string) (ZaloUser, error)
	SetZaloOffer(ctx context.Context, key string, payloads []string) error
	ZaloOffer(ctx context.Context, key string) ([]string, time.Time, error)
}
