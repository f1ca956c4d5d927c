package ihoprauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// ProjectSpec describes a project to create or update with SaveProject.
type ProjectSpec struct {
	// ClientID identifies the project in every request (client_id).
	ClientID string
	// ClientSecret is the project's client_secret. It is stored only as a
	// keyed hash, so choose a long random one. Required unless Public.
	ClientSecret string
	// Type is how users log in; one of TypeNone, TypeTwoStep, TypeOTP.
	Type ProjectType
	// Public marks a client that cannot keep a secret (SPA, mobile app):
	// client_secret becomes optional and every login must send a PKCE S256
	// code_challenge.
	Public bool
}

// SaveProject creates the project spec describes, or updates the project
// with the same ClientID (its type, secret and publicness), keeping its
// users.
func (a *Auth) SaveProject(ctx context.Context, spec ProjectSpec) (Project, error) {
	switch {
	case spec.ClientID == "" || len(spec.ClientID) > maxClientID || hasControl(spec.ClientID):
		return Project{}, fmt.Errorf("ihoprauth: client ID must be 1 to %d printable bytes", maxClientID)
	case !spec.Type.Valid():
		return Project{}, fmt.Errorf("ihoprauth: project type %q is not none, two-step or otp", spec.Type)
	case spec.ClientSecret == "" && !spec.Public:
		return Project{}, errors.New("ihoprauth: a project that is not public needs a client secret")
	}
	p := Project{ClientID: spec.ClientID, Type: spec.Type, Public: spec.Public}
	if spec.ClientSecret != "" {
		p.SecretHash = a.keyed("client-secret", spec.ClientSecret)
	}
	if err := a.saveProject(ctx, &p); err != nil {
		return Project{}, fmt.Errorf("ihoprauth: saving project %q: %w", spec.ClientID, err)
	}
	return p, nil
}

// DeleteProject deletes the project with that client_id and everything of
// it: each of its users as DeleteUser erases one (their audit events keep
// a pseudonym only, named by a "user deleted" event each), then the
// project, whose client_id then works no more and leaves every server API
// key (a key left with no project is deleted).
// Each user is deleted in a transaction of its own, so no table is locked
// for long, and a DeleteProject that failed part way finishes when called
// again. A signup that completes in the instant between the last user and
// the project is deleted with the project, but its own audit events keep
// the user_id. The project's audit events stay until EventRetention ends
// them. It returns an error wrapping ErrNotFound when there is no such
// project.
func (a *Auth) DeleteProject(ctx context.Context, clientID string) error {
	p, err := a.store.ProjectByClientID(ctx, clientID)
	if err != nil {
		return fmt.Errorf("ihoprauth: project %q: %w", clientID, err)
	}
	for {
		users, err := a.store.ListUsers(ctx, UserQuery{ProjectID: p.ID, Limit: 100})
		if err != nil {
			return err
		}
		if len(users) == 0 {
			break
		}
		for _, u := range users {
			pseudonym, err := a.deleteUser(ctx, u)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			a.event(ctx, EventUserDeleted, u.ProjectID, pseudonym, "ok")
		}
	}
	err = a.changeProject(ctx, func(tx Store) (int64, error) { return p.ID, tx.DeleteProject(ctx, p.ID) })
	if err != nil {
		return err
	}
	a.event(ctx, EventProjectDeleted, p.ID, "", "ok")
	return a.dropFromAPIKeys(ctx, p)
}

// dropFromAPIKeys takes the deleted project p out of every server API key,
// so that a later project with the same client_id is not in a key's reach;
// a key left with no project is deleted.
func (a *Auth) dropFromAPIKeys(ctx context.Context, p Project) error {
	keys, err := a.store.APIKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !k.Allows(p.ClientID) {
			continue
		}
		k.ClientIDs = slices.DeleteFunc(k.ClientIDs, func(id string) bool { return id == p.ClientID })
		if len(k.ClientIDs) == 0 {
			err = a.DeleteAPIKey(ctx, k.ID)
		} else {
			err = a.store.UpdateAPIKey(ctx, k)
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// saveProject saves p as Store.SaveProject does, and appends its change to
// the feed in the same transaction.
func (a *Auth) saveProject(ctx context.Context, p *Project) error {
	return a.changeProject(ctx, func(tx Store) (int64, error) {
		err := tx.SaveProject(ctx, p)
		return p.ID, err
	})
}

// clientCreds are the client_id and client_secret a request sent.
type clientCreds struct{ id, secret string }

func readClient(in *input) clientCreds {
	return clientCreds{
		id:     in.str("client_id", true, maxClientID),
		secret: in.secret("client_secret", false),
	}
}

// authClient returns the project whose credentials c are. A public project
// needs no secret; any secret that is sent must be right (RFC 6749 §2.3).
// Secrets are compared as keyed hashes in constant time, and an unknown
// client_id costs the same hash as a known one.
func (a *Auth) authClient(ctx context.Context, c clientCreds) (Project, error) {
	p, err := a.project(ctx, c.id)
	if errors.Is(err, ErrNotFound) {
		a.matchKeyed("client-secret", c.secret, "")
		return Project{}, errBadClient
	}
	if err != nil {
		return Project{}, err
	}
	if c.secret == "" {
		if p.Public {
			return p, nil
		}
		return Project{}, fieldError("client_secret", "The client_secret field is required.")
	}
	ok, old := a.matchKeyed("client-secret", c.secret, p.SecretHash)
	if p.SecretHash == "" || !ok {
		return Project{}, errBadClient
	}
	if old {
		a.rekeyProject(ctx, p, c.secret)
	}
	return p, nil
}

// rekeyProject replaces p's secret hash, made with a previous key, by the
// hash under the current key of secret, unless the project's secret was
// changed meanwhile. A failure is reported to OnError and leaves the old
// hash, which still works.
func (a *Auth) rekeyProject(ctx context.Context, p Project, secret string) {
	err := a.changeProject(ctx, func(tx Store) (int64, error) {
		return p.ID, tx.SetProjectSecretHash(ctx, p.ID, p.SecretHash, a.keyed("client-secret", secret))
	})
	if err != nil && !errors.Is(err, ErrConflict) {
		a.cfg.OnError(ctx, fmt.Errorf("ihoprauth: re-keying project %q: %w", p.ClientID, err))
	}
}
