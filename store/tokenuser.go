package store

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/ihoprauth/ihoprauth"
)

// tokenUserRow is a token and its user, read in one query.
type tokenUserRow struct {
	Token tokenRow `gorm:"embedded;embeddedPrefix:t_"`
	User  userRow  `gorm:"embedded;embeddedPrefix:u_"`
}

// TokenUser returns the token whose AccessHash equals hash, revoked or not,
// with its user, in one indexed read (a join on the user's primary key).
// It returns ihoprauth.ErrNotFound when there is no such token or user.
func (s *Store) TokenUser(ctx context.Context, hash string) (ihoprauth.Token, ihoprauth.User, error) {
	var rows []tokenUserRow
	err := s.db.WithContext(ctx).Raw(s.tokenUserSQL, hash).Find(&rows).Error
	if err != nil {
		return ihoprauth.Token{}, ihoprauth.User{}, s.wrap("token and user", err)
	}
	if len(rows) == 0 {
		return ihoprauth.Token{}, ihoprauth.User{}, fmt.Errorf("store: token and user: %w", ihoprauth.ErrNotFound)
	}
	return rows[0].Token.token(), rows[0].User.user(), nil
}

// tokenUserQuery is the join of TokenUser, its select list made from the
// row types so that it follows their columns under db's naming strategy.
func tokenUserQuery(db *gorm.DB) (string, error) {
	var cols []string
	for _, part := range []struct {
		alias string
		model any
	}{{"t", &tokenRow{}}, {"u", &userRow{}}} {
		s, err := schema.Parse(part.model, &sync.Map{}, db.NamingStrategy)
		if err != nil {
			return "", fmt.Errorf("store: parse %s: %w", part.alias, err)
		}
		for _, name := range s.DBNames {
			cols = append(cols, part.alias+"."+name+" AS "+part.alias+"_"+name)
		}
	}
	return "SELECT " + strings.Join(cols, ", ") +
		" FROM ihoprauth_tokens t JOIN ihoprauth_users u ON u.id = t.user_id WHERE t.access_hash = ? LIMIT 1", nil
}
