package pluginkit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/rapportcrm/rapport/sdk"
)

// canonicalCount is the number of subjects of an ordinary canonical batch.
const canonicalCount = 100

// largeCount is the number of subjects of the large batch.
const largeCount = 10_000

// orderTolerance is how far, relative, a subject's numbers may move when
// the batch is reversed: a plugin that sums over the batch may round
// differently in another order.
const orderTolerance = 1e-9

func (k *kit) checkManifest(_ context.Context, r *Result) {
	m := k.m
	if err := m.Validate(); err != nil {
		r.errorf("%v", err)
	}
	for i, p := range m.Points {
		if slices.Contains(m.Points[:i], p) {
			r.errorf("points: %q is listed twice", p)
		}
	}
	if (m.Implements(sdk.PointScore) || m.Implements(sdk.PointSegment)) && len(m.Subjects) == 0 {
		r.errorf("subjects: a score or segment plugin must declare the subject types it accepts")
	}
	for i, s := range m.Subjects {
		if slices.Contains(m.Subjects[:i], s) {
			r.errorf("subjects: %q is listed twice", s)
			continue
		}
		if len(m.Inputs[s]) == 0 {
			r.errorf("inputs: subject type %q is declared but has no inputs; list the attributes the plugin reads", s)
		}
	}
	subjects := make([]string, 0, len(m.Inputs))
	for s := range m.Inputs {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	for _, s := range subjects {
		if len(m.Subjects) > 0 && !slices.Contains(m.Subjects, s) {
			r.errorf("inputs: subject type %q has inputs but is not among subjects", s)
		}
		attrs := m.Inputs[s]
		for i, a := range attrs {
			if slices.Contains(attrs[:i], a) {
				r.errorf("inputs.%s: %q is listed twice", s, a)
			}
		}
	}
}

// each makes every canonical request of spec for point and hands fn, when
// not nil, each request with its answer when the answer is well-formed.
func (k *kit) each(ctx context.Context, r *Result, point sdk.Point, s batchSpec, fn func(req *request, a *answer)) {
	for _, req := range k.requests(point, s) {
		if a := k.call(ctx, r, req); a != nil && fn != nil {
			fn(req, a)
		}
	}
}

func (k *kit) checkWellFormed(ctx context.Context, r *Result, point sdk.Point) {
	for _, l := range layouts {
		k.each(ctx, r, point, batchSpec{layout: l, count: canonicalCount}, nil)
	}
}

func (k *kit) checkDeterministic(ctx context.Context, r *Result, point sdk.Point) {
	for _, l := range layouts {
		k.each(ctx, r, point, batchSpec{layout: l, count: canonicalCount}, func(req *request, first *answer) {
			second := k.call(ctx, r, req)
			if second == nil {
				return
			}
			if d := difference(first, second, req.count, false, 0); d != "" {
				r.errorf("%s of a %s: the same request twice got different answers: %s", point, req.what, d)
			}
		})
	}
}

func (k *kit) checkEmptyBatch(ctx context.Context, r *Result, point sdk.Point) {
	k.each(ctx, r, point, batchSpec{}, nil)
	k.each(ctx, r, point, batchSpec{noColumns: true}, nil)
	if point == sdk.PointReport && len(k.subjects) > 0 {
		req := &request{point: point, what: "request with no batches",
			report: &sdk.ReportRequest{Params: []byte("{}"), Config: k.config}}
		k.call(ctx, r, req)
	}
}

func (k *kit) checkLargeBatch(ctx context.Context, r *Result, point sdk.Point) {
	k.each(ctx, r, point, batchSpec{count: largeCount}, nil)
}

func (k *kit) checkMissingValues(ctx context.Context, r *Result, point sdk.Point) {
	for _, s := range []batchSpec{
		{count: canonicalCount, missing: someMissing},
		{count: canonicalCount, missing: allMissing},
	} {
		k.each(ctx, r, point, s, nil)
	}
}

func (k *kit) checkOrderIndependent(ctx context.Context, r *Result, point sdk.Point) {
	for _, l := range layouts {
		k.each(ctx, r, point, batchSpec{layout: l, count: canonicalCount, missing: someMissing}, func(req *request, fwd *answer) {
			rev := k.withBatch(point, reversed(*req.batch()), req.what+", reversed")
			back := k.call(ctx, r, rev)
			if back == nil {
				return
			}
			if d := difference(fwd, back, req.count, true, orderTolerance); d != "" {
				r.errorf("%s of a %s: reversing the subjects did not reverse the answers: %s", point, req.what, d)
			}
		})
	}
}

func (k *kit) checkConfigDefaults(ctx context.Context, r *Result, point sdk.Point) {
	config, err := DefaultConfig(k.m)
	if err != nil {
		if k.suite.Config == nil {
			r.errorf("cannot derive the binding config a host would send: %v; set Suite.Config to a config a binding could have", err)
		}
		return
	}
	for _, req := range k.requests(point, batchSpec{count: canonicalCount}) {
		switch {
		case req.score != nil:
			req.score.Config = config
		case req.segment != nil:
			req.segment.Config = config
		default:
			req.report.Config = config
		}
		req.what += fmt.Sprintf(" with config %s", config)
		k.call(ctx, r, req)
	}
}

func (k *kit) checkUndeclaredPoints(ctx context.Context, r *Result) {
	for _, p := range allPoints {
		if k.m.Implements(p) {
			continue
		}
		req := k.requests(p, batchSpec{count: 3})[0]
		ctx, cancel := context.WithTimeout(ctx, k.suite.timeout())
		_, err := k.target.Raw(ctx, p, req.encode())
		cancel()
		switch {
		case err == nil:
			r.errorf("%s: the manifest does not declare it, yet the plugin answers it; declare it in points, or leave it unimplemented", p)
		case !errors.Is(err, ErrRefused):
			r.errorf("%s: the manifest does not declare it, so the plugin must refuse it with an error answer; the call %s", p, k.explain(ctx, err))
		}
	}
}

// rawCase is a request sent as bytes.
type rawCase struct {
	name string
	body []byte
	// mustRefuse is set for bytes no protobuf parser accepts.
	mustRefuse bool
}

func (k *kit) checkMalformedInput(ctx context.Context, r *Result, point sdk.Point) {
	good := k.requests(point, batchSpec{count: 20})[0]
	if k.call(ctx, r, good) == nil {
		r.errorf("%s: not sending malformed requests: a good one already fails", point)
		return
	}
	cases := unparsable(good.encode())
	cases = append(cases, rawCase{name: "a zero-length request", body: []byte{}})
	if b := good.batch(); b != nil && b.Count > 0 && len(b.Columns) > 0 {
		longer := *b
		longer.Count++
		cases = append(cases, rawCase{
			name: fmt.Sprintf("a batch whose count (%d) exceeds its columns' length (%d)", longer.Count, b.Count),
			body: k.replaceBatch(good, longer).encode(),
		})
		// A code outside the dictionary, in the first categorical column
		// of the declared layout; none when every input is numeric.
		if j := slices.IndexFunc(b.Columns, func(c sdk.Column) bool { return c.Codes != nil }); j >= 0 {
			bad := *b
			bad.Columns = slices.Clone(b.Columns)
			c := &bad.Columns[j]
			c.Codes = slices.Clone(c.Codes)
			c.Codes[0] = uint32(len(c.Dictionary) + 7)
			cases = append(cases, rawCase{
				name: fmt.Sprintf("a batch whose column %q has a code outside its dictionary", c.Name),
				body: k.replaceBatch(good, bad).encode(),
			})
		}
	}
	for _, c := range cases {
		k.raw(ctx, r, point, c)
	}
	if k.call(ctx, r, good) == nil {
		r.errorf("%s: after the malformed requests, the plugin no longer answers a good one", point)
	}
}

// replaceBatch returns req with its (first) batch replaced by b.
func (k *kit) replaceBatch(req *request, b sdk.Batch) *request {
	if req.report != nil {
		rep := *req.report
		rep.Batches = slices.Clone(rep.Batches)
		rep.Batches[0] = b
		return &request{point: req.point, what: req.what, report: &rep}
	}
	return k.withBatch(req.point, b, req.what)
}

// raw sends one rawCase and checks that it is refused cleanly.
func (k *kit) raw(ctx context.Context, r *Result, point sdk.Point, c rawCase) {
	ctx, cancel := context.WithTimeout(ctx, k.suite.timeout())
	defer cancel()
	out, err := k.target.Raw(ctx, point, slices.Clone(c.body))
	switch {
	case err == nil && c.mustRefuse:
		r.errorf("%s of %s (%d bytes): answered (%d bytes) instead of refusing; bytes that do not parse must get an error answer", point, c.name, len(c.body), len(out))
	case err == nil:
		if _, derr := decodeAnswer(point, out); derr != nil {
			r.errorf("%s of %s: answered with bytes that are not a %s response: %v", point, c.name, point, derr)
		}
	case errors.Is(err, ErrRefused):
	default:
		r.errorf("%s of %s (%d bytes): must be refused with an error answer, but the call %s", point, c.name, len(c.body), k.explain(ctx, err))
	}
}
