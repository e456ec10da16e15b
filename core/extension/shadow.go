package extension

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/extensionbinding"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/sdk"
)

// ShadowOptions names the two plugins to compare and the subjects.
type ShadowOptions struct {
	// Point is score or segment.
	Point sdk.Point
	// Baseline and Candidate are "name" (the newest loaded) or
	// "name@version".
	Baseline, Candidate string
	SubjectType         string
	// Where is the subject type's *ent.<Type>WhereInput, or nil for all.
	Where any
	// BatchSize is the subjects per call (1,000 when 0).
	BatchSize int
	Now       time.Time
}

// LabelChange is a subject whose label differs between the two plugins.
// Its JSON members are named as the GraphQL LabelChange's fields, as are
// those of ShadowComparison and the types it holds.
type LabelChange struct {
	SubjectID      pulid.ID `json:"subjectID"`
	Baseline       string   `json:"baseline"`
	Candidate      string   `json:"candidate"`
	BaselineValue  float64  `json:"baselineValue"`
	CandidateValue float64  `json:"candidateValue"`
}

// ShadowComparison is how a candidate plugin's answers compare with a
// baseline's on the same subjects.
type ShadowComparison struct {
	Baseline    string `json:"baseline"`  // name@version
	Candidate   string `json:"candidate"` // name@version
	SubjectType string `json:"subjectType"`
	Subjects    int    `json:"subjects"`
	// RankCorrelation is Spearman's ρ (ties ranked by their mean rank);
	// nil with fewer than two subjects or when either side is constant.
	RankCorrelation *float64 `json:"rankCorrelation"`
	// MeanShift is the mean of candidate − baseline.
	MeanShift float64 `json:"meanShift"`
	// TopK is k: 10 % of the subjects, at least 1 and at most 100.
	TopK int `json:"topK"`
	// TopKOverlap is the share of the baseline's k highest (ties by ID)
	// that are among the candidate's k highest.
	TopKOverlap float64 `json:"topKOverlap"`
	// LabelChanges lists up to 100 subjects whose label differs, by ID;
	// LabelChangeCount counts them all.
	LabelChanges     []LabelChange `json:"labelChanges"`
	LabelChangeCount int           `json:"labelChangeCount"`
	// Segments compares the two plugins' segments, for point segment;
	// nil for score.
	Segments *SegmentComparison `json:"segments"`
}

// maxLabelChanges bounds ShadowComparison.LabelChanges.
const maxLabelChanges = 100

// ShadowScore runs two plugins over the same subjects, in the same
// batches, storing nothing, and compares their answers. For segment, a
// subject's label is its segment keys (sorted, joined with "+", "(none)"
// for none) and its value the number of its segments, and Segments
// compares the segments themselves; an answer with an invalid segment key
// fails as a segmentation run would. Each plugin runs with the
// workspace's binding configuration when that binding names it, else its
// defaults.
func (r *Registry) ShadowScore(ctx context.Context, client *ent.Client, opts ShadowOptions) (*ShadowComparison, error) {
	if opts.Point == "" {
		opts.Point = sdk.PointScore
	}
	if opts.Point != sdk.PointScore && opts.Point != sdk.PointSegment {
		return nil, errcode.Input("point", "shadow runs compare score or segment plugins")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var plugins [2]*Plugin
	var cfgs [2][]byte
	for i, ref := range []string{opts.Baseline, opts.Candidate} {
		field := [2]string{"baseline", "candidate"}[i]
		p, err := r.resolve(ctx, client, ref)
		if err != nil {
			return nil, errcode.Input(field, "%v", err)
		}
		m := p.Manifest
		if !m.Implements(opts.Point) {
			return nil, errcode.Input(field, "plugin %s does not implement %s", m.Ref(), opts.Point)
		}
		if len(m.Subjects) > 0 && !contains(m.Subjects, opts.SubjectType) {
			return nil, errcode.Input("subjectType", "plugin %s does not take %s subjects", m.Ref(), opts.SubjectType)
		}
		if _, err := CompileInputs(ctx, client, opts.SubjectType, m.Inputs[opts.SubjectType]); err != nil {
			return nil, err
		}
		var bound map[string]any
		b, err := client.ExtensionBinding.Query().Where(
			extensionbinding.PointEQ(extensionbinding.Point(opts.Point)), extensionbinding.PluginEQ(m.Name), extensionbinding.VersionEQ(m.Version),
			extensionbinding.Or(extensionbinding.SubjectTypeEQ(extensionbinding.SubjectType(opts.SubjectType)), extensionbinding.SubjectTypeIsNil())).First(ctx)
		switch {
		case err == nil:
			bound = b.Config
		case !ent.IsNotFound(err):
			return nil, err
		}
		if cfgs[i], err = configFor(m.ConfigSchema, bound); err != nil {
			return nil, err
		}
		plugins[i] = p
	}
	attrs := append([]string{}, plugins[0].Manifest.Inputs[opts.SubjectType]...)
	for _, a := range plugins[1].Manifest.Inputs[opts.SubjectType] {
		if !contains(attrs, a) {
			attrs = append(attrs, a)
		}
	}
	plan, err := CompileInputs(ctx, client, opts.SubjectType, attrs)
	if err != nil {
		return nil, err
	}
	next, _, err := subjectPages(ctx, client, opts.SubjectType, opts.Where, opts.BatchSize)
	if err != nil {
		return nil, err
	}
	var (
		ids    []pulid.ID
		values [2][]float64
		labels [2][]string
		keys   [2][][]string
	)
	for {
		page, err := next()
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		batch, err := plan.Build(ctx, client, page, opts.Now)
		if err != nil {
			return nil, err
		}
		for i, p := range plugins {
			v, l, k, err := r.answer(ctx, p, opts.Point, batch, cfgs[i])
			if err != nil {
				return nil, err
			}
			values[i] = append(values[i], v...)
			labels[i] = append(labels[i], l...)
			keys[i] = append(keys[i], k...)
		}
		ids = append(ids, page...)
	}
	c := compare(plugins[0].Ref(), plugins[1].Ref(), opts.SubjectType, ids, values, labels)
	if opts.Point == sdk.PointSegment {
		var declared [2][]string
		for i, p := range plugins {
			for k := range p.Manifest.Segments {
				declared[i] = append(declared[i], k)
			}
		}
		c.Segments = compareSegments(keys, declared)
	}
	return c, nil
}

// answer runs one plugin on a batch and returns a value and a label per
// subject, and for segment its key set (as segmentKeys returns).
func (r *Registry) answer(ctx context.Context, p *Plugin, point sdk.Point, batch sdk.Batch, cfg []byte) ([]float64, []string, [][]string, error) {
	n := batch.Count
	values, labels := make([]float64, n), make([]string, n)
	if point == sdk.PointScore {
		resp, err := r.Score(ctx, p, &sdk.ScoreRequest{Batch: batch, Config: cfg})
		if err != nil {
			return nil, nil, nil, err
		}
		for i := 0; i < n; i++ {
			values[i], labels[i] = resp.Values[i], resp.Label(i)
		}
		return values, labels, nil, nil
	}
	resp, err := r.Segment(ctx, p, &sdk.SegmentRequest{Batch: batch, Config: cfg})
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkSegmentKeys(p, resp); err != nil {
		return nil, nil, nil, err
	}
	keys := make([][]string, n)
	for i := 0; i < n; i++ {
		keys[i] = segmentKeys(resp.Of(i))
		values[i], labels[i] = float64(len(keys[i])), segmentLabel(keys[i])
	}
	return values, labels, keys, nil
}

// compare computes the comparison of two answer sets over the same
// subjects (ids in ID order).
func compare(baseline, candidate, subjectType string, ids []pulid.ID, values [2][]float64, labels [2][]string) *ShadowComparison {
	n := len(ids)
	c := &ShadowComparison{Baseline: baseline, Candidate: candidate, SubjectType: subjectType, Subjects: n}
	if n == 0 {
		c.TopK = 1
		return c
	}
	shift := 0.0
	for i := 0; i < n; i++ {
		shift += values[1][i] - values[0][i]
		if labels[0][i] != labels[1][i] {
			c.LabelChangeCount++
			if len(c.LabelChanges) < maxLabelChanges {
				c.LabelChanges = append(c.LabelChanges, LabelChange{SubjectID: ids[i], Baseline: labels[0][i], Candidate: labels[1][i],
					BaselineValue: values[0][i], CandidateValue: values[1][i]})
			}
		}
	}
	c.MeanShift = shift / float64(n)
	c.RankCorrelation = spearman(values[0], values[1])
	c.TopK = max(1, min(n/10, 100))
	top := func(v []float64) map[int]bool {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] > v[idx[b]] }) // ties keep ID order
		out := make(map[int]bool, c.TopK)
		for _, i := range idx[:c.TopK] {
			out[i] = true
		}
		return out
	}
	tb, tc := top(values[0]), top(values[1])
	both := 0
	for i := range tb {
		if tc[i] {
			both++
		}
	}
	c.TopKOverlap = float64(both) / float64(c.TopK)
	return c
}

// spearman is Spearman's rank correlation: Pearson's correlation of the
// ranks, tied values sharing their mean rank.
func spearman(a, b []float64) *float64 {
	if len(a) < 2 {
		return nil
	}
	ra, rb := ranks(a), ranks(b)
	var ma, mb float64
	for i := range ra {
		ma += ra[i]
		mb += rb[i]
	}
	ma /= float64(len(ra))
	mb /= float64(len(rb))
	var cov, va, vb float64
	for i := range ra {
		cov += (ra[i] - ma) * (rb[i] - mb)
		va += (ra[i] - ma) * (ra[i] - ma)
		vb += (rb[i] - mb) * (rb[i] - mb)
	}
	if va == 0 || vb == 0 {
		return nil
	}
	rho := cov / math.Sqrt(va*vb)
	return &rho
}

// ranks returns the 1-based ranks of v, ties sharing their mean rank.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	out := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		mean := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			out[idx[k]] = mean
		}
		i = j + 1
	}
	return out
}
