package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
)

// runIn is run with stdin.
func runIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// TestWorkspaceDeleteAndMemberCommands manages members and deletes a
// workspace from the CLI: confirmation required, tokens revoked, the
// workspace gone from the list and its slug reserved.
func TestWorkspaceDeleteAndMemberCommands(t *testing.T) {
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) {
			db := storetest.URL(t, dia)
			must := func(args ...string) string {
				t.Helper()
				out, err := run(t, append([]string{"--db", db}, args...)...)
				if err != nil {
					t.Fatalf("%v: %v", args, err)
				}
				return out
			}
			must("workspace", "create", "acme")
			must("workspace", "create", "other")
			must("member", "add", "-w", "acme", "--email", "ann@example.com", "--name", "Ann", "--role", "admin")
			must("member", "add", "-w", "acme", "--email", "bob@example.com", "--name", "Bob")
			if _, err := run(t, "--db", db, "member", "add", "-w", "acme", "--email", "bob@example.com"); errcode.Of(err) != errcode.BadUserInput {
				t.Errorf("duplicate member: %v", err)
			}
			var list []map[string]string
			if err := json.Unmarshal([]byte(must("member", "list", "-w", "acme", "-o", "json")), &list); err != nil || len(list) != 2 || list[0]["name"] != "Ann" || list[1]["role"] != "member" {
				t.Fatalf("member list: %v %v", list, err)
			}
			if _, err := run(t, "--db", db, "member", "role", "-w", "acme", "ann@example.com", "viewer"); errcode.Of(err) != errcode.BadUserInput {
				t.Errorf("demoting the last admin: %v", err)
			}
			if _, err := run(t, "--db", db, "member", "remove", "-w", "other", "bob@example.com"); errcode.Of(err) != errcode.NotFound {
				t.Errorf("removing a member through another workspace: %v", err)
			}
			if out := must("member", "role", "-w", "acme", list[1]["id"], "viewer"); !strings.Contains(out, "is now viewer") {
				t.Errorf("member role: %q", out)
			}
			if out := must("member", "remove", "-w", "acme", "bob@example.com"); !strings.Contains(out, "removed bob@example.com") {
				t.Errorf("member remove: %q", out)
			}

			secret := strings.TrimSpace(must("token", "create", "-w", "acme", "--role", "admin"))
			otherSecret := strings.TrimSpace(must("token", "create", "-w", "other", "--role", "admin"))
			// Not confirmed: no flag and the wrong slug typed, or a wrong flag.
			if _, err := runIn(t, "acm\n", "--db", db, "workspace", "delete", "acme"); errcode.Of(err) != errcode.BadUserInput {
				t.Errorf("unconfirmed delete: %v", err)
			}
			if _, err := run(t, "--db", db, "workspace", "delete", "acme", "--confirm", "other"); errcode.Of(err) != errcode.BadUserInput {
				t.Errorf("delete confirmed with another slug: %v", err)
			}
			if !strings.Contains(must("workspace", "list"), "acme") {
				t.Fatal("workspace deleted without confirmation")
			}
			out, err := runIn(t, "acme\n", "--db", db, "workspace", "delete", "acme")
			if err != nil || !strings.Contains(out, "deleted workspace acme") || !strings.Contains(out, "1 tokens revoked") {
				t.Fatalf("workspace delete: %q %v", out, err)
			}
			if out := must("workspace", "list"); strings.Contains(out, "acme") || !strings.Contains(out, "other") {
				t.Errorf("workspace list after delete: %q", out)
			}
			if out := must("workspace", "list", "--deleted", "-o", "csv"); !strings.HasPrefix(out, "slug,name,id,created_at,deleted_at\nacme,") {
				t.Errorf("workspace list --deleted: %q", out)
			}
			if _, err := run(t, "--db", db, "workspace", "create", "acme"); errcode.Of(err) != errcode.BadUserInput {
				t.Errorf("deleted workspace's slug reused: %v", err)
			}
			if _, err := run(t, "--db", db, "token", "create", "-w", "acme"); errcode.Of(err) != errcode.NotFound {
				t.Errorf("token for a deleted workspace: %v", err)
			}
			if _, err := run(t, "--db", db, "workspace", "delete", "acme", "--confirm", "acme"); errcode.Of(err) != errcode.NotFound {
				t.Errorf("deleting twice: %v", err)
			}
			st, err := store.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := access.Authenticate(context.Background(), st.Client, secret); errcode.Of(err) != errcode.Unauthenticated {
				t.Errorf("token of the deleted workspace: %v", err)
			}
			if _, err := access.Authenticate(context.Background(), st.Client, otherSecret); err != nil {
				t.Errorf("token of the other workspace: %v", err)
			}
		})
	}
}
