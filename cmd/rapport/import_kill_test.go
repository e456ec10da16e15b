package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/importjob"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// killRows is how many organizations TestImportKill imports.
const killRows = 20_000

// TestImportKill runs `rapport import` as a process on each database,
// kills it (SIGKILL) once the job has committed a few batches, and runs
// the same command again: it resumes the job and ends as an uninterrupted
// import into another workspace does, record by record.
func TestImportKill(t *testing.T) {
	// Runs beside the package's other process-driving tests: they
	// mostly wait on the processes they start.
	t.Parallel()
	var file bytes.Buffer
	file.WriteString("ID,Name,Website,Industry,Employees,Created\n")
	for i := range killRows {
		fmt.Fprintf(&file, "o%d,Company %d,company%d.example.com,Industry %d,%d,2021-%02d-%02d 10:%02d\n", i, i, i, i%7, i%500, 1+i%12, 1+i%28, i%60)
	}
	path := filepath.Join(t.TempDir(), "organizations.csv")
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			db := storetest.URL(t, dialect)
			for _, slug := range []string{"killed", "whole"} {
				if _, err := run(t, "--db", db, "workspace", "create", slug); err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			st, err := store.Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			wctx := func(slug string) context.Context {
				ws, err := access.WorkspaceBySlug(ctx, st.Client, slug)
				if err != nil {
					t.Fatal(err)
				}
				return tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
			}
			killed, whole := wctx("killed"), wctx("whole")
			command := func(slug string) *exec.Cmd {
				cmd := exec.Command(binary, "--db", db, "import", "organizations", path, "--workspace", slug, "--batch-size", "200", "-o", "json")
				cmd.Env = os.Environ()
				return cmd
			}

			// Start, wait for a few committed batches, kill -9.
			cmd := command("killed")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var at int
			for deadline := time.Now().Add(30 * time.Second); at < killRows/4; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("no progress within 30s: %s", stderr.String())
				}
				if j, err := st.Client.ImportJob.Query().Only(killed); err == nil {
					at = j.NextRow
				}
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			job := st.Client.ImportJob.Query().OnlyX(killed)
			if job.NextRow >= killRows || job.Status != importjob.StatusRunning {
				t.Fatalf("killed after row %d of %d, status %s: too late to test a resume", job.NextRow, killRows, job.Status)
			}
			if n := st.Client.Organization.Query().CountX(killed); n != job.NextRow {
				t.Fatalf("killed at next_row %d with %d organizations: a batch was half committed", job.NextRow, n)
			}
			t.Logf("killed after %d rows", job.NextRow)

			// The same command again resumes the job and finishes it.
			summary := func(cmd *exec.Cmd) map[string]any {
				t.Helper()
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%v: %s", err, stderr.String())
				}
				var sum map[string]any
				if err := json.Unmarshal(out, &sum); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				return sum
			}
			resumed := summary(command("killed"))
			if resumed["job"] != string(job.ID) || resumed["status"] != "done" || resumed["rows"] != float64(killRows) ||
				resumed["created"] != float64(killRows) || resumed["updated"] != 0.0 || resumed["failed"] != 0.0 {
				t.Errorf("resumed run: %v", resumed)
			}
			uninterrupted := summary(command("whole"))
			if uninterrupted["created"] != float64(killRows) || uninterrupted["failed"] != 0.0 {
				t.Errorf("uninterrupted run: %v", uninterrupted)
			}
			if j := st.Client.ImportJob.GetX(killed, job.ID); j.Status != importjob.StatusDone || j.NextRow != killRows ||
				j.Created+j.Updated+j.Unchanged+j.Failed != killRows || j.Created != killRows {
				t.Errorf("job after resuming: %s, next_row %d, created %d updated %d unchanged %d failed %d", j.Status, j.NextRow, j.Created, j.Updated, j.Unchanged, j.Failed)
			}

			// Record by record, the killed and resumed import equals the
			// uninterrupted one.
			load := func(ctx context.Context) map[string]*ent.Organization {
				all := st.Client.Organization.Query().Order(organization.ByExternalID()).AllX(ctx)
				by := make(map[string]*ent.Organization, len(all))
				for _, o := range all {
					if o.ExternalID == nil {
						t.Fatalf("organization %s has no external ID", o.ID)
					}
					if by[*o.ExternalID] != nil {
						t.Fatalf("external ID %s imported twice", *o.ExternalID)
					}
					by[*o.ExternalID] = o
				}
				return by
			}
			a, b := load(killed), load(whole)
			if len(a) != killRows || len(b) != killRows {
				t.Fatalf("%d and %d organizations, want %d each", len(a), len(b), killRows)
			}
			same := func(x, y *ent.Organization) bool {
				return x.Name == y.Name && x.Domain == y.Domain && x.Industry == y.Industry &&
					x.Employees != nil && y.Employees != nil && *x.Employees == *y.Employees && deref(x.ExternalSource) == deref(y.ExternalSource) &&
					x.CreatedAt.Equal(y.CreatedAt)
			}
			bad := 0
			for id, x := range a {
				y := b[id]
				if y == nil || !same(x, y) {
					if bad++; bad <= 3 {
						t.Errorf("organization %s: resumed %+v, uninterrupted %+v", id, x, y)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d organizations differ", bad)
			}
		})
	}
}
