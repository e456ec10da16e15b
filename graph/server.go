// Package graph serves Rapport's GraphQL API: the schema (graph/schema,
// partly generated from the ent schema), its resolvers, and the HTTP
// handler with authentication, limits, error codes, health and metrics.
package graph

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	gqlext "github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/runjob"
	"github.com/rapportcrm/rapport/core/live"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	importjob "github.com/rapportcrm/rapport/core/transfer/job"
	"github.com/rapportcrm/rapport/graph/generated"
	"github.com/rapportcrm/rapport/graph/resolvers"
	"github.com/rapportcrm/rapport/internal/telemetry"
	"github.com/rapportcrm/rapport/internal/webauth"
	"github.com/rapportcrm/rapport/web"
)

// Config configures the HTTP handler.
type Config struct {
	// Client is the store's ent client; required.
	Client *ent.Client
	// Ping reports whether the store is reachable, for /healthz.
	Ping func(context.Context) error
	// Logger receives request errors; slog.Default() when nil.
	Logger *slog.Logger
	// Limits bound each request; zero values take the defaults.
	Limits Limits
	// Quotas bound each token's and workspace's requests and query cost
	// over time; zero values leave them off.
	Quotas Quotas
	// Registry receives the server's metrics; a new registry when nil.
	Registry *prometheus.Registry
	// Extensions runs plugins; nil serves no plugins.
	Extensions *extension.Registry
	// Charts serves /charts/ (see core/metrics/chart.Handler); none when nil.
	Charts http.Handler
	// MetricsOff leaves /metrics out of the handler, for a server that
	// serves MetricsHandler on an address of its own (--metrics-addr).
	MetricsOff bool
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// MaxUpload is the largest file a GraphQL multipart request carries
	// (installPlugin's package, importRecords' file), in bytes; 0 refuses
	// multipart requests.
	MaxUpload int64
	// MaxImport is the largest file importRecords takes, in bytes (at
	// most MaxUpload); MaxUpload when 0.
	MaxImport int64
	// TokenTTL is how long a verified API token is trusted before the
	// database is asked again (see access.Tokens): a token revoked by
	// another server takes effect here within it, one revoked through this
	// server at once. Zero means access.DefaultTokenTTL; a negative value
	// reads the token on every request.
	TokenTTL time.Duration
	// PprofToken, when set, serves Go's profiles at /debug/pprof/ to
	// the bearer of this operator token (and to nobody else); when empty
	// /debug/pprof/ is not served.
	PprofToken string
	// Imports queues the jobs importRecords starts (the automation
	// engine, whose workers run them; see core/transfer/job). Without
	// it importRecords only checks files (dryRun).
	Imports importjob.Inserter
	// Runs queues the ranges of the background runs startScoring starts
	// (the automation engine, see core/extension/runjob); without it
	// startScoring is UNAVAILABLE.
	Runs runjob.Inserter
	// Live feeds the GraphQL subscriptions served over WebSocket on
	// /graphql (see live.go); nil serves none.
	Live *live.Feed
	// LiveLimits bound the live connections; zero values take the
	// defaults.
	LiveLimits LiveLimits
	// Auth, when set, serves the sign-in endpoints at /auth/ and lets a
	// request without an Authorization header act as the session of its
	// cookie (see internal/webauth); nil serves API tokens only.
	Auth *webauth.Handler
}

// MetricsHandler serves reg's metrics in Prometheus' format, to the bearer
// of token when token is not empty.
func MetricsHandler(reg *prometheus.Registry, token string) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			unauthenticated(w, "metrics need the operator's token: send Authorization: Bearer <token>")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Schema returns the executable GraphQL schema.
func Schema(client *ent.Client, ext *extension.Registry) graphql.ExecutableSchema {
	return schemaOf(Config{Client: client, Extensions: ext})
}

func schemaOf(cfg Config) graphql.ExecutableSchema {
	return generated.NewExecutableSchema(generated.Config{Resolvers: &resolvers.Resolver{Client: cfg.Client, Extensions: cfg.Extensions,
		Imports: cfg.Imports, Runs: cfg.Runs, MaxUpload: cfg.MaxUpload, MaxImport: cfg.MaxImport,
		Live: cfg.Live, LiveBuffer: cfg.LiveLimits.withDefaults().SendBuffer}})
}

// NewHandler returns the server's routes: the web app at / (GraphiQL at
// /graphiql; see package web), the API at
// /graphql, charts of the built-in metrics at /charts/{kind}.{svg|png},
// health at /healthz (the server runs and its store answers), readiness at
// /readyz (and no plugin is still loading) and Prometheus metrics at
// /metrics.
func NewHandler(cfg Config) http.Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	limits := cfg.Limits.withDefaults()
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := newMetrics(reg)

	heavy := newGate(limits.MaxHeavyConcurrent, limits.MaxHeavyPerWorkspace, limits.HeavyWait)
	quota := newQuotas(cfg.Quotas, limits.MaxComplexity)
	paged := newPagedSchema(schemaOf(cfg), limits.MaxPage, limits.HeavyCost)
	srv := handler.New(paged)
	var ls *liveServer
	if cfg.Live != nil {
		ls = &liveServer{client: cfg.Client, limits: cfg.LiveLimits.withDefaults(), inputs: limits, conns: map[pulid.ID]int{}}
		srv.AddTransport(ls.transport())
	}
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(postJSON{})
	if cfg.MaxUpload > 0 {
		srv.AddTransport(transport.MultipartForm{MaxUploadSize: cfg.MaxUpload + uploadSlack, MaxMemory: cfg.MaxUpload + uploadSlack})
	}
	queries := newQueryCache(DefaultQueryCacheSize, DefaultQueryCacheMax)
	srv.SetQueryCache(queries)
	srv.Use(gqlext.Introspection{})
	srv.Use(&operationGuard{limits: limits, queries: queries})
	srv.Use(depthLimit{max: limits.MaxDepth})
	srv.Use(pageEdges{page: min(resolvers.DefaultPage, limits.MaxPage), connections: paged.connections})
	srv.Use(&complexityLimit{max: limits.MaxComplexity, quotas: quota})
	srv.Use(transactions{log: log, Transactioner: entgql.Transactioner{
		TxOpener: cfg.Client,
		// Every mutation operation runs in one transaction, except one of
		// batch mutations only (operationGuard refuses mixing them with
		// others): those commit batch by batch with the store's client.
		SkipTxFunc: func(op *ast.OperationDefinition) bool {
			return op.Operation != ast.Mutation || onlyBatchMutations(op)
		},
	}})
	srv.AroundRootFields(heavy.rootFields)
	srv.AroundFields(fieldChecks(limits.MaxPage))
	srv.AroundResponses(m.observe)
	srv.SetErrorPresenter(withTraceID(presentErrors(log)))
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql panic", "panic", p)
		return errcode.New(errcode.Internal, errcode.MsgInternal)
	})

	ttl := cfg.TokenTTL
	if ttl == 0 {
		ttl = access.DefaultTokenTTL
	}
	tokens := access.NewTokens(cfg.Client, ttl)
	if ls != nil {
		ls.tokens = tokens // connections check their tokens again through the cache
	}
	admitted := newAdmission(limits.MaxInFlight, limits.MaxInFlightPerWorkspace, limits.InFlightWait)
	mux := http.NewServeMux()
	api := routeUploads(cfg.MaxUpload,
		capBody(limits.MaxBody, authenticate(tokens, cfg.Auth, quota.requests(checkRequest(limits, admitted.handler(srv))))),
		authenticate(tokens, cfg.Auth, quota.requests(writerUploads(srv))))
	if ls != nil {
		// A WebSocket authenticates in its connection_init (browsers
		// cannot set headers on one), so it skips authenticate.
		upgrades := ls.handler(srv)
		next := api
		api = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isUpgrade(r) {
				if cfg.Auth != nil && r.Header.Get("Authorization") == "" {
					// A browser's WebSocket acts as its session.
					if v, ok := sessionViewer(w, r, cfg.Auth); ok {
						if v == nil {
							return
						}
						cookies := r.Clone(context.Background())
						verify := func(ctx context.Context) (*tenancy.Viewer, error) {
							view, err := cfg.Auth.Authenticate(cookies.WithContext(ctx))
							if view == nil && err == nil {
								err = access.ErrNoSession
							}
							if err != nil {
								return nil, err
							}
							return &view.Viewer, nil
						}
						r = r.WithContext(context.WithValue(r.Context(), liveSessionKey{}, &liveSession{viewer: v, verify: verify}))
					}
				}
				upgrades.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	mux.Handle("/graphql", api)
	if cfg.Charts != nil {
		// Charts of the built-in metrics, for dashboards: /charts/churn.svg?from=2025-01&to=2025-12 …
		mux.Handle("/charts/", capBody(limits.MaxBody, authenticate(tokens, cfg.Auth, quota.requests(heavy.handler(cfg.Charts)))))
	}
	if !cfg.MetricsOff {
		mux.Handle("/metrics", MetricsHandler(reg, cfg.MetricsToken))
	}
	// /healthz: the server runs and its store answers. /readyz: also
	// every plugin done loading (a server loads its plugins in the
	// background; calls to one still loading wait for it).
	mux.HandleFunc("/healthz", health(cfg, false))
	mux.HandleFunc("/readyz", health(cfg, true))
	if cfg.Auth != nil {
		mux.Handle("/auth/", cfg.Auth)
	}
	if cfg.PprofToken != "" {
		mux.Handle("/debug/pprof/", pprofHandler(cfg.PprofToken))
	}
	// The web app (and GraphiQL at /graphiql), from files in the binary.
	mux.Handle("/", web.Handler())
	return telemetry.Handler(mux)
}

// authenticate resolves the bearer token into the request's viewer, or
// answers 401 with an UNAUTHENTICATED error. Without an Authorization
// header, the session cookie does (when web is set): see sessionViewer.
func authenticate(tokens *access.Tokens, web *webauth.Handler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		if auth == "" && web != nil {
			if v, ok := sessionViewer(w, r, web); ok {
				if v != nil {
					next.ServeHTTP(w, r.WithContext(tenancy.NewContext(r.Context(), v)))
				}
				return
			}
		}
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			unauthenticated(w, "missing bearer token: send Authorization: Bearer <token>")
			return
		}
		v, err := tokens.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if errcode.Of(err) == errcode.Unauthenticated {
				unauthenticated(w, err.Error())
				return
			}
			unavailable(w)
			return
		}
		next.ServeHTTP(w, r.WithContext(tenancy.NewContext(r.Context(), v)))
	})
}

// sessionViewer authenticates r by its session cookie. It returns ok false
// when r has no session cookie; otherwise either the viewer, or nil when
// it answered r itself: 401 for an ended session, 403 for a request that
// changes something (any method but GET, HEAD and OPTIONS, and WebSocket
// upgrades) without the session's CSRF token or from another origin.
func sessionViewer(w http.ResponseWriter, r *http.Request, web *webauth.Handler) (*tenancy.Viewer, bool) {
	view, err := web.Authenticate(r)
	if view == nil && err == nil {
		return nil, false
	}
	if err != nil {
		if errcode.Of(err) == errcode.Unauthenticated {
			unauthenticated(w, err.Error())
		} else {
			unavailable(w)
		}
		return nil, true
	}
	if !webauth.SameOrigin(r) {
		forbidden(w, "cross-origin request refused")
		return nil, true
	}
	switch {
	case isUpgrade(r):
		// Browsers set no headers of their own on a WebSocket, but
		// always send its page's Origin.
		if r.Header.Get("Origin") == "" {
			forbidden(w, "a WebSocket opened with the session cookie needs an Origin header")
			return nil, true
		}
	case r.Method != http.MethodGet && r.Method != http.MethodHead && !webauth.CheckCSRF(r, view):
		forbidden(w, "requests made with the session cookie need the "+webauth.CSRFHeader+" header of the session")
		return nil, true
	}
	v := view.Viewer
	return &v, true
}

// forbidden answers 403 with a FORBIDDEN GraphQL error.
func forbidden(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusForbidden, errcode.Forbidden, "", msg)
}

// unavailable answers a request whose credentials could not be checked
// (the database did not answer) with 503 and a GraphQL-shaped UNAVAILABLE
// error, so that a client retries rather than giving up.
func unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, errcode.Unavailable, "", "credentials could not be checked: the database is unavailable; retry")
}

func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="rapport"`)
	writeError(w, http.StatusUnauthorized, errcode.Unauthenticated, "", msg)
}

// health answers 200 when the store answers and, for readiness, no plugin
// is still loading; 503 saying why otherwise.
func health(cfg Config, readiness bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if cfg.Ping != nil {
			if err := cfg.Ping(ctx); err != nil {
				http.Error(w, "store unreachable", http.StatusServiceUnavailable)
				return
			}
		}
		if readiness && cfg.Extensions != nil {
			if loading := cfg.Extensions.Loading(); len(loading) > 0 {
				http.Error(w, "plugins loading: "+strings.Join(loading, ", "), http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	}
}
