package main

import (
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/graph"
)

// limitFlags are serve's per-tenant limits: request rates per API token
// and per workspace, a query cost budget per workspace, the body cap, the
// complexity limit and the plugin calls a workspace runs at once. The
// defaults let a workspace work at a steady pace while a noisy one waits
// for its own budget (429 with Retry-After) instead of taking the
// server's time from the others.
type limitFlags struct {
	tokenRate, workspaceRate, costRate float64
	tokenBurst, workspaceBurst         int
	costBurst, maxKeys                 int
	maxBodyMB, maxComplexity           int
	pluginCalls                        int
	pluginCallWait                     time.Duration
	inFlight, inFlightPerWorkspace     int
	inFlightWait                       time.Duration
}

func (f *limitFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	q := graph.DefaultQuotas()
	fl.Float64Var(&f.tokenRate, "rate-token", q.TokenRate, "requests a second one API token may send on average (0: no limit)")
	fl.IntVar(&f.tokenBurst, "rate-token-burst", q.TokenBurst, "requests one API token may send at once")
	fl.Float64Var(&f.workspaceRate, "rate-workspace", q.WorkspaceRate, "requests a second all of one workspace's tokens may send on average (0: no limit)")
	fl.IntVar(&f.workspaceBurst, "rate-workspace-burst", q.WorkspaceBurst, "requests one workspace may send at once")
	fl.Float64Var(&f.costRate, "cost-rate", q.CostRate, "query complexity a second one workspace may spend on average (0: no budget)")
	fl.IntVar(&f.costBurst, "cost-burst", q.CostBurst, "query complexity one workspace may spend at once (at least --max-complexity)")
	fl.IntVar(&f.maxKeys, "rate-max-keys", q.MaxKeys, "tokens and workspaces whose budgets are kept in memory at once (idle ones are forgotten first)")
	fl.IntVar(&f.maxBodyMB, "max-body", 8, "the largest GraphQL request body, in MiB (uploads: --import-max-size, --workspace-plugin-max-size)")
	fl.IntVar(&f.maxComplexity, "max-complexity", 50_000, "the largest complexity of one operation (a connection costs its page size times its fields)")
	fl.IntVar(&f.pluginCalls, "plugin-calls-per-workspace", 2, "plugin calls one workspace runs at once; more wait (0: no limit)")
	fl.DurationVar(&f.pluginCallWait, "plugin-call-wait", 2*time.Minute, "how long a plugin call waits for its workspace's slot before failing UNAVAILABLE")
	fl.IntVar(&f.inFlight, "max-in-flight", 0, "GraphQL requests run at once; later ones wait their turn in arrival order (0: 4 per CPU)")
	fl.IntVar(&f.inFlightPerWorkspace, "max-in-flight-per-workspace", 0, "GraphQL requests one workspace runs at once (0: half of --max-in-flight)")
	fl.DurationVar(&f.inFlightWait, "in-flight-wait", graph.DefaultInFlightWait, "how long a request waits for its turn before 503 UNAVAILABLE")
}

// apply checks the flags, bounds reg's plugin calls per workspace and
// returns the handler's limits and quotas.
func (f *limitFlags) apply(reg *extension.Registry) (graph.Limits, graph.Quotas, error) {
	for _, c := range []struct {
		name string
		bad  bool
	}{
		{"rate-token", f.tokenRate < 0}, {"rate-token-burst", f.tokenRate > 0 && f.tokenBurst < 1},
		{"rate-workspace", f.workspaceRate < 0}, {"rate-workspace-burst", f.workspaceRate > 0 && f.workspaceBurst < 1},
		{"cost-rate", f.costRate < 0}, {"cost-burst", f.costRate > 0 && f.costBurst < 1},
		{"rate-max-keys", f.maxKeys < 1}, {"max-body", f.maxBodyMB < 1 || f.maxBodyMB > 1024},
		{"max-complexity", f.maxComplexity < 1}, {"plugin-calls-per-workspace", f.pluginCalls < 0},
		{"plugin-call-wait", f.pluginCallWait < 0}, {"max-in-flight", f.inFlight < 0},
		{"max-in-flight-per-workspace", f.inFlightPerWorkspace < 0 || (f.inFlight > 0 && f.inFlightPerWorkspace > f.inFlight)},
		{"in-flight-wait", f.inFlightWait < 0},
	} {
		if c.bad {
			return graph.Limits{}, graph.Quotas{}, errcode.Input(c.name, "--%s is out of range", c.name)
		}
	}
	if reg != nil {
		reg.LimitWorkspaceCalls(f.pluginCalls, f.pluginCallWait)
	}
	return graph.Limits{MaxBody: int64(f.maxBodyMB) << 20, MaxComplexity: f.maxComplexity,
			MaxInFlight: f.inFlight, MaxInFlightPerWorkspace: f.inFlightPerWorkspace, InFlightWait: f.inFlightWait},
		graph.Quotas{TokenRate: f.tokenRate, TokenBurst: f.tokenBurst, WorkspaceRate: f.workspaceRate, WorkspaceBurst: f.workspaceBurst,
			CostRate: f.costRate, CostBurst: f.costBurst, MaxKeys: f.maxKeys}, nil
}

// traceFlags turn on serve's traces and profiles, both off by default.
type traceFlags struct {
	otlpEndpoint string
	pprof        bool
	pprofToken   string
}

func (f *traceFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.otlpEndpoint, "otlp-endpoint", "", "export OpenTelemetry traces over OTLP/HTTP (JSON) to this collector URL, e.g. http://127.0.0.1:4318 (default OTEL_EXPORTER_OTLP_ENDPOINT; off when neither is set)")
	fl.BoolVar(&f.pprof, "pprof", false, "serve Go's profiles at /debug/pprof/ to the bearer of --pprof-token")
	fl.StringVar(&f.pprofToken, "pprof-token", "", "the operator token /debug/pprof/ requires (env RAPPORT_PPROF_TOKEN; required with --pprof)")
}

// pprofToken is the token the handler serves profiles to, "" when off.
func (f *traceFlags) token() (string, error) {
	if !f.pprof {
		return "", nil
	}
	if len(f.pprofToken) < 16 {
		return "", errcode.Input("pprof-token", "--pprof needs --pprof-token of at least 16 characters")
	}
	return f.pprofToken, nil
}

// serverGCPercent is the GOGC of rapport serve and rapport worker unless
// their environment sets one. A server's live heap is small (caches, the
// job queue's state) and every request leaves its decoded query, rows and
// answer behind, so with Go's default of 100 the collector ran many times
// a second under load. At 400 the heap grows to five times the live data
// between collections: beside the peer (internal/peerbench, one
// organization with its contacts and deals, 8 clients on 2 CPUs) the
// server's CPU per request fell by a tenth and its throughput rose by
// about as much. GOMEMLIMIT, when set, still bounds the heap.
const serverGCPercent = 400

// tuneGC sets serverGCPercent unless the environment sets GOGC.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serverGCPercent)
	}
}
