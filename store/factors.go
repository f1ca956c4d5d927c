package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
)

// factorRow is a stored ihoprauth.Factor: at most one of each kind per
// user, which the unique index keeps even when two enrolments race.
type factorRow struct {
	ID          int64      `gorm:"primaryKey"`
	UserID      int64      `gorm:"not null;uniqueIndex:ihoprauth_factors_user_kind,priority:1"`
	Kind        string     `gorm:"size:16;not null;uniqueIndex:ihoprauth_factors_user_kind,priority:2"`
	Secret      []byte     `gorm:"not null"`
	LastStep    int64      `gorm:"not null;default:0"`
	ConfirmedAt *time.Time `gorm:"precision:6"`
	CreatedAt   time.Time  `gorm:"precision:6;not null;autoCreateTime:false"`
}

func (factorRow) TableName() string { return "ihoprauth_factors" }

// recoveryCodeRow is a stored ihoprauth.RecoveryCode.
type recoveryCodeRow struct {
	ID        int64      `gorm:"primaryKey"`
	UserID    int64      `gorm:"not null;index:ihoprauth_recovery_codes_user_id"`
	Hash      string     `gorm:"size:64;not null"`
	UsedAt    *time.Time `gorm:"precision:6"`
	CreatedAt time.Time  `gorm:"precision:6;not null;autoCreateTime:false"`
}

func (recoveryCodeRow) TableName() string { return "ihoprauth_recovery_codes" }

// createFactors is step 8: second factors and recovery codes.
func createFactors(db *gorm.DB) error {
	return tableOptions(db).AutoMigrate(&factorRow{}, &recoveryCodeRow{})
}

// SaveFactor inserts f as the user's unconfirmed factor of its kind, in
// one transaction that first deletes an unconfirmed one of that kind. A
// confirmed one makes the unique index refuse the insert:
// ihoprauth.ErrDuplicate, and nothing changes.
func (s *Store) SaveFactor(ctx context.Context, f *ihoprauth.Factor) error {
	row := factorRow{UserID: f.UserID, Kind: string(f.Kind), Secret: f.Secret, LastStep: f.LastStep,
		ConfirmedAt: utcPtr(f.ConfirmedAt), CreatedAt: stamp(f.CreatedAt)}
	err := s.transaction(ctx, func(tx *Store) error {
		err := tx.db.WithContext(ctx).Where("user_id = ? AND kind = ? AND confirmed_at IS NULL", f.UserID, string(f.Kind)).
			Delete(&factorRow{}).Error
		if err != nil {
			return err
		}
		return tx.create(ctx, &row)
	})
	if err != nil {
		if errors.Is(err, ihoprauth.ErrDuplicate) {
			return err
		}
		return s.wrap("save factor", err)
	}
	f.ID, f.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// Factors returns the user's factors by ascending ID.
func (s *Store) Factors(ctx context.Context, userID int64) ([]ihoprauth.Factor, error) {
	var rows []factorRow
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("id").Find(&rows).Error; err != nil {
		return nil, s.wrap("factors", err)
	}
	factors := make([]ihoprauth.Factor, len(rows))
	for i, r := range rows {
		factors[i] = ihoprauth.Factor{ID: r.ID, UserID: r.UserID, Kind: ihoprauth.FactorKind(r.Kind), Secret: r.Secret,
			LastStep: r.LastStep, ConfirmedAt: utcPtr(r.ConfirmedAt), CreatedAt: utc(r.CreatedAt)}
	}
	return factors, nil
}

// ConfirmFactor confirms an unconfirmed factor in one conditional UPDATE.
func (s *Store) ConfirmFactor(ctx context.Context, id, step int64, now time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&factorRow{}).Where("id = ? AND confirmed_at IS NULL", id).
		Updates(map[string]any{"confirmed_at": utc(now), "last_step": step})
	if res.Error != nil {
		return false, s.wrap("confirm factor", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// UseFactorStep moves LastStep forward to step in one conditional UPDATE
// (WHERE last_step < step), so that of concurrent uses of one code, on any
// instance, exactly one changes the row.
func (s *Store) UseFactorStep(ctx context.Context, id, step int64) (bool, error) {
	n, err := s.set(ctx, &factorRow{}, "last_step", step, "id = ? AND confirmed_at IS NOT NULL AND last_step < ?", id, step)
	if err != nil {
		return false, s.wrap("use factor step", err)
	}
	return n == 1, nil
}

// DeleteFactors deletes the user's factors and recovery codes in one
// transaction.
func (s *Store) DeleteFactors(ctx context.Context, userID int64) error {
	return s.transaction(ctx, func(tx *Store) error {
		for _, model := range []any{&factorRow{}, &recoveryCodeRow{}} {
			if err := tx.db.WithContext(ctx).Where("user_id = ?", userID).Delete(model).Error; err != nil {
				return s.wrap("delete factors", err)
			}
		}
		return nil
	})
}

// ReplaceRecoveryCodes deletes the user's recovery codes and inserts the
// new set, in one transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID int64, hashes []string, now time.Time) error {
	rows := make([]recoveryCodeRow, len(hashes))
	for i, h := range hashes {
		rows[i] = recoveryCodeRow{UserID: userID, Hash: h, CreatedAt: stamp(now)}
	}
	return s.transaction(ctx, func(tx *Store) error {
		if err := tx.db.WithContext(ctx).Where("user_id = ?", userID).Delete(&recoveryCodeRow{}).Error; err != nil {
			return s.wrap("delete recovery codes", err)
		}
		if len(rows) == 0 {
			return nil
		}
		return s.wrap("create recovery codes", tx.db.WithContext(ctx).Create(&rows).Error)
	})
}

// RecoveryCodes returns the user's unused recovery codes by ascending ID.
func (s *Store) RecoveryCodes(ctx context.Context, userID int64) ([]ihoprauth.RecoveryCode, error) {
	var rows []recoveryCodeRow
	err := s.db.WithContext(ctx).Where("user_id = ? AND used_at IS NULL", userID).Order("id").Find(&rows).Error
	if err != nil {
		return nil, s.wrap("recovery codes", err)
	}
	codes := make([]ihoprauth.RecoveryCode, len(rows))
	for i, r := range rows {
		codes[i] = ihoprauth.RecoveryCode{ID: r.ID, UserID: r.UserID, Hash: r.Hash, UsedAt: utcPtr(r.UsedAt), CreatedAt: utc(r.CreatedAt)}
	}
	return codes, nil
}

// UseRecoveryCode marks the code used in one conditional UPDATE; of
// concurrent calls exactly one gets true.
func (s *Store) UseRecoveryCode(ctx context.Context, id int64, now time.Time) (bool, error) {
	n, err := s.set(ctx, &recoveryCodeRow{}, "used_at", utc(now), "id = ? AND used_at IS NULL", id)
	if err != nil {
		return false, s.wrap("use recovery code", err)
	}
	return n == 1, nil
}

var _ ihoprauth.FactorStore = (*Store)(nil)
