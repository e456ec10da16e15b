package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/graph"
)

// segmentComparison is core/extension's TestCompareSegments case: six
// subjects; the candidate renames big to large, moves one subject from
// small to large, adds vip and declares huge.
func segmentComparison() *extension.ShadowComparison {
	rho := 0.5
	return &extension.ShadowComparison{Baseline: "sizes@1.0.0", Candidate: "sizes@2.0.0", SubjectType: "lead", Subjects: 6,
		RankCorrelation: &rho, MeanShift: 1.0 / 6, TopK: 1, TopKOverlap: 1, LabelChangeCount: 1,
		LabelChanges: []extension.LabelChange{{SubjectID: pulid.ID("LD_1"), Baseline: "big+known", Candidate: "known+large", BaselineValue: 2, CandidateValue: 2}},
		Segments: &extension.SegmentComparison{
			Sizes: []extension.SegmentSize{{Key: "big", Baseline: 2}, {Key: "huge"}, {Key: "known", Baseline: 5, Candidate: 5},
				{Key: "large", Candidate: 3}, {Key: "small", Baseline: 3, Candidate: 2}, {Key: "vip", Candidate: 1}},
			BaselineOnly: []string{"big"}, CandidateOnly: []string{"huge", "large", "vip"}, Shared: []string{"known", "small"},
			ChangedShare: 0.5, SharedChangedShare: 1.0 / 6,
			Confusion: []extension.ConfusionCell{{Baseline: "known+small", Candidate: "known+small", Count: 2}, {Baseline: "big+known", Candidate: "known+large", Count: 1},
				{Baseline: "big+known", Candidate: "known+large+vip", Count: 1}, {Baseline: "known+small", Candidate: "known+large", Count: 1}, {Baseline: "(none)", Candidate: "(none)", Count: 1}},
			ConfusionCellCount: 5,
			BaselineLabels:     []string{"big+known", "known+small", "(none)"},
			CandidateLabels:    []string{"known+large", "known+large+vip", "known+small", "(none)"},
		}}
}

// TestWriteComparison prints a segment comparison in each format: the
// table's grid puts each cell at its row and column with row and column
// totals (rows 2, 3, 1; columns 2, 1, 2, 1; 6 in all), the CSV has a row
// per figure, size, cell and label change, and the JSON is the whole
// comparison. A score comparison prints no segment part.
func TestWriteComparison(t *testing.T) {
	c := segmentComparison()
	write := func(c *extension.ShadowComparison, format string) string {
		t.Helper()
		var b bytes.Buffer
		if err := writeComparison(&b, c, format); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if got, want := write(c, "table"), `baseline     candidate    subjects  rank_correlation  mean_shift  top_k  top_k_overlap  label_changes
sizes@1.0.0  sizes@2.0.0  6         0.5000            0.1667      1      1.0000         1

changed_share  shared_changed_share  shared_keys  baseline_only_keys  candidate_only_keys
0.5000         0.1667                known,small  big                 huge,large,vip

Segment sizes (subjects)
segment  baseline  candidate  keys
big      2         0          baseline only
huge     0         0          candidate only
known    5         5          shared
large    0         3          candidate only
small    3         2          shared
vip      0         1          candidate only

Confusion matrix (subjects; rows baseline, columns candidate)
baseline \ candidate  known+large  known+large+vip  known+small  (none)  total
big+known             1            1                0            0       2
known+small           1            0                2            0       3
(none)                0            0                0            1       1
total                 2            1                2            1       6

subject  baseline_label  candidate_label  baseline_value  candidate_value
LD_1     big+known       known+large      2.00            2.00
`; got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if got, want := write(c, "csv"), `part,key,baseline,candidate,value
summary,plugin,sizes@1.0.0,sizes@2.0.0,
summary,subject_type,,,lead
summary,subjects,,,6
summary,rank_correlation,,,0.5
summary,mean_shift,,,0.166667
summary,top_k,,,1
summary,top_k_overlap,,,1
summary,label_changes,,,1
summary,changed_share,,,0.5
summary,shared_changed_share,,,0.166667
summary,confusion_cells,,,5
size,big,2,0,baseline_only
size,huge,0,0,candidate_only
size,known,5,5,shared
size,large,0,3,candidate_only
size,small,3,2,shared
size,vip,0,1,candidate_only
confusion,,known+small,known+small,2
confusion,,big+known,known+large,1
confusion,,big+known,known+large+vip,1
confusion,,known+small,known+large,1
confusion,,(none),(none),1
label_change,LD_1,big+known,known+large,
`; got != want {
		t.Errorf("csv:\n%s\nwant:\n%s", got, want)
	}
	// The JSON is snake_case, its figures rounded to six significant
	// digits: 1/6 is 0.166667, within 5e-7 of the exact share.
	var back struct {
		Segments *struct {
			Confusion          []extension.ConfusionCell `json:"confusion"`
			SharedChangedShare float64                   `json:"shared_changed_share"`
		} `json:"segments"`
		LabelChanges []struct {
			SubjectID string `json:"subject_id"`
		} `json:"label_changes"`
	}
	if err := json.Unmarshal([]byte(write(c, "json")), &back); err != nil || back.Segments == nil || back.Segments.Confusion[2].Candidate != "known+large+vip" ||
		math.Abs(back.Segments.SharedChangedShare-1.0/6) > 5e-7 || back.Segments.SharedChangedShare != 0.166667 || back.LabelChanges[0].SubjectID != "LD_1" {
		t.Errorf("json: %v %+v", err, back.Segments)
	}
	if err := writeComparison(&bytes.Buffer{}, c, "yaml"); errcode.FieldOf(err) != "output" {
		t.Errorf("unknown format: %v", err)
	}
	// More candidate labels than a grid holds: the cells as a list.
	wide := segmentComparison()
	s := wide.Segments
	s.CandidateLabels = nil
	for _, l := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"} {
		s.Confusion = append(s.Confusion, extension.ConfusionCell{Baseline: "(none)", Candidate: l, Count: 1})
		s.CandidateLabels = append(s.CandidateLabels, l)
	}
	s.ConfusionCellCount = 20
	if got := write(wide, "table"); !strings.Contains(got, "the 16 largest of 20 cells\nbaseline     candidate        subjects\nknown+small  known+small      2\n") || strings.Contains(got, "total") {
		t.Errorf("wide matrix:\n%s", got)
	}
	c.Segments = nil
	if got := write(c, "table") + write(c, "csv"); strings.Contains(got, "Confusion") || strings.Contains(got, "size,") || strings.Contains(got, "changed_share") {
		t.Errorf("a score comparison prints segments:\n%s", got)
	}
}

// TestCompareSegmentsCommand runs `rapport plugin compare --point segment`
// on three leads of 5,000, 10,000 and 20,000 with the test segmenter on
// both sides: small 1, big 2, known 3 each, nothing changed, and the
// matrix is its diagonal.
func TestCompareSegmentsCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "compare.db")
	if _, err := run(t, "--db", db, "workspace", "create", "acme"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := access.WorkspaceBySlug(ctx, st.Client, "acme")
	if err != nil {
		t.Fatal(err)
	}
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	for _, v := range []int{5000, 10000, 20000} {
		st.Client.Lead.Create().SetTitle("Lead").SetEstimatedValue(crm.Money(v * 100)).ExecX(ctx)
	}
	st.Close()
	args := []string{"plugin", "compare", "--db", db, "--workspace", "acme", "--plugins", extensiontest.Plugins(t), "--bundled=false",
		"--point", "segment", "--baseline", "faulty", "--candidate", "faulty@0.1.0"}
	got, err := run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0.0000         0.0000                big,known,small  -                   -",
		"big      2         2          shared\nknown    3         3          shared\nsmall    1         1          shared\n",
		"baseline \\ candidate  big+known  known+small  total\nbig+known             2          0            2\nknown+small           0          1            1\ntotal                 2          1            3\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks\n%s\nin\n%s", want, got)
		}
	}
	got, err = run(t, append(args, "-o", "csv")...)
	if err != nil || !strings.Contains(got, "size,big,2,2,shared\n") || !strings.Contains(got, "confusion,,big+known,big+known,2\nconfusion,,known+small,known+small,1\n") {
		t.Errorf("csv: %v\n%s", err, got)
	}
}

// TestComparisonJSONMatchesSchema checks that `plugin compare -o json`
// has every member of the GraphQL ShadowComparison (and the types of its
// fields), spelt in snake_case as every command's JSON is (topKOverlap is
// top_k_overlap), and nothing else, and is null only where
// GraphQL may be: for a segment comparison, a score comparison with no
// label changes and a segment comparison of no subjects.
func TestComparisonJSONMatchesSchema(t *testing.T) {
	schema := graph.Schema(nil, nil).Schema()
	score := &extension.ShadowComparison{Baseline: "a@1.0.0", Candidate: "a@1.0.1", SubjectType: "lead"}
	emptySegments := &extension.ShadowComparison{Baseline: "a@1.0.0", Candidate: "a@1.0.1", SubjectType: "lead", Segments: &extension.SegmentComparison{}}
	for _, c := range []*extension.ShadowComparison{segmentComparison(), score, emptySegments} {
		var b bytes.Buffer
		if err := writeComparison(&b, c, "json"); err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		checkAgainstSchema(t, schema, "comparison", "ShadowComparison", got, false)
	}
}

// checkAgainstSchema checks that the decoded JSON value v has the shape of
// GraphQL type typeName: the same member names, and null only where
// nullable.
func checkAgainstSchema(t *testing.T, schema *ast.Schema, path, typeName string, v any, nonNull bool) {
	t.Helper()
	var check func(path, typeName string, v any, nonNull bool)
	check = func(path, typeName string, v any, nonNull bool) {
		if v == nil && nonNull {
			t.Errorf("%s: null where GraphQL's %s is non-null", path, typeName)
		}
		typ := schema.Types[typeName]
		switch v := v.(type) {
		case []any:
			for i, e := range v {
				check(fmt.Sprintf("%s.%d", path, i), typeName, e, true)
			}
		case map[string]any:
			if typ == nil || typ.Kind != ast.Object {
				t.Errorf("%s: an object where GraphQL has %s", path, typeName)
				return
			}
			byKey := map[string]*ast.FieldDefinition{}
			for _, f := range typ.Fields {
				byKey[snakeCase(f.Name)] = f
			}
			for key, e := range v {
				f := byKey[key]
				if f == nil {
					t.Errorf("%s.%s: GraphQL %s has no field %s", path, key, typeName, key)
					continue
				}
				check(path+"."+key, f.Type.Name(), e, f.Type.NonNull)
			}
			for key, f := range byKey {
				if _, ok := v[key]; !ok {
					t.Errorf("%s: lacks %s (%s of GraphQL %s)", path, key, f.Name, typeName)
				}
			}
		}
	}
	check(path, typeName, v, nonNull)
}
