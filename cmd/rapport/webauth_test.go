package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// authFront stands in for the server's /auth/ endpoints while the server
// has none (the sign-in endpoints are built on another branch): it answers
// them as their contract says, keeps sessions in memory, and passes every
// other request on to the server, turning a session's cookie into the API
// token of its account and checking X-CSRF-Token. The browser talks to it
// as it would to the server.
type authFront struct {
	t       *testing.T
	srv     *server
	db      string
	url     string
	mu      sync.Mutex
	invites map[string]*invite
	users   map[string]*account // by email
	seshes  map[string]*session // by cookie
}

type invite struct {
	email, role string
	used        bool
}

type account struct {
	id, email, name, password, role, token string
}

type session struct {
	acct *account
	csrf string
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func startAuthFront(t *testing.T, s *server, db string) *authFront {
	f := &authFront{t: t, srv: s, db: db, invites: map[string]*invite{}, users: map[string]*account{}, seshes: map[string]*session{}}
	target, _ := url.Parse(s.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	mux := http.NewServeMux()
	mux.HandleFunc("/auth/", f.auth)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Authorization")
		if r.URL.Path == "/graphql" {
			if se := f.session(r); se != nil {
				if r.Method == http.MethodPost && r.Header.Get("X-CSRF-Token") != se.csrf {
					frontJSON(w, http.StatusForbidden, errBody("FORBIDDEN", "missing or wrong X-CSRF-Token", ""))
					return
				}
				r.Header.Set("Authorization", "Bearer "+se.acct.token)
			}
		}
		proxy.ServeHTTP(w, r)
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

// invite returns a sign-up link for email with role, as
// `rapport member invite` prints one.
func (f *authFront) invite(email, role string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	tok := randHex(16)
	f.invites[tok] = &invite{email: email, role: role}
	return f.url + "/signup?token=" + tok
}

// expire ends every session, as their expiry would.
func (f *authFront) expire() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seshes = map[string]*session{}
}

func (f *authFront) session(r *http.Request) *session {
	c, err := r.Cookie("rapport_session")
	if err != nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seshes[c.Value]
}

func errBody(code, msg, field string) map[string]any {
	e := map[string]any{"code": code, "message": msg}
	if field != "" {
		e["field"] = field
	}
	return map[string]any{"error": e}
}

func frontJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *authFront) signIn(w http.ResponseWriter, a *account) {
	se := &session{acct: a, csrf: randHex(16)}
	cookie := randHex(24)
	f.mu.Lock()
	f.seshes[cookie] = se
	f.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "rapport_session", Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	frontJSON(w, http.StatusOK, sessionJSON(se))
}

func sessionJSON(se *session) map[string]any {
	return map[string]any{
		"account":    map[string]any{"id": se.acct.id, "email": se.acct.email, "name": se.acct.name},
		"workspace":  map[string]any{"id": "ws_demo", "slug": "demo", "name": "Demo"},
		"role":       se.acct.role,
		"workspaces": []map[string]any{{"slug": "demo", "name": "Demo", "role": se.acct.role}},
		"csrf":       se.csrf,
	}
}

func (f *authFront) auth(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password, Token, Name string }
	if r.Method == http.MethodPost {
		_ = json.NewDecoder(r.Body).Decode(&in)
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /auth/session":
		se := f.session(r)
		if se == nil {
			frontJSON(w, http.StatusUnauthorized, errBody("UNAUTHENTICATED", "not signed in", ""))
			return
		}
		frontJSON(w, http.StatusOK, sessionJSON(se))
	case "POST /auth/signin":
		f.mu.Lock()
		a := f.users[strings.ToLower(in.Email)]
		f.mu.Unlock()
		if a == nil || a.password != in.Password {
			frontJSON(w, http.StatusUnauthorized, errBody("UNAUTHENTICATED", "wrong email or password", ""))
			return
		}
		f.signIn(w, a)
	case "POST /auth/signout":
		se := f.session(r)
		if se == nil || r.Header.Get("X-CSRF-Token") != se.csrf {
			frontJSON(w, http.StatusForbidden, errBody("FORBIDDEN", "missing or wrong X-CSRF-Token", ""))
			return
		}
		f.expire()
		w.WriteHeader(http.StatusNoContent)
	case "GET /auth/link":
		f.mu.Lock()
		inv := f.invites[r.URL.Query().Get("token")]
		f.mu.Unlock()
		switch {
		case inv == nil:
			frontJSON(w, http.StatusNotFound, errBody("NOT_FOUND", "no such link", ""))
		case inv.used:
			frontJSON(w, http.StatusGone, errBody("GONE", "link used", ""))
		default:
			frontJSON(w, http.StatusOK, map[string]any{"purpose": "invite", "email": inv.email, "workspace": "Demo"})
		}
	case "POST /auth/signup":
		f.mu.Lock()
		inv := f.invites[in.Token]
		f.mu.Unlock()
		if inv == nil || inv.used {
			frontJSON(w, http.StatusGone, errBody("GONE", "link used or expired", ""))
			return
		}
		if strings.TrimSpace(in.Name) == "" {
			frontJSON(w, http.StatusBadRequest, errBody("BAD_USER_INPUT", "enter your name", "name"))
			return
		}
		if len(in.Password) < 8 {
			frontJSON(w, http.StatusBadRequest, errBody("BAD_USER_INPUT", "at least 8 characters", "password"))
			return
		}
		tok, err := run(f.t, "token", "create", "--db", f.db, "--workspace", "demo", "--role", inv.role, "--name", in.Name)
		if err != nil {
			frontJSON(w, http.StatusInternalServerError, errBody("INTERNAL", err.Error(), ""))
			return
		}
		a := &account{id: "acc_" + randHex(4), email: inv.email, name: in.Name, password: in.Password, role: inv.role, token: strings.TrimSpace(tok)}
		f.mu.Lock()
		inv.used = true
		f.users[strings.ToLower(inv.email)] = a
		f.mu.Unlock()
		f.signIn(w, a)
	default:
		frontJSON(w, http.StatusNotFound, errBody("NOT_FOUND", "no such endpoint", ""))
	}
}
