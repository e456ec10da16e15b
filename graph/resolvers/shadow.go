package resolvers

import (
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/graph/model"
	"github.com/rapportcrm/rapport/internal/round"
)

// segmentComparison maps a shadow run's segment comparison to its GraphQL
// model; nil (a score comparison) stays nil.
func segmentComparison(s *extension.SegmentComparison) *model.SegmentComparison {
	if s == nil {
		return nil
	}
	out := &model.SegmentComparison{Sizes: make([]*model.SegmentSize, 0, len(s.Sizes)),
		BaselineOnlyKeys: s.BaselineOnly, CandidateOnlyKeys: s.CandidateOnly, SharedKeys: s.Shared,
		ChangedShare: round.Measure(s.ChangedShare), SharedChangedShare: round.Measure(s.SharedChangedShare),
		Confusion: make([]*model.ConfusionCell, 0, len(s.Confusion)), ConfusionCellCount: s.ConfusionCellCount,
		BaselineLabels: s.BaselineLabels, CandidateLabels: s.CandidateLabels}
	for _, z := range s.Sizes {
		out.Sizes = append(out.Sizes, &model.SegmentSize{Key: z.Key, Baseline: z.Baseline, Candidate: z.Candidate})
	}
	for _, c := range s.Confusion {
		out.Confusion = append(out.Confusion, &model.ConfusionCell{Baseline: c.Baseline, Candidate: c.Candidate, Count: c.Count})
	}
	return out
}
