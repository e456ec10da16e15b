package webauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/ent/tag"
	"github.com/rapportcrm/rapport/core/live"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/graph"
	"github.com/rapportcrm/rapport/internal/webauth"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// env is a server with sign-in, over a store with the workspaces acme and
// other, each with an admin; other has a tag named secret.
type env struct {
	t     *testing.T
	st    *store.Store
	srv   *httptest.Server
	acme  *ent.Workspace
	other *ent.Workspace
}

func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, st: st}
	var err error
	if e.acme, err = access.CreateWorkspace(ctx, st.Client, "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	if e.other, err = access.CreateWorkspace(ctx, st.Client, "other", "Other"); err != nil {
		t.Fatal(err)
	}
	for _, ws := range []*ent.Workspace{e.acme, e.other} {
		if _, err := access.AddMember(tenancy.System(ctx), st.Client, ws.ID, "Root", "root@example.com", tenancy.RoleAdmin); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Client.Tag.Create().SetWorkspaceID(e.other.ID).SetName("secret").Exec(tenancy.System(ctx)); err != nil {
		t.Fatal(err)
	}
	web := webauth.New(webauth.Config{Client: st.Client})
	lctx, cancel := context.WithCancel(context.Background())
	feed := live.New(st.Client, st.DB, st.Dialect, live.Options{SequenceInterval: 20 * time.Millisecond})
	done := make(chan struct{})
	go func() { defer close(done); feed.Run(lctx) }()
	e.srv = httptest.NewServer(graph.NewHandler(graph.Config{Client: st.Client, Ping: st.Ping, Auth: web, Live: feed,
		LiveLimits: graph.LiveLimits{Recheck: 100 * time.Millisecond}}))
	t.Cleanup(func() {
		e.srv.CloseClientConnections()
		e.srv.Close()
		cancel()
		<-done
	})
	return e
}

// reply is an answer: status, headers and the JSON body.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// code is the error code of an /auth/ error answer or of a GraphQL
// answer's first error.
func (r reply) code() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		c, _ := e["code"].(string)
		return c
	}
	if es, ok := r.body["errors"].([]any); ok && len(es) > 0 {
		ext, _ := es[0].(map[string]any)["extensions"].(map[string]any)
		c, _ := ext["code"].(string)
		return c
	}
	return ""
}

func (r reply) cookie() *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == webauth.CookieName {
			return c
		}
	}
	return nil
}

// req sends a request with an optional JSON body, cookie and headers
// (pairs of name and value).
func (e *env) req(method, path string, body any, cookie *http.Cookie, headers ...string) reply {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	r, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if cookie != nil {
		r.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out.body)
	}
	return out
}

// gql posts a GraphQL query.
func (e *env) gql(query string, cookie *http.Cookie, headers ...string) reply {
	e.t.Helper()
	return e.req(http.MethodPost, "/graphql", map[string]any{"query": query}, cookie, headers...)
}

// signup invites email to ws with role and signs them up, returning the
// session cookie and the session JSON.
func (e *env) signup(ws *ent.Workspace, email string, role tenancy.Role) (*http.Cookie, map[string]any) {
	e.t.Helper()
	secret, _, err := access.Invite(context.Background(), e.st.Client, ws, email, "", role, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.req(http.MethodPost, "/auth/signup", map[string]any{"token": secret, "name": "Person", "password": "a long password"}, nil)
	if r.status != http.StatusOK || r.cookie() == nil {
		e.t.Fatalf("signup: %d %s", r.status, r.raw)
	}
	return r.cookie(), r.body
}

// TestSignUpAndAPI follows an invite to a session and uses it on the API.
func TestSignUpAndAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		secret, m, err := access.Invite(ctx, st.Client, e.acme, "ann@example.com", "Ann", tenancy.RoleMember, 0)
		if err != nil {
			t.Fatal(err)
		}
		link := e.req(http.MethodGet, "/auth/link?token="+url.QueryEscape(secret), nil, nil)
		if link.status != 200 || link.body["purpose"] != "invite" || link.body["email"] != "ann@example.com" || link.body["workspace"] != "acme" {
			t.Fatalf("link: %d %s", link.status, link.raw)
		}
		if r := e.req(http.MethodPost, "/auth/signup", map[string]any{"token": secret, "name": "Ann", "password": "short"}, nil); r.status != 400 || r.code() != "BAD_USER_INPUT" || r.body["error"].(map[string]any)["field"] != "password" {
			t.Errorf("short password: %d %s", r.status, r.raw)
		}
		if r := e.req(http.MethodPost, "/auth/signup", map[string]any{"token": secret, "name": "Ann", "password": "ann@example.com"}, nil); r.status != 400 || r.code() != "BAD_USER_INPUT" {
			t.Errorf("password equal to the email: %d %s", r.status, r.raw)
		}
		r := e.req(http.MethodPost, "/auth/signup", map[string]any{"token": secret, "name": "Ann", "password": "a long password"}, nil)
		if r.status != 200 {
			t.Fatalf("signup: %d %s", r.status, r.raw)
		}
		acc := r.body["account"].(map[string]any)
		ws := r.body["workspace"].(map[string]any)
		wss := r.body["workspaces"].([]any)
		csrf, _ := r.body["csrf"].(string)
		if acc["email"] != "ann@example.com" || acc["name"] != "Ann" || ws["slug"] != "acme" || ws["id"] != string(e.acme.ID) ||
			r.body["role"] != "member" || len(wss) != 1 || csrf == "" {
			t.Fatalf("session JSON: %s", r.raw)
		}
		if strings.Contains(r.raw, "argon2") {
			t.Errorf("the password hash leaks: %s", r.raw)
		}
		cookie := r.cookie()
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Secure {
			t.Fatalf("cookie %+v (over plain HTTP: not Secure)", cookie)
		}
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			var r reply
			if method == http.MethodGet {
				r = e.req(method, "/auth/link?token="+url.QueryEscape(secret), nil, nil)
			} else {
				r = e.req(method, "/auth/signup", map[string]any{"token": secret, "name": "Ann", "password": "a long password"}, nil)
			}
			if r.status != http.StatusGone || r.code() != "LINK_EXPIRED" {
				t.Errorf("%s with a used link: %d %s", method, r.status, r.raw)
			}
		}
		if r := e.req(http.MethodGet, "/auth/session", nil, cookie); r.status != 200 || r.body["csrf"] != csrf || r.body["role"] != "member" {
			t.Errorf("session: %d %s", r.status, r.raw)
		}
		if r := e.req(http.MethodGet, "/auth/session", nil, nil); r.status != 401 || r.code() != "UNAUTHENTICATED" {
			t.Errorf("session without cookie: %d %s", r.status, r.raw)
		}

		// The API with the cookie: only its workspace.
		const query = `{ viewer { role workspace { slug } } tags { name } }`
		if r := e.gql(query, cookie); r.status != 403 || r.code() != "FORBIDDEN" {
			t.Errorf("POST without CSRF: %d %s", r.status, r.raw)
		}
		r = e.gql(query, cookie, webauth.CSRFHeader, csrf)
		if r.status != 200 || !strings.Contains(r.raw, `"slug":"acme"`) || !strings.Contains(r.raw, `"role":"member"`) || strings.Contains(r.raw, "secret") {
			t.Errorf("query with cookie: %d %s", r.status, r.raw)
		}
		if r := e.req(http.MethodGet, "/graphql?query="+url.QueryEscape(query), nil, cookie); r.status != 200 || !strings.Contains(r.raw, `"slug":"acme"`) {
			t.Errorf("GET query without CSRF: %d %s", r.status, r.raw)
		}
		const mutation = `mutation { createTag(input: {name: "hot"}) { name } }`
		if r := e.req(http.MethodGet, "/graphql?query="+url.QueryEscape(mutation), nil, cookie); r.status == 200 && !strings.Contains(r.raw, "errors") {
			t.Errorf("GET mutation: %d %s", r.status, r.raw)
		}
		if r := e.gql(mutation, cookie); r.status != 403 || r.code() != "FORBIDDEN" {
			t.Errorf("mutation without CSRF: %d %s", r.status, r.raw)
		}
		if r := e.gql(mutation, cookie, webauth.CSRFHeader, "wrong"); r.status != 403 || r.code() != "FORBIDDEN" {
			t.Errorf("mutation with a wrong CSRF token: %d %s", r.status, r.raw)
		}
		if r := e.gql(mutation, cookie, webauth.CSRFHeader, csrf, "Origin", "https://evil.example"); r.status != 403 {
			t.Errorf("mutation from another origin: %d %s", r.status, r.raw)
		}
		n, err := st.Client.Tag.Query().Where(tag.Name("hot")).Count(tenancy.System(ctx))
		if err != nil || n != 0 {
			t.Fatalf("a refused mutation made %d tags: %v", n, err)
		}
		if r := e.gql(mutation, cookie, webauth.CSRFHeader, csrf, "Origin", e.srv.URL); r.status != 200 || !strings.Contains(r.raw, `"name":"hot"`) {
			t.Errorf("mutation with CSRF: %d %s", r.status, r.raw)
		}

		// Bearer tokens work as before, and win over a cookie.
		tok, _, err := access.CreateToken(ctx, st.Client, e.other, access.TokenOptions{Role: tenancy.RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		if r := e.gql(`{ viewer { role workspace { slug } } }`, cookie, "Authorization", "Bearer "+tok); r.status != 200 || !strings.Contains(r.raw, `"slug":"other"`) {
			t.Errorf("bearer token: %d %s", r.status, r.raw)
		}

		// A viewer's session reads and cannot write.
		if _, err := access.SetMemberRole(tenancy.System(ctx), st.Client, e.acme.ID, m.ID, tenancy.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if r := e.gql(mutation, cookie, webauth.CSRFHeader, csrf); r.code() != "FORBIDDEN" {
			t.Errorf("viewer's mutation: %d %s", r.status, r.raw)
		}
		if r := e.gql(query, cookie, webauth.CSRFHeader, csrf); r.status != 200 || !strings.Contains(r.raw, `"role":"viewer"`) {
			t.Errorf("viewer's query: %d %s", r.status, r.raw)
		}

		// Switching workspace: only to one of the account's.
		if r := e.req(http.MethodPost, "/auth/workspace", map[string]any{"slug": "other"}, cookie); r.status != 403 {
			t.Errorf("switch without CSRF: %d %s", r.status, r.raw)
		}
		if r := e.req(http.MethodPost, "/auth/workspace", map[string]any{"slug": "other"}, cookie, webauth.CSRFHeader, csrf); r.status != 404 || r.code() != "NOT_FOUND" {
			t.Errorf("switch to a workspace of others: %d %s", r.status, r.raw)
		}
		if _, err := access.AddMember(tenancy.System(ctx), st.Client, e.other.ID, "Ann", "Ann@Example.com", tenancy.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if r := e.req(http.MethodPost, "/auth/workspace", map[string]any{"slug": "other"}, cookie, webauth.CSRFHeader, csrf); r.status != 200 || r.body["role"] != "admin" || len(r.body["workspaces"].([]any)) != 2 {
			t.Errorf("switch: %d %s", r.status, r.raw)
		}
		if r := e.gql(query, cookie, webauth.CSRFHeader, csrf); !strings.Contains(r.raw, `"slug":"other"`) || !strings.Contains(r.raw, "secret") {
			t.Errorf("query after switch: %d %s", r.status, r.raw)
		}

		// Sign-out revokes the session.
		if r := e.req(http.MethodPost, "/auth/signout", nil, cookie); r.status != 403 {
			t.Errorf("sign-out without CSRF: %d %s", r.status, r.raw)
		}
		r = e.req(http.MethodPost, "/auth/signout", nil, cookie, webauth.CSRFHeader, csrf)
		if c := r.cookie(); r.status != 204 || c == nil || c.MaxAge >= 0 || c.Value != "" {
			t.Errorf("sign-out: %d %+v", r.status, c)
		}
		if r := e.req(http.MethodGet, "/auth/session", nil, cookie); r.status != 401 {
			t.Errorf("session after sign-out: %d %s", r.status, r.raw)
		}
		if r := e.gql(query, cookie, webauth.CSRFHeader, csrf); r.status != 401 || r.code() != "UNAUTHENTICATED" {
			t.Errorf("API after sign-out: %d %s", r.status, r.raw)
		}
	})
}

// TestSignInThrottleReset signs in, throttles failures, resets a password
// and ends the sessions of removed members.
func TestSignInThrottleReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		first, _ := e.signup(e.acme, "bob@example.com", tenancy.RoleMember)
		signin := func(email, password, ws string) reply {
			return e.req(http.MethodPost, "/auth/signin", map[string]any{"email": email, "password": password, "workspace": ws}, nil)
		}
		wrong := signin("bob@example.com", "not the password", "")
		unknown := signin("nobody@example.com", "a long password", "")
		for _, r := range []reply{wrong, unknown} {
			if r.status != 401 || r.code() != "UNAUTHENTICATED" || r.body["error"].(map[string]any)["message"] != "wrong email or password" || r.cookie() != nil {
				t.Errorf("bad sign-in: %d %s", r.status, r.raw)
			}
		}
		r := signin("BOB@example.com", "a long password", "")
		if r.status != 200 || r.cookie() == nil || r.body["workspace"].(map[string]any)["slug"] != "acme" {
			t.Fatalf("sign-in: %d %s", r.status, r.raw)
		}
		second := r.cookie()
		// Five failures, then the sixth attempt is refused, even with
		// the right password.
		for i := 0; i < 5; i++ {
			if r := signin("bob@example.com", "not the password", ""); r.status != 401 {
				t.Fatalf("failure %d: %d %s", i+1, r.status, r.raw)
			}
		}
		r = signin("bob@example.com", "a long password", "")
		if r.status != 429 || r.code() != "RATE_LIMITED" || r.header.Get("Retry-After") == "" || r.header.Get("Retry-After") == "0" {
			t.Errorf("sixth attempt: %d %v %s", r.status, r.header, r.raw)
		}

		// A reset revokes every session and signs in with the new password.
		reset, err := access.ResetLink(ctx, st.Client, "bob@example.com", 0)
		if err != nil {
			t.Fatal(err)
		}
		if r := e.req(http.MethodGet, "/auth/link?token="+url.QueryEscape(reset), nil, nil); r.status != 200 || r.body["purpose"] != "reset" || r.body["workspace"] != nil {
			t.Errorf("reset link: %d %s", r.status, r.raw)
		}
		r = e.req(http.MethodPost, "/auth/reset", map[string]any{"token": reset, "password": "a new long password"}, nil)
		if r.status != 200 || r.cookie() == nil {
			t.Fatalf("reset: %d %s", r.status, r.raw)
		}
		third := r.cookie()
		for _, c := range []*http.Cookie{first, second} {
			if r := e.req(http.MethodGet, "/auth/session", nil, c); r.status != 401 {
				t.Errorf("session from before the reset: %d %s", r.status, r.raw)
			}
		}
		if r := e.req(http.MethodGet, "/auth/session", nil, third); r.status != 200 {
			t.Errorf("session after the reset: %d %s", r.status, r.raw)
		}
		if r := e.req(http.MethodPost, "/auth/reset", map[string]any{"token": reset, "password": "a third long password"}, nil); r.status != 410 {
			t.Errorf("reset link reused: %d %s", r.status, r.raw)
		}
		if r := signin("bob@example.com", "a new long password", ""); r.status != 200 {
			t.Errorf("sign-in after the reset (which forgets failures): %d %s", r.status, r.raw)
		}

		// A removed member's session stops working at once; an account
		// with no workspace cannot sign in.
		bob, err := access.MemberByID(tenancy.System(ctx), st.Client, e.acme.ID, "bob@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if err := access.RemoveMember(tenancy.System(ctx), st.Client, e.acme.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if r := e.req(http.MethodGet, "/graphql?query="+url.QueryEscape("{ viewer { role } }"), nil, third); r.status != 401 {
			t.Errorf("removed member's session: %d %s", r.status, r.raw)
		}
		if r := signin("bob@example.com", "a new long password", ""); r.status != 403 || r.code() != "FORBIDDEN" {
			t.Errorf("sign-in with no workspace: %d %s", r.status, r.raw)
		}
	})
}

// TestAuthRequests checks what every endpoint refuses before it acts.
func TestAuthRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		cookie, _ := e.signup(e.acme, "cy@example.com", tenancy.RoleAdmin)
		for _, tc := range []struct {
			name, method, path string
			body               any
			headers            []string
			status             int
			code               string
		}{
			{"signin from another origin", "POST", "/auth/signin", map[string]any{"email": "cy@example.com", "password": "a long password"}, []string{"Origin", "https://evil.example"}, 403, "FORBIDDEN"},
			{"signin from a null origin", "POST", "/auth/signin", map[string]any{"email": "cy@example.com", "password": "a long password"}, []string{"Origin", "null"}, 403, "FORBIDDEN"},
			{"signin from the same origin", "POST", "/auth/signin", map[string]any{"email": "cy@example.com", "password": "a long password"}, []string{"Origin", e.srv.URL}, 200, ""},
			{"signin with a wrong type", "POST", "/auth/signin", map[string]any{"email": 3}, nil, 400, "BAD_USER_INPUT"},
			{"signin as a form", "POST", "/auth/signin", map[string]any{}, []string{"Content-Type", "application/x-www-form-urlencoded"}, 400, "BAD_USER_INPUT"},
			{"signin with a huge body", "POST", "/auth/signin", map[string]any{"email": strings.Repeat("x", webauth.MaxBody)}, nil, 400, "BAD_USER_INPUT"},
			{"unknown link", "GET", "/auth/link?token=rpl_nothing", nil, nil, 410, "LINK_EXPIRED"},
			{"link without token", "GET", "/auth/link", nil, nil, 410, "LINK_EXPIRED"},
			{"signup with no token", "POST", "/auth/signup", map[string]any{"name": "X", "password": "a long password"}, nil, 410, "LINK_EXPIRED"},
			{"workspace without session", "POST", "/auth/workspace", map[string]any{"slug": "acme"}, nil, 401, "UNAUTHENTICATED"},
			{"signout without session", "POST", "/auth/signout", nil, nil, 401, "UNAUTHENTICATED"},
			{"unknown endpoint", "GET", "/auth/nothing", nil, nil, 404, "NOT_FOUND"},
			{"GET of a POST endpoint", "GET", "/auth/signin", nil, nil, 405, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.req(tc.method, tc.path, tc.body, nil, tc.headers...)
				if r.status != tc.status || (tc.code != "" && r.code() != tc.code) {
					t.Errorf("%d %s; want %d %s", r.status, r.raw, tc.status, tc.code)
				}
			})
		}
		// A cookie request from another origin, with the right CSRF token.
		s := e.req(http.MethodGet, "/auth/session", nil, cookie)
		csrf, _ := s.body["csrf"].(string)
		if r := e.req(http.MethodPost, "/auth/workspace", map[string]any{"slug": "acme"}, cookie, webauth.CSRFHeader, csrf, "Origin", "http://evil.example"); r.status != 403 {
			t.Errorf("switch from another origin: %d %s", r.status, r.raw)
		}
		if r := e.req(http.MethodPost, "/auth/workspace", map[string]any{"slug": "acme"}, cookie, webauth.CSRFHeader, csrf); r.status != 200 {
			t.Errorf("switch to the same workspace: %d %s", r.status, r.raw)
		}
		// Signing up from an invite to other, while a member of acme
		// too, starts the session in other.
		if _, err := access.AddMember(tenancy.System(context.Background()), st.Client, e.acme.ID, "", "eve@example.com", tenancy.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if _, body := e.signup(e.other, "eve@example.com", tenancy.RoleMember); body["workspace"].(map[string]any)["slug"] != "other" || body["role"] != "member" {
			t.Errorf("sign-up session: %v", body)
		}
		// Signing in names a workspace of theirs, or gets the first.
		for _, tc := range []struct{ ask, want string }{{"other", "other"}, {"acme", "acme"}, {"nowhere", "acme"}, {"", "acme"}} {
			r := e.req(http.MethodPost, "/auth/signin", map[string]any{"email": "eve@example.com", "password": "a long password", "workspace": tc.ask}, nil)
			if r.status != 200 || r.body["workspace"].(map[string]any)["slug"] != tc.want {
				t.Errorf("sign in asking for %q: %d %s", tc.ask, r.status, r.raw)
			}
		}
	})
}

// TestSessionWebSocket opens live connections with the session cookie:
// only from the server's own origin, acting as the session.
func TestSessionWebSocket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		cookie, _ := e.signup(e.acme, "dee@example.com", tenancy.RoleMember)
		dial := func(origin string, withCookie bool) (*websocket.Conn, int) {
			t.Helper()
			h := http.Header{}
			if origin != "" {
				h.Set("Origin", origin)
			}
			if withCookie {
				h.Set("Cookie", cookie.Name+"="+cookie.Value)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/graphql",
				&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
			if err != nil {
				if resp == nil {
					t.Fatal(err)
				}
				return nil, resp.StatusCode
			}
			t.Cleanup(func() { _ = c.CloseNow() })
			return c, http.StatusSwitchingProtocols
		}
		// init sends an empty connection_init and returns the answer's type.
		initType := func(c *websocket.Conn) string {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init","payload":{}}`)); err != nil {
				t.Fatal(err)
			}
			_, data, err := c.Read(ctx)
			if err != nil {
				return "closed"
			}
			var m map[string]any
			_ = json.Unmarshal(data, &m)
			typ, _ := m["type"].(string)
			return typ
		}
		for _, tc := range []struct {
			name   string
			origin string
			status int
		}{
			{"no origin", "", http.StatusForbidden},
			{"another origin", "https://evil.example", http.StatusForbidden},
		} {
			if _, status := dial(tc.origin, true); status != tc.status {
				t.Errorf("%s: status %d, want %d", tc.name, status, tc.status)
			}
		}
		if c, _ := dial(e.srv.URL, false); c == nil || initType(c) == "connection_ack" {
			t.Errorf("a WebSocket without cookie or token was acknowledged")
		}
		c, status := dial(e.srv.URL, true)
		if c == nil {
			t.Fatalf("same origin with cookie: status %d", status)
		}
		if typ := initType(c); typ != "connection_ack" {
			t.Errorf("same origin with cookie: %s, want connection_ack", typ)
		}

		// The session is checked again while the connection is open: a
		// role change closes it with 1012 (reconnect, to act as the new
		// role), and signing out closes it with 4403.
		closedWith := func(c *websocket.Conn) (websocket.StatusCode, string) {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for {
				if _, _, err := c.Read(ctx); err != nil {
					var ce websocket.CloseError
					if !errors.As(err, &ce) {
						t.Fatalf("want a close frame, got %v", err)
					}
					return ce.Code, ce.Reason
				}
			}
		}
		ctx := context.Background()
		dee, err := st.Client.Member.Query().Where(member.WorkspaceID(e.acme.ID), member.Email("dee@example.com")).Only(tenancy.System(ctx))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := access.SetMemberRole(tenancy.System(ctx), st.Client, e.acme.ID, dee.ID, tenancy.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if code, reason := closedWith(c); code != 1012 || !strings.Contains(reason, "viewer") {
			t.Errorf("after a role change: closed with %d (%s), want 1012 naming the new role", code, reason)
		}
		c, _ = dial(e.srv.URL, true)
		if typ := initType(c); typ != "connection_ack" {
			t.Fatalf("reconnected as a viewer: %s, want connection_ack", typ)
		}
		csrf, _ := e.req(http.MethodGet, "/auth/session", nil, cookie).body["csrf"].(string)
		if r := e.req(http.MethodPost, "/auth/signout", nil, cookie, webauth.CSRFHeader, csrf); r.status != http.StatusOK && r.status != http.StatusNoContent {
			t.Fatalf("sign out: %d %s", r.status, r.raw)
		}
		if code, reason := closedWith(c); code != 4403 {
			t.Errorf("after signing out: closed with %d (%s), want 4403", code, reason)
		}
	})
}
