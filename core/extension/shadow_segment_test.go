package extension_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
)

// TestShadowSegments compares the test segmenter (faulty 0.1.0: big from
// an estimated value of 10,000, else small; known for all) with a copy
// (0.2.0) whose manifest also declares huge, on seven leads of 0, 2,000,
// 4,000, 9,999, 10,000, 15,000 and 30,000, in batches of 3. By hand:
// small 4, big 3, known 7 on both sides; huge is the candidate's only
// (0 and 0); the same key sets, so nothing changed, and the matrix is
// its diagonal: known+small 4, big+known 3. Every subject is in two
// segments, so the mean shift is 0. A score comparison has no segment
// part, and an answer with an invalid key fails the comparison.
func TestShadowSegments(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(plugins(t), "faulty")
	if err := copyPlugin(src, filepath.Join(dir, "faulty")); err != nil {
		t.Fatal(err)
	}
	if err := copyPlugin(src, filepath.Join(dir, "faulty2")); err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile(filepath.Join(dir, "faulty2", "plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{`"version": "0.1.0"`: `"version": "0.2.0"`, `"segments": {`: `"segments": {"huge": {"name": "Huge leads"}, `} {
		if !bytes.Contains(m, []byte(from)) {
			t.Fatalf("faulty's manifest lacks %s", from)
		}
		m = bytes.Replace(m, []byte(from), []byte(to), 1)
	}
	if err := os.WriteFile(filepath.Join(dir, "faulty2", "plugin.json"), m, 0o644); err != nil {
		t.Fatal(err)
	}
	reg := registry(t, dir)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ws := must[*ent.Workspace](t)(access.CreateWorkspace(context.Background(), st.Client, "shadowseg", "Shadow segments"))
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		for _, v := range []int{0, 2000, 4000, 9999, 10000, 15000, 30000} {
			st.Client.Lead.Create().SetTitle("Lead").SetEstimatedValue(crm.Money(v * 100)).ExecX(ctx)
		}
		opts := extension.ShadowOptions{Point: sdk.PointSegment, Baseline: "faulty@0.1.0", Candidate: "faulty@0.2.0", SubjectType: "lead", BatchSize: 3}
		c, err := reg.ShadowScore(ctx, st.Client, opts)
		if err != nil {
			t.Fatal(err)
		}
		if c.Baseline != "faulty@0.1.0" || c.Candidate != "faulty@0.2.0" || c.Subjects != 7 || c.LabelChangeCount != 0 || c.MeanShift != 0 || c.Segments == nil {
			t.Fatalf("comparison %+v", c)
		}
		s := c.Segments
		if want := []extension.SegmentSize{{Key: "big", Baseline: 3, Candidate: 3}, {Key: "huge"}, {Key: "known", Baseline: 7, Candidate: 7},
			{Key: "small", Baseline: 4, Candidate: 4}}; !reflect.DeepEqual(s.Sizes, want) {
			t.Errorf("sizes %+v, want %+v", s.Sizes, want)
		}
		if !reflect.DeepEqual(s.Shared, []string{"big", "known", "small"}) || len(s.BaselineOnly) != 0 || !reflect.DeepEqual(s.CandidateOnly, []string{"huge"}) {
			t.Errorf("keys: shared %v, baseline only %v, candidate only %v", s.Shared, s.BaselineOnly, s.CandidateOnly)
		}
		if s.ChangedShare != 0 || s.SharedChangedShare != 0 {
			t.Errorf("changed %v, shared changed %v", s.ChangedShare, s.SharedChangedShare)
		}
		if want := []extension.ConfusionCell{{Baseline: "known+small", Candidate: "known+small", Count: 4}, {Baseline: "big+known", Candidate: "big+known", Count: 3}}; !reflect.DeepEqual(s.Confusion, want) ||
			!reflect.DeepEqual(s.BaselineLabels, []string{"big+known", "known+small"}) || !reflect.DeepEqual(s.CandidateLabels, s.BaselineLabels) {
			t.Errorf("confusion %+v, rows %v, columns %v", s.Confusion, s.BaselineLabels, s.CandidateLabels)
		}
		opts.Point = sdk.PointScore
		if c, err := reg.ShadowScore(ctx, st.Client, opts); err != nil || c.Segments != nil || c.Subjects != 7 {
			t.Errorf("score comparison: %v, %+v", err, c)
		}
		// The candidate bound to name an invalid key: the comparison fails
		// as a segmentation run would.
		if _, err := reg.Bind(ctx, st.Client, extension.BindInput{Point: sdk.PointSegment, SubjectType: "lead", Plugin: "faulty", Version: "0.2.0",
			Config: map[string]any{"Mode": "badkey"}}); err != nil {
			t.Fatal(err)
		}
		opts.Point = sdk.PointSegment
		if _, err := reg.ShadowScore(ctx, st.Client, opts); errcode.Of(err) != errcode.PluginFailed || !strings.Contains(err.Error(), `"Bad Key!"`) {
			t.Errorf("invalid key: %v", err)
		}
	})
}
