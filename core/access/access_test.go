package access_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent/member"
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

func TestDeleteWorkspace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, err := access.CreateWorkspace(ctx, st.Client, "doomed", "Doomed")
		if err != nil {
			t.Fatal(err)
		}
		other, err := access.CreateWorkspace(ctx, st.Client, "kept", "Kept")
		if err != nil {
			t.Fatal(err)
		}
		var secrets []string
		for _, role := range []tenancy.Role{tenancy.RoleAdmin, tenancy.RoleViewer} {
			s, _, err := access.CreateToken(ctx, st.Client, ws, access.TokenOptions{Role: role})
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, s)
		}
		keep, _, err := access.CreateToken(ctx, st.Client, other, access.TokenOptions{Role: tenancy.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		wctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		auto := st.Client.Automation.Create().SetName("nightly").SetEnabled(true).SetEvent("contact.created").SetActions([]map[string]any{{"type": "add_tag", "tag": "x"}}).SaveX(wctx)
		org := st.Client.Organization.Create().SetName("Kept record").SaveX(wctx)

		n, err := access.DeleteWorkspace(ctx, st.Client, ws)
		if err != nil || n != 2 {
			t.Fatalf("DeleteWorkspace = %d, %v", n, err)
		}
		for _, s := range secrets {
			if _, err := access.Authenticate(ctx, st.Client, s); errcode.Of(err) != errcode.Unauthenticated {
				t.Errorf("token of a deleted workspace: %v", err)
			}
		}
		if v, err := access.Authenticate(ctx, st.Client, keep); err != nil || v.WorkspaceID != other.ID {
			t.Errorf("other workspace's token: %+v %v", v, err)
		}
		if a := st.Client.Automation.GetX(wctx, auto.ID); a.Enabled {
			t.Error("automation of a deleted workspace still enabled")
		}
		// Archived, not removed: the records stay.
		if o, err := st.Client.Organization.Get(wctx, org.ID); err != nil || o.Name != "Kept record" {
			t.Errorf("record of the archived workspace: %v %v", o, err)
		}
		if _, err := access.WorkspaceBySlug(ctx, st.Client, "doomed"); errcode.Of(err) != errcode.NotFound {
			t.Errorf("WorkspaceBySlug(deleted) = %v", err)
		}
		if _, err := access.DeleteWorkspace(ctx, st.Client, ws); errcode.Of(err) != errcode.NotFound {
			t.Errorf("deleting twice: %v", err)
		}
		// The slug stays reserved.
		_, err = access.CreateWorkspace(ctx, st.Client, "doomed", "")
		if errcode.Of(err) != errcode.BadUserInput || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("reusing a deleted workspace's slug: %v", err)
		}
		// A token left unrevoked (say, written by an older version) still
		// does not authenticate.
		if err := st.Client.APIToken.Update().ClearRevokedAt().Exec(tenancy.System(ctx)); err != nil {
			t.Fatal(err)
		}
		if _, err := access.Authenticate(ctx, st.Client, secrets[0]); errcode.Of(err) != errcode.Unauthenticated {
			t.Errorf("unrevoked token of a deleted workspace: %v", err)
		}
	})
}

func TestMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, err := access.CreateWorkspace(ctx, st.Client, "team", "")
		if err != nil {
			t.Fatal(err)
		}
		wctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		ann := st.Client.Member.Create().SetName("Ann").SetEmail("ann@example.com").SetRole(member.RoleAdmin).SaveX(wctx)
		bob := st.Client.Member.Create().SetName("Bob").SetEmail("bob@example.com").SetRole(member.RoleMember).SaveX(wctx)
		org := st.Client.Organization.Create().SetName("Owned").SetOwnerID(bob.ID).SaveX(wctx)
		bobTok, _, err := access.CreateToken(ctx, st.Client, ws, access.TokenOptions{Role: tenancy.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		// Bind the token to Bob.
		st.Client.APIToken.Update().SetMemberID(bob.ID).ExecX(tenancy.System(ctx))

		list, err := access.Members(wctx, st.Client, ws.ID)
		if err != nil || len(list) != 2 || list[0].Name != "Ann" || list[1].Name != "Bob" {
			t.Fatalf("Members = %v, %v", list, err)
		}
		if _, err := access.SetMemberRole(wctx, st.Client, ws.ID, ann.ID, tenancy.RoleMember); errcode.Of(err) != errcode.BadUserInput || errcode.FieldOf(err) != "role" {
			t.Errorf("demoting the last admin: %v", err)
		}
		if err := access.RemoveMember(wctx, st.Client, ws.ID, ann.ID); errcode.Of(err) != errcode.BadUserInput || errcode.FieldOf(err) != "id" {
			t.Errorf("removing the last admin: %v", err)
		}
		if _, err := access.SetMemberRole(wctx, st.Client, ws.ID, bob.ID, "owner"); errcode.Of(err) != errcode.BadUserInput {
			t.Errorf("unknown role: %v", err)
		}
		if _, err := access.SetMemberRole(wctx, st.Client, ws.ID, "mem_nope", tenancy.RoleViewer); errcode.Of(err) != errcode.NotFound {
			t.Errorf("unknown member: %v", err)
		}
		// Demoting Bob lowers the token issued to him.
		if m, err := access.SetMemberRole(wctx, st.Client, ws.ID, bob.ID, tenancy.RoleViewer); err != nil || m.Role != member.RoleViewer {
			t.Fatalf("SetMemberRole = %v, %v", m, err)
		}
		if v, err := access.Authenticate(ctx, st.Client, bobTok); err != nil || v.Role != tenancy.RoleViewer || v.MemberID != bob.ID {
			t.Errorf("Bob's token after demotion: %+v %v", v, err)
		}
		// With two admins, one can be demoted.
		if _, err := access.SetMemberRole(wctx, st.Client, ws.ID, bob.ID, tenancy.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if _, err := access.SetMemberRole(wctx, st.Client, ws.ID, ann.ID, tenancy.RoleMember); err != nil {
			t.Errorf("demoting one of two admins: %v", err)
		}
		if _, err := access.SetMemberRole(wctx, st.Client, ws.ID, ann.ID, tenancy.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		// Removing Bob revokes his token and leaves his records unowned.
		if err := access.RemoveMember(wctx, st.Client, ws.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := access.Authenticate(ctx, st.Client, bobTok); errcode.Of(err) != errcode.Unauthenticated {
			t.Errorf("removed member's token: %v", err)
		}
		if o := st.Client.Organization.GetX(wctx, org.ID); o.OwnerID != nil {
			t.Errorf("record still owned by a removed member: %v", *o.OwnerID)
		}
		if list, _ := access.Members(wctx, st.Client, ws.ID); len(list) != 1 {
			t.Errorf("members after removal: %v", list)
		}
		// Another workspace's admin cannot reach Ann.
		other, _ := access.CreateWorkspace(ctx, st.Client, "other", "")
		octx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: other.ID, Role: tenancy.RoleAdmin})
		if err := access.RemoveMember(octx, st.Client, other.ID, ann.ID); errcode.Of(err) != errcode.NotFound {
			t.Errorf("removing another workspace's member: %v", err)
		}
		if err := access.RemoveMember(octx, st.Client, ws.ID, ann.ID); errcode.Of(err) != errcode.NotFound {
			t.Errorf("naming another workspace: %v", err)
		}
	})
}
