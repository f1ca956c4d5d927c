package ihoprauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Server API keys let the app's own servers (a back office, a support tool,
// a job) call the admin API (BasePath/admin/) without a user's login. A
// key is shown once, when it is made, and stored only as a keyed hash
// (docs/design.md, D8), so a copy of the database does not hold a usable
// key. Each key names the projects whose users it may manage. Keys are not
// cached: a deleted key stops working at once on every instance.

// apiKeyPrefix starts every API key, so that a key is told from an access
// token in an Authorization header, and secret scanners can find one that
// leaked.
const apiKeyPrefix = "ihoprauth_sk_"

// CreateAPIKey makes a server API key for the admin API, named name (for the
// app's own lists, at most 100 bytes), that may manage the users of the
// projects with those client_ids (each must exist), and returns the key,
// which is never shown again, and its record. A caller sends it as
// "Authorization: Bearer KEY" with the client_id of the project it manages
// in the query string.
func (a *Auth) CreateAPIKey(ctx context.Context, name string, clientIDs []string) (string, APIKey, error) {
	if name == "" || len(name) > 100 || hasControl(name) {
		return "", APIKey{}, errors.New("ihoprauth: an API key's name must be 1 to 100 printable bytes")
	}
	if len(clientIDs) == 0 {
		return "", APIKey{}, errors.New("ihoprauth: an API key needs at least one project")
	}
	for _, id := range clientIDs {
		if _, err := a.store.ProjectByClientID(ctx, id); err != nil {
			return "", APIKey{}, fmt.Errorf("ihoprauth: project %q: %w", id, err)
		}
	}
	key := apiKeyPrefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
	k := APIKey{Name: name, ClientIDs: clientIDs, KeyHash: a.keyed("api-key", key), CreatedAt: a.now()}
	if err := a.store.CreateAPIKey(ctx, &k); err != nil {
		return "", APIKey{}, fmt.Errorf("ihoprauth: saving API key %q: %w", name, err)
	}
	a.event(ctx, EventAPIKeyCreated, 0, "key:"+strconv.FormatInt(k.ID, 10), "ok")
	return key, k, nil
}

// APIKeys returns the records of every server API key, oldest first;
// the keys themselves are not kept.
func (a *Auth) APIKeys(ctx context.Context) ([]APIKey, error) {
	return a.store.APIKeys(ctx)
}

// DeleteAPIKey deletes the server API key with that ID: on every instance,
// the next request that sends it gets 401. It returns an error wrapping
// ErrNotFound when there is no such key.
func (a *Auth) DeleteAPIKey(ctx context.Context, id int64) error {
	if err := a.store.DeleteAPIKey(ctx, id); err != nil {
		return err
	}
	a.event(ctx, EventAPIKeyDeleted, 0, "key:"+strconv.FormatInt(id, 10), "ok")
	return nil
}

// apiKey returns the record of the key that token is, if token looks like
// one (ok false otherwise).
func (a *Auth) apiKey(ctx context.Context, token string) (k APIKey, ok bool, err error) {
	if !strings.HasPrefix(token, apiKeyPrefix) {
		return APIKey{}, false, nil
	}
	hash := a.keyed("api-key", token)
	k, err = a.store.APIKeyByHash(ctx, hash)
	for _, old := range a.cfg.PreviousSecrets {
		if !errors.Is(err, ErrNotFound) {
			break
		}
		if k, err = a.store.APIKeyByHash(ctx, keyedWith(old, "api-key", token)); err == nil {
			// Made under a previous key: hashed again under the current one.
			k.KeyHash = hash
			if err := a.store.UpdateAPIKey(ctx, k); err != nil {
				a.cfg.OnError(ctx, fmt.Errorf("ihoprauth: re-keying API key %d: %w", k.ID, err))
			}
		}
	}
	for _, next := range a.cfg.NextSecrets {
		if !errors.Is(err, ErrNotFound) {
			break
		}
		k, err = a.store.APIKeyByHash(ctx, keyedWith(next, "api-key", token))
	}
	if errors.Is(err, ErrNotFound) {
		return APIKey{}, true, errBadToken
	}
	return k, true, err
}
