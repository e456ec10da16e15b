package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/extension/build"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/examples/leadscore"
	"github.com/rapportcrm/rapport/sdk"
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
}

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bench", Short: "Measure plugin runtimes"}
	var (
		n, batch int
		dir      string
		output   string
	)
	score := &cobra.Command{
		Use:   "score",
		Short: "Score synthetic leads natively and through the WASM build of the same scorer, in one run",
		Long: `Scores N synthetic leads with the example lead scorer (examples/leadscore):
natively, as a Go function on Go values (no encoding: the physical limit), and
as its WASM build, in batches, including the host's columnar encoding and the
decoding of the answers. Reports leads per second and their ratio.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			res, err := benchScore(ctx, dir, n, batch)
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			t := table{Columns: []string{"runtime", "leads_per_s", "ratio_to_native"}, Rows: [][]string{
				{"native", fmt.Sprintf("%.0f", res.NativeItemsPerS), "1"},
				{"wasm", fmt.Sprintf("%.0f", res.WASMItemsPerS), fmt.Sprintf("%.3f", res.WASMToNative)},
			}}
			if err := t.write(cmd.OutOrStdout(), output); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%d leads, batches of %d; empty WASM call %.1f µs; module %d bytes, loaded in %.0f ms\n",
				res.Items, res.Batch, res.EmptyCallMicros, res.ModuleBytes, res.ModuleLoadMillis)
			return nil
		},
	}
	score.Flags().IntVar(&n, "n", 1_000_000, "leads to score")
	score.Flags().IntVar(&batch, "batch", 1000, "leads per WASM call")
	score.Flags().StringVar(&dir, "plugin", "examples/leadscore", "the example scorer's directory (built with rapport plugin build)")
	score.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	cmd.AddCommand(score)
	return cmd
}

func benchScore(ctx context.Context, dir string, n, batch int) (*benchResult, error) {
	if n <= 0 || batch <= 0 {
		return nil, fmt.Errorf("--n and --batch must be positive")
	}
	path, err := build.Build(ctx, build.Options{Dir: dir})
	if err != nil {
		return nil, err
	}
	code, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	engine, err := wasm.NewEngine(wasm.Config{CacheDir: defaultCacheDir(), MaxTimeout: time.Minute})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	mod, err := engine.Load(ctx, "leadscore@bench", code, wasm.Limits{Timeout: time.Minute}, wasm.Grants{})
	if err != nil {
		return nil, err
	}
	defer mod.Close(ctx)
	res := &benchResult{Items: n, Batch: batch, ModuleBytes: len(code), ModuleLoadMillis: float64(time.Since(start).Microseconds()) / 1000}
	leads := leadscore.Synthetic(n)

	values := make([]float64, n)
	contrib := make([][8]float64, n)
	start = time.Now()
	for i := range leads {
		values[i] = leadscore.ScoreLead(&leads[i], &contrib[i])
	}
	res.NativeItemsPerS = float64(n) / time.Since(start).Seconds()

	cols := leadscore.NewColumns(batch)
	start = time.Now()
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		resp, err := mod.Score(ctx, cols.Fill(leads[lo:hi]))
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

	empty := &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead"}}
	const calls = 2000
	start = time.Now()
	for range calls {
		if _, err := mod.Score(ctx, empty); err != nil {
			return nil, err
		}
	}
	res.EmptyCallMicros = float64(time.Since(start).Microseconds()) / calls
	return res, nil
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
