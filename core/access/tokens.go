package access

import (
	"context"
	"crypto/sha256"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// DefaultTokenTTL is how long Tokens trusts a verified token before it asks
// the database again, unless told otherwise: a token revoked by another
// server sharing the database stops working here within this time.
const DefaultTokenTTL = 2 * time.Second

// maxCachedTokens bounds the tokens a Tokens remembers; past it, expired
// entries are swept and, if none expired, all are forgotten.
const maxCachedTokens = 10000

// changes counts the changes to tokens made by this process (revocation,
// a member's role lowered or the member removed, a workspace deleted),
// each counted once committed. A cached verification made before the
// latest change is not trusted: within a process, a change takes effect on
// the next request.
var changes atomic.Uint64

// Tokens authenticates API tokens like Authenticate, but remembers each
// token it verified for a short time (TTL), so that a client sending many
// requests costs the database one token lookup per TTL rather than one per
// request. Only successful verifications are remembered: an unknown or
// revoked token is looked up every time.
//
// What a token may do can change after it was verified here. Changes made
// through this package in this process take effect at once (see
// RevokeToken, SetMemberRole, RemoveMember, DeleteWorkspace). Changes made
// by another process — another server behind the same load balancer, or
// the rapport CLI — take effect here within the TTL. A token's own expiry
// is always honoured to the instant.
//
// A Tokens is safe for concurrent use.
type Tokens struct {
	client *ent.Client
	ttl    time.Duration
	now    func() time.Time

	mu    sync.RWMutex
	known map[[sha256.Size]byte]knownToken
}

// knownToken is a verified token's viewer and how long it may be trusted.
type knownToken struct {
	viewer tenancy.Viewer
	until  time.Time
	change uint64 // the value of changes before the token was read
}

// NewTokens returns a Tokens over client that trusts a verification for
// ttl; a ttl of zero or less remembers nothing (every request reads the
// token from the database, as Authenticate does).
func NewTokens(client *ent.Client, ttl time.Duration) *Tokens {
	return &Tokens{client: client, ttl: ttl, now: time.Now, known: map[[sha256.Size]byte]knownToken{}}
}

// Authenticate returns the viewer a token acts as, or ErrInvalidToken; see
// the package function Authenticate. Each call returns a viewer of its own.
func (t *Tokens) Authenticate(ctx context.Context, secret string) (*tenancy.Viewer, error) {
	if t.ttl <= 0 {
		return Authenticate(ctx, t.client, secret)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return nil, ErrInvalidToken
	}
	key := sha256.Sum256([]byte(secret))
	now := t.now()
	t.mu.RLock()
	k, ok := t.known[key]
	t.mu.RUnlock()
	if ok && now.Before(k.until) && k.change == changes.Load() {
		v := k.viewer
		return &v, nil
	}
	// Read the change count before the token: a change committed while
	// the token is read leaves the entry stale rather than trusted.
	change := changes.Load()
	v, expires, err := authenticate(ctx, t.client, secret, now)
	if err != nil {
		if ok {
			t.mu.Lock()
			delete(t.known, key)
			t.mu.Unlock()
		}
		return nil, err
	}
	until := now.Add(t.ttl)
	if expires != nil && expires.Before(until) {
		until = *expires
	}
	t.mu.Lock()
	if len(t.known) >= maxCachedTokens {
		for h, e := range t.known {
			if !now.Before(e.until) || e.change != change {
				delete(t.known, h)
			}
		}
		if len(t.known) >= maxCachedTokens {
			clear(t.known)
		}
	}
	t.known[key] = knownToken{viewer: *v, until: until, change: change}
	t.mu.Unlock()
	return v, nil
}

// tokensChanged records a change to tokens made in ctx: once the
// transaction of ctx commits when there is one, at once otherwise.
func tokensChanged(ctx context.Context) {
	if tx := ent.TxFromContext(ctx); tx != nil {
		tx.OnCommit(func(next ent.Committer) ent.Committer {
			return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
				err := next.Commit(ctx, tx)
				changes.Add(1)
				return err
			})
		})
	}
	// Also at once: a request that reads the token before the commit
	// then finds the entry stale after it.
	changes.Add(1)
}
