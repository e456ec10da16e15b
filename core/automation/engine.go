// Package automation runs a workspace's automations: when a record event
// happens (every create, update, delete, stage move, lead conversion and
// score writes one in the same transaction as the change — see
// schema.Event), a record has been idle for a while, or a cron schedule
// ticks (see Schedule), each matching automation fires a run whose
// actions — signed webhooks, activities, owner assignment, plugin runs and
// templated email — execute on a job queue (River) kept in the same
// database, so that workers can run in several processes.
//
// Delivery is at least once, with idempotency keys: a run is unique per
// (automation, event); a webhook or an email is unique per (run, action,
// recipient) in the deliveries table, and one recorded as delivered is
// never sent again; actions that write records commit their step in the
// same transaction as their write. A webhook or email sent at the very
// moment its process dies may be sent again on retry, with the same
// X-Rapport-Delivery header or Message-ID, which receivers deduplicate on.
//
// Failed actions are retried with exponential backoff (RetryBase doubling,
// at most RetryMax apart) until RetryFor has passed since the first
// attempt (24 hours by default), then the run is marked failed with the
// last error. Runs are bounded in depth: an automation whose actions change
// records fires events one level deeper, and events deeper than MaxDepth
// fire failed runs instead of actions, which stops automation loops.
package automation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/outbound"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/internal/telemetry"
)

// Defaults of Config.
const (
	DefaultWorkers        = 10
	DefaultPollInterval   = time.Second
	DefaultScanInterval   = time.Hour
	DefaultTickInterval   = time.Minute
	DefaultRetryBase      = 10 * time.Second
	DefaultRetryMax       = time.Hour
	DefaultRetryFor       = 24 * time.Hour
	DefaultWebhookTimeout = 10 * time.Second
	DefaultJobTimeout     = 2 * time.Minute
	DefaultRescueAfter    = 5 * time.Minute
	DefaultMaxDepth       = 5
	DefaultEventRetention = 30 * 24 * time.Hour
)

// Scorer re-scores records with the plugin bound to their workspace's
// score point; the run_plugin action calls it. The server adapts its
// plugin registry to it.
type Scorer interface {
	// ScoreRecords scores the records of subjectType with the given IDs,
	// through client in ctx's workspace, and stores their scores.
	ScoreRecords(ctx context.Context, client *ent.Client, subjectType string, ids []pulid.ID) error
}

// Segmenter re-segments records with the plugin bound to their
// workspace's segment point; the run_plugin action with point segment
// calls it. The server adapts its plugin registry to it.
type Segmenter interface {
	// SegmentRecords runs the bound segmenters over the records of
	// subjectType with the given IDs (every record when ids is nil),
	// through client in ctx's workspace, and stores their memberships.
	SegmentRecords(ctx context.Context, client *ent.Client, subjectType string, ids []pulid.ID) error
}

// Config configures an Engine. Zero durations and counts take the
// defaults above.
type Config struct {
	// Store is the database the automations, events and jobs live in;
	// required.
	Store *store.Store
	// Logger receives the engine's warnings; none when nil.
	Logger *slog.Logger
	// Registerer receives the engine's metrics; none when nil.
	Registerer prometheus.Registerer
	// Workers is the number of runs worked at once by this process.
	Workers int
	// PollInterval is how often new events are matched against
	// automations.
	PollInterval time.Duration
	// ScanInterval is how often time triggers are checked: idle_days
	// schedules fire then.
	ScanInterval time.Duration
	// TickInterval is how often cron schedules are checked for a tick due:
	// a tick fires within about this long after its time.
	TickInterval time.Duration
	// RetryBase is the first retry delay of a failed action; each retry
	// doubles it, up to RetryMax.
	RetryBase, RetryMax time.Duration
	// RetryFor is how long a failing action is retried, from its first
	// attempt, before its run is marked failed.
	RetryFor time.Duration
	// WebhookTimeout bounds one webhook request.
	WebhookTimeout time.Duration
	// JobTimeout bounds one attempt of a run; RescueAfter (greater) is how
	// long a run whose worker died stays claimed before another worker
	// takes it over.
	JobTimeout, RescueAfter time.Duration
	// MaxDepth is how many automation runs may lead to one another before
	// the chain is stopped as a loop.
	MaxDepth int
	// EventRetention is how long dispatched events are kept.
	EventRetention time.Duration
	// SMTPAddr (host:port) is the mail server send_email hands messages
	// to, as SMTPFrom; send_email fails without it.
	SMTPAddr, SMTPFrom string
	// Scorer runs the run_plugin action; it fails without one.
	Scorer Scorer
	// Segmenter runs the run_plugin action with point segment; it fails
	// without one.
	Segmenter Segmenter
	// OutboundAllow lists internal address ranges webhooks may reach
	// (loopback, private, link-local and multicast ones are refused
	// otherwise; see core/outbound).
	OutboundAllow []netip.Prefix
	// HTTPClient posts webhooks; when nil, a client with WebhookTimeout
	// that refuses internal destinations outside OutboundAllow.
	HTTPClient *http.Client
	// Jobs, when set, adds workers of other kinds of jobs (imports, see
	// core/transfer/job) to the engine's queue: they share its worker
	// count, retry policy and rescue of jobs whose worker died. Insert
	// queues their jobs.
	Jobs func(*river.Workers) error
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	def(&c.PollInterval, DefaultPollInterval)
	def(&c.ScanInterval, DefaultScanInterval)
	def(&c.TickInterval, DefaultTickInterval)
	def(&c.RetryBase, DefaultRetryBase)
	def(&c.RetryMax, DefaultRetryMax)
	def(&c.RetryFor, DefaultRetryFor)
	def(&c.WebhookTimeout, DefaultWebhookTimeout)
	def(&c.JobTimeout, DefaultJobTimeout)
	def(&c.RescueAfter, DefaultRescueAfter)
	def(&c.EventRetention, DefaultEventRetention)
	if c.RescueAfter <= c.JobTimeout {
		c.RescueAfter = c.JobTimeout + time.Minute
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = DefaultMaxDepth
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.HTTPClient == nil {
		c.HTTPClient = outbound.Policy{Allow: c.OutboundAllow}.Client(c.WebhookTimeout)
	}
	return c
}

// queue is what the engine uses of a River client, whatever its driver.
type queue interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Engine dispatches events to automations and works their runs. It is
// safe to run engines in several processes over one database.
type Engine struct {
	cfg     Config
	client  *ent.Client
	queue   queue
	release func()
	m       *metrics

	mu      sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{}
	stopped bool
}

// Migrate applies the job queue's own migrations to st; `rapport migrate`
// and the server's start call it after the store's migrations.
func Migrate(ctx context.Context, st *store.Store) error {
	if st.Dialect == dialect.Postgres {
		pool, err := pgxpool.New(ctx, st.URL)
		if err != nil {
			return fmt.Errorf("job queue: %w", err)
		}
		defer pool.Close()
		m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
		if err != nil {
			return fmt.Errorf("job queue migrations: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("job queue migrations: %w", err)
		}
		return nil
	}
	m, err := rivermigrate.New(riversqlite.New(st.DB), nil)
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// New returns an engine over cfg.Store; Start runs it. The job queue's
// migrations must have been applied (Migrate).
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errors.New("automation: Config.Store is required")
	}
	cfg = cfg.withDefaults()
	e := &Engine{cfg: cfg, client: cfg.Store.Client, m: newMetrics(cfg.Registerer)}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &runWorker{e: e}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &scanWorker{e: e}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &tickWorker{e: e}); err != nil {
		return nil, err
	}
	if cfg.Jobs != nil {
		if err := cfg.Jobs(workers); err != nil {
			return nil, err
		}
	}
	rc := &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
		RetryPolicy:          retryPolicy{base: cfg.RetryBase, max: cfg.RetryMax},
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		FetchPollInterval:    min(time.Second, max(cfg.PollInterval, 100*time.Millisecond)),
		Logger:               cfg.Logger,
		Middleware:           []rivertype.Middleware{telemetry.JobMiddleware()},
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.ScanInterval),
				func() (river.JobArgs, *river.InsertOpts) { return scanArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(cfg.TickInterval),
				func() (river.JobArgs, *river.InsertOpts) { return tickArgs{}, nil },
				nil),
		},
	}
	if cfg.Store.Dialect == dialect.Postgres {
		pool, err := pgxpool.New(ctx, cfg.Store.URL)
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		c, err := river.NewClient(riverpgxv5.New(pool), rc)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("job queue: %w", err)
		}
		e.queue, e.release = c, pool.Close
		return e, nil
	}
	// SQLite allows one writer at a time: the queue gets its own
	// one-connection pool, as its driver advises; the store's busy
	// timeout lets both wait their turn.
	qs, err := store.Open(ctx, cfg.Store.URL)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	qs.DB.SetMaxOpenConns(1)
	c, err := river.NewClient(riversqlite.New(qs.DB), rc)
	if err != nil {
		qs.Close()
		return nil, fmt.Errorf("job queue: %w", err)
	}
	e.queue, e.release = c, func() { qs.Close() }
	return e, nil
}

// Insert queues a job of a kind Config.Jobs registered. It works on an
// engine that was not started (a server whose workers run elsewhere):
// the job waits for an engine that runs.
func (e *Engine) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return e.queue.Insert(ctx, args, opts)
}

// Start starts working runs and dispatching events in the background,
// until Stop or ctx's end.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cancel != nil || e.stopped {
		return errors.New("automation engine already started")
	}
	if err := e.queue.Start(ctx); err != nil {
		return fmt.Errorf("starting job queue: %w", err)
	}
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.cancel, e.done = cancel, make(chan struct{})
	go func() {
		defer close(e.done)
		e.dispatchLoop(dctx)
	}()
	go func() {
		select {
		case <-ctx.Done():
			sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
			defer c()
			_ = e.Stop(sctx)
		case <-dctx.Done():
		}
	}()
	return nil
}

// Stop stops dispatching, lets running actions finish (until ctx ends),
// and releases the queue's connections.
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil
	}
	e.stopped = true
	var err error
	if e.cancel != nil {
		e.cancel()
		<-e.done
		err = e.queue.Stop(ctx)
	}
	e.release()
	return err
}

func (e *Engine) dispatchLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.PollInterval)
	defer t.Stop()
	for {
		if _, err := e.Dispatch(ctx); err != nil && ctx.Err() == nil {
			e.cfg.Logger.Warn("dispatching automation events", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// retryPolicy spaces the attempts of a failing run: base, 2×base, 4×base
// … at most max apart, with a little jitter.
type retryPolicy struct{ base, max time.Duration }

// NextRetry implements river.ClientRetryPolicy.
func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(p.delay(job.Attempt))
}

func (p retryPolicy) delay(attempt int) time.Duration {
	n := max(attempt-1, 0)
	d := p.max
	if n < 40 {
		if b := p.base << n; b > 0 && b < p.max {
			d = b
		}
	}
	// ±10% so that runs failing together do not retry together.
	jitter := time.Duration(time.Now().UnixNano()%21-10) * d / 100
	return d + jitter
}
