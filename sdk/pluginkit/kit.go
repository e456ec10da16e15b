package pluginkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

// allPoints are the extension points this SDK defines, in the order the
// checks run.
var allPoints = []sdk.Point{sdk.PointScore, sdk.PointSegment, sdk.PointReport}

// kit is one run of the checks against one target.
type kit struct {
	suite  Suite
	target Target
	m      *manifest.Manifest
	// points are the declared points the SDK knows, once each.
	points []sdk.Point
	// subjects are the subject types batches are built for.
	subjects []string
	// config is sent with every request.
	config []byte
	// columns are the columns of each subject type's inputs, and
	// records those of each record type's attributes, in manifest order.
	columns, records map[string][]column
}

func (s Suite) newKit(target Target) (*kit, error) {
	m := target.Manifest()
	if m == nil {
		return nil, errors.New("the target has no manifest")
	}
	k := &kit{suite: s, target: target, m: m}
	for _, p := range allPoints {
		if m.Implements(p) {
			k.points = append(k.points, p)
		}
	}
	for _, subj := range m.Subjects {
		if !slices.Contains(k.subjects, subj) {
			k.subjects = append(k.subjects, subj)
		}
	}
	if len(k.subjects) == 0 {
		for subj := range m.Inputs {
			k.subjects = append(k.subjects, subj)
		}
		sort.Strings(k.subjects)
	}
	k.columns, k.records = map[string][]column{}, map[string][]column{}
	for subj, texts := range m.Inputs {
		k.columns[subj] = declaredColumns(subj, texts)
	}
	for r, attrs := range m.Records {
		k.records[r] = recordColumns(r, attrs)
	}
	switch {
	case s.Config != nil:
		k.config = s.Config
	default:
		c, err := DefaultConfig(m)
		if err != nil {
			c = []byte("{}") // config-defaults reports it
		}
		k.config = c
	}
	return k, nil
}

// check is one named check.
type check struct {
	name string
	run  func(k *kit, ctx context.Context, r *Result)
}

func (k *kit) checks() []check {
	out := []check{{"manifest", (*kit).checkManifest}}
	for _, p := range k.points {
		add := func(name string, fn func(*kit, context.Context, *Result, sdk.Point)) {
			out = append(out, check{string(p) + "/" + name, func(k *kit, ctx context.Context, r *Result) { fn(k, ctx, r, p) }})
		}
		add("well-formed", (*kit).checkWellFormed)
		add("deterministic", (*kit).checkDeterministic)
		add("empty-batch", (*kit).checkEmptyBatch)
		add("large-batch", (*kit).checkLargeBatch)
		add("missing-values", (*kit).checkMissingValues)
		if p != sdk.PointReport {
			add("order-independent", (*kit).checkOrderIndependent)
		}
		add("malformed-input", (*kit).checkMalformedInput)
		add("config-defaults", (*kit).checkConfigDefaults)
	}
	if len(k.points) < len(allPoints) {
		out = append(out, check{"undeclared-points", (*kit).checkUndeclaredPoints})
	}
	return out
}

// request is the request of one call, to any point.
type request struct {
	point sdk.Point
	// what describes the request in messages.
	what string
	// count is the number of subjects the answer must cover (score and
	// segment).
	count   int
	score   *sdk.ScoreRequest
	segment *sdk.SegmentRequest
	report  *sdk.ReportRequest
}

// requests builds the canonical requests of spec for point: one per subject
// type for score and segment, one holding a batch per subject type for
// report.
func (k *kit) requests(point sdk.Point, s batchSpec) []*request {
	subjects := k.subjects
	if len(subjects) == 0 {
		subjects = []string{"contact"}
	}
	if point == sdk.PointReport {
		req := &sdk.ReportRequest{Params: []byte("{}"), Config: k.config, Metrics: canonicalMetrics(k.m.Metrics, s)}
		for _, subj := range k.subjects {
			req.Batches = append(req.Batches, canonicalBatch(subj, k.columns[subj], s))
		}
		records := make([]string, 0, len(k.m.Records))
		for r := range k.m.Records {
			records = append(records, r)
		}
		sort.Strings(records)
		for _, r := range records {
			req.Batches = append(req.Batches, canonicalBatch(r, k.records[r], s))
		}
		what := "request with no batches"
		if len(req.Batches) > 0 {
			what = fmt.Sprintf("request with a batch per subject type (%s)", s)
		}
		return []*request{{point: point, what: what, report: req}}
	}
	var out []*request
	for _, subj := range subjects {
		b := canonicalBatch(subj, k.columns[subj], s)
		out = append(out, k.withBatch(point, b, fmt.Sprintf("%s batch (%s)", subj, s)))
	}
	return out
}

// withBatch returns a score or segment request for b.
func (k *kit) withBatch(point sdk.Point, b sdk.Batch, what string) *request {
	r := &request{point: point, what: what, count: b.Count}
	switch point {
	case sdk.PointScore:
		r.score = &sdk.ScoreRequest{Batch: b, Config: k.config}
	case sdk.PointSegment:
		r.segment = &sdk.SegmentRequest{Batch: b, Config: k.config}
	default:
		r.report = &sdk.ReportRequest{Params: []byte("{}"), Config: k.config, Batches: []sdk.Batch{b}}
	}
	return r
}

// batch returns the request's (first) batch, or nil.
func (r *request) batch() *sdk.Batch {
	switch {
	case r.score != nil:
		return &r.score.Batch
	case r.segment != nil:
		return &r.segment.Batch
	case len(r.report.Batches) > 0:
		return &r.report.Batches[0]
	}
	return nil
}

// encode returns the request's wire form.
func (r *request) encode() []byte {
	switch {
	case r.score != nil:
		return sdk.AppendScoreRequest(nil, r.score)
	case r.segment != nil:
		return sdk.AppendSegmentRequest(nil, r.segment)
	}
	return sdk.AppendReportRequest(nil, r.report)
}

// answer is the response to a request.
type answer struct {
	score   *sdk.ScoreResponse
	segment *sdk.SegmentResponse
	report  *sdk.Report
}

// decodeAnswer reads response bytes of point.
func decodeAnswer(point sdk.Point, b []byte) (*answer, error) {
	var a answer
	var err error
	switch point {
	case sdk.PointScore:
		a.score, err = sdk.DecodeScoreResponse(b)
	case sdk.PointSegment:
		a.segment, err = sdk.DecodeSegmentResponse(b)
	default:
		a.report, err = sdk.DecodeReport(b)
	}
	return &a, err
}

// call sends req through the target's typed method and checks the answer.
// It records any problem in res and returns nil then.
func (k *kit) call(ctx context.Context, res *Result, req *request) *answer {
	before := req.encode()
	ctx, cancel := context.WithTimeout(ctx, k.suite.timeout())
	defer cancel()
	var a answer
	var err error
	switch req.point {
	case sdk.PointScore:
		a.score, err = k.target.Score(ctx, req.score)
	case sdk.PointSegment:
		a.segment, err = k.target.Segment(ctx, req.segment)
	default:
		a.report, err = k.target.Report(ctx, req.report)
	}
	if err != nil {
		res.errorf("%s of a %s: %s", req.point, req.what, k.explain(ctx, err))
		return nil
	}
	if !bytes.Equal(before, req.encode()) {
		res.errorf("%s of a %s: the plugin modified its request; requests are read-only (a host may share their columns)", req.point, req.what)
	}
	if p := a.problem(req); p != "" {
		res.errorf("%s of a %s: malformed answer: %s", req.point, req.what, p)
		return nil
	}
	return &a
}

// explain says why a call failed.
func (k *kit) explain(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, ErrRefused):
		return fmt.Sprintf("refused: %v", err)
	case ctx.Err() != nil:
		return fmt.Sprintf("no answer within %v: %v", k.suite.timeout(), err)
	}
	return fmt.Sprintf("failed (not a refusal: a crash, a trap or a bad answer): %v", err)
}

// problem returns what is wrong with a as the answer to req, or "".
func (a *answer) problem(req *request) string {
	switch req.point {
	case sdk.PointScore:
		if a.score == nil {
			return "no response"
		}
		if err := a.score.Validate(req.count); err != nil {
			return err.Error()
		}
	case sdk.PointSegment:
		if a.segment == nil {
			return "no response"
		}
		if err := a.segment.Validate(req.count); err != nil {
			return err.Error()
		}
		for i, w := range a.segment.Weights {
			if !finite(w) {
				return fmt.Sprintf("segment response: weight %d is %v", i, w)
			}
		}
	default:
		return reportProblem(a.report)
	}
	return ""
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// reportProblem checks what the SDK's types say of a report: it has a title
// or sections, its numbers are finite, each series has a label per value
// (or none), each table is rectangular.
func reportProblem(r *sdk.Report) string {
	if r == nil {
		return "no report"
	}
	if r.Title == "" && len(r.Sections) == 0 {
		return "report: neither a title nor sections"
	}
	series := func(where string, s *sdk.Series) string {
		if len(s.Labels) > 0 && len(s.Labels) != len(s.Values) {
			return fmt.Sprintf("report: %s: %d labels for %d values", where, len(s.Labels), len(s.Values))
		}
		for i, v := range s.Values {
			if !finite(v) {
				return fmt.Sprintf("report: %s: value %d is %v", where, i, v)
			}
		}
		return ""
	}
	for i := range r.Sections {
		s := &r.Sections[i]
		where := fmt.Sprintf("section %d (%q)", i, s.Key)
		for _, kpi := range s.KPIs {
			if !finite(kpi.Value) {
				return fmt.Sprintf("report: %s: KPI %q is %v", where, kpi.Key, kpi.Value)
			}
			if kpi.Target != nil && !finite(*kpi.Target) {
				return fmt.Sprintf("report: %s: KPI %q has target %v", where, kpi.Key, *kpi.Target)
			}
		}
		for _, t := range s.Tables {
			if len(t.Columns) == 0 {
				continue
			}
			for j, row := range t.Rows {
				if len(row) != len(t.Columns) {
					return fmt.Sprintf("report: %s: table %q: row %d has %d cells for %d columns", where, t.Key, j, len(row), len(t.Columns))
				}
			}
		}
		for j := range s.Series {
			if p := series(fmt.Sprintf("%s: series %q", where, s.Series[j].Name), &s.Series[j]); p != "" {
				return p
			}
		}
	}
	return ""
}
