package process_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	contrib := make([][leadscore.NumFactors]float64, len(leads))
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
// ("process-sequential"), and reports the processor time each side spent
// per lead (host_cpu_ns, which includes filling the requests, and
// plugin_cpu_ns), steadier than leads/s on a busy machine.
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
			cpu := startCPU(c.PID())
			start := time.Now()
			for b.Loop() {
				if err := scoreAll(ctx, c, leads, par); err != nil {
					b.Fatal(err)
				}
			}
			report(b, start)
			cpu.report(b, float64(b.N*len(leads)), "lead")
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
// fixed cost of one process call, and the processor time each side
// spends on it. BenchmarkTransport has the floor under it.
func BenchmarkEmptyBatch(b *testing.B) {
	_, c := leadscoreClient(b)
	req := &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead"}}
	ctx := context.Background()
	cpu := startCPU(c.PID())
	for b.Loop() {
		if _, err := c.Score(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b, float64(b.N), "op")
}

// cpuClock measures the CPU time the benchmark (host) process and a
// plugin process spend, to tell which side a change helps when the wall
// time is blurred by other work on the machine.
type cpuClock struct {
	pid          int
	host, plugin time.Duration
}

func startCPU(pid int) cpuClock { return cpuClock{pid, hostCPU(), processCPU(pid)} }

// report adds host_cpu_ns/UNIT and plugin_cpu_ns/UNIT for n units.
func (c cpuClock) report(b *testing.B, n float64, unit string) {
	b.ReportMetric(float64(hostCPU()-c.host)/n, "host_cpu_ns/"+unit)
	b.ReportMetric(float64(processCPU(c.pid)-c.plugin)/n, "plugin_cpu_ns/"+unit)
}

func hostCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCPU is the user and system time of process pid, from
// /proc/PID/stat, in clock ticks of 10 ms.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
