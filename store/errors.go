package store

import (
	"errors"

	"gorm.io/gorm"
)

// isDuplicate reports whether err, returned by a write through dialector,
// means that a unique index refused the row. It recognises, in order:
//
//   - gorm.ErrDuplicatedKey, which GORM returns when the *gorm.DB was
//     opened with gorm.Config.TranslateError;
//   - whatever the dialector translates to gorm.ErrDuplicatedKey: every
//     official GORM driver (sqlite, postgres, mysql, sqlserver) maps its
//     own unique-violation code, so this works without TranslateError;
//   - a mattn/go-sqlite3 error with a UNIQUE or PRIMARY KEY constraint code;
//   - any error with a SQLState method returning "23505", the SQL standard
//     unique_violation, as pgx and lib/pq errors have.
func isDuplicate(dialector gorm.Dialector, err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	if t, ok := dialector.(gorm.ErrorTranslator); ok && errors.Is(t.Translate(err), gorm.ErrDuplicatedKey) {
		return true
	}
	if isSQLiteDuplicate(err) {
		return true
	}
	var stateErr interface{ SQLState() string }
	return errors.As(err, &stateErr) && stateErr.SQLState() == "23505"
}
