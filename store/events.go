package store

import (
	"context"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// RecordEvent appends e to the audit trail and sets e.ID and e.At; a zero
// At is stored as the current time, and a Count below 1 as 1.
func (s *Store) RecordEvent(ctx context.Context, e *ihoprauth.Event) error {
	row := newEventRow(e)
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return s.wrap("record event", err)
	}
	e.ID, e.At, e.Count = row.ID, row.At, row.Count
	return nil
}

// Events returns the audit events at or after since, newest first, at most
// limit of them; none when limit is not positive. Events of the same
// instant come in the reverse order of their recording.
func (s *Store) Events(ctx context.Context, since time.Time, limit int) ([]ihoprauth.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	var rows []eventRow
	err := s.db.WithContext(ctx).Where("at >= ?", utc(since)).
		Order("at DESC").Order("id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, s.wrap("events", err)
	}
	events := make([]ihoprauth.Event, len(rows))
	for i, r := range rows {
		events[i] = r.event()
	}
	return events, nil
}

func newEventRow(e *ihoprauth.Event) eventRow {
	return eventRow{
		Kind:      e.Kind,
		ProjectID: e.ProjectID,
		UserID:    e.UserID,
		IP:        e.IP,
		UserAgent: e.UserAgent,
		Result:    e.Result,
		Actor:     e.Actor,
		Count:     max(e.Count, 1),
		At:        stamp(e.At),
	}
}

func (r eventRow) event() ihoprauth.Event {
	return ihoprauth.Event{
		ID:        r.ID,
		Kind:      r.Kind,
		ProjectID: r.ProjectID,
		UserID:    r.UserID,
		IP:        r.IP,
		UserAgent: r.UserAgent,
		Result:    r.Result,
		Actor:     r.Actor,
		Count:     r.Count,
		At:        utc(r.At),
	}
}
