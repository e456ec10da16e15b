package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
)

// TestMemberInviteAndResetLink prints invite and reset links from the CLI
// and checks they work once.
func TestMemberInviteAndResetLink(t *testing.T) {
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
			// token returns the token of a link printed alone on a line,
			// checking the link's address.
			token := func(out, prefix string) string {
				t.Helper()
				line := strings.TrimSpace(out)
				if strings.Count(line, "\n") != 0 || !strings.HasPrefix(line, prefix+"?token=") {
					t.Fatalf("link %q, want %s?token=…", out, prefix)
				}
				u, err := url.Parse(line)
				if err != nil {
					t.Fatal(err)
				}
				return u.Query().Get("token")
			}
			must("workspace", "create", "acme")
			must("member", "add", "-w", "acme", "--email", "root@example.com", "--role", "admin")
			tok := token(must("member", "invite", "-w", "acme", "--email", "Ann@Example.com", "--name", "Ann", "--role", "viewer"), "http://localhost:8080/signup")
			list := must("member", "list", "-w", "acme", "-o", "csv")
			if !strings.Contains(list, "Ann,ann@example.com,viewer") {
				t.Errorf("invited member not listed: %s", list)
			}
			t.Setenv("RAPPORT_BASE_URL", "https://crm.example.com/app/")
			again := token(must("member", "invite", "-w", "acme", "--email", "ann@example.com", "--role", "admin"), "https://crm.example.com/app/signup")
			if list2 := must("member", "list", "-w", "acme", "-o", "csv"); strings.Count(list2, "ann@example.com") != 1 || !strings.Contains(list2, "ann@example.com,viewer") {
				t.Errorf("a second invite changed the member: %s", list2)
			}
			if _, err := run(t, "--db", db, "member", "invite", "-w", "acme", "--email", "x@example.com", "--role", "owner"); errcode.Of(err) != errcode.BadUserInput {
				t.Errorf("invite with a bad role: %v", err)
			}
			if _, err := run(t, "--db", db, "member", "reset-link", "--email", "ann@example.com"); errcode.Of(err) != errcode.NotFound {
				t.Errorf("reset link before sign-up: %v", err)
			}

			ctx := context.Background()
			st, err := store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := access.SignUp(ctx, st.Client, tok, "Ann", "a long password"); err != nil {
				t.Fatalf("sign up with the printed link: %v", err)
			}
			if _, err := access.SignUp(ctx, st.Client, tok, "Ann", "a long password"); errcode.Of(err) != errcode.LinkExpired {
				t.Errorf("printed link reused: %v", err)
			}
			if _, err := access.Link(ctx, st.Client, again); err != nil {
				t.Errorf("second invite link: %v", err)
			}
			reset := token(must("member", "reset-link", "--email", "ANN@example.com", "--base-url", "https://other.example", "--ttl", "1ms"), "https://other.example/reset")
			time.Sleep(5 * time.Millisecond)
			if _, err := access.ResetPassword(ctx, st.Client, reset, "a new long password"); errcode.Of(err) != errcode.LinkExpired {
				t.Errorf("expired reset link: %v", err)
			}
			reset = token(must("member", "reset-link", "--email", "ann@example.com"), "https://crm.example.com/app/reset")
			if _, err := access.ResetPassword(ctx, st.Client, reset, "a new long password"); err != nil {
				t.Errorf("reset with the printed link: %v", err)
			}
		})
	}
}
