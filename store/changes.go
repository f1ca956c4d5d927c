package store

import (
	"context"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// changeRow is one entry of the change feed (ihoprauth.Change).
type changeRow struct {
	ID        int64     `gorm:"primaryKey"`
	UserID    int64     `gorm:"not null"`
	ProjectID int64     `gorm:"not null;default:0"`
	At        time.Time `gorm:"precision:6;not null;index:ihoprauth_changes_at"`
}

func (changeRow) TableName() string { return "ihoprauth_changes" }

// dbNow is the SQL expression of the database's clock, in UTC with
// microseconds, and the argument it takes: SQLite has no clock of its own
// worth the name (second precision, and it runs in the app's process on the
// app's machine), so there the app's clock stands in.
func (s *Store) dbNow() (expr string, args []any) {
	switch s.db.Dialector.Name() {
	case "postgres":
		return "clock_timestamp()", nil
	case "mysql":
		return "UTC_TIMESTAMP(6)", nil
	}
	return "?", []any{utc(time.Now())}
}

// AppendChange records a change of c's user or project, stamped with the
// database's clock.
func (s *Store) AppendChange(ctx context.Context, c ihoprauth.Change) error {
	now, args := s.dbNow()
	err := s.db.WithContext(ctx).Exec("INSERT INTO ihoprauth_changes (user_id, project_id, at) VALUES (?, ?, "+now+")",
		append([]any{c.UserID, c.ProjectID}, args...)...).Error
	switch {
	case err != nil:
	case s.inTx:
		*s.appended = append(*s.appended, c)
	default:
		s.noteChangesCommitted([]ihoprauth.Change{c})
	}
	return s.wrap("append change", err)
}

// Changes returns the changes stamped at or after since, by ID, and the
// database's clock. With Config.Replicas it also notes the primary's WAL
// position, which the replicas must have replayed to be read (see
// replicaSet).
func (s *Store) Changes(ctx context.Context, since time.Time) ([]ihoprauth.Change, time.Time, error) {
	var seq uint64
	if s.replicas != nil {
		seq = s.replicas.ownSeq.Load()
	}
	now, err := s.clock(ctx)
	if err != nil {
		return nil, time.Time{}, s.wrap("database clock", err)
	}
	var rows []changeRow
	if err := s.db.WithContext(ctx).Where("at >= ?", utc(since)).Order("id").Find(&rows).Error; err != nil {
		return nil, time.Time{}, s.wrap("changes", err)
	}
	changes := make([]ihoprauth.Change, len(rows))
	for i, r := range rows {
		changes[i] = ihoprauth.Change{ID: r.ID, UserID: r.UserID, ProjectID: r.ProjectID, At: utc(r.At)}
	}
	if s.replicas != nil {
		if err := s.noteFeed(ctx, seq); err != nil {
			return nil, time.Time{}, err
		}
	}
	return changes, now, nil
}

// clock reads the database's clock (the app's on SQLite; see dbNow).
func (s *Store) clock(ctx context.Context) (time.Time, error) {
	expr, args := s.dbNow()
	if len(args) > 0 {
		return args[0].(time.Time), nil
	}
	var now time.Time
	err := s.db.WithContext(ctx).Raw("SELECT " + expr).Row().Scan(&now)
	return utc(now), err
}

var _ ihoprauth.ChangeStore = (*Store)(nil)
