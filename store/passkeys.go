package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
)

// passkeyRow is a stored ihoprauth.Passkey. A credential id may be up to
// 1023 bytes, too long for an index on MariaDB, so the unique index is on
// its SHA-256; Uses grows with every login, so that the conditional UPDATE
// of UsePasskey always changes its row (MySQL counts changed rows only).
type passkeyRow struct {
	ID             int64      `gorm:"primaryKey"`
	UserID         int64      `gorm:"not null;index:ihoprauth_passkeys_user_id"`
	CredentialHash string     `gorm:"size:64;not null;uniqueIndex:ihoprauth_passkeys_credential"`
	CredentialID   []byte     `gorm:"not null"`
	PublicKey      []byte     `gorm:"not null"`
	SignCount      int64      `gorm:"not null;default:0"`
	Uses           int64      `gorm:"not null;default:0"`
	BackupEligible bool       `gorm:"not null;default:false"`
	BackupState    bool       `gorm:"not null;default:false"`
	AAGUID         []byte     `gorm:"column:aaguid"`
	Transports     string     `gorm:"size:128;not null;default:''"`
	Name           string     `gorm:"size:64;not null;default:''"`
	CreatedAt      time.Time  `gorm:"precision:6;not null;autoCreateTime:false"`
	LastUsedAt     *time.Time `gorm:"precision:6"`
}

func (passkeyRow) TableName() string { return "ihoprauth_passkeys" }

func (r passkeyRow) passkey() ihoprauth.Passkey {
	return ihoprauth.Passkey{ID: r.ID, UserID: r.UserID, CredentialID: r.CredentialID, PublicKey: r.PublicKey,
		SignCount: uint32(r.SignCount), BackupEligible: r.BackupEligible, BackupState: r.BackupState, AAGUID: r.AAGUID,
		Transports: r.Transports, Name: r.Name, CreatedAt: utc(r.CreatedAt), LastUsedAt: utcPtr(r.LastUsedAt)}
}

func credentialHash(id []byte) string {
	sum := sha256.Sum256(id)
	return hex.EncodeToString(sum[:])
}

// createPasskeys is step 12: passkeys (WebAuthn credentials).
func createPasskeys(db *gorm.DB) error {
	return tableOptions(db).AutoMigrate(&passkeyRow{})
}

// SavePasskey inserts p, or returns ihoprauth.ErrDuplicate when its
// credential id is taken.
func (s *Store) SavePasskey(ctx context.Context, p *ihoprauth.Passkey) error {
	row := passkeyRow{UserID: p.UserID, CredentialHash: credentialHash(p.CredentialID), CredentialID: p.CredentialID,
		PublicKey: p.PublicKey, SignCount: int64(p.SignCount), BackupEligible: p.BackupEligible, BackupState: p.BackupState,
		AAGUID: p.AAGUID, Transports: p.Transports, Name: p.Name, CreatedAt: stamp(p.CreatedAt), LastUsedAt: utcPtr(p.LastUsedAt)}
	if err := s.create(ctx, &row); err != nil {
		if errors.Is(err, ihoprauth.ErrDuplicate) {
			return err
		}
		return s.wrap("save passkey", err)
	}
	p.ID, p.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// Passkeys returns the user's passkeys by ascending ID.
func (s *Store) Passkeys(ctx context.Context, userID int64) ([]ihoprauth.Passkey, error) {
	var rows []passkeyRow
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("id").Find(&rows).Error; err != nil {
		return nil, s.wrap("passkeys", err)
	}
	keys := make([]ihoprauth.Passkey, len(rows))
	for i, r := range rows {
		keys[i] = r.passkey()
	}
	return keys, nil
}

// PasskeyByCredentialID returns the passkey with that credential id, found
// by its hash, or ihoprauth.ErrNotFound.
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (ihoprauth.Passkey, error) {
	var row passkeyRow
	if err := s.take(ctx, &row, "credential_hash = ?", credentialHash(credentialID)); err != nil {
		return ihoprauth.Passkey{}, s.wrap("passkey by credential id", err)
	}
	return row.passkey(), nil
}

// UsePasskey moves the passkey's counter forward in one conditional
// UPDATE, so that of concurrent logins with one count, on any instance,
// exactly one changes the row, and a count that does not go forward never
// does (docs/design.md, D40).
func (s *Store) UsePasskey(ctx context.Context, id int64, count uint32, backupState bool, now time.Time) (bool, error) {
	var n int64
	err := s.retry(ctx, func() error {
		res := s.db.WithContext(ctx).Model(&passkeyRow{}).
			Where("id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))", id, int64(count), int64(count)).
			Updates(map[string]any{"sign_count": int64(count), "backup_state": backupState, "last_used_at": utc(now),
				"uses": gorm.Expr("uses + 1")})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return false, s.wrap("use passkey", err)
	}
	return n == 1, nil
}

// DeletePasskey deletes the user's passkey with that ID, or returns
// ihoprauth.ErrNotFound.
func (s *Store) DeletePasskey(ctx context.Context, userID, id int64) error {
	res := s.db.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Delete(&passkeyRow{})
	if res.Error != nil {
		return s.wrap("delete passkey", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: delete passkey %d: %w", id, ihoprauth.ErrNotFound)
	}
	return nil
}
