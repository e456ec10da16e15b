// Package live feeds live subscriptions from the transactional event
// outbox (the events table, see schema/event.go): every change of a record
// writes an event in its own transaction, so an event exists if and only
// if its change committed.
//
// Events are numbered in the order they became visible: a sequencer
// (Feed.Sequence, run by every server; on PostgreSQL one at a time under an
// advisory lock) gives each committed event without a number the next
// ones, in a single statement, so a reader that has seen every event up to
// seq n never later finds a committed event numbered n or less. A reader
// follows the outbox by that number (its cursor): replay is reading from
// an older cursor, and live is the same read done again when the feed
// wakes it. On PostgreSQL the sequencer's transaction sends a NOTIFY that
// wakes the readers of every server on the database; on SQLite the wake-up
// stays in the process. A slow poll covers a lost notification.
//
// Events of one pass of the sequencer are numbered by their creation time
// (then ID). Changes of one record commit one after the other (the row's
// lock), so their events are numbered in commit order as long as the
// writers' clocks agree.
package live

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// channel is the PostgreSQL notification channel the sequencer signals.
const channel = "rapport_live"

// lockKey is the advisory lock that keeps one sequencer at a time on a
// PostgreSQL database.
const lockKey = 7_243_001_955

// Options tune a Feed. Zero values take the defaults.
type Options struct {
	// SequenceInterval is how often the sequencer numbers new events
	// (default 100ms): the latency between a commit and its delivery.
	SequenceInterval time.Duration
	// PollInterval is how often readers look again without a wake-up,
	// covering lost notifications (default 2s).
	PollInterval time.Duration
	// Batch is how many events one pass numbers, and one read returns
	// (default 500).
	Batch int
	// Logger receives the feed's errors; slog.Default() when nil.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.SequenceInterval <= 0 {
		o.SequenceInterval = 100 * time.Millisecond
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Feed numbers the outbox's events and wakes the readers that follow it.
// Its methods are safe for concurrent use.
type Feed struct {
	client  *ent.Client
	db      *sql.DB
	dialect string
	opts    Options

	mu   sync.Mutex
	wake chan struct{} // closed and replaced when events may have been numbered
}

// New returns a feed over a store's client, connection pool and dialect
// (dialect.SQLite or dialect.Postgres). Call Run to number events and to
// hear other servers' wake-ups.
func New(client *ent.Client, db *sql.DB, dia string, opts Options) *Feed {
	return &Feed{client: client, db: db, dialect: dia, opts: opts.withDefaults(), wake: make(chan struct{})}
}

// Run numbers new events every SequenceInterval and, on PostgreSQL,
// listens for other servers' numbering, until ctx ends.
func (f *Feed) Run(ctx context.Context) {
	if f.dialect == dialect.Postgres {
		go f.listen(ctx)
	}
	t := time.NewTicker(f.opts.SequenceInterval)
	defer t.Stop()
	for {
		if _, err := f.Sequence(ctx); err != nil && ctx.Err() == nil {
			f.opts.Logger.Warn("numbering events for live subscriptions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// numberSQL numbers up to $batch committed events that have no number
// yet, after the highest number given, in one statement.
const numberSQL = `UPDATE events SET seq = m.base + n.rn
FROM (SELECT COALESCE(MAX(seq), 0) AS base FROM events) AS m,
     (SELECT id, ROW_NUMBER() OVER (ORDER BY created_at, id) AS rn FROM events
      WHERE seq IS NULL ORDER BY created_at, id LIMIT %d) AS n
WHERE events.id = n.id`

// Sequence numbers the committed events that have none yet (at most
// Batch of them) and wakes the readers; it returns how many it numbered.
// On PostgreSQL it returns 0 at once while another server's sequencer
// holds the lock.
func (f *Feed) Sequence(ctx context.Context) (int, error) {
	tx, err := f.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("numbering events: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if f.dialect == dialect.Postgres {
		var got bool
		if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(lockKey)).Scan(&got); err != nil {
			return 0, fmt.Errorf("numbering events: %w", err)
		}
		if !got {
			return 0, nil
		}
	}
	res, err := tx.ExecContext(ctx, fmt.Sprintf(numberSQL, f.opts.Batch))
	if err != nil {
		return 0, fmt.Errorf("numbering events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if n > 0 && f.dialect == dialect.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify('`+channel+`', '')`); err != nil {
			return 0, fmt.Errorf("numbering events: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("numbering events: %w", err)
	}
	if n > 0 {
		f.Wake()
	}
	return int(n), nil
}

// Wake wakes every reader of this process to read the outbox again.
func (f *Feed) Wake() {
	f.mu.Lock()
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
}

func (f *Feed) woken() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wake
}

// listen holds a connection that LISTENs for the sequencers' NOTIFY and
// wakes the readers on each, reconnecting after a failure.
func (f *Feed) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := f.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		f.opts.Logger.Warn("listening for live events", "err", err)
		f.Wake() // a notification may have been lost
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (f *Feed) listenOnce(ctx context.Context) error {
	conn, err := f.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("listen: not a pgx connection (%T)", dc)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN "+channel); err != nil {
			return err
		}
		for {
			if _, err := pc.WaitForNotification(ctx); err != nil {
				// The connection is LISTENing (or broken): the pool must
				// not hand it out again.
				return errors.Join(err, driver.ErrBadConn)
			}
			f.Wake()
		}
	})
}

// ErrCursor is the error of a cursor that does not parse.
var ErrCursor = errcode.Input("after", "not a cursor of this feed")

// Cursor is the cursor of the event numbered seq: an opaque string.
func Cursor(seq int64) string { return "lv1_" + strconv.FormatInt(seq, 36) }

// ParseCursor returns the number of a cursor made by Cursor; "" is 0,
// the start of the outbox.
func ParseCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	rest, ok := strings.CutPrefix(s, "lv1_")
	if !ok || rest == "" || len(rest) > 13 || strings.TrimLeft(rest, "0123456789abcdefghijklmnopqrstuvwxyz") != "" {
		return 0, ErrCursor
	}
	n, err := strconv.ParseInt(rest, 36, 64)
	if err != nil || n < 0 || Cursor(n) != s {
		return 0, ErrCursor
	}
	return n, nil
}

// Read returns up to limit events of the viewer's workspace (the viewer
// of ctx) numbered after after, in order, of the given types (all when
// none).
func (f *Feed) Read(ctx context.Context, after int64, types []string, limit int) ([]*ent.Event, error) {
	v := tenancy.FromContext(ctx)
	if v == nil || v.WorkspaceID == "" {
		return nil, errcode.New(errcode.Unauthenticated, "live events need a workspace's token")
	}
	q := f.client.Event.Query().Where(event.WorkspaceID(v.WorkspaceID), event.SeqGT(after))
	if len(types) > 0 {
		q = q.Where(event.TypeIn(types...))
	}
	evs, err := q.Order(event.BySeq()).Limit(limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading live events: %w", err)
	}
	return evs, nil
}

// Follow sends the events of the viewer's workspace (the viewer of ctx)
// numbered after after, of the given types (all when none), on the
// returned channel, in order: first those already committed, then each
// as it is numbered, until ctx ends or reading fails (then the channel
// is closed; Err says why). The channel holds at most buffer events: a
// consumer that stops reading holds up its own reader, nothing more.
func (f *Feed) Follow(ctx context.Context, after int64, types []string, buffer int) *Follower {
	fl := &Follower{C: make(chan *ent.Event, max(buffer, 1))}
	go func() {
		defer close(fl.C)
		poll := time.NewTicker(f.opts.PollInterval)
		defer poll.Stop()
		for {
			wake := f.woken() // before reading: a wake-up during the read is not lost
			evs, err := f.Read(ctx, after, types, f.opts.Batch)
			if err != nil {
				if ctx.Err() == nil {
					fl.err = err
				}
				return
			}
			for _, ev := range evs {
				select {
				case fl.C <- ev:
					after = *ev.Seq
				case <-ctx.Done():
					return
				}
			}
			if len(evs) == f.opts.Batch {
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-wake:
			case <-poll.C:
			}
		}
	}()
	return fl
}

// Follower is one reader of the feed (see Feed.Follow).
type Follower struct {
	// C carries the events in order; it is closed when following ends.
	C   chan *ent.Event
	err error
}

// Err is why following ended, once C is closed: nil when its context
// ended.
func (fl *Follower) Err() error { return fl.err }
