package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/runjob"
	"github.com/rapportcrm/rapport/core/outbound"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	importjob "github.com/rapportcrm/rapport/core/transfer/job"
)

// engineFlags are the flags of the commands that run automation workers.
type engineFlags struct {
	workers        int
	smtpAddr       string
	smtpFrom       string
	poll           time.Duration
	scan           time.Duration
	tick           time.Duration
	retryBase      time.Duration
	retryMax       time.Duration
	retryFor       time.Duration
	webhookTimeout time.Duration
	jobTimeout     time.Duration
	rescueAfter    time.Duration
	maxDepth       int
	outboundAllow  []string
}

func (f *engineFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&f.workers, "automation-workers", automation.DefaultWorkers, "automation runs worked at once by this process")
	fl.StringVar(&f.smtpAddr, "smtp-addr", "", "mail server (host:port) for send_email actions (env RAPPORT_SMTP_ADDR)")
	fl.StringVar(&f.smtpFrom, "smtp-from", "", "sender address of send_email actions (env RAPPORT_SMTP_FROM)")
	fl.DurationVar(&f.poll, "automation-poll", automation.DefaultPollInterval, "how often new record events are matched against automations")
	fl.DurationVar(&f.scan, "automation-scan", automation.DefaultScanInterval, "how often time triggers (idle records) are checked")
	fl.DurationVar(&f.tick, "automation-tick", automation.DefaultTickInterval, "how often cron schedules are checked for a tick due")
	fl.DurationVar(&f.retryBase, "retry-base", automation.DefaultRetryBase, "first retry delay of a failed action; doubles on each retry")
	fl.DurationVar(&f.retryMax, "retry-max", automation.DefaultRetryMax, "longest delay between two retries of an action")
	fl.DurationVar(&f.retryFor, "retry-for", automation.DefaultRetryFor, "how long a failing action is retried before its run fails")
	fl.DurationVar(&f.webhookTimeout, "webhook-timeout", automation.DefaultWebhookTimeout, "how long a webhook target may take to answer")
	fl.DurationVar(&f.jobTimeout, "job-timeout", automation.DefaultJobTimeout, "longest attempt of one automation run")
	fl.DurationVar(&f.rescueAfter, "job-rescue-after", automation.DefaultRescueAfter, "when a run whose worker died is taken over by another (more than --job-timeout)")
	fl.IntVar(&f.maxDepth, "automation-max-depth", automation.DefaultMaxDepth, "automation runs that may lead to one another before the chain is stopped as a loop")
	fl.StringSliceVar(&f.outboundAllow, "outbound-allow", nil, "CIDR ranges webhooks may reach although internal (loopback, private, link-local and multicast addresses are refused otherwise), e.g. 127.0.0.0/8 (env RAPPORT_OUTBOUND_ALLOW)")
}

// start makes the automation engine over st, which also works queued
// imports and the ranges of background runs (see core/extension/runjob),
// and runs it until ctx ends when run is true (else it only queues jobs);
// stop it with the returned function.
func (f *engineFlags) start(ctx context.Context, st *store.Store, log *slog.Logger, reg prometheus.Registerer, plugins *extension.Registry, run bool) (*automation.Engine, func(), error) {
	allow, err := outbound.ParseAllow(f.outboundAllow)
	if err != nil {
		return nil, nil, err
	}
	cfg := automation.Config{
		OutboundAllow: allow,
		Store:         st, Logger: log, Registerer: reg, Workers: f.workers,
		PollInterval: f.poll, ScanInterval: f.scan, TickInterval: f.tick,
		RetryBase: f.retryBase, RetryMax: f.retryMax, RetryFor: f.retryFor,
		WebhookTimeout: f.webhookTimeout, JobTimeout: f.jobTimeout, RescueAfter: f.rescueAfter,
		MaxDepth: f.maxDepth, SMTPAddr: f.smtpAddr, SMTPFrom: f.smtpFrom,
		Jobs: func(ws *river.Workers) error {
			if err := importjob.Register(st.Client)(ws); err != nil {
				return err
			}
			return runjob.Register(st.Client, plugins)(ws)
		},
	}
	if plugins != nil {
		cfg.Scorer = pluginScorer{plugins}
		cfg.Segmenter = pluginScorer{plugins}
	}
	eng, err := automation.New(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if run {
		if err := eng.Start(ctx); err != nil {
			_ = eng.Stop(ctx)
			return nil, nil, err
		}
	}
	return eng, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := eng.Stop(sctx); err != nil {
			log.Warn("stopping automation workers", "err", err)
		}
	}, nil
}

// pluginScorer runs run_plugin actions (score and segment) with the
// server's plugins.
type pluginScorer struct{ r *extension.Registry }

// ScoreRecords implements automation.Scorer.
func (p pluginScorer) ScoreRecords(ctx context.Context, client *ent.Client, subjectType string, ids []pulid.ID) error {
	var where any
	switch subjectType {
	case "lead":
		where = &ent.LeadWhereInput{IDIn: ids}
	case "contact":
		where = &ent.ContactWhereInput{IDIn: ids}
	case "organization":
		where = &ent.OrganizationWhereInput{IDIn: ids}
	case "deal":
		where = &ent.DealWhereInput{IDIn: ids}
	default:
		return fmt.Errorf("%s records are not scored", subjectType)
	}
	run, err := p.r.ScoreSubjects(ctx, client, extension.ScoreOptions{SubjectType: subjectType, Where: where})
	if err != nil {
		return err
	}
	if run.FailedBatches > 0 {
		return fmt.Errorf("scoring with %s: %d batches failed: %v", run.Plugin, run.FailedBatches, run.Errors)
	}
	return nil
}

// SegmentRecords implements automation.Segmenter: it runs every segmenter
// bound for the subject type, each waiting for a run of its binding in
// progress rather than failing.
func (p pluginScorer) SegmentRecords(ctx context.Context, client *ent.Client, subjectType string, ids []pulid.ID) error {
	runs, err := p.r.SegmentAll(ctx, client, extension.SegmentOptions{SubjectType: subjectType, IDs: ids, Trigger: "automation", Wait: true})
	if err != nil {
		return err
	}
	for _, run := range runs {
		if run.FailedBatches > 0 {
			return fmt.Errorf("segmenting with %s: %d batches failed: %v", run.Plugin, run.FailedBatches, run.Errors)
		}
	}
	return nil
}

func newWorkerCmd(g *globals) *cobra.Command {
	var (
		ef   engineFlags
		pf   pluginFlags
		addr string
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run automation workers only (no API): deliver webhooks and email, run actions and imports",
		Long: `Runs automation workers against the database, without the API. Start
as many workers, on as many machines, as the load needs: they share the
job queue kept in the database. rapport serve runs workers too, unless
--workers=false.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tuneGC()
			ctx := cmd.Context()
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			st, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			plugins, err := pf.open(ctx, log, reg)
			if err != nil {
				return err
			}
			defer plugins.Close(context.Background())
			_, stop, err := ef.start(ctx, st, log, reg, plugins, true)
			if err != nil {
				return err
			}
			defer stop()
			if addr != "" {
				go serveMetrics(ctx, addr, reg, log)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "automation workers running")
			<-ctx.Done()
			return nil
		},
	}
	ef.register(cmd)
	pf.register(cmd)
	cmd.Flags().StringVar(&addr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics (default: none)")
	return cmd
}

// serveMetrics serves reg at http://addr/metrics until ctx ends.
func serveMetrics(ctx context.Context, addr string, reg *prometheus.Registry, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("metrics server", "err", err)
	}
}
