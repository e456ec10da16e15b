package transfer_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/timelineevent"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func importFile(t *testing.T, ctx context.Context, c *ent.Client, file, typ string, o transfer.Options) *transfer.Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	o.Type, o.FileName = typ, file
	job, err := transfer.Start(ctx, c, data, o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := transfer.Run(ctx, c, job.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestPipedrivePeople imports Pipedrive's organizations, then its people,
// twice: the counts, links, dates and rejects are those the files hold
// (worked out by reading them), and the second run changes nothing.
func TestPipedrivePeople(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ws, err := access.CreateWorkspace(context.Background(), st.Client, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		c := st.Client
		for run := 1; run <= 2; run++ {
			orgs := importFile(t, ctx, c, "pipedrive/organizations.csv", "organizations", transfer.Options{})
			wantOrg := [3]int{3, 0, 0}
			if run == 2 {
				wantOrg = [3]int{0, 0, 3}
			}
			if got := [3]int{orgs.Created, orgs.Updated, orgs.Unchanged}; got != wantOrg || orgs.Failed != 0 {
				t.Fatalf("run %d: organizations created/updated/unchanged %v, failed %d (%v); want %v", run, got, orgs.Failed, orgs.Rejects, wantOrg)
			}
			// Persons: 201, 202, 204 import; 203 repeats 201's email (a
			// duplicate); 205's email is not one.
			ppl := importFile(t, ctx, c, "pipedrive/persons.csv", "contacts", transfer.Options{})
			want := [3]int{3, 0, 0}
			if run == 2 {
				want = [3]int{0, 0, 3}
			}
			if got := [3]int{ppl.Created, ppl.Updated, ppl.Unchanged}; got != want {
				t.Fatalf("run %d: contacts created/updated/unchanged %v, want %v; rejects %v", run, got, want, ppl.Rejects)
			}
			if ppl.Failed != 2 || ppl.FailedByReason["duplicate"] != 1 || ppl.FailedByReason["invalid_email"] != 1 {
				t.Fatalf("run %d: failed %d by %v", run, ppl.Failed, ppl.FailedByReason)
			}
			for _, r := range ppl.Rejects {
				if (r.Row == 4 && r.Column != "Person - Email - Work") || (r.Row == 6 && r.Reason != "invalid_email") || (r.Row != 4 && r.Row != 6) {
					t.Errorf("reject %+v", r)
				}
			}
		}
		ingrid, err := c.Contact.Query().Where(contact.ExternalID("201")).WithOrganization().Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ingrid.Edges.Organization == nil || ingrid.Edges.Organization.Name != "Fjordline Logistics AS" || *ingrid.ExternalSource != "pipedrive" {
			t.Errorf("Ingrid: org %v, source %v", ingrid.Edges.Organization, ingrid.ExternalSource)
		}
		// Road Runner names no organization: linked by the email's domain.
		road, err := c.Contact.Query().Where(contact.ExternalID("204")).WithOrganization().Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if road.Edges.Organization == nil || road.Edges.Organization.Name != "Acme, Inc." {
			t.Errorf("Road Runner: org %v", road.Edges.Organization)
		}
		wantAt := time.Date(2021, 3, 4, 9, 20, 0, 0, time.UTC)
		if !ingrid.CreatedAt.Equal(wantAt) {
			t.Errorf("Ingrid created %v, want %v", ingrid.CreatedAt, wantAt)
		}
		ev, err := c.TimelineEvent.Query().Where(timelineevent.SubjectID(ingrid.ID), timelineevent.ActionEQ(timelineevent.ActionCreate)).Only(ctx)
		if err != nil || !ev.OccurredAt.Equal(wantAt) {
			t.Errorf("Ingrid's timeline: %v, %v; want created at %v", ev, err, wantAt)
		}
	})
}

// TestResume stops an import after its first batch of two rows and runs
// it again: Start returns the same job, and the end equals an
// uninterrupted run (three contacts, two rejects, each once).
func TestResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ws, err := access.CreateWorkspace(context.Background(), st.Client, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		c := st.Client
		importFile(t, ctx, c, "pipedrive/organizations.csv", "organizations", transfer.Options{})
		data, err := os.ReadFile("testdata/pipedrive/persons.csv")
		if err != nil {
			t.Fatal(err)
		}
		o := transfer.Options{Type: "contacts", FileName: "persons.csv", BatchSize: 2}
		job, err := transfer.Start(ctx, c, data, o)
		if err != nil {
			t.Fatal(err)
		}
		stopped, stop := context.WithCancel(ctx)
		if _, err := transfer.Run(stopped, c, job.ID, func(done int) { stop() }); err == nil {
			t.Fatal("the stopped run ended without an error")
		}
		again, err := transfer.Start(ctx, c, data, o)
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != job.ID || again.NextRow != 2 {
			t.Fatalf("second start: job %s at row %d, want %s at 2", again.ID, again.NextRow, job.ID)
		}
		res, err := transfer.Run(ctx, c, job.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 3 || res.Failed != 2 || res.Rows != 5 {
			t.Errorf("resumed: created %d, failed %d, rows %d; want 3, 2, 5", res.Created, res.Failed, res.Rows)
		}
		if n := c.Contact.Query().CountX(ctx); n != 3 {
			t.Errorf("%d contacts, want 3", n)
		}
		if n := c.ImportReject.Query().CountX(ctx); n != 2 {
			t.Errorf("%d rejects stored, want 2", n)
		}
	})
}
