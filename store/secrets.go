package store

import (
	"context"

	"gorm.io/gorm/clause"
)

// Secret returns the value stored under name. When none is stored yet it
// stores fresh and returns it. The insert does nothing when the name is
// already taken and the value is then read back, so instances that race
// all return the value that was stored first.
func (s *Store) Secret(ctx context.Context, name string, fresh []byte) ([]byte, error) {
	row := secretRow{Name: name, Value: fresh}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
	if err != nil {
		return nil, s.wrap("store secret", err)
	}
	var stored secretRow
	if err := s.take(ctx, &stored, "name = ?", name); err != nil {
		return nil, s.wrap("read secret", err)
	}
	return stored.Value, nil
}
