package graph_test

import (
	"context"
	"testing"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/tenancy"
)

const (
	listMembers      = `{ members { id name email role } }`
	updateMemberRole = `mutation($id: ID!, $role: MemberRole!) { updateMemberRole(id: $id, role: $role) { id role } }`
	removeMember     = `mutation($id: ID!) { removeMember(id: $id) }`
	deleteWorkspace  = `mutation($confirm: String!) { deleteWorkspace(confirm: $confirm) }`
)

// addMember creates a member of ws with a token of its own, named name in
// e.tokens.
func (e *env) addMember(ws *ent.Workspace, name string, role tenancy.Role) *ent.Member {
	e.t.Helper()
	ctx := context.Background()
	wctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	m, err := e.st.Client.Member.Create().SetName(name).SetEmail(name + "@example.com").SetRole(member.Role(role)).Save(wctx)
	if err != nil {
		e.t.Fatal(err)
	}
	secret, tok, err := access.CreateToken(ctx, e.st.Client, ws, access.TokenOptions{Role: role, Name: name})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.Client.APIToken.UpdateOne(tok).SetMemberID(m.ID).Exec(tenancy.System(ctx)); err != nil {
		e.t.Fatal(err)
	}
	e.tokens[name] = secret
	return m
}

// TestMemberManagement lists members, changes roles and removes members
// through GraphQL: admins only (others FORBIDDEN before their input is
// looked at), never the last admin, never another workspace's member.
func TestMemberManagement(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ann := e.addMember(e.wsA, "ann", tenancy.RoleAdmin)
		bob := e.addMember(e.wsA, "bob", tenancy.RoleMember)
		bea := e.addMember(e.wsB, "bea", tenancy.RoleAdmin)

		for _, tok := range []string{"a", "aViewer", "bob"} {
			d := e.ok(tok, listMembers, nil)
			if str(d, "members", 0, "name") != "ann" || str(d, "members", 1, "name") != "bob" || get(d, "members", 2) != nil {
				t.Errorf("members seen by %s: %v", tok, d)
			}
		}
		// Permission before validation: a bad role or ID from a non-admin
		// is FORBIDDEN, not BAD_USER_INPUT.
		for _, tok := range []string{"aViewer", "bob"} {
			e.fail(tok, updateMemberRole, map[string]any{"id": bob.ID, "role": "owner"}, "FORBIDDEN")
			e.fail(tok, updateMemberRole, map[string]any{"id": bob.ID, "role": "admin"}, "FORBIDDEN")
			e.fail(tok, removeMember, map[string]any{"id": ann.ID}, "FORBIDDEN")
			e.fail(tok, deleteWorkspace, map[string]any{"confirm": 42}, "FORBIDDEN")
			// Through a fragment, too.
			e.fail(tok, `mutation($id: ID!) { ...F } fragment F on Mutation { removeMember(id: $id) }`, map[string]any{"id": ann.ID}, "FORBIDDEN")
		}
		// The last admin member can be neither demoted nor removed.
		if f := e.fail("a", updateMemberRole, map[string]any{"id": ann.ID, "role": "member"}, "BAD_USER_INPUT"); f.field() != "role" {
			t.Errorf("demoting the last admin: field %q", f.field())
		}
		if f := e.fail("a", removeMember, map[string]any{"id": ann.ID}, "BAD_USER_INPUT"); f.field() != "id" {
			t.Errorf("removing the last admin: field %q", f.field())
		}
		// Another workspace's member is NOT_FOUND, like an unknown one.
		for _, id := range []any{bea.ID, "mem_01hzzzzzzzzzzzzzzzzzzzzzzz"} {
			e.fail("a", updateMemberRole, map[string]any{"id": id, "role": "viewer"}, "NOT_FOUND")
			e.fail("a", removeMember, map[string]any{"id": id}, "NOT_FOUND")
		}
		if str(e.ok("b", listMembers, nil), "members", 0, "role") != "admin" {
			t.Error("B's member changed by A")
		}
		// Demoting Bob to viewer lowers his token: his writes are refused.
		d := e.ok("a", updateMemberRole, map[string]any{"id": bob.ID, "role": "viewer"})
		if str(d, "updateMemberRole", "role") != "viewer" {
			t.Errorf("updateMemberRole: %v", d)
		}
		e.fail("bob", createOrg, map[string]any{"in": map[string]any{"name": "X"}}, "FORBIDDEN")
		// Promote Bob; then Ann may be demoted, and Bob may remove her.
		e.ok("a", updateMemberRole, map[string]any{"id": bob.ID, "role": "admin"})
		e.ok("a", updateMemberRole, map[string]any{"id": ann.ID, "role": "member"})
		if got := str(e.ok("a", removeMember, map[string]any{"id": ann.ID}), "removeMember"); got != string(ann.ID) {
			t.Errorf("removeMember returned %q", got)
		}
		// Ann's token is revoked with her.
		e.fail("ann", `{ viewer { role } }`, nil, "UNAUTHENTICATED")
		if d := e.ok("a", listMembers, nil); str(d, "members", 0, "name") != "bob" || get(d, "members", 1) != nil {
			t.Errorf("members after removal: %v", d)
		}
	})
}

// TestDeleteWorkspace deletes a workspace through GraphQL: admins only,
// with its slug as confirmation, only the caller's own; afterwards none of
// its tokens authenticates and the other workspace is untouched.
func TestDeleteWorkspace(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.addMember(e.wsA, "bob", tenancy.RoleMember)
		e.ok("b", createOrg, map[string]any{"in": map[string]any{"name": "B Corp"}})
		e.fail("aViewer", deleteWorkspace, map[string]any{"confirm": "alpha"}, "FORBIDDEN")
		e.fail("bob", deleteWorkspace, map[string]any{"confirm": "alpha"}, "FORBIDDEN")
		// The confirmation must be the caller's own slug: another
		// workspace's slug neither confirms nor reaches it.
		for _, confirm := range []string{"", "Alpha", "beta"} {
			if f := e.fail("a", deleteWorkspace, map[string]any{"confirm": confirm}, "BAD_USER_INPUT"); f.field() != "confirm" {
				t.Errorf("confirm %q: field %q", confirm, f.field())
			}
		}
		e.ok("a", `{ viewer { role } }`, nil)
		// All or nothing: with a failing mutation in the same operation,
		// nothing is deleted.
		e.fail("a", `mutation { deleteWorkspace(confirm: "alpha") createOrganization(input: {name: ""}) { id } }`, nil, "BAD_USER_INPUT")
		e.ok("a", `{ viewer { role } }`, nil)

		d := e.ok("a", deleteWorkspace, map[string]any{"confirm": "alpha"})
		if str(d, "deleteWorkspace") != string(e.wsA.ID) {
			t.Errorf("deleteWorkspace returned %v", d)
		}
		for _, tok := range []string{"a", "aViewer", "bob"} {
			e.fail(tok, `{ viewer { role } }`, nil, "UNAUTHENTICATED")
		}
		if d := e.ok("b", `{ viewer { workspace { slug } } organizations { totalCount } }`, nil); str(d, "viewer", "workspace", "slug") != "beta" || num(d, "organizations", "totalCount") != 1 {
			t.Errorf("B after A's deletion: %v", d)
		}
		// A new token for the deleted workspace cannot be issued.
		if _, err := access.WorkspaceBySlug(context.Background(), e.st.Client, "alpha"); err == nil {
			t.Error("deleted workspace still found by slug")
		}
	})
}
