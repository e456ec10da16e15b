// Package store opens Rapport's database — SQLite (embedded, pure Go) or
// PostgreSQL (pgx) — and applies its versioned migrations.
//
// Database URLs:
//
//	sqlite:PATH          a file, created if missing (WAL, foreign keys, busy timeout)
//	postgres://…         a PostgreSQL server (postgresql:// works too)
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/rapportcrm/rapport/core/ent"
	_ "github.com/rapportcrm/rapport/core/ent/runtime" // schema hooks, policies and defaults
)

// DefaultURL is the database used when none is given.
const DefaultURL = "sqlite:./rapport.db"

// sqliteMaxConns bounds a SQLite store's pool.
const sqliteMaxConns = 8

// Store is an open database with its ent client.
type Store struct {
	// Client is the ent client; its queries are scoped by the context's
	// tenancy.Viewer.
	Client *ent.Client
	// DB is the underlying connection pool.
	DB *sql.DB
	// Dialect is dialect.SQLite or dialect.Postgres.
	Dialect string
	// URL is the URL the store was opened with.
	URL string
}

// Option changes how Open builds the store.
type Option func(*options)

type options struct {
	wrap     func(dialect.Driver) dialect.Driver
	maxConns int
}

// WithDriver wraps the ent driver, e.g. to count or log queries.
func WithDriver(wrap func(dialect.Driver) dialect.Driver) Option {
	return func(o *options) { o.wrap = wrap }
}

// WithMaxConns bounds a PostgreSQL store's pool to n connections, all of
// which it keeps open while idle (for up to five minutes); n <= 0 keeps
// DefaultPostgresConns. Mind the server's max_connections: every replica,
// worker and CLI run opens its own pool. SQLite stores ignore it.
func WithMaxConns(n int) Option {
	return func(o *options) { o.maxConns = n }
}

// DefaultPostgresConns bounds a PostgreSQL store's connections, open and
// idle, unless WithMaxConns says otherwise.
const DefaultPostgresConns = 20

// Open connects to the database at rawURL. It does not migrate.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	driverName, dsn, dia, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redact(rawURL), err)
	}
	if dia == dialect.SQLite {
		// One writer at a time is SQLite's model; a small pool of readers
		// works well with WAL.
		db.SetMaxOpenConns(sqliteMaxConns)
		db.SetMaxIdleConns(sqliteMaxConns)
		db.SetConnMaxLifetime(time.Hour)
	} else {
		// Keep as many idle connections as may be open: with database/sql's
		// default of 2, a server under concurrent load closes and reopens
		// PostgreSQL sessions many times a second. Idle ones close after
		// five minutes.
		n := DefaultPostgresConns
		if o.maxConns > 0 {
			n = o.maxConns
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", redact(rawURL), err)
	}
	var drv dialect.Driver = entsql.OpenDB(dia, db)
	if o.wrap != nil {
		drv = o.wrap(drv)
	}
	if dia == dialect.SQLite {
		drv = keysDriver{drv} // outermost, so a wrapper sees what runs
	}
	return &Store{Client: ent.NewClient(ent.Driver(drv)), DB: db, Dialect: dia, URL: rawURL}, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.DB.PingContext(ctx) }

// Close closes the client and the pool.
func (s *Store) Close() error { return s.Client.Close() }

func parseURL(raw string) (driverName, dsn, dia string, err error) {
	switch {
	case strings.HasPrefix(raw, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//")
		if path == "" {
			return "", "", "", errors.New("sqlite URL needs a file path, e.g. sqlite:./rapport.db")
		}
		path, query, _ := strings.Cut(path, "?")
		abs, err := filepath.Abs(path)
		if err != nil {
			return "", "", "", err
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return "", "", "", fmt.Errorf("sqlite URL options: %w", err)
		}
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		return "sqlite", "file:" + abs + "?" + q.Encode(), dialect.SQLite, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		return "pgx", raw, dialect.Postgres, nil
	}
	return "", "", "", fmt.Errorf("unsupported database URL %q: use sqlite:PATH or postgres://…", redact(raw))
}

// redact hides a password in a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Optimize refreshes the statistics the query planner chooses indexes by.
// Without them SQLite guesses that "workspace_id = ?" matches a handful of
// rows, and answers a batch's "id IN (…1,000 IDs…)" by scanning the whole
// workspace; with them it looks the IDs up. On SQLite it runs PRAGMA
// optimize over every table, which analyzes only tables never analyzed or
// grown or shrunk much since, reading a bounded sample of each, so it is
// cheap to run often; on PostgreSQL it runs ANALYZE, which autovacuum
// also does on its own schedule. Call it after a bulk load.
func (s *Store) Optimize(ctx context.Context) error {
	stmt := "ANALYZE"
	if s.Dialect == dialect.SQLite {
		stmt = "PRAGMA optimize=0x10002"
	}
	if _, err := s.DB.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	if s.Dialect == dialect.SQLite {
		// A connection reads the statistics when it loads the schema and
		// keeps them: close the idle ones so that the next statements
		// run on connections that read the new statistics. Connections in
		// use pick them up when their lifetime ends (see Open).
		s.DB.SetMaxIdleConns(0)
		s.DB.SetMaxIdleConns(sqliteMaxConns)
	}
	return nil
}
