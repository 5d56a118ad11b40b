package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"github.com/colecommune/trolyso/storage/postgres"
	"golang.org/x/text/unicode/norm"
	"strconv"
	"strings"
	"time"
)

// Errors of the team methods.
var (
	// ErrTeamExists: a team with that village name already exists.
	ErrTeamExists = errors.New("a team for this village already exists")
	// ErrBadJoinCode: no team has that join code.
	ErrBadJoinCode = errors.New("no team has this join code")
)

// Team is a community digital technology team (one per village).
type Team struct {
	ID        int64
	Village   string
	GroupChat string // Telegram group chat id, "" if none
	JoinCode  string
	CreatedAt time.Time
	// Members counts active members (filled by Teams).
	Members int
}

// Member is a user's membership of a team.
type Member struct {
	ID          int64
	TeamID      int64
	Village     string
	UserID      int64
	UserKey     string
	Channel     string
	DisplayName string
	JoinedAt    time.Time
	// Active is false once the member left the team.
	Active bool
	// UserActive is false while the user has blocked the bot.
	UserActive bool
}

// Label is how admins see the member: the name they gave, or a number.
func (m Member) Label() string {
	if m.DisplayName != "" {
		return m.DisplayName
	}
	return "thành viên #" + strconv.FormatInt(m.ID, 10)
}

// joinAlphabet has no look-alike characters (0/O, 1/I/L).
const joinAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

func newJoinCode() (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = joinAlphabet[int(b[i])%len(joinAlphabet)]
	}
	return string(b), nil
}

// NormalizeJoinCode makes a typed join code comparable with stored ones.
func NormalizeJoinCode(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// isUniqueErr reports whether err violates the unique constraint on
// column ("table.column"), as SQLite or PostgreSQL word it.
func isUniqueErr(err error, column string) bool {
	if err == nil {
		return false
	}
	if postgres.IsUniqueViolation(err, strings.ReplaceAll(column, ".", "_")+"_key") {
		return true
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed") && strings.Contains(err.Error(), column)
}

// AddTeam creates a team for a village with a fresh join code.
func (db *DB) AddTeam(ctx context.Context, village, groupChat string) (Team, error) {
	village = cleanVillage(village)
	if village == "" {
		return Team{}, errors.New("add team: empty village name")
	}
	t := Team{Village: village, GroupChat: strings.TrimSpace(groupChat), CreatedAt: db.now()}
	for attempt := 0; attempt < 10; attempt++ {
		code, err := newJoinCode()
		if err != nil {
			return Team{}, fmt.Errorf("add team: join code: %w", err)
		}
		err = db.Tx(ctx, func(tx *sql.Tx) error {
			// "Thôn Đông" and "THÔN ĐÔNG" are one village: SQLite's NOCASE
			// folds ASCII only, so compare in Go.
			rows, err := tx.QueryContext(ctx, `SELECT village FROM teams`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var v string
				if err := rows.Scan(&v); err != nil {
					return err
				}
				if strings.EqualFold(cleanVillage(v), village) {
					return ErrTeamExists
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `INSERT INTO teams(village, group_chat, join_code, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
				t.Village, t.GroupChat, code, fmtTime(t.CreatedAt)).Scan(&t.ID)
		})
		if errors.Is(err, ErrTeamExists) {
			return Team{}, fmt.Errorf("add team %q: %w", village, ErrTeamExists)
		}
		if isUniqueErr(err, "teams.village") {
			return Team{}, fmt.Errorf("add team %q: %w", village, ErrTeamExists)
		}
		if isUniqueErr(err, "teams.join_code") {
			continue
		}
		if err != nil {
			return Team{}, fmt.Errorf("add team: %w", err)
		}
		t.JoinCode = code
		return t, nil
	}
	return Team{}, errors.New("add team: could not find a free join code")
}

// cleanVillage puts a village name in one form: NFC, single spaces.
func cleanVillage(s string) string {
	return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
}

// MoveGroupChat records that a Telegram group chat got a new id (a group
// upgraded to a supergroup): every team using the old id uses the new one.
// It returns how many teams changed.
func (db *DB) MoveGroupChat(ctx context.Context, from, to string) (int64, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE teams SET group_chat = ? WHERE group_chat = ?`, to, from)
	if err != nil {
		return 0, fmt.Errorf("move group chat: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// SetTeamGroup sets (or clears, with "") a team's Telegram group chat.
func (db *DB) SetTeamGroup(ctx context.Context, id int64, groupChat string) error {
	res, err := db.w.ExecContext(ctx, `UPDATE teams SET group_chat = ? WHERE id = ?`, strings.TrimSpace(groupChat), id)
	if err != nil {
		return fmt.Errorf("set team group: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

const teamCols = `t.id, t.village, t.group_chat, t.join_code, t.created_at`

func scanTeam(sc scanner, extra ...any) (Team, error) {
	var t Team
	var created string
	err := sc.Scan(append([]any{&t.ID, &t.Village, &t.GroupChat, &t.JoinCode, &created}, extra...)...)
	t.CreatedAt = parseTime(created)
	return t, err
}

// Teams lists every team with its number of active members, by village.
func (db *DB) Teams(ctx context.Context) ([]Team, error) {
	return queryAll(ctx, db.r, "list teams", func(sc scanner) (Team, error) {
		var n int
		t, err := scanTeam(sc, &n)
		t.Members = n
		return t, err
	}, `SELECT `+teamCols+`,
		(SELECT count(*) FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = t.id AND m.active = 1)
		FROM teams t ORDER BY t.village`)
}

// Team finds a team by id or, when ref is not a number, by village name
// (case-insensitive for ASCII letters, exact otherwise).
func (db *DB) Team(ctx context.Context, ref string) (Team, error) {
	ref = strings.TrimSpace(ref)
	var row *sql.Row
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		row = db.r.QueryRowContext(ctx, `SELECT `+teamCols+` FROM teams t WHERE t.id = ?`, id)
	} else {
		ts, err := db.Teams(ctx)
		if err != nil {
			return Team{}, fmt.Errorf("look up team: %w", err)
		}
		for _, t := range ts {
			if strings.EqualFold(cleanVillage(t.Village), cleanVillage(ref)) {
				return t, nil
			}
		}
		return Team{}, ErrNotFound
	}
	t, err := scanTeam(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Team{}, ErrNotFound
	}
	if err != nil {
		return Team{}, fmt.Errorf("look up team: %w", err)
	}
	return t, nil
}

// JoinTeam makes the user (created if needed) an active member of the team
// with the join code, moving them from any other team. ErrBadJoinCode if no
// team has the code.
func (db *DB) JoinTeam(ctx context.Context, channel, key, code, displayName string) (Team, error) {
	var t Team
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = scanTeam(tx.QueryRowContext(ctx, `SELECT `+teamCols+` FROM teams t WHERE t.join_code = ?`, NormalizeJoinCode(code)))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrBadJoinCode
		}
		if err != nil {
			return err
		}
		u, err := touchUser(ctx, tx, channel, key, db.now())
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO team_members(team_id, user_id, display_name, joined_at, active) VALUES (?, ?, ?, ?, 1)
			ON CONFLICT(user_id) DO UPDATE SET team_id = excluded.team_id, active = 1, joined_at = excluded.joined_at,
			display_name = CASE WHEN excluded.display_name <> '' THEN excluded.display_name ELSE team_members.display_name END`,
			t.ID, u.ID, strings.TrimSpace(displayName), fmtTime(db.now()))
		return err
	})
	if err != nil {
		if errors.Is(err, ErrBadJoinCode) {
			return Team{}, err
		}
		return Team{}, fmt.Errorf("join team: %w", err)
	}
	return t, nil
}

const memberCols = `m.id, m.team_id, t.village, u.id, u.key, u.channel, m.display_name, m.joined_at, m.active, u.active`

const memberFrom = ` FROM team_members m JOIN users u ON u.id = m.user_id JOIN teams t ON t.id = m.team_id `

func scanMember(sc scanner) (Member, error) {
	var m Member
	var joined string
	err := sc.Scan(&m.ID, &m.TeamID, &m.Village, &m.UserID, &m.UserKey, &m.Channel, &m.DisplayName, &joined, &m.Active, &m.UserActive)
	m.JoinedAt = parseTime(joined)
	return m, err
}

// Membership returns the user's active membership, ErrNotFound if none.
func (db *DB) Membership(ctx context.Context, key string) (Member, error) {
	m, err := scanMember(db.r.QueryRowContext(ctx, `SELECT `+memberCols+memberFrom+`WHERE u.key = ? AND m.active = 1`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, ErrNotFound
	}
	if err != nil {
		return Member{}, fmt.Errorf("look up membership: %w", err)
	}
	return m, nil
}

// LeaveTeam ends the user's active membership and returns it; ErrNotFound
// if they are in no team.
func (db *DB) LeaveTeam(ctx context.Context, key string) (Member, error) {
	var m Member
	// Read and end the membership in one write transaction, so a /dangky
	// arriving at the same moment cannot be the membership that ends.
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = scanMember(tx.QueryRowContext(ctx, `SELECT `+memberCols+memberFrom+`WHERE u.key = ? AND m.active = 1`, key))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("look up membership: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE team_members SET active = 0 WHERE id = ?`, m.ID); err != nil {
			return fmt.Errorf("leave team: %w", err)
		}
		return nil
	})
	if err != nil {
		return Member{}, err
	}
	m.Active = false
	return m, nil
}

// TeamMembers lists a team's members (those who left too), active first.
func (db *DB) TeamMembers(ctx context.Context, teamID int64) ([]Member, error) {
	return db.members(ctx, `WHERE m.team_id = ? ORDER BY m.active DESC, m.id`, teamID)
}

// ActiveMembers lists the members reminders go to: active members whose
// user has not blocked the bot, of the given teams (all teams when ids is
// empty), by team and join order.
func (db *DB) ActiveMembers(ctx context.Context, teamIDs []int64) ([]Member, error) {
	q := `WHERE m.active = 1 AND u.active = 1`
	args := []any{}
	if len(teamIDs) > 0 {
		q += ` AND m.team_id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(teamIDs)), ",") + `)`
		for _, id := range teamIDs {
			args = append(args, id)
		}
	}
	return db.members(ctx, q+` ORDER BY t.village, m.id`, args...)
}

func (db *DB) members(ctx context.Context, where string, args ...any) ([]Member, error) {
	return queryAll(ctx, db.r, "list members", scanMember, `SELECT `+memberCols+memberFrom+where, args...)
}
