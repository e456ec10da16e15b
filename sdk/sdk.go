// Package sdk is what Rapport plugin authors import: the request and
// response types of the extension points (score, segment, report), the
// Plugin a module serves, and the codec that puts them on the wire.
//
// A plugin is an ordinary Go package that exports a Plugin value:
//
//	var Plugin = sdk.Plugin{Score: Score}
//
//	func Score(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
//		amount := req.Batch.Numbers("estimated_value")
//		resp := sdk.NewScoreResponse(req.Batch.Count, "amount")
//		for i := range req.Batch.Count {
//			v := math.Log1p(amount[i])
//			resp.Values[i] = v
//			resp.SetContribution(i, 0, v)
//		}
//		return resp, nil
//	}
//
// `rapport plugin build DIR` compiles it to a WASM module (sdk/wasm serves
// it); `rapport plugin build --runtime process DIR` builds the same source
// to a program of its own (sdk/process serves it). Authors never handle
// memory or bytes: requests arrive decoded, responses are encoded for them.
//
// Batches are columnar: a request holds Count subjects and one Column per
// attribute the manifest asked for, so a scorer reads a whole []float64 per
// attribute. The wire format is the protocol buffer schema in
// sdk/proto/rapport/plugin/v1/plugin.proto; see ABI.md.
package sdk

import (
	"fmt"
	"math"
)

// ABIVersion is the version of the plugin contract this SDK speaks. A
// manifest's "abi" must equal it.
const ABIVersion = 1

// ABISection is the name of the WebAssembly custom section in which a
// module states the ABI version it speaks, as an unsigned LEB128 number
// (sdk/ABI.md, "The module"). The host reads it without running any of
// the module's code; `rapport plugin build` adds it to Go plugins.
const ABISection = "rapport.abi"

// Missing marks a missing categorical value in Column.Codes.
const Missing = math.MaxUint32

// Point names an extension point.
type Point string

// The extension points.
const (
	PointScore   Point = "score"
	PointSegment Point = "segment"
	PointReport  Point = "report"
)

// Context is what a plugin may ask of its host while it runs.
type Context interface {
	// Config is the binding's configuration as JSON, defaults applied.
	Config() []byte
	// Log writes a message to the host's log, tagged with the plugin.
	// Level is "debug", "info", "warn" or "error".
	Log(level, msg string)
}

// Scorer computes one score per subject.
type Scorer func(ctx Context, req *ScoreRequest) (*ScoreResponse, error)

// Segmenter assigns subjects to segments.
type Segmenter func(ctx Context, req *SegmentRequest) (*SegmentResponse, error)

// Reporter builds a report.
type Reporter func(ctx Context, req *ReportRequest) (*Report, error)

// Plugin is the set of extension points a plugin implements; leave the
// others nil.
type Plugin struct {
	Score   Scorer
	Segment Segmenter
	Report  Reporter
}

// Column is one attribute of every subject of a batch: Numbers for numeric
// attributes (NaN when missing), or Codes into Dictionary for categorical
// ones (Missing when missing).
type Column struct {
	Name       string
	Numbers    []float64
	Codes      []uint32
	Dictionary []string
}

// Categorical reports whether the column holds codes rather than numbers.
func (c *Column) Categorical() bool {
	return c.Numbers == nil && (c.Codes != nil || c.Dictionary != nil)
}

// Text returns subject i's categorical value, and false when missing.
func (c *Column) Text(i int) (string, bool) {
	if i >= len(c.Codes) || c.Codes[i] == Missing || int(c.Codes[i]) >= len(c.Dictionary) {
		return "", false
	}
	return c.Dictionary[c.Codes[i]], true
}

// Batch is a set of subjects of one type, attribute by attribute.
type Batch struct {
	// SubjectType is "contact", "organization", "lead" or "deal".
	SubjectType string
	// Count is the number of subjects.
	Count   int
	Columns []Column
	// IDs are the subjects' IDs, when the manifest asks for "id".
	IDs []string
}

// Column returns the named column, or nil.
func (b *Batch) Column(name string) *Column {
	for i := range b.Columns {
		if b.Columns[i].Name == name {
			return &b.Columns[i]
		}
	}
	return nil
}

// Numbers returns the named numeric column's values, or a column of NaN
// (missing) when the batch has no such numeric column.
func (b *Batch) Numbers(name string) []float64 {
	if c := b.Column(name); c != nil && c.Numbers != nil {
		return c.Numbers
	}
	out := make([]float64, b.Count)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

// Texts returns the named categorical column's values as strings, "" for
// a missing value or when the batch has no such column.
func (b *Batch) Texts(name string) []string {
	out := make([]string, b.Count)
	if c := b.Column(name); c != nil {
		for i := range out {
			out[i], _ = c.Text(i)
		}
	}
	return out
}

// Validate checks that every column has Count entries and every code is in
// range.
func (b *Batch) Validate() error {
	if b.Count < 0 {
		return fmt.Errorf("batch: negative count")
	}
	if b.IDs != nil && len(b.IDs) != b.Count {
		return fmt.Errorf("batch: %d ids for %d subjects", len(b.IDs), b.Count)
	}
	names := make(map[string]bool, len(b.Columns))
	for _, c := range b.Columns {
		if names[c.Name] {
			return fmt.Errorf("column %q appears twice", c.Name)
		}
		names[c.Name] = true
		switch {
		case c.Numbers != nil && c.Codes != nil:
			return fmt.Errorf("column %q: both numbers and codes", c.Name)
		case c.Numbers != nil:
			if len(c.Numbers) != b.Count {
				return fmt.Errorf("column %q: %d values for %d subjects", c.Name, len(c.Numbers), b.Count)
			}
		default:
			if len(c.Codes) != b.Count {
				return fmt.Errorf("column %q: %d codes for %d subjects", c.Name, len(c.Codes), b.Count)
			}
			for i, code := range c.Codes {
				if code != Missing && int(code) >= len(c.Dictionary) {
					return fmt.Errorf("column %q: code %d of subject %d outside dictionary of %d", c.Name, code, i, len(c.Dictionary))
				}
			}
		}
	}
	return nil
}

// ScoreRequest asks for one score per subject of Batch.
type ScoreRequest struct {
	Batch  Batch
	Config []byte
}

// ScoreResponse holds one score per subject, in request order.
type ScoreResponse struct {
	// Values holds one value per subject.
	Values []float64
	// LabelCodes index Labels per subject (Missing for none); nil when the
	// plugin gives no labels.
	LabelCodes []uint32
	Labels     []string
	// FactorNames name the explanation's factors; Contributions holds
	// len(Values) × len(FactorNames) values, subject by subject.
	FactorNames   []string
	Contributions []float64
}

// NewScoreResponse returns a response for n subjects explained by the
// named factors.
func NewScoreResponse(n int, factors ...string) *ScoreResponse {
	r := &ScoreResponse{Values: make([]float64, n), FactorNames: factors}
	if len(factors) > 0 {
		r.Contributions = make([]float64, n*len(factors))
	}
	return r
}

// SetContribution sets factor f's contribution to subject i's score.
func (r *ScoreResponse) SetContribution(i, f int, v float64) {
	r.Contributions[i*len(r.FactorNames)+f] = v
}

// Contribution returns factor f's contribution to subject i's score.
func (r *ScoreResponse) Contribution(i, f int) float64 {
	return r.Contributions[i*len(r.FactorNames)+f]
}

// SetLabel gives subject i a label, adding it to Labels if new.
func (r *ScoreResponse) SetLabel(i int, label string) {
	if r.LabelCodes == nil {
		r.LabelCodes = make([]uint32, len(r.Values))
		for j := range r.LabelCodes {
			r.LabelCodes[j] = Missing
		}
	}
	for c, l := range r.Labels {
		if l == label {
			r.LabelCodes[i] = uint32(c)
			return
		}
	}
	r.Labels = append(r.Labels, label)
	r.LabelCodes[i] = uint32(len(r.Labels) - 1)
}

// Label returns subject i's label, or "".
func (r *ScoreResponse) Label(i int) string {
	if i >= len(r.LabelCodes) || r.LabelCodes[i] == Missing || int(r.LabelCodes[i]) >= len(r.Labels) {
		return ""
	}
	return r.Labels[r.LabelCodes[i]]
}

// Validate checks the response against a request of n subjects.
func (r *ScoreResponse) Validate(n int) error {
	if len(r.Values) != n {
		return fmt.Errorf("score response: %d values for %d subjects", len(r.Values), n)
	}
	for i, v := range r.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("score response: value %d is %v", i, v)
		}
	}
	if r.LabelCodes != nil {
		if len(r.LabelCodes) != n {
			return fmt.Errorf("score response: %d labels for %d subjects", len(r.LabelCodes), n)
		}
		for i, c := range r.LabelCodes {
			if c != Missing && int(c) >= len(r.Labels) {
				return fmt.Errorf("score response: label code %d of subject %d outside %d labels", c, i, len(r.Labels))
			}
		}
	}
	if len(r.Contributions) != n*len(r.FactorNames) {
		return fmt.Errorf("score response: %d contributions for %d subjects × %d factors", len(r.Contributions), n, len(r.FactorNames))
	}
	for i, v := range r.Contributions {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("score response: contribution %d is %v", i, v)
		}
	}
	return nil
}

// SegmentRequest asks which segments each subject of Batch belongs to.
type SegmentRequest struct {
	Batch  Batch
	Config []byte
}

// SegmentResponse assigns subjects to segments in compressed sparse rows:
// subject i is in Keys[KeyCodes[j]] for j in Offsets[i]..Offsets[i+1], with
// weight Weights[j] when Weights is not empty. Build one with NewSegments.
type SegmentResponse struct {
	Keys     []string
	Offsets  []uint32
	KeyCodes []uint32
	Weights  []float64
}

// Segments builds a SegmentResponse subject by subject.
type Segments struct {
	n       int
	byItem  [][]segmentOf
	keys    []string
	keyCode map[string]uint32
	weights bool
}

type segmentOf struct {
	code   uint32
	weight float64
}

// NewSegments starts a response for n subjects.
func NewSegments(n int) *Segments {
	return &Segments{n: n, byItem: make([][]segmentOf, n), keyCode: map[string]uint32{}}
}

// Assign puts subject i in segment key with weight (use 1 when unweighted).
func (s *Segments) Assign(i int, key string, weight float64) {
	c, ok := s.keyCode[key]
	if !ok {
		c = uint32(len(s.keys))
		s.keys = append(s.keys, key)
		s.keyCode[key] = c
	}
	if weight != 1 {
		s.weights = true
	}
	s.byItem[i] = append(s.byItem[i], segmentOf{c, weight})
}

// Response returns the finished response.
func (s *Segments) Response() *SegmentResponse {
	r := &SegmentResponse{Keys: s.keys, Offsets: make([]uint32, 0, s.n+1)}
	r.Offsets = append(r.Offsets, 0)
	for _, segs := range s.byItem {
		for _, sg := range segs {
			r.KeyCodes = append(r.KeyCodes, sg.code)
			if s.weights {
				r.Weights = append(r.Weights, sg.weight)
			}
		}
		r.Offsets = append(r.Offsets, uint32(len(r.KeyCodes)))
	}
	return r
}

// Of returns the segment keys of subject i.
func (r *SegmentResponse) Of(i int) []string {
	if i+1 >= len(r.Offsets) {
		return nil
	}
	var out []string
	for _, c := range r.KeyCodes[r.Offsets[i]:r.Offsets[i+1]] {
		out = append(out, r.Keys[c])
	}
	return out
}

// Validate checks the response against a request of n subjects.
func (r *SegmentResponse) Validate(n int) error {
	if n < 0 || len(r.Offsets) != n+1 || r.Offsets[0] != 0 {
		return fmt.Errorf("segment response: %d offsets for %d subjects", len(r.Offsets), n)
	}
	for i := 1; i < len(r.Offsets); i++ {
		if r.Offsets[i] < r.Offsets[i-1] {
			return fmt.Errorf("segment response: offsets decrease at %d", i)
		}
	}
	if int(r.Offsets[n]) != len(r.KeyCodes) {
		return fmt.Errorf("segment response: offsets end at %d, %d key codes", r.Offsets[n], len(r.KeyCodes))
	}
	for _, c := range r.KeyCodes {
		if int(c) >= len(r.Keys) {
			return fmt.Errorf("segment response: key code %d outside %d keys", c, len(r.Keys))
		}
	}
	if len(r.Weights) != 0 && len(r.Weights) != len(r.KeyCodes) {
		return fmt.Errorf("segment response: %d weights for %d assignments", len(r.Weights), len(r.KeyCodes))
	}
	return nil
}

// Series is a named sequence of labelled points.
type Series struct {
	Name   string
	Labels []string
	Values []float64
	// Chart suggests a chart: "line", "bar", "area", "heatmap" or "".
	Chart string
}

// ReportRequest gives a report plugin its parameters and data.
type ReportRequest struct {
	Params  []byte
	Config  []byte
	Metrics []Series
	Batches []Batch
}

// Metric returns the named metric series, or nil.
func (r *ReportRequest) Metric(name string) *Series {
	for i := range r.Metrics {
		if r.Metrics[i].Name == name {
			return &r.Metrics[i]
		}
	}
	return nil
}

// Report is a typed report: sections of KPIs, tables and series.
type Report struct {
	Title    string
	Sections []Section
}

// Section groups part of a report under a heading.
type Section struct {
	Key, Title, Summary string
	KPIs                []KPI
	Tables              []Table
	Series              []Series
}

// KPI is one headline figure.
type KPI struct {
	Key, Label string
	Value      float64
	// Unit is "", "percent", "money", "count" or "days".
	Unit string
	// Target, when set, is the figure to reach.
	Target *float64
}

// Table is a rectangular result.
type Table struct {
	Key, Title string
	Columns    []string
	Rows       [][]string
}
