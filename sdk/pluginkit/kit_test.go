package pluginkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

// The tests below run the kit on a small plugin that implements every
// point correctly, then on broken variants of it, and check that exactly
// the checks that should fail do, saying why.

const goodManifest = `{
  "name": "kit-test",
  "version": "0.1.0",
  "abi": 1,
  "runtime": "wasm",
  "module": "kit-test.wasm",
  "points": ["score", "segment", "report"],
  "subjects": ["lead", "deal"],
  "inputs": {
    "lead": ["id", "estimated_value", "source", "has_email", "converted_at", "status"],
    "deal": ["amount", "stage = stage.name", "calls = count(activities where kind = call within 30d)", "tag:vip", "max(orders.ordered_at)", "status"]
  },
  "config_schema": {
    "type": "object",
    "properties": {
      "threshold": {"type": "number", "default": 100},
      "labels": {"type": "object", "properties": {"high": {"type": "string", "default": "high"}}}
    }
  }
}`

type config struct {
	Threshold float64 `json:"threshold"`
	Labels    struct {
		High string `json:"high"`
	} `json:"labels"`
}

func parseConfig(ctx sdk.Context) (config, error) {
	var c config
	err := json.Unmarshal(ctx.Config(), &c)
	if err == nil && c.Labels.High == "" {
		err = errors.New("config: labels.high is not set")
	}
	return c, err
}

// value is a subject's main number: estimated_value for leads, amount for
// deals; 0 when missing or not a number.
func value(b *sdk.Batch) []float64 {
	name := "estimated_value"
	if b.SubjectType == "deal" {
		name = "amount"
	}
	v := b.Numbers(name)
	out := make([]float64, b.Count)
	for i := range out {
		if !math.IsNaN(v[i]) {
			out[i] = math.Log1p(math.Max(v[i], 0))
		}
	}
	return out
}

// category is a subject's main category: source for leads, the stage's
// name (declared as "stage = stage.name") for deals.
func category(b *sdk.Batch, i int) (string, bool) {
	name := "source"
	if b.SubjectType == "deal" {
		name = "stage"
	}
	c := b.Column(name)
	if c == nil {
		return "", false
	}
	return c.Text(i)
}

func goodScore(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	c, err := parseConfig(ctx)
	if err != nil {
		return nil, err
	}
	b := &req.Batch
	v := value(b)
	resp := sdk.NewScoreResponse(b.Count, "value", "category")
	for i := range b.Count {
		resp.SetContribution(i, 0, v[i])
		if _, ok := category(b, i); ok {
			resp.SetContribution(i, 1, 1)
		}
		resp.Values[i] = resp.Contribution(i, 0) + resp.Contribution(i, 1)
		if resp.Values[i] > math.Log1p(c.Threshold) {
			resp.SetLabel(i, c.Labels.High)
		}
	}
	return resp, nil
}

func goodSegment(ctx sdk.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	if _, err := parseConfig(ctx); err != nil {
		return nil, err
	}
	b := &req.Batch
	v := value(b)
	s := sdk.NewSegments(b.Count)
	for i := range b.Count {
		if cat, ok := category(b, i); ok {
			s.Assign(i, "category:"+cat, 1)
		}
		if v[i] > 5 {
			s.Assign(i, "valuable", v[i]/20)
		}
	}
	return s.Response(), nil
}

func goodReport(ctx sdk.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	if _, err := parseConfig(ctx); err != nil {
		return nil, err
	}
	r := &sdk.Report{Title: "Subjects"}
	for _, b := range req.Batches {
		counts := map[string]int{}
		total := 0.0
		for i, v := range value(&b) {
			total += v
			cat, ok := category(&b, i)
			if !ok {
				cat = "(none)"
			}
			counts[cat]++
		}
		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		table := sdk.Table{Key: "categories", Columns: []string{"category", "count"}}
		series := sdk.Series{Name: "by category", Chart: "bar"}
		for _, k := range keys {
			table.Rows = append(table.Rows, []string{k, fmt.Sprint(counts[k])})
			series.Labels = append(series.Labels, k)
			series.Values = append(series.Values, float64(counts[k]))
		}
		r.Sections = append(r.Sections, sdk.Section{
			Key: b.SubjectType, Title: b.SubjectType,
			KPIs:   []sdk.KPI{{Key: "count", Value: float64(b.Count), Unit: "count"}, {Key: "value", Value: total}},
			Tables: []sdk.Table{table},
			Series: []sdk.Series{series},
		})
	}
	return r, nil
}

var good = sdk.Plugin{Score: goodScore, Segment: goodSegment, Report: goodReport}

func mustManifest(t *testing.T, src string) *manifest.Manifest {
	t.Helper()
	var m manifest.Manifest
	if err := json.Unmarshal([]byte(src), &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// check runs the kit and returns its results by name.
func check(t *testing.T, s pluginkit.Suite, target pluginkit.Target) map[string]pluginkit.Result {
	t.Helper()
	results, err := s.Check(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]pluginkit.Result{}
	for _, r := range results {
		out[r.Name] = r
	}
	return out
}

// expect checks that the checks named in failing fail, with a problem
// containing each line of the given text, and that every other check
// passes.
func expect(t *testing.T, results map[string]pluginkit.Result, failing map[string]string) {
	t.Helper()
	for name, want := range failing {
		r, ok := results[name]
		if !ok {
			t.Errorf("no check %q ran", name)
			continue
		}
		if !r.Failed() {
			t.Errorf("%s passed; want a failure saying %q", name, want)
			continue
		}
		for _, w := range strings.Split(want, "\n") {
			if !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, w) }) {
				t.Errorf("%s failed, but no problem says %q:\n\t%s", name, w, strings.Join(r.Problems, "\n\t"))
			}
		}
	}
	names := make([]string, 0, len(results))
	for name := range results {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := failing[name]; !ok && results[name].Failed() {
			t.Errorf("%s failed, want it to pass:\n\t%s", name, strings.Join(results[name].Problems, "\n\t"))
		}
	}
}

func TestGoodPluginPasses(t *testing.T) {
	results := check(t, pluginkit.Suite{}, pluginkit.Native(mustManifest(t, goodManifest), good))
	var names []string
	for name := range results {
		names = append(names, name)
	}
	sort.Strings(names)
	want := []string{"manifest",
		"report/config-defaults", "report/deterministic", "report/empty-batch", "report/large-batch", "report/malformed-input", "report/missing-values", "report/well-formed",
		"score/config-defaults", "score/deterministic", "score/empty-batch", "score/large-batch", "score/malformed-input", "score/missing-values", "score/order-independent", "score/well-formed",
		"segment/config-defaults", "segment/deterministic", "segment/empty-batch", "segment/large-batch", "segment/malformed-input", "segment/missing-values", "segment/order-independent", "segment/well-formed",
	}
	if !slices.Equal(names, want) {
		t.Errorf("checks run: %q\nwant %q", names, want)
	}
	expect(t, results, nil)
}

// TestRunReportsSubtests runs the kit through Run, as plugin authors do.
func TestRunReportsSubtests(t *testing.T) {
	pluginkit.Run(t, pluginkit.Native(mustManifest(t, goodManifest), good))
}

func TestBrokenPluginsFail(t *testing.T) {
	var calls atomic.Int64
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	scoreOnly := strings.Replace(goodManifest, `"points": ["score", "segment", "report"]`, `"points": ["score"]`, 1)

	for _, c := range []struct {
		name     string
		manifest string
		plugin   func(p *sdk.Plugin)
		suite    pluginkit.Suite
		failing  map[string]string
	}{{
		name: "NaN for a missing value",
		plugin: func(p *sdk.Plugin) {
			p.Score = func(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
				resp, err := goodScore(ctx, req)
				if err != nil {
					return nil, err
				}
				v := req.Batch.Numbers("estimated_value")
				for i := range resp.Values {
					if req.Batch.SubjectType == "lead" && math.IsNaN(v[i]) {
						resp.Values[i] = v[i]
					}
				}
				return resp, nil
			}
		},
		failing: map[string]string{
			"score/missing-values":    "lead batch (100 subjects, declared layout, a third of the values missing): malformed answer: score response: value 2 is NaN",
			"score/order-independent": "is NaN",
		},
	}, {
		name: "a column found by position",
		plugin: func(p *sdk.Plugin) {
			// It takes the first column for the value, as the manifest
			// lists the inputs: the reversed layout puts a category there.
			p.Segment = func(ctx sdk.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
				if b := &req.Batch; b.Count > 0 && len(b.Columns) > 0 {
					_ = b.Columns[0].Numbers[0]
				}
				return goodSegment(ctx, req)
			}
		},
		failing: map[string]string{
			"segment/well-formed":       "lead batch (100 subjects, declared layout, columns in reverse order): failed (not a refusal: a crash, a trap or a bad answer): segment: plugin panicked: runtime error: index out of range",
			"segment/deterministic":     "columns in reverse order): failed (not a refusal",
			"segment/order-independent": "panicked",
		},
	}, {
		name: "trusts the declared kinds",
		plugin: func(p *sdk.Plugin) {
			// It reads each column as its declared kind without checking:
			// the kit never sends another.
			p.Score = func(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
				b := &req.Batch
				kinds := map[string]map[string]string{
					"lead": {"estimated_value": "number", "source": "category", "has_email": "flag", "converted_at": "time", "status": "status"},
					"deal": {"amount": "number", "stage": "category", "calls": "count", "tag:vip": "flag", "max(orders.ordered_at)": "time", "status": "status"},
				}[b.SubjectType]
				for name, kind := range kinds {
					c := b.Column(name)
					if c == nil {
						if len(b.Columns) > 0 {
							return nil, fmt.Errorf("no column %q", name)
						}
						continue
					}
					for i := range b.Count {
						if kind == "category" || kind == "status" {
							if s, ok := c.Text(i); ok && kind == "status" && !slices.Contains([]string{"new", "contacted", "qualified", "unqualified", "converted", "open", "won", "lost", "", "Zürich ✓"}, s) {
								return nil, fmt.Errorf("%s: status %q", name, s)
							}
							_ = c.Codes[i]
							continue
						}
						v := c.Numbers[i]
						switch {
						case math.IsNaN(v):
						case kind == "flag" && v != 0 && v != 1,
							kind == "time" && (v < 1e9 || v > 2e9),
							kind == "count" && (v < 0 || v != math.Trunc(v)):
							return nil, fmt.Errorf("%s: %v is no %s", name, v, kind)
						}
					}
				}
				return goodScore(ctx, req)
			}
		},
	}, {
		name: "a different answer each call",
		plugin: func(p *sdk.Plugin) {
			p.Score = func(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
				resp, err := goodScore(ctx, req)
				if err == nil && req.Batch.Count > 0 {
					resp.Values[0] += float64(calls.Add(1))
				}
				return resp, err
			}
		},
		failing: map[string]string{
			"score/deterministic":     "the same request twice got different answers: subject 0: value",
			"score/order-independent": "did not reverse the answers",
		},
	}, {
		name: "scores by position",
		plugin: func(p *sdk.Plugin) {
			p.Score = func(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
				resp := sdk.NewScoreResponse(req.Batch.Count)
				for i := range resp.Values {
					resp.Values[i] = float64(i)
				}
				return resp, nil
			}
		},
		failing: map[string]string{"score/order-independent": "reversing the subjects did not reverse the answers: subject 0: value 0, then 99"},
	}, {
		name: "segments by position",
		plugin: func(p *sdk.Plugin) {
			p.Segment = func(ctx sdk.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
				s := sdk.NewSegments(req.Batch.Count)
				for i := range req.Batch.Count {
					s.Assign(i, fmt.Sprint("half-", 2*i/max(req.Batch.Count, 1)), 1)
				}
				return s.Response(), nil
			}
		},
		failing: map[string]string{"segment/order-independent": "subject 0: segments [half-0], then [half-1]"},
	}, {
		name: "hangs on a large batch",
		plugin: func(p *sdk.Plugin) {
			p.Report = func(ctx sdk.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
				if len(req.Batches) > 0 && req.Batches[0].Count > 1000 {
					<-block
				}
				return goodReport(ctx, req)
			}
		},
		suite:   pluginkit.Suite{Timeout: 500 * time.Millisecond},
		failing: map[string]string{"report/large-batch": "no answer within 500ms"},
	}, {
		name: "sorts a column in place",
		plugin: func(p *sdk.Plugin) {
			p.Score = func(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
				resp, err := goodScore(ctx, req)
				if c := req.Batch.Column("estimated_value"); c != nil {
					slices.Sort(c.Numbers)
				}
				return resp, err
			}
		},
		failing: map[string]string{
			"score/well-formed":       "the plugin modified its request",
			"score/deterministic":     "modified its request",
			"score/large-batch":       "modified its request",
			"score/missing-values":    "modified its request",
			"score/order-independent": "modified its request",
			"score/config-defaults":   "modified its request",
			"score/malformed-input":   "modified its request",
		},
	}, {
		name: "no offsets for an empty batch",
		plugin: func(p *sdk.Plugin) {
			p.Segment = func(ctx sdk.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
				if req.Batch.Count == 0 {
					return &sdk.SegmentResponse{}, nil
				}
				return goodSegment(ctx, req)
			}
		},
		failing: map[string]string{"segment/empty-batch": "segment response: 0 offsets for 0 subjects"},
	}, {
		name: "NaN weights",
		plugin: func(p *sdk.Plugin) {
			p.Segment = func(ctx sdk.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
				s := sdk.NewSegments(req.Batch.Count)
				v := req.Batch.Numbers("amount")
				for i := range req.Batch.Count {
					s.Assign(i, "all", v[i])
				}
				return s.Response(), nil
			}
		},
		failing: map[string]string{
			"segment/missing-values":    "segment response: weight 0 is NaN",
			"segment/well-formed":       "is NaN", // leads have no amount
			"segment/deterministic":     "is NaN",
			"segment/large-batch":       "is NaN",
			"segment/order-independent": "is NaN",
			"segment/config-defaults":   "is NaN",
			"segment/malformed-input":   "a good one already fails",
		},
	}, {
		name: "an empty report",
		plugin: func(p *sdk.Plugin) {
			p.Report = func(sdk.Context, *sdk.ReportRequest) (*sdk.Report, error) { return &sdk.Report{}, nil }
		},
		failing: map[string]string{
			"report/well-formed":     "report: neither a title nor sections",
			"report/deterministic":   "neither",
			"report/empty-batch":     "neither",
			"report/large-batch":     "neither",
			"report/missing-values":  "neither",
			"report/malformed-input": "a good one already fails",
			"report/config-defaults": "neither",
		},
	}, {
		name: "a ragged table",
		plugin: func(p *sdk.Plugin) {
			p.Report = func(ctx sdk.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
				r, err := goodReport(ctx, req)
				if err == nil && len(req.Batches) > 0 && req.Batches[0].Count == 10_000 {
					r.Sections[0].Tables[0].Rows[0] = []string{"only one cell"}
				}
				return r, err
			}
		},
		failing: map[string]string{"report/large-batch": `table "categories": row 0 has 1 cells for 2 columns`},
	}, {
		name:     "refuses any config but its defaults",
		manifest: scoreOnly,
		plugin: func(p *sdk.Plugin) {
			p.Segment, p.Report = nil, nil
			p.Score = func(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
				if string(ctx.Config()) != `{"labels":{"high":"high"},"threshold":100}` {
					return nil, fmt.Errorf("unexpected config %s", ctx.Config())
				}
				return goodScore(ctx, req)
			}
		},
		suite: pluginkit.Suite{Config: []byte(`{"threshold": 5}`)},
		failing: map[string]string{
			// score/config-defaults passes: it sends the defaults.
			"score/well-formed":       `refused: plugin refused the call: unexpected config {"threshold": 5}`,
			"score/deterministic":     "unexpected config",
			"score/empty-batch":       "unexpected config",
			"score/large-batch":       "unexpected config",
			"score/missing-values":    "unexpected config",
			"score/order-independent": "unexpected config",
			"score/malformed-input":   "not sending malformed requests: a good one already fails",
		},
	}, {
		name: "a config schema without a default for a required property",
		manifest: strings.Replace(scoreOnly, `"type": "object",`,
			`"type": "object", "required": ["api_key", "threshold"], "additionalProperties": false,`, 1),
		plugin: func(p *sdk.Plugin) {
			p.Segment, p.Report = nil, nil
			p.Score = func(_ sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
				return goodScore(fixedConfig(`{"labels":{"high":"high"}}`), req)
			}
		},
		failing: map[string]string{"score/config-defaults": `config_schema requires "api_key" without a default; set Suite.Config`},
	}, {
		name:     "answers a point it does not declare",
		manifest: scoreOnly,
		failing:  map[string]string{"undeclared-points": "segment: the manifest does not declare it, yet the plugin answers it"},
	}, {
		name: "a sloppy manifest",
		manifest: strings.NewReplacer(
			`"points": ["score", "segment", "report"]`, `"points": ["score", "score"]`,
			`"deal": ["amount", "stage = stage.name",`, `"deal": [], "contact": ["first_name", "first_name"], "x": ["amount", "stage = stage.name",`,
		).Replace(goodManifest),
		plugin: func(p *sdk.Plugin) { p.Segment, p.Report = nil, nil },
		failing: map[string]string{"manifest": strings.Join([]string{
			`points: "score" is listed twice`,
			`subject type "deal" is declared but has no inputs`,
			`inputs.contact: "first_name" is listed twice`,
			`subject type "contact" has inputs but is not among subjects`,
		}, "\n")},
	}} {
		t.Run(c.name, func(t *testing.T) {
			src := c.manifest
			if src == "" {
				src = goodManifest
			}
			p := good
			if c.plugin != nil {
				c.plugin(&p)
			}
			expect(t, check(t, c.suite, pluginkit.Native(mustManifest(t, src), p)), c.failing)
		})
	}
}

// fixedConfig is an sdk.Context with the given config.
type fixedConfig string

func (c fixedConfig) Config() []byte        { return []byte(c) }
func (c fixedConfig) Log(level, msg string) {}

// rawTarget is a Target whose Raw behaves as raw says on requests the SDK
// cannot decode, and passes the others on.
type rawTarget struct {
	pluginkit.Target
	raw func(ctx context.Context) ([]byte, error)
	// sick is set after the first malformed request when breaks is set:
	// every later call fails.
	breaks bool
	sick   atomic.Bool
}

func (r *rawTarget) Raw(ctx context.Context, point sdk.Point, b []byte) ([]byte, error) {
	var err error
	switch point {
	case sdk.PointScore:
		_, err = sdk.DecodeScoreRequest(b, true)
	case sdk.PointSegment:
		_, err = sdk.DecodeSegmentRequest(b, true)
	default:
		_, err = sdk.DecodeReportRequest(b, true)
	}
	if err != nil && r.raw != nil {
		return r.raw(ctx)
	}
	if err != nil && r.breaks {
		r.sick.Store(true)
	}
	return r.Target.Raw(ctx, point, b)
}

func (r *rawTarget) Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	if r.sick.Load() {
		return nil, errors.New("trap: unreachable")
	}
	return r.Target.Score(ctx, req)
}

func TestMalformedInputFailures(t *testing.T) {
	m := mustManifest(t, strings.Replace(goodManifest, `"points": ["score", "segment", "report"]`, `"points": ["score"]`, 1))
	plugin := sdk.Plugin{Score: goodScore}
	var hung atomic.Bool
	for _, c := range []struct {
		name   string
		target *rawTarget
		want   string
		// also fail, with their own text
		also    map[string]string
		timeout time.Duration
	}{{
		name:   "accepts garbage",
		target: &rawTarget{raw: func(context.Context) ([]byte, error) { return nil, nil }},
		want:   "score of a request truncated by one byte (\nbytes): answered (0 bytes) instead of refusing; bytes that do not parse must get an error answer\nscore of field number 0 (2 bytes): answered",
	}, {
		name:   "crashes on garbage",
		target: &rawTarget{raw: func(context.Context) ([]byte, error) { return nil, errors.New("trap: out of bounds memory access") }},
		want:   "score of wire type 7, which does not exist (4 bytes): must be refused with an error answer, but the call failed (not a refusal: a crash, a trap or a bad answer): trap: out of bounds memory access",
	}, {
		name: "hangs on garbage, once",
		target: &rawTarget{raw: func(ctx context.Context) ([]byte, error) {
			if hung.CompareAndSwap(false, true) {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%w: bad request", pluginkit.ErrRefused)
		}},
		timeout: 300 * time.Millisecond,
		want:    "score of a request truncated by one byte (\nbytes): must be refused with an error answer, but the call no answer within 300ms: context deadline exceeded",
	}, {
		name:   "breaks after garbage",
		target: &rawTarget{breaks: true},
		want:   "score: after the malformed requests, the plugin no longer answers a good one\nfailed (not a refusal: a crash, a trap or a bad answer): trap: unreachable",
		also:   map[string]string{"score/config-defaults": "trap: unreachable"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			c.target.Target = pluginkit.Native(m, plugin)
			results := check(t, pluginkit.Suite{Timeout: c.timeout}, c.target)
			failing := map[string]string{"score/malformed-input": c.want}
			for name, want := range c.also {
				failing[name] = want
			}
			expect(t, results, failing)
		})
	}
}

// codeRecorder passes calls on and records why the SDK refuses the bytes
// sent through Raw.
type codeRecorder struct {
	pluginkit.Target
	refusals []string
}

func (c *codeRecorder) Raw(ctx context.Context, point sdk.Point, b []byte) ([]byte, error) {
	if _, err := sdk.DecodeScoreRequest(b, true); err != nil {
		c.refusals = append(c.refusals, err.Error())
	}
	return c.Target.Raw(ctx, point, b)
}

// TestMalformedCodeInDeclaredCategory checks that the code outside its
// dictionary is sent in the first categorical column of the declared
// layout, and not at all when every input is numeric.
func TestMalformedCodeInDeclaredCategory(t *testing.T) {
	scoreOnly := strings.Replace(goodManifest, `"points": ["score", "segment", "report"]`, `"points": ["score"]`, 1)
	for _, c := range []struct{ inputs, want string }{
		{`"lead": ["id", "estimated_value", "source", "has_email", "converted_at", "status"]`, `column "source": code`},
		{`"lead": ["has_email", "estimated_value", "status", "source"]`, `column "status": code`},
		{`"lead": ["id", "estimated_value", "has_email", "converted_at"]`, ""},
	} {
		src := strings.Replace(scoreOnly, `"lead": ["id", "estimated_value", "source", "has_email", "converted_at", "status"]`, c.inputs, 1)
		src = strings.Replace(src, `"subjects": ["lead", "deal"]`, `"subjects": ["lead"]`, 1)
		src = src[:strings.Index(src, `,
    "deal":`)] + src[strings.Index(src, `
  },
  "config_schema"`):]
		rec := &codeRecorder{Target: pluginkit.Native(mustManifest(t, src), sdk.Plugin{Score: goodScore})}
		expect(t, check(t, pluginkit.Suite{}, rec), nil)
		var got []string
		for _, r := range rec.refusals {
			if strings.Contains(r, "outside dictionary") {
				got = append(got, r)
			}
		}
		switch {
		case c.want == "" && len(got) > 0:
			t.Errorf("%s: sent %q; want no code outside a dictionary without a categorical input", c.inputs, got)
		case c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want)):
			t.Errorf("%s: sent %q; want a code outside the dictionary of %s", c.inputs, got, c.want)
		}
	}
}
