package access_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// countingDriver counts the statements a store sends.
type countingDriver struct {
	dialect.Driver
	n atomic.Int64
}

func (d *countingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.n.Add(1)
	return d.Driver.Query(ctx, query, args, v)
}

func (d *countingDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.n.Add(1)
	return d.Driver.Exec(ctx, query, args, v)
}

// server is one server's view of a shared database: its own store and
// its own token cache, with a clock the test moves.
type server struct {
	st     *store.Store
	count  *countingDriver
	tokens *access.Tokens
	now    time.Time
}

func newServer(t *testing.T, url string, ttl time.Duration) *server {
	t.Helper()
	s := &server{count: &countingDriver{}, now: time.Now()}
	st, err := store.Open(context.Background(), url, store.WithDriver(func(d dialect.Driver) dialect.Driver {
		s.count.Driver = d
		return s.count
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.st = st
	s.tokens = access.NewTokens(st.Client, ttl)
	access.SetClock(s.tokens, func() time.Time { return s.now })
	return s
}

// auth authenticates secret on s and returns the statements it sent.
func (s *server) auth(t *testing.T, secret string) (*tenancy.Viewer, error, int64) {
	t.Helper()
	before := s.count.n.Load()
	v, err := s.tokens.Authenticate(context.Background(), secret)
	return v, err, s.count.n.Load() - before
}

// TestTokensRemember: a verified token is looked up once per TTL, not once
// per request; an invalid one is looked up every time.
func TestTokensRemember(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, err := access.CreateWorkspace(ctx, st.Client, "acme", "")
		if err != nil {
			t.Fatal(err)
		}
		secret, tok, err := access.CreateToken(ctx, st.Client, ws, access.TokenOptions{Role: tenancy.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		s := newServer(t, st.URL, time.Minute)
		start := s.now
		steps := []struct {
			name    string
			secret  string
			at      time.Duration // after start
			ok      bool
			queries int64 // statements sent; -1: at least one
		}{
			// The first use reads the token and records when it was used.
			{"first use", secret, 0, true, -1},
			{"again at once", secret, 0, true, 0},
			{"just before the TTL", secret, time.Minute - time.Nanosecond, true, 0},
			// At the TTL the token is read again (last used is a minute
			// old but not more, so it is not written).
			{"at the TTL", secret, time.Minute, true, 1},
			{"within the new TTL", secret, time.Minute + time.Second, true, 0},
			{"unknown token", secret + "x", time.Minute + time.Second, false, 1},
			{"unknown token again", secret + "x", time.Minute + time.Second, false, 1},
			{"not a token", "nope", time.Minute + time.Second, false, 0},
		}
		for _, step := range steps {
			s.now = start.Add(step.at)
			v, err, n := s.auth(t, step.secret)
			if step.ok != (err == nil) {
				t.Fatalf("%s: err = %v", step.name, err)
			}
			if step.ok && (v.WorkspaceID != ws.ID || v.TokenID != tok.ID || v.Role != tenancy.RoleMember) {
				t.Fatalf("%s: viewer %+v", step.name, v)
			}
			if !step.ok && errcode.Of(err) != errcode.Unauthenticated {
				t.Fatalf("%s: err = %v, want UNAUTHENTICATED", step.name, err)
			}
			if (step.queries < 0 && n < 1) || (step.queries >= 0 && n != step.queries) {
				t.Errorf("%s: %d statements, want %d", step.name, n, step.queries)
			}
		}
		// Each call has a viewer of its own: changing one changes no other.
		v1, _, _ := s.auth(t, secret)
		v1.Role = tenancy.RoleAdmin
		if v2, _, _ := s.auth(t, secret); v2.Role != tenancy.RoleMember {
			t.Errorf("a viewer handed out was shared: role %s", v2.Role)
		}
	})
}

// TestTokensRevokedElsewhere: two servers share the database; a token
// revoked by one (or by the CLI, another process) is refused by the other
// once its TTL has passed since it last read the token, and not before.
// The revocation is the UPDATE RevokeToken sends, sent on the database
// directly: another process's revocation leaves this process's own
// change count alone, which is what makes it "elsewhere".
func TestTokensRevokedElsewhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, err := access.CreateWorkspace(ctx, st.Client, "acme", "")
		if err != nil {
			t.Fatal(err)
		}
		secret, tok, err := access.CreateToken(ctx, st.Client, ws, access.TokenOptions{Role: tenancy.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		const ttl = 3 * time.Second
		b := newServer(t, st.URL, ttl)
		start := b.now
		if _, err, _ := b.auth(t, secret); err != nil {
			t.Fatal(err)
		}
		res, err := st.DB.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2", time.Now(), string(tok.ID))
		if n, _ := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("revoke: %d rows, %v", n, err)
		}
		for _, step := range []struct {
			at time.Duration
			ok bool
		}{
			{0, true},                      // still trusted: read before the revocation
			{ttl - time.Millisecond, true}, // the bound is the TTL…
			{ttl, false},                   // …and not a moment more
			{ttl + time.Second, false},
		} {
			b.now = start.Add(step.at)
			if _, err, _ := b.auth(t, secret); step.ok != (err == nil) {
				t.Fatalf("%v after the revocation: err = %v, want ok=%v", step.at, err, step.ok)
			}
		}
	})
}

// TestTokensChangedHere: what this process changes takes effect on the
// next request, however long the TTL: a revocation, a member's role
// lowered (within a transaction: after it commits), a member removed, the
// workspace deleted, and the token's own expiry.
func TestTokensChangedHere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, err := access.CreateWorkspace(ctx, st.Client, "acme", "")
		if err != nil {
			t.Fatal(err)
		}
		wctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		st.Client.Member.Create().SetName("Ann").SetEmail("ann@example.com").SetRole(member.RoleAdmin).SaveX(wctx)
		bob := st.Client.Member.Create().SetName("Bob").SetEmail("bob@example.com").SetRole(member.RoleAdmin).SaveX(wctx)
		mint := func(opts access.TokenOptions, memberOf *ent.Member) (string, *ent.APIToken) {
			secret, tok, err := access.CreateToken(ctx, st.Client, ws, opts)
			if err != nil {
				t.Fatal(err)
			}
			if memberOf != nil {
				st.Client.APIToken.UpdateOne(tok).SetMemberID(memberOf.ID).ExecX(tenancy.System(ctx))
			}
			return secret, tok
		}
		s := newServer(t, st.URL, time.Hour)
		mustAuth := func(secret string, role tenancy.Role) {
			t.Helper()
			v, err, _ := s.auth(t, secret)
			if err != nil || v.Role != role {
				t.Fatalf("Authenticate = %+v, %v; want role %s", v, err, role)
			}
		}
		refused := func(what, secret string) {
			t.Helper()
			if _, err, _ := s.auth(t, secret); errcode.Of(err) != errcode.Unauthenticated {
				t.Fatalf("%s: token still accepted (%v)", what, err)
			}
		}

		// Revoked.
		plain, tok := mint(access.TokenOptions{Role: tenancy.RoleMember}, nil)
		mustAuth(plain, tenancy.RoleMember)
		if err := access.RevokeToken(ctx, st.Client, ws, string(tok.ID)); err != nil {
			t.Fatal(err)
		}
		refused("revoked", plain)

		// Bob lowered to viewer in a transaction: the old role stays
		// until the commit, the new one holds right after.
		bobTok, _ := mint(access.TokenOptions{Role: tenancy.RoleAdmin}, bob)
		mustAuth(bobTok, tenancy.RoleAdmin)
		txCtx, dtx, err := st.Client.OpenTx(wctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := access.SetMemberRole(txCtx, ent.FromContext(txCtx), ws.ID, bob.ID, tenancy.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if st.Dialect != dialect.SQLite { // SQLite's writer blocks the read
			mustAuth(bobTok, tenancy.RoleAdmin)
		}
		if err := dtx.Commit(); err != nil {
			t.Fatal(err)
		}
		mustAuth(bobTok, tenancy.RoleViewer)

		// Bob removed.
		if err := access.RemoveMember(wctx, st.Client, ws.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		refused("member removed", bobTok)

		// Expiring within the TTL: trusted until the instant it expires.
		short, _ := mint(access.TokenOptions{Role: tenancy.RoleViewer, TTL: 10 * time.Minute}, nil)
		s.now = time.Now()
		mustAuth(short, tenancy.RoleViewer)
		s.now = s.now.Add(10*time.Minute + time.Second)
		refused("expired", short)

		// The workspace deleted.
		s.now = time.Now()
		last, _ := mint(access.TokenOptions{Role: tenancy.RoleAdmin}, nil)
		mustAuth(last, tenancy.RoleAdmin)
		if _, err := access.DeleteWorkspace(ctx, st.Client, ws); err != nil {
			t.Fatal(err)
		}
		refused("workspace deleted", last)
	})
}
