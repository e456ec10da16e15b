package store_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestMigrationsMatchSchema applies the committed migrations to an empty
// database and asks ent what it would still change to reach the schema:
// the answer must be nothing, on every dialect.
func TestMigrationsMatchSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var plan bytes.Buffer
		if err := st.Client.Schema.WriteTo(ctx, &plan); err != nil {
			t.Fatal(err)
		}
		var stmts []string
		for _, line := range strings.Split(plan.String(), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line == "BEGIN;" || line == "COMMIT;" || strings.HasPrefix(line, "--") {
				continue
			}
			stmts = append(stmts, line)
		}
		if len(stmts) > 0 {
			t.Fatalf("migrations lag the schema; run go run ./core/store/internal/migrategen -name NAME. Pending:\n%s", strings.Join(stmts, "\n"))
		}
		// Applying again is a no-op.
		again, err := st.Migrate(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second migrate applied %v, err %v", again, err)
		}
		status, err := st.MigrationStatus(ctx)
		if err != nil || len(status) == 0 {
			t.Fatalf("status %v, err %v", status, err)
		}
		for _, s := range status {
			if !s.Applied {
				t.Errorf("migration %d not applied", s.Version)
			}
		}
	})
}

// TestHandWrittenIndexesSurvive checks that the indexes hand-written
// migrations create (the ones migrategen's handWritten names) exist after
// every migration: SQLite drops a table's indexes when a later migration
// rebuilds the table, so such a migration must make them again.
func TestHandWrittenIndexesSurvive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		q := "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '%s'"
		if st.Dialect == "postgres" {
			q = "SELECT count(*) FROM pg_indexes WHERE indexname = '%s'"
		}
		for _, name := range []string{"order_customer_month", "segmentmembership_open"} {
			var n int
			if err := st.DB.QueryRow(fmt.Sprintf(q, name)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("index %s: %d found after migrating, want 1", name, n)
			}
		}
	})
}

func TestSQLitePragmas(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	ctx := context.Background()
	for pragma, want := range map[string]string{"foreign_keys": "1", "journal_mode": "wal", "busy_timeout": "10000"} {
		var got string
		if err := st.DB.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	for _, u := range []string{"mysql://x", "sqlite:", "", "postgres"} {
		if _, err := store.Open(context.Background(), u); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}

func TestOpenCreatesSQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub.db")
	st, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Dialect != "sqlite3" {
		t.Errorf("dialect %q", st.Dialect)
	}
}

// TestPoolKeepsConnections runs 16 queries at once, 20 times over, on
// PostgreSQL: every connection the burst opened is kept for the next
// one, none is closed for want of idle room (with database/sql's default
// of 2 idle connections, 14 would be closed after every burst).
func TestPoolKeepsConnections(t *testing.T) {
	st := storetest.Open(t, "postgres")
	ctx := context.Background()
	for round := 0; round < 20; round++ {
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.DB.ExecContext(ctx, "SELECT pg_sleep(0.01)"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	s := st.DB.Stats()
	if s.MaxIdleClosed != 0 || s.OpenConnections < 16 {
		t.Errorf("%d connections closed for want of idle room, %d open; want 0 and at least 16", s.MaxIdleClosed, s.OpenConnections)
	}
}

// TestPoolSize: a PostgreSQL store's pool holds DefaultPostgresConns
// connections unless WithMaxConns says otherwise; 6 queries at once on a
// pool of 3 never have more than 3 connections open, and the 3 stay idle
// afterwards.
func TestPoolSize(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	for _, tc := range []struct {
		opts []store.Option
		want int
	}{
		{nil, store.DefaultPostgresConns},
		{[]store.Option{store.WithMaxConns(0)}, store.DefaultPostgresConns},
		{[]store.Option{store.WithMaxConns(3)}, 3},
	} {
		st, err := store.Open(ctx, url, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.DB.ExecContext(ctx, "SELECT pg_sleep(0.02)"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		s := st.DB.Stats()
		st.Close()
		if s.MaxOpenConnections != tc.want {
			t.Errorf("%d options: pool of %d, want %d", len(tc.opts), s.MaxOpenConnections, tc.want)
		}
		if want := min(tc.want, 6); s.OpenConnections > want || s.Idle != s.OpenConnections || s.MaxIdleClosed != 0 {
			t.Errorf("pool of %d after 6 queries at once: %d open, %d idle, %d closed for want of idle room", tc.want, s.OpenConnections, s.Idle, s.MaxIdleClosed)
		}
		if tc.want == 3 && s.WaitCount == 0 {
			t.Errorf("6 queries at once on a pool of 3 never waited for a connection")
		}
	}
}
