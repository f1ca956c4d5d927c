package ihoprauth

import (
	"context"
	"sync"
	"time"
)

// projectCache keeps the projects that requests name, by client_id, so that
// a login or a refresh does not read its project's row every time. It is on
// when the token cache is (Config.TokenCacheTTL), keeps an entry as long as
// the token cache keeps a login, and is trusted only while the change feed
// is fresh, as the token cache is. Every change of a project (SaveProject,
// an import that adds a bcrypt cost, DeleteProject) appends a change of the
// project to the feed in its own transaction; an instance that reads one
// drops all its projects, since projects change rarely and there are few
// (docs/design.md, D7). Unknown client_ids are never kept, so strangers
// cannot grow it.
type projectCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedProject
	// gen counts the forgets, so that a project read before a change
	// committed is not kept after the change was seen (see put).
	gen uint64
}

type cachedProject struct {
	p     Project
	until time.Time
}

func newProjectCache(ttl time.Duration) *projectCache {
	if ttl <= 0 {
		return nil
	}
	return &projectCache{ttl: ttl, m: map[string]cachedProject{}}
}

// get returns the project cached under clientID if it is still fresh at
// now, and the generation to pass to put after a read of the database.
func (c *projectCache) get(clientID string, now time.Time) (Project, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[clientID]
	if ok && now.Before(e.until) {
		return e.p, c.gen, true
	}
	return Project{}, c.gen, false
}

// put keeps p, read from the database at now, unless a forget happened
// since get returned gen: then p may predate a change and is dropped.
func (c *projectCache) put(p Project, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.m[p.ClientID] = cachedProject{p: p, until: now.Add(c.ttl)}
	}
}

// forget drops every project. A nil cache does nothing.
func (c *projectCache) forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}

// project returns the project with that client_id, from the cache when it
// is on and the feed is fresh, else from the store.
func (a *Auth) project(ctx context.Context, clientID string) (Project, error) {
	c := a.projects
	if c == nil {
		return a.store.ProjectByClientID(ctx, clientID)
	}
	now := a.now()
	fresh := a.feedFresh(now)
	p, gen, ok := c.get(clientID, now)
	if ok && fresh {
		return p, nil
	}
	p, err := a.store.ProjectByClientID(ctx, clientID)
	if err == nil && fresh {
		c.put(p, gen, now)
	}
	return p, err
}

// changeProject runs fn, which changes the project with the ID it returns,
// in one transaction that also appends a change of that project to the
// feed, and then drops this instance's cached projects whether it committed
// or not.
func (a *Auth) changeProject(ctx context.Context, fn func(tx Store) (int64, error)) error {
	defer a.projects.forget()
	return a.store.InTx(ctx, func(tx Store) error {
		id, err := fn(tx)
		if err != nil {
			return err
		}
		return tx.AppendChange(ctx, Change{ProjectID: id})
	})
}
