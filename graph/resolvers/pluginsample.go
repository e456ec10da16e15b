package resolvers

import (
	"context"
	"encoding/json"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/graph/model"
	"github.com/rapportcrm/rapport/internal/round"
)

// shadowComparison maps a shadow run's comparison to its GraphQL model.
func shadowComparison(c *extension.ShadowComparison) *model.ShadowComparison {
	out := &model.ShadowComparison{Baseline: c.Baseline, Candidate: c.Candidate, SubjectType: c.SubjectType, Subjects: c.Subjects,
		RankCorrelation: round.Ptr(c.RankCorrelation), MeanShift: round.Measure(c.MeanShift), TopK: c.TopK, TopKOverlap: round.Measure(c.TopKOverlap),
		LabelChangeCount: c.LabelChangeCount, LabelChanges: []*model.LabelChange{}}
	for _, l := range c.LabelChanges {
		out.LabelChanges = append(out.LabelChanges, &model.LabelChange{SubjectID: l.SubjectID, Baseline: l.Baseline, Candidate: l.Candidate,
			BaselineValue: round.Measure(l.BaselineValue), CandidateValue: round.Measure(l.CandidateValue)})
	}
	out.Segments = segmentComparison(c.Segments)
	return out
}

// pluginConfigSchema is the config schema of the plugin name@version the
// caller's workspace sees, as a JSON object; nil when it declares none or
// is not loaded.
func (r *Resolver) pluginConfigSchema(ctx context.Context, name, version string) (map[string]any, error) {
	if r.Extensions == nil {
		return nil, nil
	}
	list, err := r.Extensions.ListFor(ctx, r.Client)
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		m := p.Manifest
		if m.Name != name || m.Version != version || len(m.ConfigSchema) == 0 {
			continue
		}
		var out map[string]any
		if err := json.Unmarshal(m.ConfigSchema, &out); err != nil {
			return nil, nil // not an object: nothing a form can show
		}
		return out, nil
	}
	return nil, nil
}
