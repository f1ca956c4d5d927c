package ihoprauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Auth serves the API and answers the embedding app's questions about
// users. Create it with New; it is safe for concurrent use. Close it when
// the app stops, so that queued mail is sent.
type Auth struct {
	store     Store
	cfg       Config
	log       *slog.Logger
	key       []byte
	hasher    *hasher
	templates map[MailKind]compiledTemplate
	mail      *mailQueue
	cache     *tokenCache
	routes    map[string]map[string]handler
}

// secretName is the Store.Secret under which the generated key is kept.
const secretName = "hmac-key"

// New returns an Auth that keeps its data in store and sends mail through
// mailer. It fails when cfg holds an invalid template or when no key can be
// read from or stored in the database.
func New(store Store, mailer Mailer, cfg Config) (*Auth, error) {
	if store == nil || mailer == nil {
		panic("ihoprauth: New needs a Store and a Mailer")
	}
	cfg = cfg.withDefaults()
	a := &Auth{store: store, cfg: cfg, log: cfg.Logger, key: cfg.Secret}
	if a.key == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		key, err := store.Secret(ctx, secretName, randomBytes(32))
		if err != nil {
			return nil, fmt.Errorf("ihoprauth: reading the key: %w", err)
		}
		a.key = key
	}
	var err error
	if a.templates, err = compileTemplates(cfg.Templates); err != nil {
		return nil, err
	}
	a.hasher = newHasher(cfg.Argon2, cfg.MaxConcurrentHashes)
	a.mail = newMailQueue(mailer, &a.cfg)
	a.cache = newTokenCache(cfg.TokenCacheTTL)
	if cfg.Sessions != nil {
		// Session store failures answer in the API's shape (503 when the
		// database is down) and reach OnError, not scs's plain text.
		cfg.Sessions.ErrorFunc = a.writeError
	}
	a.routes = a.routeTable()
	return a, nil
}

// Close stops taking new mail and waits for queued mail to be sent. The Auth
// still answers requests after Close, but mails it would send are reported
// to OnError instead.
func (a *Auth) Close() error {
	a.mail.close()
	return nil
}

// ServeHTTP answers the API's requests. It routes on the request's full
// path, so mount it at Config.BasePath with its trailing slash:
// mux.Handle("/api/v1/", auth). Unknown paths get 404 and known paths with
// the wrong method 405, both as JSON.
func (a *Auth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, a.cfg.BasePath+"/")
	methods := a.routes[rest]
	if !ok || methods == nil {
		errNotFound.ServeHTTP(w, r)
		return
	}
	h := methods[r.Method]
	if h == nil && r.Method == http.MethodHead {
		h = methods[http.MethodGet]
	}
	if h == nil {
		w.Header().Set("Allow", allowed(methods))
		methodNotAllowed().ServeHTTP(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(withClient(r.Context(), a.clientOf(r)), a.cfg.RequestTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	if rest == "session" || rest == "logout" {
		a.withSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.serve(w, r, h) })).ServeHTTP(w, r)
		return
	}
	a.serve(w, r, h)
}

// serve runs h and writes its answer. Panics are not recovered here: the
// http.Server (or the app's recovery middleware) deals with them.
func (a *Auth) serve(w http.ResponseWriter, r *http.Request, h handler) {
	in, err := decodeInput(r, a.cfg.MaxBodyBytes)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	body, err := h(r, in)
	if err != nil {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return // the client has gone; nobody reads an answer
		}
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// allowed lists the methods of a path for the Allow header; HEAD goes
// wherever GET does.
func allowed(methods map[string]handler) string {
	list := sortedKeys(methods)
	if methods[http.MethodGet] != nil {
		list = append(list, http.MethodHead)
	}
	return strings.Join(list, ", ")
}
