package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// fixture copies a core/transfer test file into dir (the reject file is
// written beside it) and returns its path.
func fixture(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "core", "transfer", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.Base(name))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// counts are a workspace's contacts, organizations and import jobs.
func counts(t *testing.T, db, slug string) (contacts, orgs, jobs int) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ws, err := access.WorkspaceBySlug(ctx, st.Client, slug)
	if err != nil {
		t.Fatal(err)
	}
	wctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	return st.Client.Contact.Query().CountX(wctx), st.Client.Organization.Query().CountX(wctx), st.Client.ImportJob.Query().CountX(wctx)
}

// TestImportCommand imports Pipedrive's organizations and people from
// the command line: the summary as typed JSON, the reject file's rows,
// columns and reasons, a second run that changes nothing, a dry run that
// writes nothing, all or nothing, and the flags a user can get wrong.
func TestImportCommand(t *testing.T) {
	db := storetest.URL(t, "sqlite")
	dir := t.TempDir()
	orgs := fixture(t, dir, "pipedrive/organizations.csv")
	people := fixture(t, dir, "pipedrive/persons.csv")
	for _, slug := range []string{"acme", "dry", "aon", "fresh"} {
		if _, err := run(t, "--db", db, "workspace", "create", slug); err != nil {
			t.Fatal(err)
		}
	}
	imp := func(args ...string) (map[string]any, error) {
		t.Helper()
		out, err := run(t, append([]string{"--db", db, "import"}, append(args, "-o", "json")...)...)
		var sum map[string]any
		if jerr := json.Unmarshal([]byte(out), &sum); jerr != nil && err == nil {
			t.Fatalf("%v: summary %q: %v", args, out, jerr)
		}
		return sum, err
	}

	sum, err := imp("organizations", orgs, "-w", "acme")
	if err != nil || sum["created"] != 3.0 || sum["status"] != "done" || sum["rejects_file"] != nil {
		t.Fatalf("organizations: %v %v", sum, err)
	}
	sum, err = imp("contacts", people, "-w", "acme", "--batch-size", "2")
	if err != nil {
		t.Fatal(err)
	}
	// Typed: numbers are JSON numbers, the job an ID, reasons counted.
	for k, want := range map[string]any{"rows": 5.0, "created": 3.0, "updated": 0.0, "unchanged": 0.0, "failed": 2.0, "dry_run": false, "type": "contacts"} {
		if sum[k] != want {
			t.Errorf("summary %s = %#v, want %#v", k, sum[k], want)
		}
	}
	if job, _ := sum["job"].(string); !strings.HasPrefix(job, "imp_") {
		t.Errorf("job %v", sum["job"])
	}
	if by, _ := sum["failed_by_reason"].(map[string]any); by["duplicate"] != 1.0 || by["invalid_email"] != 1.0 {
		t.Errorf("failed_by_reason %v", sum["failed_by_reason"])
	}
	rejects := people + ".rejects.csv"
	if sum["rejects_file"] != rejects {
		t.Errorf("rejects_file %v, want %s", sum["rejects_file"], rejects)
	}
	checkRejects := func(path string) {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 3 || strings.Join(recs[0], ",") != "row,column,reason,message" ||
			recs[1][0] != "4" || recs[1][1] != "Person - Email - Work" || recs[1][2] != "duplicate" || recs[1][3] == "" ||
			recs[2][0] != "6" || recs[2][2] != "invalid_email" || !strings.Contains(recs[2][3], "not-an-email") {
			t.Errorf("reject file %s: %q", path, recs)
		}
	}
	checkRejects(rejects)
	if c, o, _ := counts(t, db, "acme"); c != 3 || o != 3 {
		t.Errorf("acme holds %d contacts, %d organizations; want 3, 3", c, o)
	}

	// The same file again: nothing changes; the table summary names the
	// counts and the reject file (given elsewhere this time).
	other := filepath.Join(dir, "other-rejects.csv")
	out, err := run(t, "--db", db, "import", "contacts", people, "-w", "acme", "--rejects", other)
	if err != nil || !regexpLine(out, "unchanged", "3") || !regexpLine(out, "created", "0") || !regexpLine(out, "rejects", other) || !strings.Contains(out, "invalid_email") {
		t.Errorf("second run: %v\n%s", err, out)
	}
	checkRejects(other)

	// A dry run checks the file as the import would and writes nothing.
	if _, err := imp("organizations", orgs, "-w", "dry"); err != nil {
		t.Fatal(err)
	}
	_, _, jobsBefore := counts(t, db, "dry")
	sum, err = imp("contacts", people, "-w", "dry", "--dry-run")
	if err != nil || sum["created"] != 3.0 || sum["failed"] != 2.0 || sum["job"] != nil || sum["dry_run"] != true || sum["status"] != "checked" {
		t.Errorf("dry run: %v %v", sum, err)
	}
	if c, _, jobs := counts(t, db, "dry"); c != 0 || jobs != jobsBefore {
		t.Errorf("the dry run wrote %d contacts, %d jobs", c, jobs-jobsBefore)
	}
	// A dry run of an all-or-nothing import that would refuse the file
	// fails.
	if _, err := imp("contacts", people, "-w", "dry", "--dry-run", "--all-or-nothing"); err == nil {
		t.Error("dry run of a refused all-or-nothing import succeeded")
	}

	// All or nothing: a rejected row keeps every row out; the rejects
	// are still written; the exit status is not 0.
	if _, err := imp("organizations", orgs, "-w", "aon"); err != nil {
		t.Fatal(err)
	}
	sum, err = imp("contacts", people, "-w", "aon", "--all-or-nothing", "--rejects", filepath.Join(dir, "aon.csv"))
	if err == nil || sum["status"] != "failed" || sum["created"] != 0.0 || sum["failed"] != 2.0 {
		t.Errorf("all or nothing: %v %v", sum, err)
	}
	checkRejects(filepath.Join(dir, "aon.csv"))
	if c, _, _ := counts(t, db, "aon"); c != 0 {
		t.Errorf("all or nothing kept %d contacts", c)
	}

	// A mapping file: the header "Organization - Name" mapped by hand.
	mapping := filepath.Join(dir, "mapping.json")
	os.WriteFile(mapping, []byte(`{"source":"legacy","columns":{"Organization - Name":"name"}}`), 0o600)
	if sum, err := imp("organizations", orgs, "-w", "fresh", "--mapping", mapping, "--dry-run"); err != nil || sum["created"] != 3.0 || sum["failed"] != 0.0 {
		t.Errorf("mapping: %v %v", sum, err)
	}

	for _, tc := range []struct {
		args  []string
		code  errcode.Code
		field string
	}{
		{[]string{"widgets", people, "-w", "acme"}, errcode.BadUserInput, "type"},
		{[]string{"contacts", people, "-w", "acme", "--delimiter", ";;"}, errcode.BadUserInput, "delimiter"},
		{[]string{"contacts", people, "-w", "acme", "--time-zone", "Mars/Olympus"}, errcode.BadUserInput, "timeZone"},
		{[]string{"contacts", people, "-w", "acme", "--format", "pdf"}, errcode.BadUserInput, "format"},
		{[]string{"contacts", people, "-w", "acme", "--encoding", "ebcdic"}, errcode.BadUserInput, "encoding"},
		{[]string{"contacts", people, "-w", "acme", "--source", "Not A Word"}, errcode.BadUserInput, "source"},
		{[]string{"contacts", people, "-w", "acme", "--batch-size", "100000"}, errcode.BadUserInput, "batchSize"},
		{[]string{"contacts", people, "-w", "acme", "--mapping", people}, errcode.BadUserInput, "mapping"},
		{[]string{"contacts", filepath.Join(dir, "missing.csv"), "-w", "acme"}, errcode.BadUserInput, "file"},
		{[]string{"contacts", people, "-w", "acme", "-o", "xml"}, errcode.BadUserInput, "output"},
		{[]string{"contacts", "-w", "acme"}, errcode.BadUserInput, "args"},
		{[]string{"contacts", people, "-w", "acme", "--workspace-archive", people}, errcode.BadUserInput, "workspace-archive"},
		{[]string{"contacts", people, "-w", "nobody"}, errcode.NotFound, ""},
	} {
		_, err := run(t, append([]string{"--db", db, "import"}, tc.args...)...)
		if errcode.Of(err) != tc.code || (tc.field != "" && errcode.FieldOf(err) != tc.field) {
			t.Errorf("%v: error %v (%s, field %q), want %s on %q", tc.args, err, errcode.Of(err), errcode.FieldOf(err), tc.code, tc.field)
		}
	}
	if _, err := run(t, "--db", db, "import", "contacts", people); err == nil || !strings.Contains(err.Error(), "workspace") {
		t.Errorf("no --workspace: %v", err)
	}
	// Nothing but the reject files is left beside the inputs.
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "aon.csv mapping.json organizations.csv other-rejects.csv persons.csv persons.csv.rejects.csv" {
		t.Errorf("files left: %s", got)
	}
}

// regexpLine reports whether out has a line "key  value".
func regexpLine(out, key, value string) bool {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == key && f[1] == value {
			return true
		}
	}
	return false
}

// TestImportWorkerProcess: an API server without workers queues an
// uploaded import, and a worker process runs it to its end.
func TestImportWorkerProcess(t *testing.T) {
	db := storetest.URL(t, "sqlite")
	if _, err := run(t, "--db", db, "workspace", "create", "acme"); err != nil {
		t.Fatal(err)
	}
	token, err := run(t, "--db", db, "token", "create", "--workspace", "acme", "--role", "member")
	if err != nil {
		t.Fatal(err)
	}
	token = strings.TrimSpace(token)
	s := startServer(t, db, "--workers=false")
	file, err := os.ReadFile(filepath.Join("..", "..", "core", "transfer", "testdata", "pipedrive", "organizations.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("operations", `{"query":"mutation($f: Upload!) { importRecords(file: $f, type: \"organizations\") { job { id status } } }","variables":{"f":null}}`)
	mw.WriteField("map", `{"0": ["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", "organizations.csv")
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if !strings.Contains(toJSON(out), `"status":"queued"`) {
		t.Fatalf("importRecords: %d %v", res.StatusCode, out)
	}
	w := startWorker(t, db, "--automation-poll", "100ms")
	var jobs string
	waitFor(t, time.Minute, "the import", func() bool {
		_, out := s.query(t, token, `{ importJobs { edges { node { status created failed } } } }`)
		jobs = toJSON(out["data"])
		return strings.Contains(jobs, `"status":"done"`)
	})
	if !strings.Contains(jobs, `"created":3`) || !strings.Contains(jobs, `"failed":0`) {
		t.Errorf("import jobs: %s", jobs)
	}
	w.stop(t)
	s.stop(t)
}
