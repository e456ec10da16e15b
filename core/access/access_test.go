package access_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, err := access.CreateWorkspace(ctx, st.Client, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := access.CreateWorkspace(ctx, st.Client, "acme", "Again"); errcode.Of(err) != errcode.BadUserInput {
			t.Errorf("duplicate slug: %v", err)
		}
		if _, err := access.CreateWorkspace(ctx, st.Client, "Not A Slug", ""); err == nil {
			t.Errorf("bad slug accepted")
		}
		secret, tok, err := access.CreateToken(ctx, st.Client, ws, access.TokenOptions{Role: tenancy.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, access.TokenPrefix) || len(secret) < 50 {
			t.Errorf("secret %q", secret)
		}
		// Only a hash is stored: the secret appears nowhere in the table.
		var n int
		if err := st.DB.QueryRow("SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1 OR hint = $1", secret).Scan(&n); err != nil || n != 0 {
			t.Errorf("secret stored in clear: %d %v", n, err)
		}
		v, err := access.Authenticate(ctx, st.Client, secret)
		if err != nil || v.WorkspaceID != ws.ID || v.Role != tenancy.RoleMember || v.TokenID != tok.ID {
			t.Fatalf("Authenticate = %+v, %v", v, err)
		}
		for _, bad := range []string{"", "rpt_x", secret + "x", strings.ToUpper(secret)} {
			if _, err := access.Authenticate(ctx, st.Client, bad); errcode.Of(err) != errcode.Unauthenticated {
				t.Errorf("Authenticate(%q) = %v", bad, err)
			}
		}
		if err := access.RevokeToken(ctx, st.Client, ws, string(tok.ID)); err != nil {
			t.Fatal(err)
		}
		if _, err := access.Authenticate(ctx, st.Client, secret); errcode.Of(err) != errcode.Unauthenticated {
			t.Errorf("revoked token accepted: %v", err)
		}
		short, _, err := access.CreateToken(ctx, st.Client, ws, access.TokenOptions{Role: tenancy.RoleViewer, TTL: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if _, err := access.Authenticate(ctx, st.Client, short); errcode.Of(err) != errcode.Unauthenticated {
			t.Errorf("expired token accepted: %v", err)
		}
		if _, _, err := access.CreateToken(ctx, st.Client, ws, access.TokenOptions{Role: "owner"}); errcode.Of(err) != errcode.BadUserInput {
			t.Errorf("unknown role: %v", err)
		}
	})
}
