package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	importjob "github.com/rapportcrm/rapport/core/transfer/job"
	"github.com/rapportcrm/rapport/graph"
)

const importMutation = `mutation($f: Upload!, $type: String!, $o: ImportOptionsInput) {
	importRecords(file: $f, type: $type, options: $o) {
		job { id status type fileName }
		check { rows created updated unchanged failed failedByReason { reason count } rejects { row column reason message } }
	} }`

// uploadImport sends importRecords as a GraphQL multipart request with
// the named token, the file named name holding data.
func (e *env) uploadImport(token, typ, name string, data []byte, opts map[string]any) (int, response) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{"query": importMutation, "variables": map[string]any{"f": nil, "type": typ, "o": opts}})
	mw.WriteField("operations", string(ops))
	mw.WriteField("map", `{"0": ["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.tokens[token])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var r response
	if res.Header.Get("Content-Type") == "application/json" || strings.HasPrefix(res.Header.Get("Content-Type"), "application/") {
		_ = json.NewDecoder(res.Body).Decode(&r)
	}
	r.status = res.StatusCode
	return res.StatusCode, r
}

func transferFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "core", "transfer", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// importEnv is newEnv with uploads of up to maxUpload bytes, a member
// token ("aMember"), and, when queue is set, an automation engine that
// works queued imports.
func importEnv(t *testing.T, dialect string, maxUpload int64, queue bool) *env {
	t.Helper()
	return importEnvCaps(t, dialect, maxUpload, 0, queue)
}

// importEnvCaps is importEnv with an import cap of its own.
func importEnvCaps(t *testing.T, dialect string, maxUpload, maxImport int64, queue bool) *env {
	t.Helper()
	e := newEnv(t, dialect)
	e.srv.Close()
	ctx := context.Background()
	secret, _, err := access.CreateToken(ctx, e.st.Client, e.wsA, access.TokenOptions{Role: tenancy.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["aMember"] = secret
	cfg := graph.Config{Client: e.st.Client, Ping: e.st.Ping, MaxUpload: maxUpload, MaxImport: maxImport}
	if queue {
		if err := automation.Migrate(ctx, e.st); err != nil {
			t.Fatal(err)
		}
		eng, err := automation.New(ctx, automation.Config{Store: e.st, PollInterval: 50 * time.Millisecond, Jobs: importjob.Register(e.st.Client)})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = eng.Stop(context.Background()) })
		cfg.Imports = eng
	}
	e.srv = httptest.NewServer(graph.NewHandler(cfg))
	t.Cleanup(e.srv.Close)
	return e
}

// waitImport polls the job until it is done or failed, and returns it.
func (e *env) waitImport(token, id string) map[string]any {
	e.t.Helper()
	const q = `query($id: ID!) { node(id: $id) { ... on ImportJob { id status nextRow totalRows created updated unchanged failed error
		failedByReason { reason count } rejects(first: 10) { row column reason message } } } }`
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		job, _ := get(e.ok(token, q, map[string]any{"id": id}), "node").(map[string]any)
		if s := str(job, "status"); s == "done" || s == "failed" {
			return job
		}
	}
	e.t.Fatalf("import %s not done within 30s", id)
	return nil
}

// TestImportRecords uploads Pipedrive's organizations and people: each
// import is queued, worked by the engine's workers to done, and its
// counts, failures by reason and rejects read back; a member may import,
// a viewer may not (refused before the upload is read); a dry run writes
// nothing.
func TestImportRecords(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			e := importEnv(t, dialect, 1<<20, true)
			status, r := e.uploadImport("a", "organizations", "organizations.csv", transferFixture(t, "pipedrive/organizations.csv"), nil)
			if status != 200 || len(r.Errors) > 0 || str(r.Data, "importRecords", "job", "status") != "queued" || get(r.Data, "importRecords", "check") != nil {
				t.Fatalf("organizations: %d %+v %v", status, r.Errors, r.Data)
			}
			job := e.waitImport("a", str(r.Data, "importRecords", "job", "id"))
			if str(job, "status") != "done" || num(job, "created") != 3 || num(job, "failed") != 0 || num(job, "totalRows") != 3 {
				t.Fatalf("organizations job: %v", job)
			}

			// A member imports the people: two rows are rejected.
			people := transferFixture(t, "pipedrive/persons.csv")
			status, r = e.uploadImport("aMember", "contacts", "persons.csv", people, map[string]any{"batchSize": 2})
			if status != 200 || len(r.Errors) > 0 {
				t.Fatalf("contacts: %d %+v", status, r.Errors)
			}
			job = e.waitImport("a", str(r.Data, "importRecords", "job", "id"))
			if str(job, "status") != "done" || num(job, "created") != 3 || num(job, "failed") != 2 || num(job, "nextRow") != 5 {
				t.Fatalf("contacts job: %v", job)
			}
			if got := toJSON(get(job, "failedByReason")); got != `[{"count":1,"reason":"duplicate"},{"count":1,"reason":"invalid_email"}]` {
				t.Errorf("failedByReason %s", got)
			}
			if rj := get(job, "rejects").([]any); len(rj) != 2 || num(rj[0], "row") != 4 || str(rj[0], "column") != "Person - Email - Work" ||
				str(rj[0], "reason") != "duplicate" || num(rj[1], "row") != 6 || str(rj[1], "reason") != "invalid_email" {
				t.Errorf("rejects %v", rj)
			}
			// Rejects page by row.
			page := e.ok("a", `query($id: ID!) { node(id: $id) { ... on ImportJob { rejects(first: 1, afterRow: 4) { row } } } }`, map[string]any{"id": str(job, "id")})
			if got := toJSON(get(page, "node", "rejects")); got != `[{"row":6}]` {
				t.Errorf("rejects after row 4: %s", got)
			}
			if n := num(e.ok("a", `{ importJobs { totalCount } }`, nil), "importJobs", "totalCount"); n != 2 {
				t.Errorf("%v import jobs", n)
			}
			// Workspace B sees none of it.
			if n := num(e.ok("b", `{ importJobs { totalCount } contacts { totalCount } }`, nil), "contacts", "totalCount"); n != 0 {
				t.Errorf("B sees %v contacts", n)
			}

			// A dry run in B answers at once and writes nothing.
			status, r = e.uploadImport("b", "contacts", "persons.csv", people, map[string]any{"dryRun": true})
			if status != 200 || len(r.Errors) > 0 || get(r.Data, "importRecords", "job") != nil {
				t.Fatalf("dry run: %d %+v %v", status, r.Errors, r.Data)
			}
			// B has no organizations: each person naming one is rejected.
			check := get(r.Data, "importRecords", "check")
			if num(check, "rows") != 5 || num(check, "created")+num(check, "failed") != 5 || len(get(check, "rejects").([]any)) != int(num(check, "failed")) {
				t.Errorf("dry run check %v", check)
			}
			if got := toJSON(e.ok("b", `{ importJobs { totalCount } contacts { totalCount } }`, nil)); got != `{"contacts":{"totalCount":0},"importJobs":{"totalCount":0}}` {
				t.Errorf("the dry run wrote: %s", got)
			}
		})
	}
}

// TestImportRecordsRefused: a viewer is FORBIDDEN before the upload is
// read (by multipart request or not); a file over the upload cap, a bad
// option and an unknown type are BAD_USER_INPUT naming the field; a
// server without a job queue only checks files.
func TestImportRecordsRefused(t *testing.T) {
	e := importEnv(t, "sqlite", 4<<10, false)
	orgs := transferFixture(t, "pipedrive/organizations.csv")
	if status, r := e.uploadImport("aViewer", "organizations", "organizations.csv", orgs, nil); status != http.StatusForbidden || len(r.Errors) == 0 || r.Errors[0].code() != "FORBIDDEN" {
		t.Errorf("viewer upload: %d %+v", status, r.Errors)
	}
	e.fail("aViewer", `mutation($f: Upload!) { importRecords(file: $f, type: "contacts") { job { id } } }`, map[string]any{"f": nil}, "FORBIDDEN")

	// Over the upload cap: refused by the resolver up to the multipart
	// framing's slack, by the transport (413) beyond.
	big := append([]byte("Organization - Name\n"), bytes.Repeat([]byte("Acme\n"), 2<<10)...)
	if status, r := e.uploadImport("a", "organizations", "big.csv", big, map[string]any{"dryRun": true}); status != 200 || len(r.Errors) == 0 ||
		r.Errors[0].code() != "BAD_USER_INPUT" || r.Errors[0].field() != "file" || !strings.Contains(r.Errors[0].Message, "upload cap") {
		t.Errorf("upload over the cap: %d %+v", status, r.Errors)
	}
	if status, _ := e.uploadImport("a", "organizations", "huge.csv", bytes.Repeat([]byte("x"), 200<<10), nil); status != http.StatusRequestEntityTooLarge {
		t.Errorf("upload far over the cap: %d", status)
	}

	for _, tc := range []struct {
		typ   string
		opts  map[string]any
		field string
	}{
		{"widgets", nil, "type"},
		{"organizations", map[string]any{"mapping": `{"columns": 3}`}, "mapping"},
		{"organizations", map[string]any{"timeZone": "Nowhere/Land"}, "timeZone"},
		{"organizations", map[string]any{"delimiter": "::"}, "delimiter"},
		{"organizations", map[string]any{"format": "pdf"}, "format"},
		{"organizations", map[string]any{"batchSize": 100000}, "batchSize"},
	} {
		if _, r := e.uploadImport("a", tc.typ, "organizations.csv", orgs, tc.opts); len(r.Errors) == 0 || r.Errors[0].code() != "BAD_USER_INPUT" || r.Errors[0].field() != tc.field {
			t.Errorf("%s %v: %+v, want BAD_USER_INPUT on %s", tc.typ, tc.opts, r.Errors, tc.field)
		}
	}
	// No job queue: only dry runs.
	if _, r := e.uploadImport("a", "organizations", "organizations.csv", orgs, nil); len(r.Errors) == 0 || r.Errors[0].code() != "UNAVAILABLE" {
		t.Errorf("queued import without a queue: %+v", r.Errors)
	}
	if _, r := e.uploadImport("a", "organizations", "organizations.csv", orgs, map[string]any{"dryRun": true}); len(r.Errors) > 0 || num(r.Data, "importRecords", "check", "created") != 3 {
		t.Errorf("dry run without a queue: %+v %v", r.Errors, r.Data)
	}
}

// TestImportCapOfItsOwn: a server whose uploads may be 64 KiB (for
// plugin packages) but whose imports may be 4 KiB refuses a 10 KiB
// import file by the import cap, and takes a small one.
func TestImportCapOfItsOwn(t *testing.T) {
	e := importEnvCaps(t, "sqlite", 64<<10, 4<<10, false)
	big := append([]byte("Organization - Name\n"), bytes.Repeat([]byte("Acme\n"), 2<<10)...)
	if status, r := e.uploadImport("a", "organizations", "big.csv", big, map[string]any{"dryRun": true}); status != 200 || len(r.Errors) == 0 ||
		r.Errors[0].field() != "file" || !strings.Contains(r.Errors[0].Message, "4 KiB") {
		t.Errorf("import over its cap: %d %+v", status, r.Errors)
	}
	orgs := transferFixture(t, "pipedrive/organizations.csv")
	if _, r := e.uploadImport("a", "organizations", "organizations.csv", orgs, map[string]any{"dryRun": true}); len(r.Errors) > 0 {
		t.Errorf("a small import: %+v", r.Errors)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
