package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/build"
	"github.com/rapportcrm/rapport/core/extension/process"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/examples/leadscore"
	"github.com/rapportcrm/rapport/internal/round"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/inputs"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

// benchResult is what `rapport bench score` reports.
type benchResult struct {
	Items               int     `json:"items"`
	Batch               int     `json:"batch"`
	NativeItemsPerS     float64 `json:"native_items_per_s"`
	WASMItemsPerS       float64 `json:"wasm_items_per_s"`
	WASMToNative        float64 `json:"wasm_to_native"`
	EmptyCallMicros     float64 `json:"wasm_empty_call_us"`
	ModuleBytes         int     `json:"wasm_module_bytes"`
	ModuleLoadMillis    float64 `json:"wasm_load_ms"`
	WASMMatchesNativeTo float64 `json:"wasm_max_abs_difference"`
	// The process figures are left out when there is no process build
	// to measure: the scorer's directory holds no Go source.
	ProcessItemsPerS   float64 `json:"process_items_per_s,omitempty"`
	ProcessToNative    float64 `json:"process_to_native,omitempty"`
	ProcessEmptyMicros float64 `json:"process_empty_call_us,omitempty"`
	ProcessInFlight    int     `json:"process_in_flight,omitempty"`
	ProcessMatches     float64 `json:"process_max_abs_difference,omitempty"`
}

// rounded is a copy of r with its measurements rounded by round.Measure,
// as every command shows figures.
func (r benchResult) rounded() benchResult {
	for _, f := range []*float64{&r.NativeItemsPerS, &r.WASMItemsPerS, &r.WASMToNative, &r.EmptyCallMicros, &r.ModuleLoadMillis,
		&r.WASMMatchesNativeTo, &r.ProcessItemsPerS, &r.ProcessToNative, &r.ProcessEmptyMicros, &r.ProcessMatches} {
		*f = round.Measure(*f)
	}
	return r
}

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure plugin runtimes"}
	var (
		n, batch int
		inFlight int
		dir      string
		output   string
	)
	score := &cobra.Command{
		Use:   "score",
		Short: "Score synthetic leads natively and through the WASM and process builds of the same scorer, in one run",
		Long: `Scores N synthetic leads with the example lead scorer (examples/leadscore)
natively, as a Go function on Go values (no encoding: the physical limit), and
with the scorer in --plugin DIR: its WASM module, and its process build (with
--in-flight batches in flight at once), in batches, including the host's
columnar encoding and the decoding of the answers. Reports leads per second
and their ratios to native, and how far the plugin's values are from the
native example's (nothing when DIR is the example, in any language).

DIR holds plugin.json. When it also holds the plugin's Go source, both builds
are made from it first; otherwise the module the manifest names is taken as
built (any language, anywhere), and there is no process build. The plugin
gets the columns its manifest asks for among the synthetic leads' (estimated_value,
source, status, has_email, has_phone, has_company, activity_count, age_days)
and its config_schema's defaults.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			res, err := benchScore(ctx, dir, n, batch, inFlight)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), res.rounded())
			}
			t := table{Columns: []string{"runtime", "leads_per_s", "ratio_to_native"}, Rows: [][]any{
				{"native", res.NativeItemsPerS, 1},
				{"wasm", res.WASMItemsPerS, res.WASMToNative},
			}}
			if res.ProcessInFlight > 0 {
				t.Rows = append(t.Rows, []any{"process", res.ProcessItemsPerS, res.ProcessToNative})
			}
			if err := t.write(cmd.OutOrStdout(), output); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d leads, batches of %d (%d in flight to the process); empty call: WASM %.1f µs, process %.1f µs; module %d bytes, loaded in %.0f ms\n",
				res.Items, res.Batch, res.ProcessInFlight, res.EmptyCallMicros, res.ProcessEmptyMicros, res.ModuleBytes, res.ModuleLoadMillis)
			return nil
		},
	}
	score.Flags().IntVar(&n, "n", 1_000_000, "leads to score")
	score.Flags().IntVar(&batch, "batch", 1000, "leads per call")
	score.Flags().IntVar(&inFlight, "in-flight", 4, "batches in flight at once to the process plugin")
	score.Flags().StringVar(&dir, "plugin", "examples/leadscore", "the scorer's directory: plugin.json with its Go source or its built module")
	score.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	cmd.AddCommand(score)
	return cmd
}

func benchScore(ctx context.Context, dir string, n, batch, inFlight int) (*benchResult, error) {
	if n <= 0 || batch <= 0 || inFlight <= 0 {
		return nil, fmt.Errorf("--n, --batch and --in-flight must be positive")
	}
	m, err := manifest.Load(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return nil, err
	}
	if !m.Implements(sdk.PointScore) || (len(m.Subjects) > 0 && !slices.Contains(m.Subjects, "lead")) {
		return nil, fmt.Errorf("%s does not score leads", m.Ref())
	}
	columns, err := benchColumns(m)
	if err != nil {
		return nil, err
	}
	cfg, err := extension.ConfigFor(m, nil)
	if err != nil {
		return nil, err
	}
	// Go source means a Go plugin to build; tests alone (a plugin in
	// another language tested from Go) do not.
	goSource, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	goSource = slices.DeleteFunc(goSource, func(f string) bool { return strings.HasSuffix(f, "_test.go") })
	path := filepath.Join(dir, filepath.FromSlash(m.Module))
	if len(goSource) > 0 {
		if path, err = build.Build(ctx, build.Options{Dir: dir, Runtime: "wasm"}); err != nil {
			return nil, err
		}
	} else if m.Module == "" {
		return nil, fmt.Errorf("%s: no Go source to build and no module named in its manifest", dir)
	}
	code, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (build it first)", err)
	}
	engine, err := wasm.NewEngine(wasm.Config{CacheDir: defaultCacheDir(), MaxTimeout: time.Minute})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	mod, err := engine.Load(ctx, m.Ref(), code, wasm.Limits{Timeout: time.Minute, MemoryPages: uint32(m.Limits.MemoryPages)}, wasm.Grants{})
	if err != nil {
		return nil, err
	}
	defer mod.Close(ctx)
	res := &benchResult{Items: n, Batch: batch, ModuleBytes: len(code), ModuleLoadMillis: float64(time.Since(start).Microseconds()) / 1000}
	leads := leadscore.Synthetic(n)

	values := make([]float64, n)
	contrib := make([][leadscore.NumFactors]float64, n)
	start = time.Now()
	for i := range leads {
		values[i] = leadscore.ScoreLead(&leads[i], &contrib[i])
	}
	res.NativeItemsPerS = float64(n) / time.Since(start).Seconds()

	cols := newBenchColumns(batch, columns, cfg)
	start = time.Now()
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		resp, err := mod.Score(ctx, cols.fill(leads[lo:hi]))
		if err != nil {
			return nil, err
		}
		for i, v := range resp.Values {
			if d := abs(v - values[lo+i]); d > res.WASMMatchesNativeTo {
				res.WASMMatchesNativeTo = d
			}
		}
	}
	res.WASMItemsPerS = float64(n) / time.Since(start).Seconds()
	res.WASMToNative = res.WASMItemsPerS / res.NativeItemsPerS

	empty := &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead"}, Config: cfg}
	const calls = 2000
	start = time.Now()
	for range calls {
		if _, err := mod.Score(ctx, empty); err != nil {
			return nil, err
		}
	}
	res.EmptyCallMicros = float64(time.Since(start).Microseconds()) / calls

	if len(goSource) > 0 {
		if err := benchProcess(ctx, dir, res, leads, values, inFlight, empty, columns, cfg); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// benchColumns is which of the synthetic leads' columns (indexes into
// what leadscore.Columns fills) the manifest asks for, in its order.
func benchColumns(m *manifest.Manifest) ([]int, error) {
	all := leadscore.NewColumns(0).Fill(nil).Batch.Columns
	var names []string
	for _, c := range all {
		names = append(names, c.Name)
	}
	var out []int
	for k, attr := range m.Inputs["lead"] {
		// A declared input's column is named by its name: "budget" for
		// "budget = custom.budget:number".
		name := attr
		if in, err := inputs.Parse("lead", k, attr); err == nil {
			name = in.Name
		}
		i := slices.Index(names, name)
		if i < 0 {
			return nil, fmt.Errorf("%s asks for lead input %q; the synthetic leads have %s", m.Ref(), attr, strings.Join(names, ", "))
		}
		out = append(out, i)
	}
	return out, nil
}

// benchColumnSet encodes synthetic leads as requests holding the columns a
// plugin asks for and its config, reusing its buffers.
type benchColumnSet struct {
	all     *leadscore.Columns
	columns []int
	req     sdk.ScoreRequest
}

func newBenchColumns(size int, columns []int, cfg []byte) *benchColumnSet {
	return &benchColumnSet{all: leadscore.NewColumns(size), columns: columns, req: sdk.ScoreRequest{Config: cfg}}
}

// fill encodes leads as a request; the request is reused by the next fill.
func (c *benchColumnSet) fill(leads []leadscore.Lead) *sdk.ScoreRequest {
	full := c.all.Fill(leads)
	c.req.Batch.SubjectType, c.req.Batch.Count = full.Batch.SubjectType, full.Batch.Count
	c.req.Batch.Columns = c.req.Batch.Columns[:0]
	for _, i := range c.columns {
		c.req.Batch.Columns = append(c.req.Batch.Columns, full.Batch.Columns[i])
	}
	return &c.req
}

// benchProcess scores leads through the process build, inFlight batches
// at a time, and measures an empty call.
func benchProcess(ctx context.Context, dir string, res *benchResult, leads []leadscore.Lead, values []float64, inFlight int, empty *sdk.ScoreRequest, columns []int, cfg []byte) error {
	prog, err := build.Build(ctx, build.Options{Dir: dir, Runtime: "process"})
	if err != nil {
		return err
	}
	c := process.New(process.Config{Name: "leadscore@bench", Command: []string{prog}, Dir: filepath.Dir(prog), Timeout: time.Minute})
	defer c.Close(ctx)
	if err := c.Start(ctx); err != nil {
		return err
	}
	res.ProcessInFlight = inFlight
	n, batch := res.Items, res.Batch
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, inFlight)
	diffs := make([]float64, inFlight)
	start := time.Now()
	for w := range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cols := newBenchColumns(batch, columns, cfg)
			for {
				lo := int(next.Add(int64(batch))) - batch
				if lo >= n {
					return
				}
				resp, err := c.Score(ctx, cols.fill(leads[lo:min(lo+batch, n)]))
				if err != nil {
					errs[w] = err
					return
				}
				for i, v := range resp.Values {
					diffs[w] = max(diffs[w], abs(v-values[lo+i]))
				}
			}
		}()
	}
	wg.Wait()
	res.ProcessItemsPerS = float64(n) / time.Since(start).Seconds()
	res.ProcessToNative = res.ProcessItemsPerS / res.NativeItemsPerS
	for w := range inFlight {
		if errs[w] != nil {
			return errs[w]
		}
		res.ProcessMatches = max(res.ProcessMatches, diffs[w])
	}
	const calls = 2000
	start = time.Now()
	for range calls {
		if _, err := c.Score(ctx, empty); err != nil {
			return err
		}
	}
	res.ProcessEmptyMicros = float64(time.Since(start).Microseconds()) / calls
	return nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
