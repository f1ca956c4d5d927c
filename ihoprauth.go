package ihoprauth

import (
	"context"
	"crypto/cipher"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
)

// Auth serves the API and answers the embedding app's questions about
// users. Create it with New; it is safe for concurrent use. Close it when
// the app stops, so that queued mail is sent.
type Auth struct {
	store        Store
	cfg          Config
	log          *slog.Logger
	key          []byte
	sealer       cipher.AEAD   // seals factor secrets (factorkeys.go)
	otherSealers []cipher.AEAD // open what keys of Config.PreviousSecrets and NextSecrets sealed
	hasher       *hasher
	templates    map[MailKind]compiledTemplate
	mail         *mailQueue
	tel          *telemetry
	cache        *tokenCache
	projects     *projectCache // on when cache is
	feed         feed
	routes       map[string]map[string]handler
	prefix       string                        // Config.BasePath + "/": what every path of the API starts with
	rp           *webauthn.WebAuthn            // the relying party of Config.Passkeys; nil: none
	projectRPs   map[string]*webauthn.WebAuthn // those of Config.ProjectPasskeys, by client_id
	providers    providerSet
	// renders counts the mails rendered, the dropped ones of unknown
	// emails included, so tests can see that both cost the same.
	renders atomic.Int64
}

// secretName is the Store.Secret under which the generated key is kept.
const secretName = "hmac-key"

// New returns an Auth that keeps its data in store and sends mail through
// mailer. ctx bounds its first database read (the generated key, unless
// Config.Secret is set). It fails, with an error wrapping ErrInvalidConfig
// that names each field at fault, when a Config value cannot work (see
// Config); and it fails when cfg holds an invalid template or when no key
// can be read from or stored in the database.
func New(ctx context.Context, store Store, mailer Mailer, cfg Config) (*Auth, error) {
	a, err := newAuth(ctx, store, mailer, cfg)
	if err != nil {
		return nil, err
	}
	tick := time.NewTicker(feedInterval)
	a.startFeed(tick.C, tick.Stop)
	return a, nil
}

// newAuth is New without the background reads of the change feed, which
// tests drive themselves.
func newAuth(ctx context.Context, store Store, mailer Mailer, cfg Config) (*Auth, error) {
	if store == nil || mailer == nil {
		panic("ihoprauth: New needs a Store and a Mailer")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	a := &Auth{store: store, cfg: cfg, log: cfg.Logger, key: cfg.Secret}
	var err error
	if a.tel, err = newTelemetry(cfg); err != nil {
		return nil, err
	}
	if a.tel.on {
		a.store = instrumentedStore{store, a.tel}
	}
	if len(a.key) == 0 {
		key, err := a.store.Secret(ctx, secretName, randomBytes(32))
		if err != nil {
			return nil, fmt.Errorf("ihoprauth: reading the key: %w", err)
		}
		a.key = key
	}
	if a.sealer, err = newSealer(a.key); err != nil {
		return nil, err
	}
	for _, k := range a.otherKeys() {
		s, err := newSealer(k)
		if err != nil {
			return nil, err
		}
		a.otherSealers = append(a.otherSealers, s)
	}
	if a.templates, err = compileTemplates(cfg.Templates); err != nil {
		return nil, err
	}
	a.hasher = newHasher(cfg.Argon2, cfg.MaxConcurrentHashes, cfg.Argon2Engine, cfg.RequestTimeout)
	a.hasher.tel = a.tel
	a.mail = newMailQueue(mailer, &a.cfg)
	a.mail.tel = a.tel
	a.cache = newTokenCache(cfg.TokenCacheTTL, cfg.TokenCacheBytes)
	a.projects = newProjectCache(cfg.TokenCacheTTL)
	a.routes, a.prefix = a.routeTable(), a.cfg.BasePath+"/"
	if err := a.relyingParties(); err != nil {
		return nil, fmt.Errorf("%w: Passkeys: %w", ErrInvalidConfig, err)
	}
	a.providers = newProviderSet(a.cfg)
	if a.tel.on {
		if err := a.tel.observeGauges(a); err != nil {
			return nil, fmt.Errorf("ihoprauth: metrics: %w", err)
		}
	}
	if a.cache != nil {
		if err := a.pollFeed(ctx); err != nil {
			a.cfg.OnError(ctx, err) // the cache waits for a read that works
		}
	}
	return a, nil
}

// Close stops reading the change feed, stops taking new mail and waits for
// queued mail to be sent, at most until ctx is done (and never more than 30
// seconds); mail still queued then is reported to OnError. The Auth still
// answers requests after Close, but without its token cache, and mails it
// would send are reported to OnError instead.
func (a *Auth) Close(ctx context.Context) error {
	a.stopFeed()
	a.mail.close(ctx)
	return ctx.Err()
}

func (a *Auth) now() time.Time { return a.cfg.Now().UTC() }

// bounded returns ctx bounded by Config.RequestTimeout. It returns ctx
// itself, with no timer, when the timeout is off or ctx already ends
// sooner (as in the API, whose requests are bounded when they arrive).
func (a *Auth) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.cfg.RequestTimeout < 0 {
		return ctx, func() {}
	}
	if end, ok := ctx.Deadline(); ok && time.Until(end) <= a.cfg.RequestTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, a.cfg.RequestTimeout)
}
