package store

import "time"

// The row types below are the tables. Every indexed string column has a
// size, because MariaDB cannot index a LONGTEXT, and every index name starts
// with its table's name, because PostgreSQL index names share one namespace
// per schema. GORM's automatic timestamps are off: the Store sets every time
// itself, in UTC.

// projectRow is a stored ihoprauth.Project.
type projectRow struct {
	ID          int64     `gorm:"primaryKey"`
	ClientID    string    `gorm:"size:191;not null;uniqueIndex:ihoprauth_projects_client_id"`
	SecretHash  string    `gorm:"not null"`
	Type        string    `gorm:"not null"`
	Public      bool      `gorm:"not null"`
	BcryptCosts int       `gorm:"not null;default:0"`
	CreatedAt   time.Time `gorm:"precision:6;not null;autoCreateTime:false"`
	UpdatedAt   time.Time `gorm:"precision:6;not null;autoUpdateTime:false"`
}

func (projectRow) TableName() string { return "ihoprauth_projects" }

// userRow is a stored ihoprauth.User.
type userRow struct {
	ID           int64  `gorm:"primaryKey"`
	UserID       string `gorm:"size:32;not null;uniqueIndex:ihoprauth_users_user_id"`
	ProjectID    int64  `gorm:"not null;uniqueIndex:ihoprauth_users_email_key,priority:1"`
	Email        string `gorm:"not null"`
	EmailKey     string `gorm:"size:320;not null;uniqueIndex:ihoprauth_users_email_key,priority:2"`
	FirstName    string `gorm:"not null"`
	LastName     string `gorm:"not null"`
	MobileNumber string `gorm:"not null"`
	Meta         *string
	Role         string    `gorm:"not null"`
	Provider     string    `gorm:"not null"`
	PasswordHash string    `gorm:"not null"`
	CreatedAt    time.Time `gorm:"precision:6;not null;autoCreateTime:false"`
	UpdatedAt    time.Time `gorm:"precision:6;not null;autoUpdateTime:false"`
	// Version came with migration step 3; its default fills existing rows.
	Version int64 `gorm:"not null;default:0"`
	// DisabledAt came with migration step 7; NULL while enabled.
	DisabledAt *time.Time `gorm:"precision:6"`
	// EmailVerifiedAt came with migration step 13; NULL while not proved.
	EmailVerifiedAt *time.Time `gorm:"precision:6"`
}

func (userRow) TableName() string { return "ihoprauth_users" }

// challengeRow is a stored ihoprauth.Challenge. AccountKey came later than
// the table: its default lets AutoMigrate add the column to a table that
// already has rows. Purge finds expired rows by the index on ExpiresAt, as
// it does auth codes, and tokens by those on RefreshExpiresAt and RevokedAt.
type challengeRow struct {
	ID                  int64      `gorm:"primaryKey"`
	Purpose             string     `gorm:"size:16;not null;uniqueIndex:ihoprauth_challenges_token,priority:1"`
	ProjectID           int64      `gorm:"not null"`
	UserID              int64      `gorm:"not null"`
	TokenHash           string     `gorm:"size:64;not null;uniqueIndex:ihoprauth_challenges_token,priority:2"`
	AccountKey          string     `gorm:"size:64;not null;default:''"`
	CodeHash            string     `gorm:"not null"`
	CodeChallenge       string     `gorm:"not null"`
	CodeChallengeMethod string     `gorm:"not null"`
	Attempts            int        `gorm:"not null"`
	ExpiresAt           time.Time  `gorm:"precision:6;not null;index:ihoprauth_challenges_expires_at"`
	UsedAt              *time.Time `gorm:"precision:6"`
	CreatedAt           time.Time  `gorm:"precision:6;not null;autoCreateTime:false"`
	// Provider came with migration step 13; its default fills existing rows.
	Provider string `gorm:"size:32;not null;default:''"`
}

func (challengeRow) TableName() string { return "ihoprauth_challenges" }

// authCodeRow is a stored ihoprauth.AuthCode.
type authCodeRow struct {
	ID                  int64      `gorm:"primaryKey"`
	Hash                string     `gorm:"size:64;not null;uniqueIndex:ihoprauth_auth_codes_hash"`
	ProjectID           int64      `gorm:"not null"`
	UserID              int64      `gorm:"not null"`
	CodeChallenge       string     `gorm:"not null"`
	CodeChallengeMethod string     `gorm:"not null"`
	ExpiresAt           time.Time  `gorm:"precision:6;not null;index:ihoprauth_auth_codes_expires_at"`
	UsedAt              *time.Time `gorm:"precision:6"`
	CreatedAt           time.Time  `gorm:"precision:6;not null;autoCreateTime:false"`
	// AAL came with migration step 9; its default fills existing rows.
	AAL int `gorm:"column:aal;not null;default:1"`
	// Provider came with migration step 13; its default fills existing rows.
	Provider string `gorm:"size:32;not null;default:''"`
}

func (authCodeRow) TableName() string { return "ihoprauth_auth_codes" }

// tokenRow is a stored ihoprauth.Token.
type tokenRow struct {
	ID               int64      `gorm:"primaryKey"`
	AccessHash       string     `gorm:"size:64;not null;uniqueIndex:ihoprauth_tokens_access_hash"`
	RefreshHash      string     `gorm:"size:64;not null;uniqueIndex:ihoprauth_tokens_refresh_hash"`
	FamilyID         string     `gorm:"size:64;not null;index:ihoprauth_tokens_family_id"`
	ProjectID        int64      `gorm:"not null"`
	UserID           int64      `gorm:"not null;index:ihoprauth_tokens_user_id"`
	AuthCodeID       int64      `gorm:"not null;index:ihoprauth_tokens_auth_code_id"`
	ExpiresAt        time.Time  `gorm:"precision:6;not null"`
	RefreshExpiresAt time.Time  `gorm:"precision:6;not null;index:ihoprauth_tokens_refresh_expires_at"`
	RefreshedAt      *time.Time `gorm:"precision:6"`
	RevokedAt        *time.Time `gorm:"precision:6;index:ihoprauth_tokens_revoked_at"`
	CreatedAt        time.Time  `gorm:"precision:6;not null;autoCreateTime:false"`
	// AAL and AuthAt came with migration step 9; the default fills AAL of
	// existing rows, whose AuthAt is NULL.
	AAL    int        `gorm:"column:aal;not null;default:1"`
	AuthAt *time.Time `gorm:"precision:6"`
}

func (tokenRow) TableName() string { return "ihoprauth_tokens" }

// secretRow is one value returned by Store.Secret.
type secretRow struct {
	Name  string `gorm:"primaryKey;size:191"`
	Value []byte
}

func (secretRow) TableName() string { return "ihoprauth_secrets" }

// counterRow is a stored ihoprauth.Counter. Its key column is not called
// "key", a reserved word in MySQL. LastAt has no index, although Purge
// selects by it: every Hit changes it, and the table holds one row per key
// in use, which Purge keeps small.
type counterRow struct {
	Key         string    `gorm:"column:counter_key;primaryKey;size:64"`
	Count       int       `gorm:"not null"`
	WindowStart time.Time `gorm:"precision:6;not null"`
	LastAt      time.Time `gorm:"precision:6;not null"`
}

func (counterRow) TableName() string { return "ihoprauth_counters" }

// eventRow is a stored ihoprauth.Event. Events reads by time; the indexes
// by project and by user, each ordered by time, serve an app that looks up
// one project's or one user's trail.
type eventRow struct {
	ID        int64     `gorm:"primaryKey"`
	Kind      string    `gorm:"not null"`
	ProjectID int64     `gorm:"not null;index:ihoprauth_events_project,priority:1"`
	UserID    string    `gorm:"size:32;not null;index:ihoprauth_events_user,priority:1"`
	IP        string    `gorm:"not null"`
	UserAgent string    `gorm:"not null"`
	Result    string    `gorm:"not null"`
	Actor     string    `gorm:"size:32;not null;default:''"`
	Count     int       `gorm:"not null;default:1"`
	At        time.Time `gorm:"precision:6;not null;index:ihoprauth_events_at;index:ihoprauth_events_project,priority:2;index:ihoprauth_events_user,priority:2"`
}

func (eventRow) TableName() string { return "ihoprauth_events" }

// utc returns t in UTC, truncated to the microsecond that every supported
// database keeps.
func utc(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// utcPtr is utc for a nullable time.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := utc(*t)
	return &u
}

// stamp is utc, but a zero t becomes the current time.
func stamp(t time.Time) time.Time {
	if t.IsZero() {
		return utc(time.Now())
	}
	return utc(t)
}
