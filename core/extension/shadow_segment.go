package extension

import (
	"sort"
	"strings"
)

// NoSegments is the label of a subject in no segment.
const NoSegments = "(none)"

// maxConfusionCells bounds SegmentComparison.Confusion.
const maxConfusionCells = 500

// SegmentSize is how many subjects a segment key holds under each
// plugin.
type SegmentSize struct {
	Key       string `json:"key"`
	Baseline  int    `json:"baseline"`
	Candidate int    `json:"candidate"`
}

// ConfusionCell counts the subjects the baseline labels Baseline and the
// candidate labels Candidate (labels as in SegmentComparison).
type ConfusionCell struct {
	Baseline  string `json:"baseline"`
	Candidate string `json:"candidate"`
	Count     int    `json:"count"`
}

// SegmentComparison is how two segmenters' memberships compare on the
// same subjects. A plugin's keys are those it assigned to any of the
// subjects and those its manifest declares. A subject's label is its
// segment keys, sorted and joined with "+" ("big+known"), or "(none)"
// when it is in no segment.
type SegmentComparison struct {
	// Sizes has every key of either plugin, by key, with the number of
	// subjects it holds under each.
	Sizes []SegmentSize `json:"sizes"`
	// BaselineOnly, CandidateOnly and Shared split the keys, each sorted:
	// the baseline's only, the candidate's only, and both plugins'.
	BaselineOnly  []string `json:"baselineOnlyKeys"`
	CandidateOnly []string `json:"candidateOnlyKeys"`
	Shared        []string `json:"sharedKeys"`
	// ChangedShare is the share of the subjects whose set of keys
	// differs.
	ChangedShare float64 `json:"changedShare"`
	// SharedChangedShare is the share of the subjects whose membership of
	// the shared keys differs: a segment only one plugin has (renamed,
	// added or dropped) changes nothing here.
	SharedChangedShare float64 `json:"sharedChangedShare"`
	// Confusion counts the subjects by baseline label and candidate label:
	// the cells holding any, most subjects first (ties by baseline label,
	// then candidate label, in label order), at most 500;
	// ConfusionCellCount counts them all.
	Confusion          []ConfusionCell `json:"confusion"`
	ConfusionCellCount int             `json:"confusionCellCount"`
	// BaselineLabels and CandidateLabels are the rows and columns of the
	// matrix Confusion holds: the labels of its cells in label order (by
	// bytes, "(none)" last).
	BaselineLabels  []string `json:"baselineLabels"`
	CandidateLabels []string `json:"candidateLabels"`
}

// segmentKeys returns a subject's keys as a set: sorted, each once.
func segmentKeys(keys []string) []string {
	out := append([]string(nil), keys...)
	sort.Strings(out)
	kept := out[:0]
	for i, k := range out {
		if i == 0 || k != out[i-1] {
			kept = append(kept, k)
		}
	}
	return kept
}

// segmentLabel is the label of a subject in the segments keys (a set as
// segmentKeys returns).
func segmentLabel(keys []string) string {
	if len(keys) == 0 {
		return NoSegments
	}
	return strings.Join(keys, "+")
}

// compareSegments compares two plugins' memberships of the same subjects:
// keys[p][i] is subject i's key set under plugin p (0 the baseline, 1 the
// candidate), declared[p] the keys plugin p's manifest declares.
func compareSegments(keys [2][][]string, declared [2][]string) *SegmentComparison {
	n := len(keys[0])
	var (
		sizes [2]map[string]int
		has   [2]map[string]bool
		all   []string
	)
	for p := range keys {
		sizes[p], has[p] = map[string]int{}, map[string]bool{}
		mark := func(k string) {
			if !has[0][k] && !has[1][k] {
				all = append(all, k)
			}
			has[p][k] = true
		}
		for _, k := range declared[p] {
			mark(k)
		}
		for _, ks := range keys[p] {
			for _, k := range ks {
				mark(k)
				sizes[p][k]++
			}
		}
	}
	sort.Strings(all)
	c := &SegmentComparison{Sizes: []SegmentSize{}, BaselineOnly: []string{}, CandidateOnly: []string{}, Shared: []string{},
		Confusion: []ConfusionCell{}, BaselineLabels: []string{}, CandidateLabels: []string{}}
	for _, k := range all {
		c.Sizes = append(c.Sizes, SegmentSize{Key: k, Baseline: sizes[0][k], Candidate: sizes[1][k]})
		switch {
		case has[0][k] && has[1][k]:
			c.Shared = append(c.Shared, k)
		case has[0][k]:
			c.BaselineOnly = append(c.BaselineOnly, k)
		default:
			c.CandidateOnly = append(c.CandidateOnly, k)
		}
	}
	shared := func(ks []string) string {
		var in []string
		for _, k := range ks {
			if has[0][k] && has[1][k] {
				in = append(in, k)
			}
		}
		return strings.Join(in, "+")
	}
	cells := map[[2]string]int{}
	changed, sharedChanged := 0, 0
	for i := 0; i < n; i++ {
		b, k := segmentLabel(keys[0][i]), segmentLabel(keys[1][i])
		if b != k {
			changed++
			if shared(keys[0][i]) != shared(keys[1][i]) {
				sharedChanged++
			}
		}
		cells[[2]string{b, k}]++
	}
	if n > 0 {
		c.ChangedShare = float64(changed) / float64(n)
		c.SharedChangedShare = float64(sharedChanged) / float64(n)
	}
	for l, count := range cells {
		c.Confusion = append(c.Confusion, ConfusionCell{Baseline: l[0], Candidate: l[1], Count: count})
	}
	sort.Slice(c.Confusion, func(i, j int) bool {
		a, b := c.Confusion[i], c.Confusion[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Baseline != b.Baseline {
			return labelLess(a.Baseline, b.Baseline)
		}
		return labelLess(a.Candidate, b.Candidate)
	})
	c.ConfusionCellCount = len(c.Confusion)
	if len(c.Confusion) > maxConfusionCells {
		c.Confusion = c.Confusion[:maxConfusionCells]
	}
	rows, cols := map[string]bool{}, map[string]bool{}
	for _, cell := range c.Confusion {
		if !rows[cell.Baseline] {
			rows[cell.Baseline] = true
			c.BaselineLabels = append(c.BaselineLabels, cell.Baseline)
		}
		if !cols[cell.Candidate] {
			cols[cell.Candidate] = true
			c.CandidateLabels = append(c.CandidateLabels, cell.Candidate)
		}
	}
	sortLabels(c.BaselineLabels)
	sortLabels(c.CandidateLabels)
	return c
}

// sortLabels sorts segment labels as labelLess orders them.
func sortLabels(labels []string) {
	sort.Slice(labels, func(i, j int) bool { return labelLess(labels[i], labels[j]) })
}

// labelLess orders segment labels: by bytes, "(none)" last.
func labelLess(a, b string) bool {
	if (a == NoSegments) != (b == NoSegments) {
		return b == NoSegments
	}
	return a < b
}
