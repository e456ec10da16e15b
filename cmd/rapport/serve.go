package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"entgo.io/ent/dialect"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/demo"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/live"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/metrics/chart"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer"
	"github.com/rapportcrm/rapport/graph"
	"github.com/rapportcrm/rapport/internal/telemetry"
	"github.com/rapportcrm/rapport/internal/webauth"
)

func newServeCmd(g *globals) *cobra.Command {
	var (
		addr                      string
		withDemo                  bool
		workers                   bool
		metricsAddr, metricsToken string
		importMaxMB               int
		dbMaxConns                int
		tokenTTL                  time.Duration
		pf                        pluginFlags
		ef                        engineFlags
		wf                        workspacePluginFlags
		liveOn                    bool
		liveLimits                graph.LiveLimits
		lf                        limitFlags
		tf                        traceFlags
		signIn, secureCookies     bool
		trustProxy                bool
		sessionIdle, sessionMax   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API server (GraphiQL at /, API at /graphql, /healthz, /readyz, /metrics) and automation workers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tuneGC()
			ctx := cmd.Context()
			log := slog.New(telemetry.LogHandler(slog.NewTextHandler(os.Stderr, nil)))
			pprofToken, err := tf.token()
			if err != nil {
				return err
			}
			stopTracing, tracing, err := telemetry.Setup(ctx, telemetry.Options{Endpoint: tf.otlpEndpoint})
			if err != nil {
				return err
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = stopTracing(sctx)
			}()
			if tracing {
				log.Info("exporting traces over OTLP")
			}
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			// Plugins load in the background, while the store opens and
			// migrates and the server starts: loading them is most of a
			// start, and only calls to a plugin need it (they wait for
			// it; /readyz says when all are loaded).
			pf.background = true
			var (
				plugins   *extension.Registry
				pluginErr error
				loaded    = make(chan struct{})
			)
			go func() {
				defer close(loaded)
				plugins, pluginErr = pf.open(ctx, log, reg)
			}()
			defer func() {
				<-loaded
				if plugins != nil {
					plugins.Close(context.Background())
				}
			}()
			if tokenTTL < 0 {
				return errcode.Input("token-ttl", "--token-ttl is a duration of 0 or more")
			}
			g.dbOpts = append(g.dbOpts, store.WithMaxConns(dbMaxConns))
			st, err := g.openStore(ctx, store.WithDriver(telemetry.Driver))
			if err != nil {
				return err
			}
			defer st.Close()
			var seeded *demo.Result
			if withDemo {
				res, err := demo.Seed(ctx, st.Client, demo.Options{})
				if err != nil {
					return fmt.Errorf("seeding demo workspace: %w", err)
				}
				secret, _, err := access.CreateToken(ctx, st.Client, res.Workspace, access.TokenOptions{Role: tenancy.RoleAdmin, Name: "demo"})
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "workspace: %s\n", res.Workspace.Slug)
				fmt.Fprintf(cmd.OutOrStdout(), "token: %s\n", secret)
				seeded = res
			}
			<-loaded
			if pluginErr != nil {
				return pluginErr
			}
			maxUpload, err := wf.apply(plugins)
			if err != nil {
				return err
			}
			limits, quotas, err := lf.apply(plugins)
			if err != nil {
				return err
			}
			if importMaxMB <= 0 || int64(importMaxMB)<<20 > transfer.MaxFileSize {
				return errcode.Input("import-max-size", "--import-max-size is 1 to %d MiB", transfer.MaxFileSize>>20)
			}
			maxImport := int64(importMaxMB) << 20
			// Uploads carry plugin packages and import files: the larger
			// cap bounds the request, each mutation its own file.
			maxUpload = max(maxUpload, maxImport)
			if seeded != nil {
				if err := plugins.Wait(ctx); err != nil {
					return err
				}
				did, err := demoModels(ctx, st.Client, plugins, seeded.Workspace, seeded.Created)
				for _, d := range did {
					log.Info("demo: " + d)
				}
				if err != nil {
					return fmt.Errorf("demo models: %w", err)
				}
			}
			go plugins.Watch(ctx, 2*time.Second)
			go keepStatistics(ctx, log, st)
			// Without --workers the engine only queues imports for the
			// workers of other processes.
			quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			eng, stopWorkers, err := ef.start(ctx, st, quiet, reg, plugins, workers)
			if err != nil {
				return err
			}
			defer stopWorkers()
			// Live subscriptions: this server numbers committed events
			// (one server at a time on PostgreSQL) and wakes its
			// subscribers, and those of the others through NOTIFY.
			var feed *live.Feed
			if liveOn {
				feed = live.New(st.Client, st.DB, st.Dialect, live.Options{Logger: quiet})
				go feed.Run(ctx)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			var web *webauth.Handler
			if signIn {
				web = webauth.New(webauth.Config{Client: st.Client, Logger: log, SecureCookies: secureCookies, TrustProxy: trustProxy,
					Sessions: access.NewSessions(st.Client, access.SessionOptions{Idle: sessionIdle, Max: sessionMax, CacheTTL: cmp.Or(tokenTTL, -1)})})
			}
			srv := &http.Server{
				Handler: graph.NewHandler(graph.Config{Client: st.Client, Auth: web, Ping: st.Ping, Logger: log, Registry: reg, Extensions: plugins,
					Charts: chart.Handler(metrics.New(st)), MetricsOff: metricsAddr != "", MetricsToken: metricsToken, MaxUpload: maxUpload, MaxImport: maxImport, Imports: eng, Runs: eng,
					TokenTTL: cmp.Or(tokenTTL, -1), // 0 on the command line: read tokens every time
					Live:     feed, LiveLimits: liveLimits,
					Limits: limits, Quotas: quotas, PprofToken: pprofToken}),
				ReadHeaderTimeout: 10 * time.Second,
			}
			if metricsAddr != "" {
				// Operator metrics on an address of their own, off the
				// public listener.
				mln, err := net.Listen("tcp", metricsAddr)
				if err != nil {
					return err
				}
				mux := http.NewServeMux()
				mux.Handle("/metrics", graph.MetricsHandler(reg, metricsToken))
				msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
				go func() { _ = msrv.Serve(mln) }()
				defer msrv.Close()
				fmt.Fprintf(cmd.OutOrStdout(), "metrics on http://%s/metrics\n", mln.Addr())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "listening on http://%s (GraphiQL at /, API at /graphql)\n", ln.Addr())
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (env RAPPORT_ADDR)")
	cmd.Flags().BoolVar(&withDemo, "demo", false, "seed the demo workspace (once) and print an admin token for it")
	cmd.Flags().BoolVar(&workers, "workers", true, "also run automation and import workers (see rapport worker) (env RAPPORT_WORKERS)")
	cmd.Flags().IntVar(&importMaxMB, "import-max-size", 32, "the largest file importRecords takes over GraphQL, in MiB (rapport import reads larger ones)")
	cmd.Flags().IntVar(&dbMaxConns, "db-max-conns", store.DefaultPostgresConns, "PostgreSQL connections the server keeps, open and idle (env RAPPORT_DB_MAX_CONNS)")
	cmd.Flags().DurationVar(&tokenTTL, "token-ttl", access.DefaultTokenTTL, "how long a verified API token is trusted before the database is asked again; a token revoked on another server stops working here within it (0: ask every request) (env RAPPORT_TOKEN_TTL)")
	cmd.Flags().BoolVar(&signIn, "sign-in", true, "serve the sign-in endpoints at /auth/ and accept session cookies on the API (env RAPPORT_SIGN_IN)")
	cmd.Flags().BoolVar(&secureCookies, "secure-cookies", false, "always mark the session cookie Secure (it is on requests over TLS): for a server behind a proxy that ends TLS (env RAPPORT_SECURE_COOKIES)")
	cmd.Flags().BoolVar(&trustProxy, "trust-proxy", false, "a trusted reverse proxy stands in front: take the client address from X-Forwarded-For and TLS from X-Forwarded-Proto (env RAPPORT_TRUST_PROXY)")
	cmd.Flags().DurationVar(&sessionIdle, "session-idle", access.DefaultSessionIdle, "sign a person out after this long without a request (env RAPPORT_SESSION_IDLE)")
	cmd.Flags().DurationVar(&sessionMax, "session-max", access.DefaultSessionMax, "sign a person out this long after they signed in (env RAPPORT_SESSION_MAX)")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve /metrics on this address only, not on --addr (env RAPPORT_METRICS_ADDR)")
	cmd.Flags().StringVar(&metricsToken, "metrics-token", "", "bearer token /metrics requires (env RAPPORT_METRICS_TOKEN)")
	cmd.Flags().BoolVar(&liveOn, "live", true, "serve GraphQL subscriptions over WebSocket on /graphql (env RAPPORT_LIVE)")
	cmd.Flags().IntVar(&liveLimits.MaxSubscriptions, "live-max-subscriptions", 16, "subscriptions one WebSocket connection holds at once")
	cmd.Flags().IntVar(&liveLimits.MaxConnections, "live-max-connections", 64, "WebSocket connections one workspace holds at once on this server")
	cmd.Flags().Int64Var(&liveLimits.MaxMessage, "live-max-message", 64<<10, "largest message a WebSocket client sends, in bytes")
	cmd.Flags().DurationVar(&liveLimits.SlowTimeout, "live-slow-timeout", 10*time.Second, "how long a WebSocket client may leave its send buffer full before it is disconnected")
	cmd.Flags().DurationVar(&liveLimits.Recheck, "live-recheck", 5*time.Second, "how often an open WebSocket's token or session is checked again (revoked: closed with 4403)")
	pf.register(cmd)
	ef.register(cmd)
	wf.register(cmd)
	lf.register(cmd)
	tf.register(cmd)
	return cmd
}

// keepStatistics refreshes the query planner's statistics now (after
// migrations and the demo's bulk load); on SQLite then every hour, as
// SQLite advises for long-lived connections, while on PostgreSQL
// autovacuum keeps them. A failure is logged: plans only get worse.
func keepStatistics(ctx context.Context, log *slog.Logger, st *store.Store) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := st.Optimize(ctx); err != nil && ctx.Err() == nil {
			log.Warn("refreshing planner statistics", "err", err)
		}
		if st.Dialect != dialect.SQLite {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
