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

func TestPasswordHash(t *testing.T) {
	hash, err := access.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=1,p=2$") || strings.Count(hash, "$") != 5 {
		t.Fatalf("hash %q is not a PHC argon2id string", hash)
	}
	if again, _ := access.HashPassword("correct horse battery"); again == hash {
		t.Errorf("two hashes of one password are equal: the salt is not random")
	}
	for _, tc := range []struct {
		name, hash, password string
		ok, bad              bool
	}{
		{"right", hash, "correct horse battery", true, false},
		{"wrong", hash, "correct horse battery!", false, false},
		{"empty", hash, "", false, false},
		{"not a hash", "plain", "x", false, true},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuv", "x", false, true},
		{"bad params", "$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x", false, true},
		{"huge memory", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x", false, true},
		{"bad version", strings.Replace(hash, "v=19", "v=16", 1), "correct horse battery", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := access.VerifyPassword(tc.hash, tc.password)
			if ok != tc.ok || (err != nil) != tc.bad {
				t.Errorf("VerifyPassword = %v, %v; want %v, error %v", ok, err, tc.ok, tc.bad)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		password, email string
		ok              bool
	}{
		{"long enough!", "ann@example.com", true},
		{"short", "ann@example.com", false},
		{"ééééééééé", "ann@example.com", false}, // nine characters, eighteen bytes
		{"éééééééééé", "ann@example.com", true},
		{"ann@example.com", "ann@example.com", false},
		{"ANN@example.com", "ann@example.com", false},
		{strings.Repeat("x", access.MaxPasswordBytes), "a@b.c", true},
		{strings.Repeat("x", access.MaxPasswordBytes+1), "a@b.c", false},
		{"bad utf8 \xff\xfe password", "a@b.c", false},
	} {
		err := access.CheckPassword(tc.password, tc.email)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPassword(%q) = %v, want ok %v", tc.password, err, tc.ok)
		}
		if err != nil && (errcode.Of(err) != errcode.BadUserInput || errcode.FieldOf(err) != "password") {
			t.Errorf("CheckPassword(%q) = %v, want BAD_USER_INPUT on password", tc.password, err)
		}
	}
}

// TestAccountLifecycle invites, signs up, signs in, resets the password
// and checks sessions follow the member's role and removal.
func TestAccountLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := st.Client
		ws, err := access.CreateWorkspace(ctx, c, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		other, err := access.CreateWorkspace(ctx, c, "other", "Other")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := access.AddMember(tenancy.System(ctx), c, ws.ID, "Root", "root@example.com", tenancy.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		secret, m, err := access.Invite(ctx, c, ws, "Ann@Example.com", "Ann", tenancy.RoleMember, 0)
		if err != nil {
			t.Fatal(err)
		}
		if m.Email != "ann@example.com" || m.Role != "member" || !strings.HasPrefix(secret, access.LinkPrefix) {
			t.Fatalf("invite: %q %+v", secret, m)
		}
		var n int
		if err := st.DB.QueryRow("SELECT COUNT(*) FROM account_links WHERE token_hash = $1", secret).Scan(&n); err != nil || n != 0 {
			t.Errorf("link secret stored in clear: %d %v", n, err)
		}
		info, err := access.Link(ctx, c, secret)
		if err != nil || info.Purpose != access.PurposeInvite || info.Email != "ann@example.com" || info.Workspace == nil || info.Workspace.Slug != "acme" {
			t.Fatalf("Link = %+v, %v", info, err)
		}
		if _, err := access.SignUp(ctx, c, secret, "Ann", "short"); errcode.FieldOf(err) != "password" {
			t.Errorf("short password: %v", err)
		}
		acc, err := access.SignUp(ctx, c, secret, "Ann", "a long password")
		if err != nil {
			t.Fatal(err)
		}
		if acc.Email != "ann@example.com" || acc.PasswordHash == "a long password" {
			t.Fatalf("account %+v", acc)
		}
		for name, f := range map[string]func() error{
			"info":   func() error { _, err := access.Link(ctx, c, secret); return err },
			"signup": func() error { _, err := access.SignUp(ctx, c, secret, "Ann", "another long password"); return err },
		} {
			if err := f(); errcode.Of(err) != errcode.LinkExpired {
				t.Errorf("used link, %s: %v", name, err)
			}
		}
		// A second invite of an email with an account: signing up is refused.
		again, _, err := access.Invite(ctx, c, other, "ann@example.com", "", tenancy.RoleViewer, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := access.SignUp(ctx, c, again, "Ann", "a long password"); errcode.Of(err) != errcode.BadUserInput || !strings.Contains(err.Error(), "sign in") {
			t.Errorf("sign up with an account: %v", err)
		}
		expired, _, err := access.Invite(ctx, c, ws, "bob@example.com", "", tenancy.RoleMember, time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if _, err := access.SignUp(ctx, c, expired, "Bob", "a long password"); errcode.Of(err) != errcode.LinkExpired {
			t.Errorf("expired link: %v", err)
		}
		for _, tc := range []struct{ email, password string }{
			{"ann@example.com", "wrong password"},
			{"nobody@example.com", "a long password"},
		} {
			if _, err := access.SignIn(ctx, c, tc.email, tc.password); err != access.ErrWrongPassword {
				t.Errorf("SignIn(%s, %s) = %v", tc.email, tc.password, err)
			}
		}
		if got, err := access.SignIn(ctx, c, " ANN@example.com ", "a long password"); err != nil || got.ID != acc.ID {
			t.Fatalf("SignIn = %v, %v", got, err)
		}
		ms, err := access.Memberships(ctx, c, acc.Email)
		if err != nil || len(ms) != 2 || ms[0].Workspace.Slug != "acme" || ms[1].Workspace.Slug != "other" || ms[1].Member.Role != "viewer" {
			t.Fatalf("Memberships = %+v, %v", ms, err)
		}

		sessions := access.NewSessions(c, access.SessionOptions{CacheTTL: time.Minute})
		sec, ses, err := sessions.Start(ctx, acc.ID, ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		view, err := sessions.Verify(ctx, sec)
		if err != nil || view.ID != ses.ID || view.Viewer.WorkspaceID != ws.ID || view.Viewer.Role != tenancy.RoleMember || view.Viewer.MemberID != m.ID || view.CSRF == "" {
			t.Fatalf("Verify = %+v, %v", view, err)
		}
		// A role change applies at once, despite the cache.
		if _, err := access.SetMemberRole(tenancy.System(ctx), c, ws.ID, m.ID, tenancy.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if view, err := sessions.Verify(ctx, sec); err != nil || view.Viewer.Role != tenancy.RoleViewer {
			t.Errorf("after demotion: %+v, %v", view, err)
		}
		if err := sessions.Switch(ctx, view, "nowhere"); errcode.Of(err) != errcode.NotFound {
			t.Errorf("switch to a workspace of others: %v", err)
		}
		if err := sessions.Switch(ctx, view, "other"); err != nil {
			t.Fatal(err)
		}
		if view, err := sessions.Verify(ctx, sec); err != nil || view.Viewer.WorkspaceID != other.ID {
			t.Errorf("after switch: %+v, %v", view, err)
		}
		if err := sessions.Switch(ctx, view, "acme"); err != nil {
			t.Fatal(err)
		}
		// Removal ends the session's access.
		if err := access.RemoveMember(tenancy.System(ctx), c, ws.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := sessions.Verify(ctx, sec); err != access.ErrNoSession {
			t.Errorf("after removal: %v", err)
		}

		// A reset revokes every session and changes the password.
		sec2, _, err := sessions.Start(ctx, acc.ID, other.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sessions.Verify(ctx, sec2); err != nil {
			t.Fatal(err)
		}
		if _, err := access.ResetLink(ctx, c, "nobody@example.com", 0); errcode.Of(err) != errcode.NotFound {
			t.Errorf("reset link for no account: %v", err)
		}
		reset, err := access.ResetLink(ctx, c, "ann@example.com", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := access.SignUp(ctx, c, reset, "Ann", "a long password"); errcode.Of(err) != errcode.BadUserInput {
			t.Errorf("sign up with a reset link: %v", err)
		}
		if _, err := access.ResetPassword(ctx, c, reset, "a new long password"); err != nil {
			t.Fatal(err)
		}
		if _, err := sessions.Verify(ctx, sec2); err != access.ErrNoSession {
			t.Errorf("session after reset: %v", err)
		}
		if _, err := access.ResetPassword(ctx, c, reset, "a third long password"); errcode.Of(err) != errcode.LinkExpired {
			t.Errorf("reset link reused: %v", err)
		}
		if _, err := access.SignIn(ctx, c, "ann@example.com", "a long password"); err != access.ErrWrongPassword {
			t.Errorf("old password after reset: %v", err)
		}
		if _, err := access.SignIn(ctx, c, "ann@example.com", "a new long password"); err != nil {
			t.Errorf("new password after reset: %v", err)
		}

		// Purging keeps what has not ended: a session begun after the
		// reset and the unused invite to other.
		if _, _, err := sessions.Start(ctx, acc.ID, other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := access.PurgeEnded(ctx, c, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		for table, want := range map[string]int{"sessions": 1, "account_links": 1} {
			var n int
			if err := st.DB.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil || n != want {
				t.Errorf("%s after purge: %d rows, want %d (%v)", table, n, want, err)
			}
		}
	})
}

// TestSessionExpiry ends sessions idle too long and past their maximum.
func TestSessionExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, err := access.CreateWorkspace(ctx, st.Client, "acme", "")
		if err != nil {
			t.Fatal(err)
		}
		secret, _, err := access.Invite(ctx, st.Client, ws, "ann@example.com", "", tenancy.RoleAdmin, 0)
		if err != nil {
			t.Fatal(err)
		}
		acc, err := access.SignUp(ctx, st.Client, secret, "Ann", "a long password")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		sessions := access.NewSessions(st.Client, access.SessionOptions{Idle: time.Hour, Max: 3 * time.Hour, CacheTTL: -1})
		access.SetSessionClock(sessions, func() time.Time { return now })
		sec, _, err := sessions.Start(ctx, acc.ID, ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			after time.Duration
			ok    bool
		}{
			{50 * time.Minute, true},   // used: the idle hour starts again
			{100 * time.Minute, true},  // 50 minutes after the last use
			{170 * time.Minute, false}, // 70 minutes idle
		} {
			now = time.Now().Add(tc.after)
			_, err := sessions.Verify(ctx, sec)
			if (err == nil) != tc.ok {
				t.Errorf("after %s: %v, want ok %v", tc.after, err, tc.ok)
			}
		}
		sec, _, err = sessions.Start(ctx, acc.ID, ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		base := now
		for _, step := range []time.Duration{50, 100, 150, 179} {
			now = base.Add(step * time.Minute)
			if _, err := sessions.Verify(ctx, sec); err != nil {
				t.Fatalf("at %d minutes: %v", step, err)
			}
		}
		now = base.Add(181 * time.Minute)
		if _, err := sessions.Verify(ctx, sec); err != access.ErrNoSession {
			t.Errorf("past the maximum: %v", err)
		}
	})
}

func TestThrottle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		th := access.NewThrottle(st.Client)
		th.PerEmail, th.PerIP, th.Window = 3, 5, 10*time.Minute
		now := time.Now()
		access.SetThrottleClock(th, func() time.Time { return now })
		wait := func(email, ip string) time.Duration {
			t.Helper()
			w, err := th.Check(ctx, email, ip)
			if err != nil {
				t.Fatal(err)
			}
			return w
		}
		for i := 0; i < 3; i++ {
			if w := wait("ann@example.com", "10.0.0.1"); w != 0 {
				t.Fatalf("failure %d throttled: %s", i, w)
			}
			if err := th.Fail(ctx, "Ann@example.com", "10.0.0.1"); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Minute)
		}
		if w := wait("ann@example.com", "10.0.0.2"); w < 6*time.Minute+59*time.Second || w > 7*time.Minute {
			t.Errorf("after 3 failures, wait %s, want about 7 minutes", w)
		}
		if w := wait("bob@example.com", "10.0.0.1"); w != 0 {
			t.Errorf("another email throttled: %s", w)
		}
		if err := th.Succeed(ctx, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		if w := wait("ann@example.com", "10.0.0.1"); w != 0 {
			t.Errorf("after success, still throttled: %s", w)
		}
		for _, e := range []string{"a@x.io", "b@x.io"} {
			if err := th.Fail(ctx, e, "10.0.0.1"); err != nil {
				t.Fatal(err)
			}
		}
		// Succeed forgot ann's rows: the address has 2 failures.
		if w := wait("c@x.io", "10.0.0.1"); w != 0 {
			t.Errorf("2 failures of the address throttled it: %s", w)
		}
		for _, e := range []string{"c@x.io", "d@x.io", "e@x.io"} {
			if err := th.Fail(ctx, e, "10.0.0.1"); err != nil {
				t.Fatal(err)
			}
		}
		if w := wait("f@x.io", "10.0.0.1"); w == 0 {
			t.Errorf("5 failures of the address not throttled")
		}
		now = now.Add(11 * time.Minute)
		if w := wait("f@x.io", "10.0.0.1"); w != 0 {
			t.Errorf("after the window, still throttled: %s", w)
		}
	})
}
