package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
)

// identityRow is a stored ihoprauth.Identity: one per project, provider and
// subject, which the unique index keeps even when two first logins race.
type identityRow struct {
	ID        int64     `gorm:"primaryKey"`
	ProjectID int64     `gorm:"not null;uniqueIndex:ihoprauth_identities_subject,priority:1"`
	UserID    int64     `gorm:"not null;index:ihoprauth_identities_user_id"`
	Provider  string    `gorm:"size:32;not null;uniqueIndex:ihoprauth_identities_subject,priority:2"`
	Subject   string    `gorm:"size:255;not null;uniqueIndex:ihoprauth_identities_subject,priority:3"`
	Email     string    `gorm:"size:320;not null"`
	CreatedAt time.Time `gorm:"precision:6;not null;autoCreateTime:false"`
}

func (identityRow) TableName() string { return "ihoprauth_identities" }

func (r identityRow) identity() ihoprauth.Identity {
	return ihoprauth.Identity{ID: r.ID, ProjectID: r.ProjectID, UserID: r.UserID, Provider: r.Provider,
		Subject: r.Subject, Email: r.Email, CreatedAt: utc(r.CreatedAt)}
}

// addIdentities is step 13: the identities of users at other providers;
// when a user's email was first proved (NULL for the users there are: not
// known to be proved); and the provider of the login that an auth code or
// an mfa_token continues (” for the rows there are: none).
func addIdentities(db *gorm.DB) error {
	if err := tableOptions(db).AutoMigrate(&identityRow{}); err != nil {
		return err
	}
	for _, c := range []struct {
		model any
		field string
	}{{&userRow{}, "EmailVerifiedAt"}, {&authCodeRow{}, "Provider"}, {&challengeRow{}, "Provider"}} {
		if db.Migrator().HasColumn(c.model, c.field) {
			continue
		}
		if err := db.Migrator().AddColumn(c.model, c.field); err != nil {
			return err
		}
	}
	return nil
}

// CreateIdentity inserts id and sets id.ID, or returns
// ihoprauth.ErrDuplicate when the project has that provider and subject.
func (s *Store) CreateIdentity(ctx context.Context, id *ihoprauth.Identity) error {
	row := identityRow{ProjectID: id.ProjectID, UserID: id.UserID, Provider: id.Provider, Subject: id.Subject,
		Email: id.Email, CreatedAt: stamp(id.CreatedAt)}
	if err := s.create(ctx, &row); err != nil {
		return s.wrap("create identity", err)
	}
	id.ID, id.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// IdentityBySubject returns the project's identity of that provider and
// subject, or ihoprauth.ErrNotFound.
func (s *Store) IdentityBySubject(ctx context.Context, projectID int64, provider, subject string) (ihoprauth.Identity, error) {
	var row identityRow
	if err := s.take(ctx, &row, "project_id = ? AND provider = ? AND subject = ?", projectID, provider, subject); err != nil {
		return ihoprauth.Identity{}, s.wrap("identity", err)
	}
	return row.identity(), nil
}

// Identities returns the user's identities by ascending ID.
func (s *Store) Identities(ctx context.Context, userID int64) ([]ihoprauth.Identity, error) {
	var rows []identityRow
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("id").Find(&rows).Error; err != nil {
		return nil, s.wrap("identities", err)
	}
	ids := make([]ihoprauth.Identity, len(rows))
	for i, r := range rows {
		ids[i] = r.identity()
	}
	return ids, nil
}

// DeleteIdentity deletes the user's identity with that ID, or returns
// ihoprauth.ErrNotFound.
func (s *Store) DeleteIdentity(ctx context.Context, userID, id int64) error {
	res := s.db.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Delete(&identityRow{})
	if res.Error != nil {
		return s.wrap("delete identity", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: delete identity %d: %w", id, ihoprauth.ErrNotFound)
	}
	return nil
}

// MarkEmailVerified sets the user's email_verified_at to at unless it is
// set, and nothing else, or returns ihoprauth.ErrNotFound.
func (s *Store) MarkEmailVerified(ctx context.Context, id int64, at time.Time) error {
	n, err := s.set(ctx, &userRow{}, "email_verified_at", utc(at), "id = ? AND email_verified_at IS NULL", id)
	if err != nil || n > 0 {
		return s.wrap("mark email verified", err)
	}
	_, err = s.UserByID(ctx, id)
	return err
}
