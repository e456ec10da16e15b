package extension

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/extensionbinding"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/sdk"
)

// MaxShadowSample bounds the subjects of a ShadowSample.
const MaxShadowSample = 1000

// SampleAnswer is one subject's answers from the two plugins of a
// ShadowSample: index 0 is the baseline's, 1 the candidate's.
type SampleAnswer struct {
	SubjectID pulid.ID
	Values    [2]float64
	Labels    [2]string
}

// ShadowSample runs two plugins as ShadowScore does, storing nothing, but
// over a bounded sample only: the first n subjects, in ID order, of those
// matching opts.Where (n from 1 to MaxShadowSample). It answers the
// comparison of the sample and each subject's value and label under
// both plugins, in ID order, for a client to plot.
func (r *Registry) ShadowSample(ctx context.Context, client *ent.Client, opts ShadowOptions, n int) (*ShadowComparison, []SampleAnswer, error) {
	if n < 1 || n > MaxShadowSample {
		return nil, nil, errcode.Input("sample", "the sample must hold 1 to %d subjects", MaxShadowSample)
	}
	if opts.Point == "" {
		opts.Point = sdk.PointScore
	}
	if opts.Point != sdk.PointScore && opts.Point != sdk.PointSegment {
		return nil, nil, errcode.Input("point", "shadow runs compare score or segment plugins")
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
			return nil, nil, errcode.Input(field, "%v", err)
		}
		m := p.Manifest
		if !m.Implements(opts.Point) {
			return nil, nil, errcode.Input(field, "plugin %s does not implement %s", m.Ref(), opts.Point)
		}
		if len(m.Subjects) > 0 && !contains(m.Subjects, opts.SubjectType) {
			return nil, nil, errcode.Input("subjectType", "plugin %s does not take %s subjects", m.Ref(), opts.SubjectType)
		}
		var bound map[string]any
		b, err := client.ExtensionBinding.Query().Where(
			extensionbinding.PointEQ(extensionbinding.Point(opts.Point)), extensionbinding.PluginEQ(m.Name), extensionbinding.VersionEQ(m.Version),
			extensionbinding.Or(extensionbinding.SubjectTypeEQ(extensionbinding.SubjectType(opts.SubjectType)), extensionbinding.SubjectTypeIsNil())).First(ctx)
		switch {
		case err == nil:
			bound = b.Config
		case !ent.IsNotFound(err):
			return nil, nil, err
		}
		if cfgs[i], err = configFor(m.ConfigSchema, bound); err != nil {
			return nil, nil, err
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
		return nil, nil, err
	}
	next, _, err := subjectPages(ctx, client, opts.SubjectType, opts.Where, n)
	if err != nil {
		return nil, nil, err
	}
	ids, err := next()
	if err != nil {
		return nil, nil, err
	}
	var (
		values [2][]float64
		labels [2][]string
		keys   [2][][]string
	)
	if len(ids) > 0 {
		batch, err := plan.Build(ctx, client, ids, opts.Now)
		if err != nil {
			return nil, nil, err
		}
		for i, p := range plugins {
			if values[i], labels[i], keys[i], err = r.answer(ctx, p, opts.Point, batch, cfgs[i]); err != nil {
				return nil, nil, err
			}
		}
	}
	c := compare(plugins[0].Ref(), plugins[1].Ref(), opts.SubjectType, ids, values, labels)
	if opts.Point == sdk.PointSegment {
		var declared [2][]string
		for i, p := range plugins {
			for k := range p.Manifest.Segments {
				declared[i] = append(declared[i], k)
			}
		}
		if len(ids) == 0 {
			keys = [2][][]string{{}, {}}
		}
		c.Segments = compareSegments(keys, declared)
	}
	answers := make([]SampleAnswer, len(ids))
	for i, id := range ids {
		answers[i] = SampleAnswer{SubjectID: id, Values: [2]float64{values[0][i], values[1][i]}, Labels: [2]string{labels[0][i], labels[1][i]}}
	}
	return c, answers, nil
}
