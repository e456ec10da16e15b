package extension_test

import (
	"context"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/extension/process"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/examples/leadscore"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

// waitFor polls cond every 20 ms for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gone reports whether process pid no longer exists (or is a zombie).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

// TestBothRuntimesSideBySide loads a WASM and a process plugin from one
// directory and scores through both; the process one is reported up in
// the metrics once it runs.
func TestBothRuntimesSideBySide(t *testing.T) {
	dir := t.TempDir()
	if err := copyPlugin(filepath.Join(plugins(t), "leadscore"), filepath.Join(dir, "wasm")); err != nil {
		t.Fatal(err)
	}
	proc := filepath.Join(extensiontest.ProcessPlugins(t), "leadscore")
	b, _ := os.ReadFile(filepath.Join(proc, "plugin.json"))
	os.MkdirAll(filepath.Join(dir, "process"), 0o755)
	// The same plugin under another version, so that both load.
	os.WriteFile(filepath.Join(dir, "process", "plugin.json"), []byte(strings.Replace(string(b), `"1.0.0"`, `"1.0.0-process"`, 1)), 0o644)
	bin, _ := os.ReadFile(filepath.Join(proc, "plugin-process"))
	os.WriteFile(filepath.Join(dir, "process", "plugin-process"), bin, 0o755)

	e, err := wasm.NewEngine(wasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	r, err := extension.NewRegistry(context.Background(), extension.Config{Dirs: []string{dir}, Engine: e, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())
	leads := leadscore.Synthetic(3000)
	req := leadscore.NewColumns(len(leads)).Fill(leads)
	var answers []*sdk.ScoreResponse
	for _, v := range []string{"1.0.0", "1.0.0-process"} {
		p, err := r.Get("leadscore", v)
		if err != nil || p.Status != "ready" {
			t.Fatalf("%s: %v %v", v, p, err)
		}
		resp, err := r.Score(context.Background(), p, req)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		answers = append(answers, resp)
	}
	for i := range leads {
		if !close(answers[0].Values[i], answers[1].Values[i]) || answers[0].Label(i) != answers[1].Label(i) {
			t.Fatalf("lead %d: wasm %v, process %v", i, answers[0].Values[i], answers[1].Values[i])
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	up := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "rapport_plugin_up" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := ""
			for _, l := range m.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + " "
			}
			up[strings.TrimSpace(labels)] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{"plugin=leadscore@1.0.0 runtime=wasm": 1, "plugin=leadscore@1.0.0-process runtime=process": 1}
	if !maps.Equal(up, want) {
		t.Errorf("rapport_plugin_up: %v, want %v", up, want)
	}
}

// close reports whether a and b agree to 1e-12 relative.
func close(a, b float64) bool { return a == b || math.Abs(a-b) <= 1e-12*max(1, math.Abs(b)) }

// TestCloseStopsProcesses starts process plugins at boot, closes the
// registry and finds their processes gone.
func TestCloseStopsProcesses(t *testing.T) {
	e, err := wasm.NewEngine(wasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := extension.NewRegistry(context.Background(), extension.Config{Dirs: []string{extensiontest.ProcessPlugins(t)}, Engine: e, ProcessStart: process.StartBoot})
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range r.List() {
		pid := extension.PluginPID(p)
		if pid == 0 || p.Status != "ready" {
			t.Fatalf("%s at boot: pid %d, %s", p.Ref(), pid, p.Status)
		}
		pids = append(pids, pid)
	}
	if len(pids) != 2 {
		t.Fatalf("%d plugins", len(pids))
	}
	r.Close(context.Background())
	for _, pid := range pids {
		if !gone(pid) {
			t.Errorf("process %d still runs after Close", pid)
		}
	}
}

// TestKilledProcessFailsBatch kills a process plugin during a scoring
// run: the batch fails with PLUGIN_FAILED at once and writes nothing, the
// process is back within seconds, and the next run scores everything.
func TestKilledProcessFailsBatch(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	r := extensiontest.Registry(t, extensiontest.ProcessPlugins(t))
	a := workspace(t, st, "alpha", 800)
	mark := filepath.Join(t.TempDir(), "called")
	if _, err := r.Bind(a, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "sleeper", Version: "0.1.0",
		Config: map[string]any{"sleep_ms": 60000, "mark": mark}}); err != nil {
		t.Fatal(err)
	}
	type result struct {
		run *extension.ScoreRun
		err error
	}
	done := make(chan result, 1)
	go func() {
		run, err := r.ScoreSubjects(a, st.Client, extension.ScoreOptions{SubjectType: "lead"})
		done <- result{run, err}
	}()
	waitFor(t, 30*time.Second, "the batch reaches the plugin", func() bool { _, err := os.Stat(mark); return err == nil })
	p, _ := r.Get("sleeper", "0.1.0")
	pid := extension.PluginPID(p)
	start := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("scoring hangs after the plugin process died")
	}
	if errcode.Of(res.err) != errcode.PluginFailed || res.run == nil || res.run.Scored != 0 || res.run.FailedBatches != 1 {
		t.Fatalf("after %v: run %+v, err %v", time.Since(start), res.run, res.err)
	}
	if n, _ := st.Client.Score.Query().Count(a); n != 0 {
		t.Fatalf("%d scores written", n)
	}
	waitFor(t, 20*time.Second, "a new process", func() bool {
		p, _ := r.Get("sleeper", "0.1.0")
		q := extension.PluginPID(p)
		return q != 0 && q != pid
	})
	if _, err := r.Bind(a, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "sleeper", Version: "0.1.0"}); err != nil {
		t.Fatal(err)
	}
	if run, err := r.ScoreSubjects(a, st.Client, extension.ScoreOptions{SubjectType: "lead"}); err != nil || run.Scored != 800 {
		t.Fatalf("after restart: %+v %v", run, err)
	}
}

// TestOneSourceTwoRuntimes builds every Go plugin under examples/ and
// plugins/ for both runtimes: each build passes the conformance kit, and
// both give the same answers to the same requests (labels and segments
// identical, numbers to 1e-12 relative: Go's math functions are assembly
// on amd64 and portable Go on wasm, which can differ in the last bit).
func TestOneSourceTwoRuntimes(t *testing.T) {
	if raceDetector {
		t.Skip("builds every plugin twice; the ordinary test run covers it")
	}
	root := extensiontest.Root()
	var dirs []string
	for _, parent := range []string{"examples", "plugins"} {
		found, _ := filepath.Glob(filepath.Join(root, parent, "*", manifest.FileName))
		for _, f := range found {
			gos, _ := filepath.Glob(filepath.Join(filepath.Dir(f), "*.go"))
			tests, _ := filepath.Glob(filepath.Join(filepath.Dir(f), "*_test.go"))
			if len(gos) > len(tests) {
				dirs = append(dirs, filepath.Dir(f))
			}
		}
	}
	if len(dirs) == 0 {
		t.Fatal("no Go plugins found")
	}
	e, err := wasm.NewEngine(wasm.Config{CacheDir: filepath.Join(os.TempDir(), "rapport-wasm-test-cache")})
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range dirs {
		t.Run(filepath.Base(src), func(t *testing.T) {
			var targets []pluginkit.Target
			for _, runtime := range []string{"wasm", "process"} {
				out := filepath.Join(t.TempDir(), runtime)
				if err := extensiontest.BuildAs(src, out, runtime); err != nil {
					t.Fatal(err)
				}
				targets = append(targets, target(t, e, out))
			}
			for i, target := range targets {
				results, err := pluginkit.Suite{}.Check(context.Background(), target)
				if err != nil {
					t.Fatal(err)
				}
				for _, res := range results {
					if res.Failed() {
						t.Errorf("%s build, %s: %s", []string{"wasm", "process"}[i], res.Name, strings.Join(res.Problems, "; "))
					}
				}
			}
			compareRuntimes(t, targets[0], targets[1])
		})
	}
}

// target loads the plugin in dir as `rapport plugin test` does.
func target(t *testing.T, e *wasm.Engine, dir string) pluginkit.Target {
	t.Helper()
	m, err := manifest.Load(filepath.Join(dir, manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if m.Runtime == "process" {
		c := process.New(process.Config{Name: m.Ref(), Plugin: m.Name, Command: []string{filepath.Join(dir, m.Command[0])}, Dir: dir, Points: m.Points})
		t.Cleanup(func() { c.Close(context.Background()) })
		return extension.ProcessTarget(m, c)
	}
	code, err := os.ReadFile(filepath.Join(dir, m.Module))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := e.Load(context.Background(), m.Ref(), code, wasm.Limits{}, wasm.Grants{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mod.Close(context.Background()) })
	return extension.WASMTarget(m, mod)
}

// compareRuntimes sends a and b the same requests, built from the
// manifest: for each subject type, a batch of 500 with every input as
// numbers (some missing), and one with every input as categories.
func compareRuntimes(t *testing.T, a, b pluginkit.Target) {
	t.Helper()
	m := a.Manifest()
	cfg, err := pluginkit.DefaultConfig(m)
	if err != nil {
		t.Fatal(err)
	}
	subjects := m.Subjects
	if len(subjects) == 0 {
		for s := range m.Inputs {
			subjects = append(subjects, s)
		}
	}
	ctx := context.Background()
	words := []string{"new", "web", "referral", "qualified", "partner"}
	for _, subject := range subjects {
		for _, categorical := range []bool{false, true} {
			const n = 500
			batch := sdk.Batch{SubjectType: subject, Count: n}
			for k, attr := range m.Inputs[subject] {
				if attr == "id" {
					for i := range n {
						batch.IDs = append(batch.IDs, "id"+strconv.Itoa(i))
					}
					continue
				}
				col := sdk.Column{Name: attr}
				for i := range n {
					x := (i*7919 + k*104729) % 1000
					switch {
					case categorical && x%13 == 0:
						col.Codes = append(col.Codes, sdk.Missing)
					case categorical:
						col.Codes = append(col.Codes, uint32(x%len(words)))
					case x%13 == 0:
						col.Numbers = append(col.Numbers, math.NaN())
					default:
						col.Numbers = append(col.Numbers, float64(x)*1.37)
					}
				}
				if categorical {
					col.Dictionary = words
				}
				batch.Columns = append(batch.Columns, col)
			}
			if m.Implements(sdk.PointScore) {
				x, errA := a.Score(ctx, &sdk.ScoreRequest{Batch: batch, Config: cfg})
				y, errB := b.Score(ctx, &sdk.ScoreRequest{Batch: batch, Config: cfg})
				if (errA == nil) != (errB == nil) {
					t.Fatalf("score %s: wasm %v, process %v", subject, errA, errB)
				}
				if errA == nil {
					if !slices.Equal(x.FactorNames, y.FactorNames) || len(x.Values) != len(y.Values) || len(x.Contributions) != len(y.Contributions) {
						t.Fatalf("score %s: shapes differ", subject)
					}
					for i := range x.Values {
						if !close(x.Values[i], y.Values[i]) || x.Label(i) != y.Label(i) {
							t.Fatalf("score %s, subject %d: wasm %v %q, process %v %q", subject, i, x.Values[i], x.Label(i), y.Values[i], y.Label(i))
						}
					}
					for i := range x.Contributions {
						if !close(x.Contributions[i], y.Contributions[i]) {
							t.Fatalf("score %s: contribution %d: wasm %v, process %v", subject, i, x.Contributions[i], y.Contributions[i])
						}
					}
				}
			}
			if m.Implements(sdk.PointSegment) {
				x, errA := a.Segment(ctx, &sdk.SegmentRequest{Batch: batch, Config: cfg})
				y, errB := b.Segment(ctx, &sdk.SegmentRequest{Batch: batch, Config: cfg})
				if (errA == nil) != (errB == nil) {
					t.Fatalf("segment %s: wasm %v, process %v", subject, errA, errB)
				}
				for i := 0; errA == nil && i < n; i++ {
					if !slices.Equal(x.Of(i), y.Of(i)) {
						t.Fatalf("segment %s, subject %d: wasm %v, process %v", subject, i, x.Of(i), y.Of(i))
					}
				}
			}
			if m.Implements(sdk.PointReport) {
				req := &sdk.ReportRequest{Params: []byte("{}"), Config: cfg, Batches: []sdk.Batch{batch}}
				x, errA := a.Report(ctx, req)
				y, errB := b.Report(ctx, req)
				if (errA == nil) != (errB == nil) || (errA == nil && !sameReport(x, y)) {
					t.Fatalf("report %s: wasm %+v %v, process %+v %v", subject, x, errA, y, errB)
				}
			}
		}
	}
}

// sameReport compares reports, numbers to 1e-12 relative.
func sameReport(x, y *sdk.Report) bool {
	if x.Title != y.Title || len(x.Sections) != len(y.Sections) {
		return false
	}
	for i := range x.Sections {
		a, b := x.Sections[i], y.Sections[i]
		if a.Key != b.Key || a.Title != b.Title || a.Summary != b.Summary || len(a.KPIs) != len(b.KPIs) || len(a.Series) != len(b.Series) ||
			!slices.EqualFunc(a.Tables, b.Tables, func(p, q sdk.Table) bool {
				return p.Key == q.Key && p.Title == q.Title && slices.Equal(p.Columns, q.Columns) && slices.EqualFunc(p.Rows, q.Rows, slices.Equal)
			}) {
			return false
		}
		for k := range a.KPIs {
			if a.KPIs[k].Key != b.KPIs[k].Key || !close(a.KPIs[k].Value, b.KPIs[k].Value) {
				return false
			}
		}
		for k := range a.Series {
			if a.Series[k].Name != b.Series[k].Name || !slices.Equal(a.Series[k].Labels, b.Series[k].Labels) ||
				!slices.EqualFunc(a.Series[k].Values, b.Series[k].Values, close) {
				return false
			}
		}
	}
	return true
}

// TestProcessPluginInRelativeDir loads a process plugin from a relative
// plugins directory, as serve's default ./plugins.d is, and scores
// through it: the program's path is resolved against the directory once,
// not again against the process's working directory.
func TestProcessPluginInRelativeDir(t *testing.T) {
	work := t.TempDir()
	proc := filepath.Join(extensiontest.ProcessPlugins(t), "leadscore")
	to := filepath.Join(work, "plugins.d", "leadscore")
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"plugin.json", "plugin-process"} {
		b, err := os.ReadFile(filepath.Join(proc, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, f), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(work)
	r := extensiontest.RegistryWith(t, "plugins.d", extensiontest.Options{ProcessStart: process.StartBoot})
	p, err := r.Get("leadscore", "1.0.0")
	if err != nil || p.Status != "ready" {
		t.Fatalf("plugin %v, err %v", p, err)
	}
	leads := leadscore.Synthetic(10)
	resp, err := r.Score(context.Background(), p, leadscore.NewColumns(len(leads)).Fill(leads))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Values) != len(leads) {
		t.Fatalf("%d values for %d leads", len(resp.Values), len(leads))
	}
}
