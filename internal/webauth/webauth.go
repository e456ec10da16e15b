// Package webauth is the HTTP side of people signing in: the /auth/
// endpoints a web app calls (sign in and out, sign up from an invite link,
// reset a password, switch workspace) and the session cookie they set,
// which the API server turns into the request's viewer with
// Handler.Authenticate. The accounts, links, sessions and throttling
// themselves live in core/access; this package speaks JSON and cookies.
//
// Contract: request and response bodies are JSON objects (requests at most
// MaxBody bytes, with Content-Type application/json). Errors are
// {"error":{"code","message","field"?}} with the codes of core/errcode.
// The session cookie, rapport_session, is HttpOnly, SameSite=Strict,
// Path=/ and Secure when the request came over TLS. Every POST with an
// Origin header must come from the request's own host; POSTs made with a
// session (signout, workspace) must also carry X-CSRF-Token, the csrf of
// the session JSON.
package webauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// CookieName is the session cookie's name.
const CookieName = "rapport_session"

// CSRFHeader is the header requests made with the session cookie that
// change anything carry, equal to the session's csrf token.
const CSRFHeader = "X-CSRF-Token"

// MaxBody is the largest request body the endpoints read, in bytes.
const MaxBody = 16 << 10

// Config configures a Handler.
type Config struct {
	// Client is the store's ent client; required.
	Client *ent.Client
	// Sessions keeps the sessions; a new one over Client with the
	// default lifetimes when nil.
	Sessions *access.Sessions
	// Throttle limits failed sign-ins; access.NewThrottle(Client) when
	// nil.
	Throttle *access.Throttle
	// SecureCookies marks the session cookie Secure on every response,
	// not only on requests that came over TLS: for a server behind a
	// proxy that ends TLS.
	SecureCookies bool
	// TrustProxy says a reverse proxy the server trusts stands in front
	// of it: the client's address is then the last one of
	// X-Forwarded-For (as the proxy saw it), and X-Forwarded-Proto:
	// https counts as TLS. Off, both headers are ignored (anyone could
	// send them) and the address is the connection's.
	TrustProxy bool
	// Logger receives internal errors; slog.Default() when nil.
	Logger *slog.Logger
}

// Handler serves /auth/ and authenticates requests by session cookie.
type Handler struct {
	cfg      Config
	client   *ent.Client
	sessions *access.Sessions
	throttle *access.Throttle
	log      *slog.Logger
	mux      *http.ServeMux
	// purged is when this handler last purged ended sessions and links
	// (Unix seconds).
	purged atomic.Int64
}

// purgeEvery is how often a handler purges ended sessions and links, and
// purgeAfter how long after they ended.
const (
	purgeEvery = time.Hour
	purgeAfter = 24 * time.Hour
)

// New returns a Handler.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg, client: cfg.Client, sessions: cfg.Sessions, throttle: cfg.Throttle, log: cfg.Logger}
	if h.sessions == nil {
		h.sessions = access.NewSessions(cfg.Client, access.SessionOptions{})
	}
	if h.throttle == nil {
		h.throttle = access.NewThrottle(cfg.Client)
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	mux := http.NewServeMux()
	for path, e := range map[string]struct {
		method string
		f      http.HandlerFunc
	}{
		"/auth/session":   {http.MethodGet, h.session},
		"/auth/link":      {http.MethodGet, h.link},
		"/auth/signin":    {http.MethodPost, h.signin},
		"/auth/signout":   {http.MethodPost, h.signout},
		"/auth/signup":    {http.MethodPost, h.signup},
		"/auth/reset":     {http.MethodPost, h.reset},
		"/auth/workspace": {http.MethodPost, h.workspace},
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != e.method && !(e.method == http.MethodGet && r.Method == http.MethodHead) {
				w.Header().Set("Allow", e.method)
				writeError(w, http.StatusMethodNotAllowed, errcode.New(errcode.BadUserInput, "use %s", e.method))
				return
			}
			e.f(w, r)
		})
	}
	mux.HandleFunc("/auth/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, &errcode.Error{Code: errcode.NotFound, Msg: "no such endpoint"})
	})
	h.mux = mux
	go access.PrepareSignIn()
	return h
}

// Sessions returns the sessions the handler keeps.
func (h *Handler) Sessions() *access.Sessions { return h.sessions }

// ServeHTTP serves the /auth/ endpoints.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodPost && !SameOrigin(r) {
		writeError(w, http.StatusForbidden, errcode.New(errcode.Forbidden, "cross-origin request refused"))
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Authenticate returns the session of r's cookie: nil and no error when r
// has no session cookie, access.ErrNoSession when its session has ended.
func (h *Handler) Authenticate(r *http.Request) (*access.SessionView, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	return h.sessions.Verify(r.Context(), c.Value)
}

// CheckCSRF reports whether r carries view's CSRF token.
func CheckCSRF(r *http.Request, view *access.SessionView) bool {
	got := r.Header.Get(CSRFHeader)
	return got != "" && constantTimeEqual(got, view.CSRF)
}

// SameOrigin reports whether r has no Origin header or one naming r's own
// host.
func SameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	Error struct {
		Code    errcode.Code `json:"code"`
		Message string       `json:"message"`
		Field   string       `json:"field,omitempty"`
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, e *errcode.Error) {
	var b errorBody
	b.Error.Code, b.Error.Message, b.Error.Field = e.Code, e.Msg, e.Field
	if b.Error.Message == "" && e.Err != nil {
		b.Error.Message = e.Err.Error()
	}
	writeJSON(w, status, b)
}

// fail answers err with its code's status; an internal error is logged and
// answered without detail.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := errcode.As(err)
	if !ok {
		code := errcode.Of(err)
		msg, withheld := errcode.Public(code, err)
		if withheld && code != errcode.Internal { // internal errors are logged below
			h.log.WarnContext(r.Context(), "auth request failed", "path", r.URL.Path, "err", err)
		}
		e = &errcode.Error{Code: code, Msg: msg}
	}
	status := http.StatusInternalServerError
	switch e.Code {
	case errcode.Unauthenticated:
		status = http.StatusUnauthorized
	case errcode.Forbidden:
		status = http.StatusForbidden
	case errcode.BadUserInput:
		status = http.StatusBadRequest
	case errcode.NotFound:
		status = http.StatusNotFound
	case errcode.LinkExpired:
		status = http.StatusGone
	case errcode.RateLimited:
		status = http.StatusTooManyRequests
	case errcode.Unavailable:
		w.Header().Set("Retry-After", "1")
		status = http.StatusServiceUnavailable
	default:
		h.log.ErrorContext(r.Context(), "auth request failed", "path", r.URL.Path, "err", err)
		e = errcode.New(errcode.Internal, errcode.MsgInternal)
	}
	writeError(w, status, e)
}

// Request bodies.
type (
	signinBody struct {
		Email     string `json:"email"`
		Password  string `json:"password"`
		Workspace string `json:"workspace"`
	}
	signupBody struct {
		Token    string `json:"token"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	resetBody struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	workspaceBody struct {
		Slug string `json:"slug"`
	}
)

// decode reads r's JSON object body into v: at most MaxBody bytes, one
// object and nothing after it.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errcode.Input("", "send a JSON body with Content-Type: application/json")
		}
	}
	return decodeBody(io.LimitReader(r.Body, MaxBody+1), v)
}

// decodeBody decodes one JSON object from body, of at most MaxBody bytes,
// into v.
func decodeBody(body io.Reader, v any) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return errcode.Input("", "could not read the body")
	}
	if len(data) > MaxBody {
		return errcode.Input("", "the body is larger than %d bytes", MaxBody)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return errcode.Input(te.Field, "%s must be a %s", te.Field, te.Type)
		}
		return errcode.Input("", "the body is not a JSON object of the expected fields")
	}
	if dec.More() {
		return errcode.Input("", "the body holds more than one JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errcode.Input("", "the body holds more than one JSON value")
	}
	return nil
}

// SessionJSON is the answer of every endpoint that signs in.
type SessionJSON struct {
	Account    AccountJSON     `json:"account"`
	Workspace  WorkspaceJSON   `json:"workspace"`
	Role       tenancy.Role    `json:"role"`
	Workspaces []MembershipRef `json:"workspaces"`
	CSRF       string          `json:"csrf"`
}

// AccountJSON is the signed-in account.
type AccountJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// WorkspaceJSON is the session's workspace.
type WorkspaceJSON struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// MembershipRef is one workspace of the account.
type MembershipRef struct {
	Slug string       `json:"slug"`
	Name string       `json:"name"`
	Role tenancy.Role `json:"role"`
}

// sessionJSON describes the session view.
func (h *Handler) sessionJSON(ctx context.Context, view *access.SessionView) (*SessionJSON, error) {
	acc, err := h.sessions.Account(ctx, view.AccountID)
	if err != nil {
		return nil, err
	}
	ms, err := access.Memberships(ctx, h.client, acc.Email)
	if err != nil {
		return nil, err
	}
	out := &SessionJSON{
		Account:    AccountJSON{ID: string(acc.ID), Email: acc.Email, Name: acc.Name},
		Role:       view.Viewer.Role,
		Workspaces: []MembershipRef{},
		CSRF:       view.CSRF,
	}
	for _, m := range ms {
		out.Workspaces = append(out.Workspaces, MembershipRef{Slug: m.Workspace.Slug, Name: m.Workspace.Name, Role: tenancy.Role(m.Member.Role)})
		if m.Workspace.ID == view.Viewer.WorkspaceID {
			out.Workspace = WorkspaceJSON{ID: string(m.Workspace.ID), Slug: m.Workspace.Slug, Name: m.Workspace.Name}
		}
	}
	if out.Workspace.ID == "" {
		return nil, access.ErrNoSession
	}
	return out, nil
}

// requireSession returns r's session, answering 401 when there is none.
func (h *Handler) requireSession(w http.ResponseWriter, r *http.Request) *access.SessionView {
	view, err := h.Authenticate(r)
	if err == nil && view == nil {
		err = access.ErrNoSession
	}
	if err != nil {
		if errcode.Of(err) == errcode.Unauthenticated {
			h.clearCookie(w, r)
		}
		h.fail(w, r, err)
		return nil
	}
	return view
}

func (h *Handler) session(w http.ResponseWriter, r *http.Request) {
	view := h.requireSession(w, r)
	if view == nil {
		return
	}
	out, err := h.sessionJSON(r.Context(), view)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	var b signinBody
	if err := decode(r, &b); err != nil {
		h.fail(w, r, err)
		return
	}
	ctx := r.Context()
	ip := h.clientIP(r)
	wait, err := h.throttle.Check(ctx, b.Email, ip)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, errcode.New(errcode.RateLimited, "too many failed sign-ins: try again in %d seconds", secs))
		return
	}
	acc, err := access.SignIn(ctx, h.client, b.Email, b.Password)
	if errors.Is(err, access.ErrWrongPassword) {
		if err := h.throttle.Fail(ctx, b.Email, ip); err != nil {
			h.log.ErrorContext(ctx, "record sign-in failure", "err", err)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.throttle.Succeed(ctx, acc.Email); err != nil {
		h.log.ErrorContext(ctx, "forget sign-in failures", "err", err)
	}
	h.startSession(w, r, acc, b.Workspace)
}

// startSession signs acc in, in the workspace of slug if it is one of
// theirs, else in the first of theirs by slug; FORBIDDEN when they have
// none.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, acc *ent.Account, slug string) {
	ctx := r.Context()
	ms, err := access.Memberships(ctx, h.client, acc.Email)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(ms) == 0 {
		h.fail(w, r, errcode.New(errcode.Forbidden, "%s is not a member of any workspace: ask an admin to invite you", acc.Email))
		return
	}
	pick := ms[0]
	for _, m := range ms {
		if m.Workspace.Slug == slug {
			pick = m
		}
	}
	secret, ses, err := h.sessions.Start(ctx, acc.ID, pick.Workspace.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.purge(ctx)
	view := &access.SessionView{ID: ses.ID, AccountID: acc.ID, Email: acc.Email, CSRF: ses.Csrf,
		Viewer: tenancy.Viewer{WorkspaceID: pick.Workspace.ID, Role: tenancy.Role(pick.Member.Role), MemberID: pick.Member.ID}}
	out, err := h.sessionJSON(ctx, view)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: secret, Path: "/", Expires: ses.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure(r),
	})
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) clearCookie(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(CookieName); err != nil {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.secure(r),
	})
}

// csrfSession returns r's session after checking r's CSRF token.
func (h *Handler) csrfSession(w http.ResponseWriter, r *http.Request) *access.SessionView {
	view := h.requireSession(w, r)
	if view == nil {
		return nil
	}
	if !CheckCSRF(r, view) {
		writeError(w, http.StatusForbidden, errcode.New(errcode.Forbidden, "missing or wrong %s header", CSRFHeader))
		return nil
	}
	return view
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request) {
	view := h.csrfSession(w, r)
	if view == nil {
		return
	}
	if err := h.sessions.End(r.Context(), view.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	h.clearCookie(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) workspace(w http.ResponseWriter, r *http.Request) {
	view := h.csrfSession(w, r)
	if view == nil {
		return
	}
	var b workspaceBody
	if err := decode(r, &b); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.sessions.Switch(r.Context(), view, b.Slug); err != nil {
		h.fail(w, r, err)
		return
	}
	c, _ := r.Cookie(CookieName)
	view, err := h.sessions.Verify(r.Context(), c.Value)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out, err := h.sessionJSON(r.Context(), view)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// LinkJSON is the answer of GET /auth/link.
type LinkJSON struct {
	Purpose   string  `json:"purpose"`
	Email     string  `json:"email"`
	Workspace *string `json:"workspace"`
}

func (h *Handler) link(w http.ResponseWriter, r *http.Request) {
	info, err := access.Link(r.Context(), h.client, r.URL.Query().Get("token"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := LinkJSON{Purpose: info.Purpose, Email: info.Email}
	if info.Workspace != nil {
		out.Workspace = &info.Workspace.Slug
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) signup(w http.ResponseWriter, r *http.Request) {
	var b signupBody
	if err := decode(r, &b); err != nil {
		h.fail(w, r, err)
		return
	}
	// The session starts in the workspace of the invite.
	var slug string
	if info, err := access.Link(r.Context(), h.client, b.Token); err == nil && info.Workspace != nil {
		slug = info.Workspace.Slug
	}
	acc, err := access.SignUp(r.Context(), h.client, b.Token, b.Name, b.Password)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.startSession(w, r, acc, slug)
}

func (h *Handler) reset(w http.ResponseWriter, r *http.Request) {
	var b resetBody
	if err := decode(r, &b); err != nil {
		h.fail(w, r, err)
		return
	}
	acc, err := access.ResetPassword(r.Context(), h.client, b.Token, b.Password)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if acc.Disabled {
		h.fail(w, r, access.ErrAccountDisabled)
		return
	}
	if err := h.throttle.Succeed(r.Context(), acc.Email); err != nil {
		h.log.ErrorContext(r.Context(), "forget sign-in failures", "err", err)
	}
	h.startSession(w, r, acc, "")
}

// purge deletes the sessions and links that ended a day ago, at most once
// an hour per handler; best effort.
func (h *Handler) purge(ctx context.Context) {
	now := time.Now()
	last := h.purged.Load()
	if now.Unix()-last < int64(purgeEvery/time.Second) || !h.purged.CompareAndSwap(last, now.Unix()) {
		return
	}
	if _, err := access.PurgeEnded(ctx, h.client, now.Add(-purgeAfter)); err != nil {
		h.log.ErrorContext(ctx, "purge ended sessions", "err", err)
	}
}

// secure reports whether the cookie set in answer to r is Secure.
func (h *Handler) secure(r *http.Request) bool {
	return h.cfg.SecureCookies || r.TLS != nil ||
		(h.cfg.TrustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// clientIP is the address sign-in failures of r are counted against.
func (h *Handler) clientIP(r *http.Request) string {
	if h.cfg.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
