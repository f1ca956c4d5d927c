package store

import (
	"fmt"

	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ihoprauth/ihoprauth"
)

// SaveProject inserts p, or updates the type, secret hash, public flag and
// UpdatedAt of the project with the same ClientID, keeping its ID and
// CreatedAt, and adds p's BcryptCosts to its own (a bitwise OR). It then sets p.ID,
// p.BcryptCosts, p.CreatedAt and p.UpdatedAt from the row.
func (s *Store) SaveProject(ctx context.Context, p *ihoprauth.Project) error {
	row := newProjectRow(p)
	costs := clause.Column{Table: projectRow{}.TableName(), Name: "bcrypt_costs"}
	updates := clause.AssignmentColumns([]string{"secret_hash", "type", "public", "updated_at"})
	updates = append(updates, clause.Assignment{Column: clause.Column{Name: "bcrypt_costs"},
		Value: gorm.Expr("? | ?", costs, p.BcryptCosts)})
	upsert := clause.OnConflict{Columns: []clause.Column{{Name: "client_id"}}, DoUpdates: updates}
	if err := s.db.WithContext(ctx).Clauses(upsert).Create(&row).Error; err != nil {
		return s.wrap("save project", err)
	}
	saved, err := s.ProjectByClientID(ctx, p.ClientID)
	if err != nil {
		return err
	}
	p.ID, p.BcryptCosts, p.CreatedAt, p.UpdatedAt = saved.ID, saved.BcryptCosts, saved.CreatedAt, saved.UpdatedAt
	return nil
}

// ProjectByClientID returns the project with that client_id, or
// ihoprauth.ErrNotFound. It reads through a prepared statement: every
// request that names a client reads it.
func (s *Store) ProjectByClientID(ctx context.Context, clientID string) (ihoprauth.Project, error) {
	var x projectScan
	project := func() ihoprauth.Change { return ihoprauth.Change{ProjectID: x.p.ID} }
	if err := s.readRow(ctx, s.reads.projectByClientID, project, x.dest(), clientID); err != nil {
		return ihoprauth.Project{}, err
	}
	return x.p.project(), nil
}

// projectFields are the columns of ProjectByClientID, in the order of
// projectScan.dest.
var projectFields = []string{"ID", "ClientID", "SecretHash", "Type", "Public", "BcryptCosts", "CreatedAt", "UpdatedAt"}

// projectByClientID is the SQL of ProjectByClientID.
func (q *queryBuilder) projectByClientID() string {
	projects := projectRow{}.TableName()
	return "SELECT " + q.columns(projects, "", projectFields...) + " FROM " + projects + " WHERE " + q.column(projects, "ClientID") + " = ?"
}

// projectScan receives the row of ProjectByClientID.
type projectScan struct {
	p       projectRow
	targets [8]any
}

// dest returns where each column of ProjectByClientID goes.
func (x *projectScan) dest() []any {
	p := &x.p
	x.targets = [...]any{&p.ID, &p.ClientID, &p.SecretHash, &p.Type, &p.Public, &p.BcryptCosts, &p.CreatedAt, &p.UpdatedAt}
	return x.targets[:]
}

// ProjectByID returns the project with that ID, or ihoprauth.ErrNotFound.
func (s *Store) ProjectByID(ctx context.Context, id int64) (ihoprauth.Project, error) {
	var row projectRow
	if err := s.take(ctx, &row, "id = ?", id); err != nil {
		return ihoprauth.Project{}, s.wrap("project by id", err)
	}
	return row.project(), nil
}

// newProjectRow is the row that SaveProject writes for p. Its ID is left
// zero so that an insert takes a fresh one and an update keeps the old.
func newProjectRow(p *ihoprauth.Project) projectRow {
	return projectRow{
		ClientID:    p.ClientID,
		SecretHash:  p.SecretHash,
		Type:        string(p.Type),
		Public:      p.Public,
		BcryptCosts: p.BcryptCosts,
		CreatedAt:   stamp(p.CreatedAt),
		UpdatedAt:   stamp(p.UpdatedAt),
	}
}

func (r projectRow) project() ihoprauth.Project {
	return ihoprauth.Project{
		ID:          r.ID,
		ClientID:    r.ClientID,
		SecretHash:  r.SecretHash,
		Type:        ihoprauth.ProjectType(r.Type),
		Public:      r.Public,
		BcryptCosts: r.BcryptCosts,
		CreatedAt:   utc(r.CreatedAt),
		UpdatedAt:   utc(r.UpdatedAt),
	}
}

// SetProjectSecretHash sets the secret hash of the project with that ID to
// hash if it is still old; ihoprauth.ErrConflict when it is not,
// ihoprauth.ErrNotFound when there is no such project.
func (s *Store) SetProjectSecretHash(ctx context.Context, id int64, old, hash string) error {
	n, err := s.set(ctx, &projectRow{}, "secret_hash", hash, "id = ? AND secret_hash = ?", id, old)
	if err != nil {
		return s.wrap("set project secret hash", err)
	}
	if n == 1 {
		return nil
	}
	var row projectRow
	if err := s.take(ctx, &row, "id = ?", id); err != nil {
		return s.wrap("project", err)
	}
	if row.SecretHash == hash {
		return nil // another request re-keyed it first
	}
	return fmt.Errorf("store: set project secret hash: %w", ihoprauth.ErrConflict)
}
