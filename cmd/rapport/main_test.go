package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/store/storetest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rapport-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "rapport")
	build := exec.Command("go", "build", "-o", binary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		panic(string(out))
	}
	storetest.Main(m)
}

// run executes the CLI in-process and returns its standard output.
func run(t testing.TB, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// server is a running `rapport serve` process.
type server struct {
	cmd   *exec.Cmd
	url   string
	token string
}

func startServer(t testing.TB, db string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), "RAPPORT_DB="+db)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := bufio.NewScanner(stdout)
	listen := regexp.MustCompile(`listening on (http://\S+)`)
	deadline := time.After(3 * time.Minute)
	got := make(chan string)
	go func() {
		for lines.Scan() {
			got <- lines.Text()
		}
		close(got)
	}()
	for s.url == "" {
		select {
		case line, ok := <-got:
			if !ok {
				t.Fatalf("server exited before listening: %s", stderr.String())
			}
			if tok, ok := strings.CutPrefix(line, "token: "); ok {
				s.token = tok
			}
			if m := listen.FindStringSubmatch(line); m != nil {
				s.url = m[1]
			}
		case <-deadline:
			t.Fatalf("server did not start: %s", stderr.String())
		}
	}
	go func() {
		for range got {
		}
	}()
	return s
}

func (s *server) query(t *testing.T, token, q string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("server exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
}

// TestServeDemo is the README's first command end to end, on SQLite and
// PostgreSQL: the demo workspace is seeded once, every start prints a
// working admin token, the API refuses requests without one, and SIGTERM
// stops the server cleanly.
func TestServeDemo(t *testing.T) {
	t.Parallel()
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			db := storetest.URL(t, dialect)
			counts := func(s *server) string {
				status, out := s.query(t, s.token, `{ organizations { totalCount } contacts { totalCount } deals { totalCount } pipelines { totalCount } }`)
				if status != 200 || out["errors"] != nil {
					t.Fatalf("status %d: %v", status, out)
				}
				b, _ := json.Marshal(out["data"])
				return string(b)
			}
			s := startServer(t, db, "--demo")
			if !strings.HasPrefix(s.token, "rpt_") {
				t.Fatalf("token %q", s.token)
			}
			first := counts(s)
			var data struct {
				Organizations, Contacts, Deals, Pipelines struct{ TotalCount int }
			}
			_ = json.Unmarshal([]byte(first), &data)
			if data.Organizations.TotalCount < 100 || data.Contacts.TotalCount < 500 || data.Deals.TotalCount < 1000 || data.Pipelines.TotalCount != 3 {
				t.Errorf("demo counts %s", first)
			}
			status, out := s.query(t, "", `{ contacts { totalCount } }`)
			if status != http.StatusUnauthorized || !strings.Contains(toJSON(out), "UNAUTHENTICATED") {
				t.Errorf("no token: %d %v", status, out)
			}
			for _, path := range []string{"/healthz", "/readyz"} {
				// --demo waits for the plugins, so the server is ready
				// when it prints its address.
				res, err := http.Get(s.url + path)
				if err != nil || res.StatusCode != 200 {
					t.Errorf("%s: %v %v", path, res, err)
				}
			}
			// The demo puts the bundled models to work: IDIC scores and the
			// value chain segments organizations, and every report runs.
			status, out = s.query(t, s.token, `{ plugins { name status } extensionBindings { point subjectType plugin }
				organizations(first: 1) { edges { node { scores { plugin label } } } }
				runReport(plugin: "fiveprocess") { sections { key kpis { value } } } }`)
			if status != 200 || out["errors"] != nil {
				t.Fatalf("models: %d %v", status, out)
			}
			if got := toJSON(out["data"]); !strings.Contains(got, `"plugin":"idic","point":"score","subjectType":"organization"`) ||
				!strings.Contains(got, `"plugin":"valuechain","point":"segment","subjectType":"contact"`) || !strings.Contains(got, `"scores":[{"label":`) ||
				strings.Count(got, `"status":"ready"`) < 4 || strings.Count(got, `"key":`) != 5 {
				t.Errorf("demo models: %s", got)
			}
			checkDemoSegments(t, s, db)
			s.stop(t)
			// The same reports from the command line, as JSON and CSV.
			for plugin, version := range map[string]string{"idic": "1.1.0", "qci": "1.1.0", "fiveprocess": "1.0.0", "valuechain": "1.0.0"} {
				got, err := run(t, "report", "--db", db, "--workspace", "demo", "--plugin", plugin, "-o", "json")
				var rep struct {
					Plugin   string
					Sections []struct{ Key string }
				}
				if err != nil || json.Unmarshal([]byte(got), &rep) != nil || rep.Plugin != plugin+"@"+version || len(rep.Sections) < 3 {
					t.Errorf("rapport report --plugin %s: %v\n%.500s", plugin, err, got)
				}
			}
			if got, err := run(t, "report", "--db", db, "--workspace", "demo", "--plugin", "valuechain", "-o", "csv"); err != nil || !strings.HasPrefix(got, "section,part,key,label,value,unit\n") || !strings.Contains(got, "portfolio,kpi,customers_placed,") {
				t.Errorf("csv: %v\n%.300s", err, got)
			}
			if got, err := run(t, "plugin", "compare", "--db", db, "--workspace", "demo", "--subject", "contact", "--baseline", "idic", "--candidate", "idic@1.1.0", "-o", "json"); err != nil || !strings.Contains(got, `"top_k_overlap": 1`) {
				t.Errorf("compare: %v\n%.300s", err, got)
			}
			checkRollupCommands(t, db)

			again := startServer(t, db, "--demo")
			if again.token == s.token || counts(again) != first {
				t.Errorf("second start: token reused or data changed: %s vs %s", counts(again), first)
			}
			// The first token still works too.
			if status, _ := again.query(t, s.token, `{ viewer { role } }`); status != 200 {
				t.Errorf("first token refused: %d", status)
			}
			again.stop(t)
		})
	}
}

func TestWorkspaceAndTokenCommands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "cli.db")
	if _, err := run(t, "--db", db, "workspace", "create", "acme", "--name", "Acme Inc"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "--db", db, "workspace", "create", "acme"); err == nil {
		t.Error("duplicate workspace accepted")
	}
	tok, err := run(t, "--db", db, "token", "create", "--workspace", "acme", "--role", "viewer")
	if err != nil || !regexp.MustCompile(`^rpt_[a-z2-7]{52}\n$`).MatchString(tok) {
		t.Fatalf("token create printed %q, %v", tok, err)
	}
	if _, err := run(t, "--db", db, "token", "create", "--workspace", "nope", "--role", "viewer"); err == nil {
		t.Error("token for unknown workspace")
	}
	out, err := run(t, "--db", db, "token", "list", "--workspace", "acme", "--output", "json")
	var list []map[string]string
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0]["role"] != "viewer" || strings.Contains(out, strings.TrimSpace(tok)) {
		t.Fatalf("token list: %q %v", out, err)
	}
	out, err = run(t, "--db", db, "workspace", "list", "--output", "csv")
	if err != nil || !strings.HasPrefix(out, "slug,name,id,created_at\nacme,Acme Inc,wsp_") {
		t.Fatalf("workspace list csv: %q %v", out, err)
	}
	out, err = run(t, "--db", db, "migrate", "--status")
	if err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("migrate --status: %q %v", out, err)
	}
	t.Setenv("RAPPORT_DB", db)
	out, err = run(t, "workspace", "list")
	if err != nil || !strings.Contains(out, "acme") {
		t.Fatalf("RAPPORT_DB not honoured: %q %v", out, err)
	}
}

func TestSchemaPrint(t *testing.T) {
	out, err := run(t, "schema", "print")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"type Contact implements Node", "bulkCreateContacts(input: [CreateContactInput!]!): [Contact!]!", "moveDeal(id: ID!, stageID: ID!): Deal!", "scalar Money"} {
		if !strings.Contains(out, want) {
			t.Errorf("schema lacks %q", want)
		}
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestBenchScore(t *testing.T) {
	out, err := run(t, "bench", "score", "--n", "5000", "--batch", "500", "--plugin", "../../examples/leadscore", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res benchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Items != 5000 || res.NativeItemsPerS <= 0 || res.WASMItemsPerS <= 0 || res.WASMToNative <= 0 || res.WASMMatchesNativeTo > 1e-9 {
		t.Errorf("bench result %+v", res)
	}
	// The process build is the same native code: bit-identical answers.
	if res.ProcessItemsPerS <= 0 || res.ProcessToNative <= 0 || res.ProcessEmptyMicros <= 0 || res.ProcessMatches != 0 {
		t.Errorf("process bench result %+v", res)
	}
}

// TestProcessPlugin builds the example scorer as a process plugin and
// inspects, tests, invokes and lists it beside its WASM build.
func TestProcessPlugin(t *testing.T) {
	prog, err := run(t, "plugin", "build", "--runtime", "process", "../../examples/leadscore")
	if err != nil {
		t.Fatal(err)
	}
	plugins := t.TempDir()
	dir := filepath.Join(plugins, "leadscore-process")
	os.MkdirAll(dir, 0o755)
	b, err := os.ReadFile(strings.TrimSpace(prog))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "plugin-process"), b, 0o755)
	m, _ := os.ReadFile("../../examples/leadscore/plugin.json")
	m = bytes.Replace(m, []byte(`"runtime": "wasm"`), []byte(`"runtime": "process"`), 1)
	m = bytes.Replace(m, []byte(`"module": "plugin.wasm"`), []byte(`"command": ["plugin-process"]`), 1)
	m = bytes.Replace(m, []byte(`"version": "1.0.0"`), []byte(`"version": "1.0.0-process"`), 1)
	os.WriteFile(filepath.Join(dir, "plugin.json"), m, 0o644)

	out, err := run(t, "plugin", "inspect", dir)
	if err != nil || !strings.Contains(out, `"program"`) || !strings.Contains(out, `"protocol": 2`) {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	if _, err := run(t, "plugin", "test", dir); err != nil {
		t.Errorf("conformance: %v", err)
	}
	cmd := newRootCmd()
	var answer bytes.Buffer
	cmd.SetOut(&answer)
	cmd.SetIn(strings.NewReader(`{"subject_type":"lead","columns":{"estimated_value":[999999],"source":["referral"],"status":["contacted"],
		"has_email":[1],"has_phone":[true],"has_company":[0],"activity_count":[5],"age_days":[0]}}`))
	cmd.SetArgs([]string{"plugin", "invoke", dir})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(answer.String(), `"label": "hot"`) {
		t.Errorf("invoke answered %s", answer.String())
	}
	if _, err := run(t, "plugin", "build", "../../examples/leadscore"); err != nil {
		t.Fatal(err)
	}
	wasmDir := filepath.Join(plugins, "leadscore-wasm")
	os.MkdirAll(wasmDir, 0o755)
	for _, f := range []string{"plugin.json", "plugin.wasm"} {
		b, _ := os.ReadFile(filepath.Join("../../examples/leadscore", f))
		os.WriteFile(filepath.Join(wasmDir, f), b, 0o644)
	}
	list, err := run(t, "plugin", "list", "--plugins", plugins, "--plugin-start", "boot", "--output", "csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"leadscore,1.0.0,wasm,score,lead,example,ready", "leadscore,1.0.0-process,process,score,lead,example,ready"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
}

// TestPluginInvokeAndTest builds the example scorer, calls it on two leads
// given as JSON and runs the conformance kit on it.
func TestPluginInvokeAndTest(t *testing.T) {
	if _, err := run(t, "plugin", "build", "../../examples/leadscore"); err != nil {
		t.Fatal(err)
	}
	in := `{"subject_type":"lead","columns":{"estimated_value":[999999,null],"source":["referral",null],"status":["contacted",null],
		"has_email":[1,null],"has_phone":[true,null],"has_company":[0,null],"activity_count":[5,null],"age_days":[0,null],"budget":[999,null],"calls":[2,null]}}`
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetIn(strings.NewReader(in))
	cmd.SetArgs([]string{"plugin", "invoke", "../../examples/leadscore"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got []struct {
		Value float64
		Label string
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 2 {
		t.Fatalf("%v: %s", err, out.String())
	}
	// Hand-computed in examples/leadscore's TestHandComputed: 78.3212038 hot, and 15.5 cold for a lead with nothing known.
	if got[0].Value < 78.32120 || got[0].Value > 78.32121 || got[0].Label != "hot" || got[1].Value != 15.5 || got[1].Label != "cold" {
		t.Errorf("invoke answered %+v", got)
	}
	if _, err := run(t, "plugin", "test", "../../examples/leadscore"); err != nil {
		t.Errorf("conformance: %v", err)
	}
	bad := newRootCmd()
	bad.SetOut(io.Discard)
	bad.SetIn(strings.NewReader(`{"subject_type":"lead","columns":{"a":[1,2],"b":[1]}}`))
	bad.SetArgs([]string{"plugin", "invoke", "../../examples/leadscore"})
	if err := bad.ExecuteContext(context.Background()); err == nil || !strings.Contains(err.Error(), "input") {
		t.Errorf("ragged input: %v", err)
	}
}

// FuzzInvokeInput: no JSON makes the batch builder panic, and what it
// accepts is a valid batch.
func FuzzInvokeInput(f *testing.F) {
	f.Add(`{"subject_type":"lead","columns":{"a":[1,null],"b":["x",null]}}`)
	f.Add(`{"columns":{"a":[true,"x"]}}`)
	f.Add(`{"ids":["a"]}`)
	f.Fuzz(func(t *testing.T, s string) {
		var in invokeInput
		if json.Unmarshal([]byte(s), &in) != nil {
			return
		}
		b, err := in.batch()
		if err == nil && b.Validate() != nil {
			t.Fatalf("accepted an invalid batch from %q", s)
		}
	})
}
