package storetest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/rapportcrm/rapport/core/store"
)

// Dialects are the databases every store-backed test runs against.
var Dialects = []string{"sqlite", "postgres"}

var (
	shared     *Postgres
	sharedErr  error
	sharedOnce sync.Once
)

// Main runs a package's tests and stops the shared PostgreSQL server (if
// one was started) afterwards. Call it from TestMain:
//
//	func TestMain(m *testing.M) { storetest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// RequirePostgres reports whether a missing PostgreSQL fails tests instead
// of skipping them (RAPPORT_REQUIRE_POSTGRES=1).
func RequirePostgres() bool { return os.Getenv("RAPPORT_REQUIRE_POSTGRES") == "1" }

// PostgresURL returns the URL of a fresh, empty database on the package's
// shared throwaway server, starting the server on first use.
func PostgresURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("RAPPORT_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	sharedOnce.Do(func() { shared, sharedErr = StartPostgres(context.Background()) })
	if sharedErr != nil {
		if RequirePostgres() {
			t.Fatalf("PostgreSQL required but unavailable: %v", sharedErr)
		}
		t.Skipf("PostgreSQL unavailable: %v", sharedErr)
	}
	u, err := shared.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// URL returns a fresh database URL of the dialect ("sqlite" or "postgres").
func URL(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == "postgres" {
		return PostgresURL(t)
	}
	return "sqlite:" + filepath.Join(t.TempDir(), "rapport.db")
}

// Open returns a migrated store of the dialect, closed when the test ends.
func Open(t testing.TB, dialect string, opts ...store.Option) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, URL(t, dialect), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// Each runs f as a subtest once per dialect, each with its own store.
func Each(t *testing.T, f func(t *testing.T, st *store.Store)) {
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			f(t, Open(t, d))
		})
	}
}
