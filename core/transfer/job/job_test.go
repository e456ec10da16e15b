package job_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent/importjob"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer"
	"github.com/rapportcrm/rapport/core/transfer/job"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestRunResumes stops an import after its first batch, as a worker that
// died would leave it: a worker leaves it alone while its heartbeat is
// fresh, resumes it once the heartbeat is stale, acting as the job's
// actor, and then leaves the finished job as it is.
func TestRunResumes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, err := access.CreateWorkspace(ctx, st.Client, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := access.CreateToken(ctx, st.Client, ws, access.TokenOptions{Role: tenancy.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		v, err := access.Authenticate(ctx, st.Client, tok)
		if err != nil {
			t.Fatal(err)
		}
		wctx := tenancy.NewContext(ctx, v)
		data, err := os.ReadFile("../testdata/pipedrive/organizations.csv")
		if err != nil {
			t.Fatal(err)
		}
		o, err := job.Input{Type: "organizations", FileName: "organizations.csv", BatchSize: 1}.Options()
		if err != nil {
			t.Fatal(err)
		}
		j, err := transfer.Start(wctx, st.Client, data, o)
		if err != nil {
			t.Fatal(err)
		}
		if got := job.Viewer(j); got.WorkspaceID != ws.ID || got.TokenID != v.TokenID || got.Role != tenancy.RoleAdmin {
			t.Errorf("viewer %+v", got)
		}
		stopped, stop := context.WithCancel(wctx)
		_, _ = transfer.Run(stopped, st.Client, j.ID, func(int) { stop() })

		var snooze *river.JobSnoozeError
		if err := job.Run(ctx, st.Client, j.ID); !errors.As(err, &snooze) || snooze.Duration <= 0 {
			t.Fatalf("a job beating its heart elsewhere: %v, want a snooze", err)
		}
		sys := tenancy.System(ctx)
		st.Client.ImportJob.UpdateOneID(j.ID).SetHeartbeatAt(time.Now().Add(-2 * job.Busy)).ExecX(sys)
		if err := job.Run(ctx, st.Client, j.ID); err != nil {
			t.Fatal(err)
		}
		done := st.Client.ImportJob.GetX(sys, j.ID)
		if done.Status != importjob.StatusDone || done.Created != 3 || done.NextRow != 3 {
			t.Fatalf("resumed job: %s, created %d, next row %d", done.Status, done.Created, done.NextRow)
		}
		if n := st.Client.Organization.Query().CountX(wctx); n != 3 {
			t.Errorf("%d organizations", n)
		}
		if err := job.Run(ctx, st.Client, j.ID); err != nil {
			t.Errorf("a finished job: %v", err)
		}
	})
}

// TestInput: each option a user can get wrong is BAD_USER_INPUT naming it.
func TestInput(t *testing.T) {
	ok := job.Input{Type: "contacts", Format: "CSV", Delimiter: "tab", TimeZone: "Europe/Oslo", Source: "legacy",
		Mapping: []byte(`{"columns":{"E-mail":"email"}}`), BatchSize: 100}
	o, err := ok.Options()
	if err != nil || o.Delimiter != '\t' || o.Format != "csv" || o.Mapping == nil || o.Mapping.Columns["E-mail"] != "email" {
		t.Fatalf("%+v %v", o, err)
	}
	for field, in := range map[string]job.Input{
		"type":      {Type: "widgets"},
		"format":    {Type: "contacts", Format: "pdf"},
		"encoding":  {Type: "contacts", Encoding: "ebcdic"},
		"delimiter": {Type: "contacts", Delimiter: "ab"},
		"timeZone":  {Type: "contacts", TimeZone: "Local"},
		"source":    {Type: "contacts", Source: "Two Words"},
		"mapping":   {Type: "contacts", Mapping: []byte(`{"colums":{}}`)},
		"batchSize": {Type: "contacts", BatchSize: -1},
	} {
		if _, err := in.Options(); errcode.Of(err) != errcode.BadUserInput || errcode.FieldOf(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
}
