package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/account"
	"github.com/rapportcrm/rapport/core/ent/accountlink"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/ent/session"
	"github.com/rapportcrm/rapport/core/ent/workspace"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// SessionPrefix starts every session secret (the cookie's value).
const SessionPrefix = "rps_"

// Session lifetimes, unless SessionOptions say otherwise.
const (
	// DefaultSessionIdle ends a session nobody used for this long.
	DefaultSessionIdle = 12 * time.Hour
	// DefaultSessionMax ends a session this long after sign-in, used or
	// not.
	DefaultSessionMax = 30 * 24 * time.Hour
)

// ErrNoSession is the answer to a session secret that is unknown,
// revoked or expired, or whose account lost the session's workspace.
var ErrNoSession = errcode.New(errcode.Unauthenticated, "not signed in, or the session has ended: sign in again")

// SessionOptions configure Sessions.
type SessionOptions struct {
	// Idle ends a session unused for this long (sliding);
	// DefaultSessionIdle when zero.
	Idle time.Duration
	// Max ends a session this long after it began; DefaultSessionMax
	// when zero.
	Max time.Duration
	// CacheTTL is how long a verified session is trusted before the
	// database is asked again, as for Tokens; DefaultTokenTTL when zero,
	// nothing remembered when negative.
	CacheTTL time.Duration
}

// SessionView is a verified session: who it is and what it may do now.
type SessionView struct {
	// ID is the session's ID.
	ID pulid.ID
	// AccountID is the signed-in account.
	AccountID pulid.ID
	// Email is the account's email.
	Email string
	// CSRF is the token requests changing anything must echo.
	CSRF string
	// Viewer is what the session acts as: the session's workspace, the
	// account's member there and the member's current role.
	Viewer tenancy.Viewer
}

// Sessions starts, verifies and ends the sessions of signed-in people.
// Like Tokens, it remembers a verified session for CacheTTL: a member's
// role change, removal or a revocation made in this process applies at
// once, one made by another process within CacheTTL. A Sessions is safe
// for concurrent use.
type Sessions struct {
	client *ent.Client
	opts   SessionOptions
	now    func() time.Time

	mu    sync.RWMutex
	known map[[sha256.Size]byte]knownSession
}

type knownSession struct {
	view   SessionView
	until  time.Time
	change uint64
}

// NewSessions returns Sessions over client.
func NewSessions(client *ent.Client, opts SessionOptions) *Sessions {
	if opts.Idle <= 0 {
		opts.Idle = DefaultSessionIdle
	}
	if opts.Max <= 0 {
		opts.Max = DefaultSessionMax
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = DefaultTokenTTL
	}
	return &Sessions{client: client, opts: opts, now: time.Now, known: map[[sha256.Size]byte]knownSession{}}
}

// Idle is how long an unused session lasts.
func (s *Sessions) Idle() time.Duration { return s.opts.Idle }

// Start begins a session of the account in the workspace wsID and returns
// its secret, to be sent as the cookie; it is not stored.
func (s *Sessions) Start(ctx context.Context, accountID, wsID pulid.ID) (string, *ent.Session, error) {
	secret, err := newSecret(SessionPrefix)
	if err != nil {
		return "", nil, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	now := s.now()
	ses, err := s.client.Session.Create().
		SetTokenHash(hashToken(secret)).
		SetAccountID(accountID).
		SetWorkspaceID(wsID).
		SetCsrf(base64.RawURLEncoding.EncodeToString(raw[:])).
		SetLastSeenAt(now).
		SetExpiresAt(now.Add(s.opts.Max)).
		Save(operator(ctx))
	if err != nil {
		return "", nil, fmt.Errorf("start session: %w", err)
	}
	return secret, ses, nil
}

// Verify returns the session of secret as it stands, or ErrNoSession.
// Each call returns a view of its own.
func (s *Sessions) Verify(ctx context.Context, secret string) (*SessionView, error) {
	if !strings.HasPrefix(secret, SessionPrefix) || len(secret) > 200 {
		return nil, ErrNoSession
	}
	key := sha256.Sum256([]byte(secret))
	now := s.now()
	if s.opts.CacheTTL > 0 {
		s.mu.RLock()
		k, ok := s.known[key]
		s.mu.RUnlock()
		if ok && now.Before(k.until) && k.change == changes.Load() {
			v := k.view
			return &v, nil
		}
	}
	change := changes.Load()
	v, until, err := s.verify(ctx, secret, now)
	if err != nil {
		s.forget(key)
		return nil, err
	}
	if s.opts.CacheTTL > 0 {
		if c := now.Add(s.opts.CacheTTL); c.Before(until) {
			until = c
		}
		s.mu.Lock()
		if len(s.known) >= maxCachedTokens {
			clear(s.known)
		}
		s.known[key] = knownSession{view: *v, until: until, change: change}
		s.mu.Unlock()
	}
	return v, nil
}

func (s *Sessions) forget(key [sha256.Size]byte) {
	s.mu.Lock()
	delete(s.known, key)
	s.mu.Unlock()
}

// verify reads the session, its account and the account's member in the
// session's workspace; it returns until when the session ends if unused.
func (s *Sessions) verify(ctx context.Context, secret string, now time.Time) (*SessionView, time.Time, error) {
	sys := operator(ctx)
	ses, err := s.client.Session.Query().Where(session.TokenHash(hashToken(secret))).WithAccount().Only(sys)
	if ent.IsNotFound(err) {
		return nil, now, ErrNoSession
	}
	if err != nil {
		return nil, now, fmt.Errorf("look up session: %w", err)
	}
	idleEnd := ses.LastSeenAt.Add(s.opts.Idle)
	acc := ses.Edges.Account
	if ses.RevokedAt != nil || !now.Before(ses.ExpiresAt) || !now.Before(idleEnd) || acc == nil || acc.Disabled {
		return nil, now, ErrNoSession
	}
	m, err := s.client.Member.Query().
		Where(member.WorkspaceID(ses.WorkspaceID), member.EmailEqualFold(acc.Email),
			member.HasWorkspaceWith(workspace.DeletedAtIsNil())).
		First(sys)
	if ent.IsNotFound(err) {
		return nil, now, ErrNoSession
	}
	if err != nil {
		return nil, now, fmt.Errorf("look up member: %w", err)
	}
	if now.Sub(ses.LastSeenAt) > time.Minute {
		// Sliding expiry; best effort, like a token's last use.
		_ = s.client.Session.UpdateOneID(ses.ID).SetLastSeenAt(now).Exec(sys)
		idleEnd = now.Add(s.opts.Idle)
	}
	until := ses.ExpiresAt
	if idleEnd.Before(until) {
		until = idleEnd
	}
	return &SessionView{
		ID: ses.ID, AccountID: acc.ID, Email: acc.Email, CSRF: ses.Csrf,
		Viewer: tenancy.Viewer{WorkspaceID: ses.WorkspaceID, Role: tenancy.Role(m.Role), MemberID: m.ID},
	}, until, nil
}

// End revokes a session.
func (s *Sessions) End(ctx context.Context, id pulid.ID) error {
	err := s.client.Session.Update().
		Where(session.ID(id), session.RevokedAtIsNil()).
		SetRevokedAt(s.now()).
		Exec(operator(ctx))
	if err == nil {
		tokensChanged(ctx)
	}
	return err
}

// Switch moves a session to the workspace of slug, where the session's
// account must be a member; NOT_FOUND otherwise.
func (s *Sessions) Switch(ctx context.Context, view *SessionView, slug string) error {
	ms, err := Memberships(ctx, s.client, view.Email)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Workspace.Slug == slug {
			err := s.client.Session.UpdateOneID(view.ID).SetWorkspaceID(m.Workspace.ID).Exec(operator(ctx))
			if err == nil {
				tokensChanged(ctx)
			}
			return err
		}
	}
	return errcode.New(errcode.NotFound, "no workspace %q of yours", slug)
}

// Account returns a session's account.
func (s *Sessions) Account(ctx context.Context, id pulid.ID) (*ent.Account, error) {
	return s.client.Account.Query().Where(account.ID(id)).Only(operator(ctx))
}

// PurgeEnded deletes the sessions and one-time links that ended (expired
// or revoked, expired or used) before cutoff, to keep their tables small;
// it returns how many rows it deleted.
func PurgeEnded(ctx context.Context, client *ent.Client, cutoff time.Time) (int, error) {
	sys := operator(ctx)
	n, err := client.Session.Delete().
		Where(session.Or(session.ExpiresAtLT(cutoff), session.RevokedAtLT(cutoff))).
		Exec(sys)
	if err != nil {
		return n, err
	}
	m, err := client.AccountLink.Delete().
		Where(accountlink.Or(accountlink.ExpiresAtLT(cutoff), accountlink.UsedAtLT(cutoff))).
		Exec(sys)
	return n + m, err
}
