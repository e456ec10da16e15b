package leadscoreas_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/examples/leadscore"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginpb"
)

// tolerance is how far the AssemblyScript module's numbers may be from the
// Go scorer's: both follow the same formula in the same order, but their
// exp and log1p are different implementations.
const tolerance = 1e-12

// ---------------------------------------------------------------------------
// Building and loading the module.

var (
	buildOnce sync.Once
	buildCode []byte
	buildErr  error
	buildSkip string
)

// moduleCode builds build/leadscore.wasm from source with npm (npm ci, then
// npm run build), once per test run. Without npm the tests skip, unless
// RAPPORT_REQUIRE_NODE=1 (CI) makes that a failure.
func moduleCode(t testing.TB) []byte {
	t.Helper()
	buildOnce.Do(func() {
		npm, err := exec.LookPath("npm")
		if err != nil {
			if os.Getenv("RAPPORT_REQUIRE_NODE") == "1" {
				buildErr = fmt.Errorf("RAPPORT_REQUIRE_NODE=1 but npm is not on PATH: %w", err)
			} else {
				buildSkip = "npm is not on PATH (set RAPPORT_REQUIRE_NODE=1 to fail instead of skipping)"
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		for _, args := range [][]string{{"ci", "--no-audit", "--no-fund"}, {"run", "build"}} {
			cmd := exec.CommandContext(ctx, npm, args...)
			cmd.WaitDelay = 10 * time.Second
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
				return
			}
		}
		buildCode, buildErr = os.ReadFile(filepath.Join("build", "leadscore.wasm"))
	})
	if buildSkip != "" {
		t.Skip(buildSkip)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildCode
}

var (
	loadOnce   sync.Once
	loaded     *wasm.Module
	loadErr    error
	pluginJSON *manifest.Manifest
)

// module loads the built module with the host's engine, with the memory
// ceiling its plugin.json asks for (256 pages). The deadline is generous
// rather than the manifest's 2 s, so that a busy test machine cannot make
// the tests flaky; the 10,000-lead batch takes milliseconds.
func module(t testing.TB) *wasm.Module {
	t.Helper()
	code := moduleCode(t)
	loadOnce.Do(func() {
		pluginJSON, loadErr = manifest.Load(manifest.FileName)
		if loadErr != nil {
			return
		}
		e, err := wasm.NewEngine(wasm.Config{})
		if err != nil {
			loadErr = err
			return
		}
		limits := wasm.Limits{MemoryPages: uint32(pluginJSON.Limits.MemoryPages), Timeout: time.Minute}
		loaded, loadErr = e.Load(context.Background(), pluginJSON.Ref(), code, limits, wasm.Grants{})
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return loaded
}

// TestModuleShape checks the module against the letter of ABI.md: only
// the allowed imports, the four exports with their signatures, and no
// WebAssembly feature beyond MVP + bulk memory + sign extension + mutable
// globals. (Loading it with the host engine, which every other test does,
// also proves the imports: the engine refuses any other module.)
func TestModuleShape(t *testing.T) {
	code := moduleCode(t)
	ctx := context.Background()
	features := api.CoreFeaturesV1 | api.CoreFeatureBulkMemoryOperations | api.CoreFeatureSignExtensionOps | api.CoreFeatureMutableGlobal
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCoreFeatures(features))
	defer rt.Close(ctx)
	c, err := rt.CompileModule(ctx, code)
	if err != nil {
		t.Fatalf("does not compile with the ABI's feature set: %v", err)
	}
	var imports []string
	for _, f := range c.ImportedFunctions() {
		mod, name, _ := f.Import()
		imports = append(imports, mod+"."+name)
		if mod != "rapport" && mod != "wasi_snapshot_preview1" {
			t.Errorf("imports %s.%s: only \"rapport\" and \"wasi_snapshot_preview1\" are allowed", mod, name)
		}
	}
	if len(imports) > 1 || len(imports) == 1 && imports[0] != "rapport.log" {
		t.Errorf("imports %v, want at most rapport.log", imports)
	}
	if n := len(c.ImportedMemories()); n != 0 {
		t.Errorf("imports %d memories", n)
	}
	if _, ok := c.ExportedMemories()["memory"]; !ok {
		t.Error("no exported memory named memory")
	}
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	for name, sig := range map[string][2][]api.ValueType{
		"rapport_abi_version": {nil, {i32}},
		"rapport_input":       {{i32}, {i32}},
		"rapport_call":        {{i32, i32}, {i64}},
	} {
		f, ok := c.ExportedFunctions()[name]
		if !ok {
			t.Errorf("no export %s", name)
			continue
		}
		if !slices.Equal(f.ParamTypes(), sig[0]) || !slices.Equal(f.ResultTypes(), sig[1]) {
			t.Errorf("%s: params %v results %v, want %v %v", name, f.ParamTypes(), f.ResultTypes(), sig[0], sig[1])
		}
	}
	m := module(t)
	if pluginJSON.Module != "build/leadscore.wasm" || !pluginJSON.Implements(sdk.PointScore) {
		t.Errorf("plugin.json: module %q, points %v", pluginJSON.Module, pluginJSON.Points)
	}
	if m.Name != "leadscore-as@1.0.0" {
		t.Errorf("loaded as %q", m.Name)
	}
	t.Logf("build/leadscore.wasm: %d bytes", len(code))
}

// ---------------------------------------------------------------------------
// Requests from leads.

type hostContext struct{ config []byte }

func (c hostContext) Config() []byte      { return c.config }
func (c hostContext) Log(level, m string) {}

var nan = math.NaN()

// shape says how to lay leads out as columns.
type shape struct {
	// omit drops these attributes' columns.
	omit []string
	// wrongKind sends source as a numeric column and has_email as a code
	// column: both then read as missing.
	wrongKind bool
	// extras adds ids and an unrelated column.
	extras bool
}

// request lays leads out as a columnar ScoreRequest, and returns the leads
// as the scorer must see them (attributes of dropped or wrongly typed
// columns missing).
func request(leads []leadscore.Lead, config string, s shape) (*sdk.ScoreRequest, []leadscore.Lead) {
	n := len(leads)
	seen := make([]leadscore.Lead, n)
	copy(seen, leads)
	numeric := func(name string, get func(*leadscore.Lead) *float64) sdk.Column {
		c := sdk.Column{Name: name, Numbers: make([]float64, n)}
		for i := range leads {
			c.Numbers[i] = *get(&leads[i])
		}
		return c
	}
	categorical := func(name string, get func(*leadscore.Lead) *string) sdk.Column {
		c := sdk.Column{Name: name, Codes: make([]uint32, n), Dictionary: []string{}}
		for i := range leads {
			v := *get(&leads[i])
			if v == "" {
				c.Codes[i] = sdk.Missing
				continue
			}
			k := slices.Index(c.Dictionary, v)
			if k < 0 {
				k = len(c.Dictionary)
				c.Dictionary = append(c.Dictionary, v)
			}
			c.Codes[i] = uint32(k)
		}
		return c
	}
	// Not the manifest's order: the scorer finds columns by name.
	cols := []sdk.Column{
		categorical("status", func(l *leadscore.Lead) *string { return &l.Status }),
		numeric("age_days", func(l *leadscore.Lead) *float64 { return &l.AgeDays }),
		numeric("activity_count", func(l *leadscore.Lead) *float64 { return &l.ActivityCount }),
		numeric("has_company", func(l *leadscore.Lead) *float64 { return &l.HasCompany }),
		numeric("has_phone", func(l *leadscore.Lead) *float64 { return &l.HasPhone }),
		categorical("source", func(l *leadscore.Lead) *string { return &l.Source }),
		numeric("has_email", func(l *leadscore.Lead) *float64 { return &l.HasEmail }),
		numeric("estimated_value", func(l *leadscore.Lead) *float64 { return &l.EstimatedValue }),
		numeric("calls", func(l *leadscore.Lead) *float64 { return &l.Calls }),
		numeric("budget", func(l *leadscore.Lead) *float64 { return &l.Budget }),
	}
	missing := map[string]func(*leadscore.Lead){
		"estimated_value": func(l *leadscore.Lead) { l.EstimatedValue = nan },
		"source":          func(l *leadscore.Lead) { l.Source = "" },
		"status":          func(l *leadscore.Lead) { l.Status = "" },
		"has_email":       func(l *leadscore.Lead) { l.HasEmail = nan },
		"has_phone":       func(l *leadscore.Lead) { l.HasPhone = nan },
		"has_company":     func(l *leadscore.Lead) { l.HasCompany = nan },
		"activity_count":  func(l *leadscore.Lead) { l.ActivityCount = nan },
		"age_days":        func(l *leadscore.Lead) { l.AgeDays = nan },
		"budget":          func(l *leadscore.Lead) { l.Budget = nan },
		"calls":           func(l *leadscore.Lead) { l.Calls = nan },
	}
	drop := func(name string) {
		for i := range seen {
			missing[name](&seen[i])
		}
	}
	cols = slices.DeleteFunc(cols, func(c sdk.Column) bool { return slices.Contains(s.omit, c.Name) })
	for _, name := range s.omit {
		drop(name)
	}
	if s.wrongKind {
		for i := range cols {
			switch cols[i].Name {
			case "source":
				cols[i] = sdk.Column{Name: "source", Numbers: make([]float64, n)}
				drop("source")
			case "has_email":
				cols[i] = sdk.Column{Name: "has_email", Codes: make([]uint32, n), Dictionary: []string{"1"}}
				drop("has_email")
			}
		}
	}
	b := sdk.Batch{SubjectType: "lead", Count: n, Columns: cols}
	if s.extras {
		b.IDs = make([]string, n)
		owner := sdk.Column{Name: "owner", Codes: make([]uint32, n), Dictionary: []string{"ann", "bob"}}
		for i := range b.IDs {
			b.IDs[i] = fmt.Sprintf("lead_%d", i)
			owner.Codes[i] = uint32(i % 2)
		}
		b.Columns = append([]sdk.Column{owner}, b.Columns...)
	}
	return &sdk.ScoreRequest{Batch: b, Config: []byte(config)}, seen
}

// ---------------------------------------------------------------------------
// Leads.

// hand are leads whose scores were computed by hand (see TestHandComputed),
// with the weights 20, 15, 20, 5, 5, 5, 5, 10, 10, 5 and a calculator's ln
// and e^x.
var hand = []struct {
	lead  leadscore.Lead
	value float64
	label string // with the default thresholds, hot 70 and warm 40
}{
	// Nothing known:
	//   value missing 0 ×20 = 0; source missing 0.3 ×15 = 4.5; status
	//   missing 0.3 ×20 = 6; flags missing 0 + 0 + 0; activity missing 0;
	//   recency missing 0.5 ×10 = 5; budget missing 0; calls missing 0.
	//   0 + 4.5 + 6 + 0 + 0 + 0 + 0 + 5 + 0 + 0 = 15.5 → cold.
	{leadscore.Lead{EstimatedValue: nan, HasEmail: nan, HasPhone: nan, HasCompany: nan, ActivityCount: nan, AgeDays: nan, Budget: nan, Calls: nan}, 15.5, "cold"},
	// estimated_value 0: ln(1)/ln(1+10⁶) = 0 → 0; referral 1 ×15 = 15;
	// qualified 1 ×20 = 20; email, phone, company 5 + 5 + 5; activity 0:
	// (1 − e⁰) ×5 = 0; age 0: e⁰ ×10 = 10; budget 0 → 0; calls 0:
	// (1 − e⁰) ×5 = 0.
	//   0 + 15 + 20 + 5 + 5 + 5 + 0 + 10 + 0 + 0 = 60 → warm.
	{leadscore.Lead{EstimatedValue: 0, Source: "referral", Status: "qualified", HasEmail: 1, HasPhone: 1, HasCompany: 1, ActivityCount: 0, AgeDays: 0, Budget: 0, Calls: 0}, 60, "warm"},
	// estimated_value 10⁶: ln(1+10⁶)/ln(1+10⁶) = 1 → 20; web 0.5 ×15 = 7.5;
	// contacted 0.6 ×20 = 12; email 5, no phone 0, company 5; activity 5:
	// (1 − e⁻¹) ×5 = (1 − 0.36787944117144233) ×5 = 3.1606027941427883;
	// age 0: 10; budget 10⁶ → 1 ×10 = 10; calls 4: (1 − e⁻²) ×5 =
	// (1 − 0.1353352832366127) ×5 = 4.323323583816936.
	//   20 + 7.5 + 12 + 5 + 0 + 5 + 3.1606027941427883 + 10 + 10 + 4.323323583816936
	//   = 76.98392637795973 → hot.
	{leadscore.Lead{EstimatedValue: 1e6, Source: "web", Status: "contacted", HasEmail: 1, HasPhone: 0, HasCompany: 1, ActivityCount: 5, AgeDays: 0, Budget: 1e6, Calls: 4}, 76.98392637795973, "hot"},
	// estimated_value 999: ln(1000)/ln(1000001) = 6.907755278982137 /
	// 13.815511557963774 = 0.4999999638088139 ×20 = 9.999999276176277;
	// partner 0.8 ×15 = 12; new 0.3 ×20 = 6; email 5, phone 5, company 0;
	// activity 10: (1 − e⁻²) ×5 = 4.323323583816936; age 90: e⁻¹ ×10 =
	// 3.6787944117144233; budget missing (no custom field) 0; calls 1:
	// (1 − e^(−1/2)) ×5 = (1 − 0.6065306597126334) ×5 = 1.967346701436833.
	//   9.999999276176277 + 12 + 6 + 5 + 5 + 0 + 4.323323583816936 + 3.6787944117144233 + 0 + 1.967346701436833
	//   = 47.969463973144464 → warm.
	{leadscore.Lead{EstimatedValue: 999, Source: "partner", Status: "new", HasEmail: 1, HasPhone: 1, HasCompany: 0, ActivityCount: 10, AgeDays: 90, Budget: nan, Calls: 1}, 47.969463973144464, "warm"},
	// Out-of-range values: estimated_value −500 → max(−500, 0) = 0 → 0;
	// "podcast" is no known source → 0.3 ×15 = 4.5; unqualified 0 ×20 = 0;
	// has_email 0.7 ≥ 0.5 → 5; has_phone 0.2 < 0.5 → 0; has_company
	// missing → 0; activity −3 < 0 → 0; age −10 → e^(−max(−10, 0)/90) = e⁰
	// ×10 = 10; budget −100 → max(−100, 0) = 0 → 0; calls −2 < 0 → 0.
	//   0 + 4.5 + 0 + 5 + 0 + 0 + 0 + 10 + 0 + 0 = 19.5 → cold.
	{leadscore.Lead{EstimatedValue: -500, Source: "podcast", Status: "unqualified", HasEmail: 0.7, HasPhone: 0.2, HasCompany: nan, ActivityCount: -3, AgeDays: -10, Budget: -100, Calls: -2}, 19.5, "cold"},
}

// table are more hand-made leads, checked against the Go scorer only.
var table = []leadscore.Lead{
	{EstimatedValue: 999_999, Source: "referral", Status: "contacted", HasEmail: 1, HasPhone: 1, ActivityCount: 5, Budget: 999, Calls: 2},
	{EstimatedValue: math.Inf(1), Source: "Referral", Status: "converted", HasEmail: 1, HasPhone: 1, HasCompany: 1, ActivityCount: math.Inf(1), AgeDays: math.Inf(1), Budget: math.Inf(1), Calls: math.Inf(1)},
	{EstimatedValue: math.Inf(-1), Source: "cold", Status: "qualified", ActivityCount: math.Inf(-1), AgeDays: math.Inf(-1), Budget: math.Inf(-1), Calls: math.Inf(-1)},
	{EstimatedValue: 1e12, Source: "event", Status: "", HasEmail: 0.5, HasPhone: 0.4999999, HasCompany: 2, ActivityCount: 1000, AgeDays: 10_000, Budget: 1e12, Calls: 1000},
	{EstimatedValue: 0.5, Source: "partner", Status: "new", HasEmail: nan, HasPhone: 1, HasCompany: 0, ActivityCount: 2.5, AgeDays: 45.5, Budget: 0.5, Calls: 2.5},
	{EstimatedValue: math.Copysign(0, -1), Source: "", Status: "contacted", HasEmail: -1, HasPhone: nan, HasCompany: 1, ActivityCount: math.Copysign(0, -1), AgeDays: math.Copysign(0, -1), Budget: math.Copysign(0, -1), Calls: math.Copysign(0, -1)},
	{EstimatedValue: 25_000, Source: "web", Status: "QUALIFIED", HasEmail: 1, HasPhone: 1, HasCompany: 1, ActivityCount: 12, AgeDays: 3, Budget: nan, Calls: 3},
	{EstimatedValue: 5e-324, Source: "référence", Status: "qualified ", HasEmail: 1, ActivityCount: 1e-300, AgeDays: 1e300, Budget: 5e-324, Calls: 1e-300},
	{EstimatedValue: 150_000, Source: "referral", Status: "qualified", HasEmail: 1, HasPhone: 1, HasCompany: 1, ActivityCount: 30, AgeDays: 1, Budget: 200_000, Calls: nan},
}

func allLeads() []leadscore.Lead {
	out := slices.Clone(table)
	for _, h := range hand {
		out = append(out, h.lead)
	}
	return out
}

var (
	sources  = []string{"web", "referral", "event", "partner", "cold", "podcast", "Web", ""}
	statuses = []string{"new", "contacted", "qualified", "converted", "unqualified", "lost", ""}
)

// synthetic makes n reproducible leads, with every kind of missing and
// out-of-range value now and then.
func synthetic(n int) []leadscore.Lead {
	r := rand.New(rand.NewPCG(7, 11))
	pick := func(v float64, missingOneIn int) float64 {
		if r.IntN(missingOneIn) == 0 {
			return nan
		}
		return v
	}
	out := make([]leadscore.Lead, n)
	for i := range out {
		out[i] = leadscore.Lead{
			EstimatedValue: pick(math.Exp(r.Float64()*16)-r.Float64()*100, 13),
			Source:         sources[r.IntN(len(sources))],
			Status:         statuses[r.IntN(len(statuses))],
			HasEmail:       pick(float64(r.IntN(2)), 11),
			HasPhone:       pick(r.Float64(), 7),
			HasCompany:     pick(float64(r.IntN(3)), 5),
			ActivityCount:  pick(float64(r.IntN(40)-3), 9),
			AgeDays:        pick(r.Float64()*500-20, 10),
			Budget:         pick(math.Exp(r.Float64()*14)-r.Float64()*50, 4),
			Calls:          pick(float64(r.IntN(8)-1), 6),
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Comparing with the Go scorer.

// compare scores req with the module and with the Go scorer (Score on the
// batch, and ScoreLead on each lead as the scorer must see it), and checks
// that every value, label and contribution agrees.
func compare(t *testing.T, req *sdk.ScoreRequest, seen []leadscore.Lead) *sdk.ScoreResponse {
	t.Helper()
	native, err := leadscore.Score(hostContext{req.Config}, req)
	if err != nil {
		t.Fatalf("Go scorer: %v", err)
	}
	got, err := rawScore(context.Background(), module(t), req)
	if err != nil {
		t.Fatalf("module: %v", err)
	}
	n := req.Batch.Count
	if len(got.Values) != n || len(got.Contributions) != n*leadscore.NumFactors {
		t.Fatalf("%d values and %d contributions for %d leads", len(got.Values), len(got.Contributions), n)
	}
	if !slices.Equal(got.FactorNames, leadscore.Factors) {
		t.Fatalf("factor names %q, want %q", got.FactorNames, leadscore.Factors)
	}
	identical, worst := 0, 0.0
	for i := range n {
		var direct [leadscore.NumFactors]float64
		v := leadscore.ScoreLead(&seen[i], &direct)
		if got.Values[i] == native.Values[i] {
			identical++
		}
		worst = max(worst, math.Abs(got.Values[i]-native.Values[i]))
		if d := math.Abs(got.Values[i] - native.Values[i]); !(d <= tolerance) || math.Abs(v-native.Values[i]) > tolerance {
			t.Fatalf("lead %d %+v: module %v, Go %v, ScoreLead %v", i, seen[i], got.Values[i], native.Values[i], v)
		}
		if got.Label(i) != native.Label(i) {
			t.Fatalf("lead %d %+v (%v): module label %q, Go %q", i, seen[i], got.Values[i], got.Label(i), native.Label(i))
		}
		for f := range leadscore.NumFactors {
			g := got.Contribution(i, f)
			if !(math.Abs(g-native.Contribution(i, f)) <= tolerance) || !(math.Abs(g-direct[f]) <= tolerance) {
				t.Fatalf("lead %d factor %s: module %v, Go %v, ScoreLead %v", i, leadscore.Factors[f], g, native.Contribution(i, f), direct[f])
			}
		}
	}
	if n >= 1000 {
		t.Logf("%d leads: %d values bit for bit the Go scorer's, the others at most %.3g away", n, identical, worst)
	}
	return got
}

func TestHandComputed(t *testing.T) {
	var leads []leadscore.Lead
	for _, h := range hand {
		leads = append(leads, h.lead)
	}
	req, seen := request(leads, "", shape{})
	got := compare(t, req, seen)
	for i, h := range hand {
		if math.Abs(got.Values[i]-h.value) > tolerance || got.Label(i) != h.label {
			t.Errorf("lead %d: %v %q, computed by hand %v %q", i, got.Values[i], got.Label(i), h.value, h.label)
		}
		sum := 0.0
		for f := range leadscore.NumFactors {
			sum += got.Contribution(i, f)
		}
		if sum != got.Values[i] {
			t.Errorf("lead %d: contributions sum to %v, value %v", i, sum, got.Values[i])
		}
	}
}

func TestMatchesGoScorer(t *testing.T) {
	all := []string{"estimated_value", "source", "status", "has_email", "has_phone", "has_company", "activity_count", "age_days", "budget", "calls"}
	for _, c := range []struct {
		name   string
		leads  []leadscore.Lead
		config string
		shape  shape
	}{
		{"table", allLeads(), "", shape{}},
		{"defaults spelled out", allLeads(), `{"hot":70,"warm":40}`, shape{}},
		// The hand leads score exactly 60 and 19.5: "at or above".
		{"thresholds on the boundaries", allLeads(), `{"hot": 60, "warm": 19.5}`, shape{}},
		{"hot only", allLeads(), `{"hot":80}`, shape{}},
		{"spaces, nulls, exponents and other keys", allLeads(), " {\n\t\"warm\" : null , \"note\": {\"a\": [1, -2.5e-3, \"x\\\"}\", null, true, false, {}]},\r\n \"hot\": 5.5E1 } ", shape{}},
		{"odd numbers", allLeads(), `{"hot": -0.0, "warm": -12345678901234567890123}`, shape{}},
		{"empty object", allLeads(), `{}`, shape{}},
		{"null config", allLeads(), `null`, shape{}},
		{"some columns missing", allLeads(), "", shape{omit: []string{"estimated_value", "status", "has_phone", "age_days", "budget"}}},
		{"the other columns missing", allLeads(), "", shape{omit: []string{"source", "has_email", "has_company", "activity_count", "calls"}}},
		{"no columns", allLeads(), "", shape{omit: all}},
		{"columns of the wrong kind", allLeads(), "", shape{wrongKind: true}},
		{"ids and an extra column", allLeads(), "", shape{extras: true}},
		{"empty batch", nil, "", shape{}},
		{"empty batch without columns", nil, `{"hot": 1}`, shape{omit: all}},
		{"one lead", allLeads()[:1], "", shape{}},
		{"10,000 leads", synthetic(10_000), `{"hot": 60, "warm": 30}`, shape{}},
		{"10,000 leads, some columns missing", synthetic(10_000), "", shape{omit: []string{"source", "age_days"}, extras: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, seen := request(c.leads, c.config, c.shape)
			compare(t, req, seen)
		})
	}
}

// TestBufferReuse sends batches that grow and shrink to one module, so
// that pooled instances reuse and grow their input buffer.
func TestBufferReuse(t *testing.T) {
	leads := synthetic(50_000)
	for _, n := range []int{10_000, 1, 0, 50_000, 3, 2_500, 0, 1} {
		req, seen := request(leads[:n], `{"warm": 35}`, shape{})
		compare(t, req, seen)
	}
}

func TestConcurrentCalls(t *testing.T) {
	m := module(t)
	leads := synthetic(2_000)
	req, _ := request(leads, "", shape{})
	want, err := leadscore.Score(hostContext{}, req)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for k := range 10 {
				n := (g*10 + k) % len(leads)
				r, _ := request(leads[:n], "", shape{})
				got, err := m.Score(context.Background(), r)
				if err != nil {
					errs <- err
					return
				}
				for i := range n {
					if math.Abs(got.Values[i]-want.Values[i]) > tolerance {
						errs <- fmt.Errorf("goroutine %d: lead %d: %v, want %v", g, i, got.Values[i], want.Values[i])
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------
// Errors.

// wantPluginError checks that err is the module's own Error answer (the
// instance survives it) and mentions what.
func wantPluginError(t *testing.T, err error, what string) {
	t.Helper()
	var f *wasm.Fault
	if !errors.As(err, &f) || f.Cause != "plugin_error" {
		t.Fatalf("err = %v, want the module's Error answer", err)
	}
	if !strings.Contains(f.Err.Error(), what) {
		t.Errorf("error %q does not mention %q", f.Err, what)
	}
}

func TestErrors(t *testing.T) {
	m := module(t)
	ctx := context.Background()
	req, seen := request(allLeads(), "", shape{})
	body := sdk.AppendScoreRequest(nil, req)
	ignore := func([]byte) error { return nil }

	// The messages are the Go SDK's (sdk/internal/guest, sdk/wire.go).
	t.Run("unknown points", func(t *testing.T) {
		for _, point := range []uint32{0, 4, 1 << 31, math.MaxUint32} {
			wantPluginError(t, m.Call(ctx, point, body, ignore), "extension point point not implemented")
		}
		_, err := m.Segment(ctx, &sdk.SegmentRequest{Batch: req.Batch})
		wantPluginError(t, err, "extension point segment not implemented")
		_, err = m.Report(ctx, &sdk.ReportRequest{})
		wantPluginError(t, err, "extension point report not implemented")
	})

	t.Run("bad config", func(t *testing.T) {
		for _, config := range []string{`{"hot": "80"}`, `{"hot": 80`, `[]`, `{"warm": true}`, ` `, `{"hot": 1}x`, `{"hot": 01}`, `{"hot": 1.}`, `{"hot": 1e999}`, `{"a": [1,]}`} {
			r := *req
			r.Config = []byte(config)
			if _, err := leadscore.Score(hostContext{r.Config}, &r); err == nil {
				t.Errorf("%s: the Go scorer accepts it", config)
			}
			_, err := m.Score(ctx, &r)
			wantPluginError(t, err, "config")
		}
	})

	t.Run("malformed requests", func(t *testing.T) {
		for _, c := range []struct {
			name, body, what string
		}{
			{"truncated varint", "\x0a\x80", "malformed message: field 1 truncated"},
			{"length past the end", "\x0a\x05\x10\x01", "malformed message: field 1 truncated"},
			{"group wire type", "\x0b", "malformed message: field 1 truncated"},
			{"field zero", "\x00\x00", "malformed message: bad tag"},
			{"batch as a varint", "\x08\x01", "malformed message: field 1: want a message"},
			{"truncated double", "\x0a\x05\x1a\x03\x11\x00\x00", "malformed message: field 2 truncated"},
		} {
			wantPluginError(t, m.Call(ctx, wasm.PointScore, []byte(c.body), ignore), c.what)
		}
	})

	t.Run("inconsistent batches", func(t *testing.T) {
		short := *req
		short.Batch.Count++
		if _, err := m.Score(ctx, &short); err == nil {
			t.Error("the host sent an inconsistent batch")
		}
		_, err := rawScore(ctx, m, &short)
		wantPluginError(t, err, `malformed message: column "status": 14 codes for 15 subjects`)

		bad, _ := request(allLeads(), "", shape{})
		bad.Batch.Column("status").Codes[3] = 9
		_, err = rawScore(ctx, m, bad)
		wantPluginError(t, err, `malformed message: column "status": code 9 of subject 3 outside dictionary of`)

		// The host never sends two columns of a name; like the Go SDK,
		// the module refuses them.
		twice, _ := request(allLeads(), "", shape{})
		twice.Batch.Columns = append(twice.Batch.Columns, twice.Batch.Columns[0])
		_, err = rawScore(ctx, m, twice)
		wantPluginError(t, err, `malformed message: column "status" appears twice`)
	})

	// After all these, the module still scores.
	compare(t, req, seen)
}

// TestMemoryCeiling checks that a batch too large for the manifest's 256
// pages (16 MiB) fails cleanly, and that the next call works.
func TestMemoryCeiling(t *testing.T) {
	m := module(t)
	// ~11 MiB of request (ten columns), ~12 MiB of answer: the request
	// fits, the answer does not.
	leads := synthetic(140_000)
	req, _ := request(leads, "", shape{})
	_, err := m.Score(context.Background(), req)
	var f *wasm.Fault
	if !errors.As(err, &f) || (f.Cause != "plugin_error" && f.Cause != "memory") {
		t.Fatalf("err = %v, want an out-of-memory Error or memory fault", err)
	}
	t.Logf("140,000 leads in 256 pages: %v", err)
	small, seen := request(leads[:100], "", shape{})
	compare(t, small, seen)
}

// ---------------------------------------------------------------------------
// The wire format, beyond what the host's own encoder produces.

// wireCase is a request encoded by hand, and the same request as the Go
// types for the Go scorer.
func wireBody(t *testing.T, variant string, leads []leadscore.Lead, config string) []byte {
	t.Helper()
	req, _ := request(leads, config, shape{})
	b := req.Batch
	unknowns := func(buf []byte) []byte {
		buf = protowire.AppendTag(buf, 90, protowire.VarintType)
		buf = protowire.AppendVarint(buf, 1<<40)
		buf = protowire.AppendTag(buf, 91, protowire.Fixed64Type)
		buf = protowire.AppendFixed64(buf, 7)
		buf = protowire.AppendTag(buf, 92, protowire.BytesType)
		buf = protowire.AppendBytes(buf, []byte("ignored"))
		buf = protowire.AppendTag(buf, 93, protowire.Fixed32Type)
		return protowire.AppendFixed32(buf, 9)
	}
	column := func(c *sdk.Column) []byte {
		var out []byte
		if variant == "unknown fields" {
			out = unknowns(out)
		}
		// Numbers and codes: packed in one run, split in two runs, or
		// unpacked, element by element.
		numbers := func(vs []float64) {
			switch variant {
			case "split runs":
				half := len(vs) / 2
				for _, part := range [][]float64{vs[:half], vs[half:]} {
					var p []byte
					for _, v := range part {
						p = protowire.AppendFixed64(p, math.Float64bits(v))
					}
					out = protowire.AppendTag(out, 2, protowire.BytesType)
					out = protowire.AppendBytes(out, p)
				}
			case "unpacked":
				for _, v := range vs {
					out = protowire.AppendTag(out, 2, protowire.Fixed64Type)
					out = protowire.AppendFixed64(out, math.Float64bits(v))
				}
			default:
				var p []byte
				for _, v := range vs {
					p = protowire.AppendFixed64(p, math.Float64bits(v))
				}
				out = protowire.AppendTag(out, 2, protowire.BytesType)
				out = protowire.AppendBytes(out, p)
			}
		}
		codes := func(vs []uint32) {
			switch variant {
			case "split runs":
				half := len(vs) / 3
				for _, part := range [][]uint32{vs[:half], vs[half:]} {
					var p []byte
					for _, v := range part {
						p = protowire.AppendFixed32(p, v)
					}
					out = protowire.AppendTag(out, 3, protowire.BytesType)
					out = protowire.AppendBytes(out, p)
				}
			case "unpacked":
				for _, v := range vs {
					out = protowire.AppendTag(out, 3, protowire.Fixed32Type)
					out = protowire.AppendFixed32(out, v)
				}
			default:
				var p []byte
				for _, v := range vs {
					p = protowire.AppendFixed32(p, v)
				}
				out = protowire.AppendTag(out, 3, protowire.BytesType)
				out = protowire.AppendBytes(out, p)
			}
		}
		dictionary := func() {
			for _, s := range c.Dictionary {
				out = protowire.AppendTag(out, 4, protowire.BytesType)
				out = protowire.AppendString(out, s)
			}
		}
		name := func() {
			out = protowire.AppendTag(out, 1, protowire.BytesType)
			out = protowire.AppendString(out, c.Name)
		}
		if variant == "reversed" {
			// Fields in reverse order, the dictionary split around the codes,
			// and a decoy name overridden by the last one.
			out = protowire.AppendTag(out, 1, protowire.BytesType)
			out = protowire.AppendString(out, "decoy")
			if c.Codes != nil {
				half := len(c.Dictionary) / 2
				d := c.Dictionary
				c.Dictionary = d[half:]
				defer func() { c.Dictionary = d }()
				for _, s := range d[:half] {
					out = protowire.AppendTag(out, 4, protowire.BytesType)
					out = protowire.AppendString(out, s)
				}
				codes(c.Codes)
				dictionary()
			} else {
				numbers(c.Numbers)
			}
			name()
			return out
		}
		name()
		if c.Codes != nil {
			codes(c.Codes)
			dictionary()
		} else {
			numbers(c.Numbers)
		}
		if variant == "unknown fields" {
			out = unknowns(out)
		}
		return out
	}
	batch := func(cols []sdk.Column, withCount bool) []byte {
		var out []byte
		if variant == "unknown fields" {
			out = unknowns(out)
		}
		if variant != "reversed" {
			out = protowire.AppendTag(out, 1, protowire.BytesType)
			out = protowire.AppendString(out, b.SubjectType)
			if withCount {
				out = protowire.AppendTag(out, 2, protowire.VarintType)
				out = protowire.AppendVarint(out, uint64(b.Count))
			}
		}
		for i := range cols {
			out = protowire.AppendTag(out, 3, protowire.BytesType)
			out = protowire.AppendBytes(out, column(&cols[i]))
		}
		if variant == "reversed" && withCount {
			// A stale count first: the last occurrence wins.
			out = protowire.AppendTag(out, 2, protowire.VarintType)
			out = protowire.AppendVarint(out, uint64(b.Count)+5)
			out = protowire.AppendTag(out, 2, protowire.VarintType)
			out = protowire.AppendVarint(out, uint64(b.Count))
			out = protowire.AppendTag(out, 1, protowire.BytesType)
			out = protowire.AppendString(out, b.SubjectType)
		}
		return out
	}
	var out []byte
	appendConfig := func() {
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendBytes(out, []byte(config))
	}
	switch variant {
	case "reversed":
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendBytes(out, []byte(`{"hot": 1, "warm": 0}`)) // the last config wins
		appendConfig()
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, batch(b.Columns, true))
	case "split batch":
		// Batch twice: a message field that occurs twice is merged, so the
		// columns add up.
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, batch(b.Columns[:3], true))
		appendConfig()
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, batch(b.Columns[3:], false))
	default:
		if variant == "unknown fields" {
			out = unknowns(out)
		}
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, batch(b.Columns, true))
		appendConfig()
		if variant == "unknown fields" {
			out = unknowns(out)
		}
	}
	// Whatever the encoding, the official protobuf decoder must read it as
	// the same request.
	var pb pluginpb.ScoreRequest
	if err := proto.Unmarshal(out, &pb); err != nil {
		t.Fatalf("%s: the hand-encoded request is not protobuf: %v", variant, err)
	}
	if int(pb.GetBatch().GetCount()) != b.Count || string(pb.GetConfig()) != config || len(pb.GetBatch().GetColumns()) != len(b.Columns) {
		t.Fatalf("%s: the hand-encoded request reads back as %d leads, config %q, %d columns", variant, pb.GetBatch().GetCount(), pb.GetConfig(), len(pb.GetBatch().GetColumns()))
	}
	return out
}

func TestWireVariants(t *testing.T) {
	m := module(t)
	leads := append(allLeads(), synthetic(300)...)
	const config = `{"hot": 65, "warm": 35}`
	req, _ := request(leads, config, shape{})
	want, err := leadscore.Score(hostContext{req.Config}, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, variant := range []string{"canonical", "unknown fields", "split runs", "unpacked", "reversed", "split batch"} {
		t.Run(variant, func(t *testing.T) {
			var got *sdk.ScoreResponse
			var pb pluginpb.ScoreResponse
			err := m.Call(context.Background(), wasm.PointScore, wireBody(t, variant, leads, config), func(out []byte) error {
				checkPacked(t, out)
				if err := proto.Unmarshal(out, &pb); err != nil {
					return fmt.Errorf("the official protobuf decoder refuses the answer: %w", err)
				}
				var err error
				got, err = sdk.DecodeScoreResponse(slices.Clone(out))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := got.Validate(len(leads)); err != nil {
				t.Fatal(err)
			}
			for i := range leads {
				if math.Abs(got.Values[i]-want.Values[i]) > tolerance || got.Label(i) != want.Label(i) {
					t.Fatalf("lead %d: %v %q, want %v %q", i, got.Values[i], got.Label(i), want.Values[i], want.Label(i))
				}
				if pb.Values[i] != got.Values[i] || pb.Labels[pb.LabelCodes[i]] != got.Label(i) {
					t.Fatalf("lead %d: the official decoder reads %v %q", i, pb.Values[i], pb.Labels[pb.LabelCodes[i]])
				}
				for f := range leadscore.NumFactors {
					if math.Abs(got.Contribution(i, f)-want.Contribution(i, f)) > tolerance || pb.Contributions[i*leadscore.NumFactors+f] != got.Contribution(i, f) {
						t.Fatalf("lead %d factor %d: %v, want %v", i, f, got.Contribution(i, f), want.Contribution(i, f))
					}
				}
			}
			if !slices.Equal(pb.FactorNames, leadscore.Factors) {
				t.Fatalf("factor names %q", pb.FactorNames)
			}
		})
	}
}

// checkPacked checks that the answer writes each numeric column as one
// packed run, as ABI.md recommends.
func checkPacked(t *testing.T, b []byte) {
	t.Helper()
	seen := map[protowire.Number]int{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		seen[num]++
		if (num == 1 || num == 2 || num == 5) && typ != protowire.BytesType {
			t.Errorf("field %d has wire type %d, not packed", num, typ)
		}
	}
	for _, num := range []protowire.Number{1, 2, 5} {
		if seen[num] != 1 {
			t.Errorf("field %d occurs %d times, want one packed run", num, seen[num])
		}
	}
	if seen[3] != 3 || seen[4] != leadscore.NumFactors {
		t.Errorf("%d labels and %d factor names, want 3 and %d", seen[3], seen[4], leadscore.NumFactors)
	}
}

// ---------------------------------------------------------------------------
// Benchmarks: 10,000 leads per call, through the host engine (encoding the
// request, the call, decoding and validating the answer) and natively.

func BenchmarkScore(b *testing.B) {
	empty, _ := request(synthetic(0), "", shape{})
	b.Run("wasm-empty", func(b *testing.B) {
		m := module(b)
		for b.Loop() {
			if _, err := m.Score(context.Background(), empty); err != nil {
				b.Fatal(err)
			}
		}
	})
	small, _ := request(synthetic(1000), "", shape{})
	b.Run("wasm-1000", func(b *testing.B) {
		m := module(b)
		for b.Loop() {
			if _, err := m.Score(context.Background(), small); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*small.Batch.Count)/b.Elapsed().Seconds(), "leads/s")
	})
	b.Run("native-1000", func(b *testing.B) {
		for b.Loop() {
			if _, err := leadscore.Score(hostContext{}, small); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*small.Batch.Count)/b.Elapsed().Seconds(), "leads/s")
	})
	req, _ := request(synthetic(10_000), "", shape{})
	b.Run("wasm", func(b *testing.B) {
		m := module(b)
		for b.Loop() {
			if _, err := m.Score(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*req.Batch.Count)/b.Elapsed().Seconds(), "leads/s")
	})
	b.Run("native", func(b *testing.B) {
		for b.Loop() {
			if _, err := leadscore.Score(hostContext{}, req); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*req.Batch.Count)/b.Elapsed().Seconds(), "leads/s")
	})
}

// rawScore sends a request as it is, without the host's batch checks, so
// that the module's own handling of odd batches is what is tested.
func rawScore(ctx context.Context, m *wasm.Module, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	var resp *sdk.ScoreResponse
	err := m.Call(ctx, wasm.PointScore, sdk.AppendScoreRequest(nil, req), func(out []byte) error {
		r, err := sdk.DecodeScoreResponse(out)
		if err != nil {
			return err
		}
		if err := r.Validate(req.Batch.Count); err != nil {
			return err
		}
		resp = r
		return nil
	})
	return resp, err
}
