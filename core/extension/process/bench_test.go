package process_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/examples/leadscore"
	"github.com/rapportcrm/rapport/sdk"
)

const (
	benchLeads = 1_000_000
	benchBatch = 1000
	// inFlight is how many batches the process benchmark keeps in flight,
	// as a host scoring several workspaces or pages at once would.
	inFlight = 4
)

var (
	benchOnce sync.Once
	benchData []leadscore.Lead
)

func leadsForBench() []leadscore.Lead {
	benchOnce.Do(func() { benchData = leadscore.Synthetic(benchLeads) })
	return benchData
}

// nativeRate scores every lead natively (ScoreLead on Go values, the
// physical limit) and returns leads per second.
func nativeRate(leads []leadscore.Lead) float64 {
	values := make([]float64, len(leads))
	contrib := make([][8]float64, len(leads))
	start := time.Now()
	for i := range leads {
		values[i] = leadscore.ScoreLead(&leads[i], &contrib[i])
	}
	return float64(len(leads)) / time.Since(start).Seconds()
}

// BenchmarkLeads scores 1,000,000 synthetic leads with the example scorer
// in batches of 1,000: natively, through its WASM build and through its
// process build, in one run. Encoding, the call and decoding are inside
// the timings. Each reports leads/s and its ratio to native (x_native);
// the process runtime keeps 4 batches in flight ("process") or one
// ("process-sequential").
func BenchmarkLeads(b *testing.B) {
	leads := leadsForBench()
	native := nativeRate(leads)
	ctx := context.Background()
	report := func(b *testing.B, start time.Time) {
		rate := float64(b.N*len(leads)) / time.Since(start).Seconds()
		b.ReportMetric(rate, "leads/s")
		b.ReportMetric(rate/native, "x_native")
	}
	b.Run("native", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			native = max(native, nativeRate(leads))
		}
		report(b, start)
	})
	b.Run("wasm", func(b *testing.B) {
		code, err := os.ReadFile(filepath.Join(extensiontest.Plugins(b), "leadscore", "plugin.wasm"))
		if err != nil {
			b.Fatal(err)
		}
		e, err := wasm.NewEngine(wasm.Config{CacheDir: filepath.Join(os.TempDir(), "rapport-wasm-test-cache")})
		if err != nil {
			b.Fatal(err)
		}
		m, err := e.Load(ctx, "leadscore@bench", code, wasm.Limits{Timeout: time.Minute}, wasm.Grants{})
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close(ctx)
		cols := leadscore.NewColumns(benchBatch)
		start := time.Now()
		for b.Loop() {
			for lo := 0; lo < len(leads); lo += benchBatch {
				if _, err := m.Score(ctx, cols.Fill(leads[lo:min(lo+benchBatch, len(leads))])); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b, start)
	})
	_, c := leadscoreClient(b)
	for _, par := range []int{inFlight, 1} {
		name := "process"
		if par == 1 {
			name = "process-sequential"
		}
		b.Run(name, func(b *testing.B) {
			start := time.Now()
			for b.Loop() {
				if err := scoreAll(ctx, c, leads, par); err != nil {
					b.Fatal(err)
				}
			}
			report(b, start)
		})
	}
}

// scorer is what scoreAll calls.
type scorer interface {
	Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error)
}

// scoreAll scores leads in batches, par batches in flight.
func scoreAll(ctx context.Context, s scorer, leads []leadscore.Lead, par int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, par)
	for w := range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cols := leadscore.NewColumns(benchBatch)
			for {
				lo := int(next.Add(benchBatch)) - benchBatch
				if lo >= len(leads) {
					return
				}
				if _, err := s.Score(ctx, cols.Fill(leads[lo:min(lo+benchBatch, len(leads))])); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkEmptyBatch is the round trip of a call of no subjects: the
// fixed cost of one process call.
func BenchmarkEmptyBatch(b *testing.B) {
	_, c := leadscoreClient(b)
	req := &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead"}}
	ctx := context.Background()
	for b.Loop() {
		if _, err := c.Score(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
