package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// apiKeyRow is a stored ihoprauth.APIKey; ClientIDs is a JSON array.
type apiKeyRow struct {
	ID        int64     `gorm:"primaryKey"`
	Name      string    `gorm:"size:100;not null"`
	KeyHash   string    `gorm:"size:64;not null;uniqueIndex:ihoprauth_api_keys_hash"`
	ClientIDs string    `gorm:"type:text;not null"`
	CreatedAt time.Time `gorm:"precision:6;not null"`
}

func (apiKeyRow) TableName() string { return "ihoprauth_api_keys" }

func (r apiKeyRow) key() (ihoprauth.APIKey, error) {
	k := ihoprauth.APIKey{ID: r.ID, Name: r.Name, KeyHash: r.KeyHash, CreatedAt: utc(r.CreatedAt)}
	if err := json.Unmarshal([]byte(r.ClientIDs), &k.ClientIDs); err != nil {
		return ihoprauth.APIKey{}, fmt.Errorf("store: API key %d: client IDs: %w", r.ID, err)
	}
	return k, nil
}

// CreateAPIKey inserts k and sets k.ID (and a zero k.CreatedAt to now).
func (s *Store) CreateAPIKey(ctx context.Context, k *ihoprauth.APIKey) error {
	ids, err := json.Marshal(k.ClientIDs)
	if err != nil {
		return err
	}
	row := apiKeyRow{Name: k.Name, KeyHash: k.KeyHash, ClientIDs: string(ids), CreatedAt: stamp(k.CreatedAt)}
	if err := s.create(ctx, &row); err != nil {
		return s.wrap("create API key", err)
	}
	k.ID, k.CreatedAt = row.ID, row.CreatedAt
	return nil
}

// APIKeyByHash returns the key whose KeyHash is hash, or
// ihoprauth.ErrNotFound.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (ihoprauth.APIKey, error) {
	var row apiKeyRow
	if err := s.take(ctx, &row, "key_hash = ?", hash); err != nil {
		return ihoprauth.APIKey{}, s.wrap("API key", err)
	}
	return row.key()
}

// APIKeys returns every key, oldest first.
func (s *Store) APIKeys(ctx context.Context) ([]ihoprauth.APIKey, error) {
	var rows []apiKeyRow
	if err := s.db.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, s.wrap("API keys", err)
	}
	keys := make([]ihoprauth.APIKey, 0, len(rows))
	for _, r := range rows {
		k, err := r.key()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// DeleteAPIKey deletes the key with that ID, or returns
// ihoprauth.ErrNotFound.
func (s *Store) DeleteAPIKey(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&apiKeyRow{})
	if res.Error != nil {
		return s.wrap("delete API key", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("store: delete API key %d: %w", id, ihoprauth.ErrNotFound)
	}
	return nil
}

var _ ihoprauth.APIKeyStore = (*Store)(nil)

// UpdateAPIKey writes the KeyHash and ClientIDs of k over those of the key
// with k's ID, or returns ihoprauth.ErrNotFound.
func (s *Store) UpdateAPIKey(ctx context.Context, k ihoprauth.APIKey) error {
	ids, err := json.Marshal(k.ClientIDs)
	if err != nil {
		return err
	}
	if _, err := s.apiKeyByID(ctx, k.ID); err != nil {
		return err
	}
	err = s.db.WithContext(ctx).Model(&apiKeyRow{}).Where("id = ?", k.ID).
		Updates(map[string]any{"key_hash": k.KeyHash, "client_ids": string(ids)}).Error
	return s.wrap("update API key", err)
}

// apiKeyByID returns the row of the key with that ID, or
// ihoprauth.ErrNotFound.
func (s *Store) apiKeyByID(ctx context.Context, id int64) (apiKeyRow, error) {
	var row apiKeyRow
	if err := s.take(ctx, &row, "id = ?", id); err != nil {
		return row, s.wrap("API key", err)
	}
	return row, nil
}
