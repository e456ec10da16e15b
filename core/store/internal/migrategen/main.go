// Command migrategen writes a new versioned migration for each dialect: it
// replays the existing migrations into a scratch database (a temporary
// SQLite file; a throwaway PostgreSQL server) and diffs the result against
// the ent schema. Review the files it writes before committing them.
//
//	go run ./core/store/internal/migrategen -name add_widgets
//
// A migration written by hand (for what the ent schema cannot say, such
// as an index on expressions) is added to atlas.sum with
//
//	go run ./core/store/internal/migrategen -sum
//
// and its objects are listed in handWritten, so that later diffs do not
// drop them.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	atlas "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/rapportcrm/rapport/core/ent/migrate"
	"github.com/rapportcrm/rapport/core/store/storetest"
)

func main() {
	name := flag.String("name", "", "migration name, e.g. add_widgets")
	sumOnly := flag.Bool("sum", false, "only rewrite each dialect's atlas.sum (after writing a migration by hand)")
	dir := flag.String("dir", "core/store/migrations", "migrations directory (one folder per dialect)")
	only := flag.String("dialect", "", "only this dialect (sqlite or postgres)")
	flag.Parse()
	if *sumOnly {
		for _, d := range []string{"sqlite", "postgres"} {
			if err := rewriteSum(filepath.Join(*dir, d)); err != nil {
				log.Fatalf("%s: %v", d, err)
			}
		}
		return
	}
	if *name == "" {
		log.Fatal("-name is required")
	}
	ctx := context.Background()
	if *only == "" || *only == "sqlite" {
		tmp, err := os.MkdirTemp("", "migrategen-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		db, err := sql.Open("sqlite", "file:"+filepath.Join(tmp, "dev.db")+"?_pragma=foreign_keys(1)")
		if err != nil {
			log.Fatal(err)
		}
		if err := diff(ctx, db, dialect.SQLite, filepath.Join(*dir, "sqlite"), *name); err != nil {
			log.Fatalf("sqlite: %v", err)
		}
	}
	if *only == "" || *only == "postgres" {
		pg, err := storetest.StartPostgres(ctx)
		if err != nil {
			log.Fatalf("postgres: %v", err)
		}
		defer pg.Stop()
		url, err := pg.CreateDatabase(ctx)
		if err != nil {
			log.Fatal(err)
		}
		db, err := sql.Open("pgx", url)
		if err != nil {
			log.Fatal(err)
		}
		if err := diff(ctx, db, dialect.Postgres, filepath.Join(*dir, "postgres"), *name); err != nil {
			log.Fatalf("postgres: %v", err)
		}
	}
}

func diff(ctx context.Context, db *sql.DB, dia, path, name string) error {
	defer db.Close()
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	dir, err := sqltool.NewGooseDir(path)
	if err != nil {
		return err
	}
	m, err := schema.NewMigrate(entsql.OpenDB(dia, db),
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dia),
		schema.WithFormatter(sqltool.GooseFormatter),
		schema.WithDropIndex(true),
		schema.WithDropColumn(true),
		schema.WithDiffHook(keepHandWritten),
	)
	if err != nil {
		return err
	}
	if err := m.NamedDiff(ctx, name, migrate.Tables...); err != nil {
		return err
	}
	fmt.Println("wrote", dia, "migration into", path)
	return nil
}

// handWritten names the indexes that hand-written migrations create and
// the ent schema cannot describe; diffs never drop them.
var handWritten = map[string]bool{
	"order_customer_month":   true, // core/metrics: customerMonth
	"segmentmembership_open": true, // one open membership per subject and segment
}

// handWrittenTable tells the tables hand-written migrations create: the
// rollups of core/metrics/rollup, whose names begin with "rollup_".
func handWrittenTable(name string) bool { return strings.HasPrefix(name, "rollup_") }

// keepHandWritten removes the drops of handWritten indexes and tables
// from a diff.
func keepHandWritten(next schema.Differ) schema.Differ {
	return schema.DiffFunc(func(current, desired *atlas.Schema) ([]atlas.Change, error) {
		changes, err := next.Diff(current, desired)
		if err != nil {
			return nil, err
		}
		out := changes[:0]
		for _, c := range changes {
			if d, ok := c.(*atlas.DropTable); ok && handWrittenTable(d.T.Name) {
				continue
			}
			if m, ok := c.(*atlas.ModifyTable); ok {
				kept := m.Changes[:0]
				for _, tc := range m.Changes {
					if d, ok := tc.(*atlas.DropIndex); ok && handWritten[d.I.Name] {
						continue
					}
					kept = append(kept, tc)
				}
				m.Changes = kept
				if len(kept) == 0 {
					continue
				}
			}
			out = append(out, c)
		}
		return out, nil
	})
}

// rewriteSum writes the atlas.sum of a migration directory anew.
func rewriteSum(path string) error {
	dir, err := sqltool.NewGooseDir(path)
	if err != nil {
		return err
	}
	sum, err := dir.Checksum()
	if err != nil {
		return err
	}
	return atlasmigrate.WriteSumFile(dir, sum)
}
