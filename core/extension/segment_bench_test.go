package extension_test

import (
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/schema"
	"github.com/rapportcrm/rapport/sdk"
)

// BenchmarkSegmentStoredContacts segments 100,000 contacts stored in
// SQLite end to end with the bundled IDIC plugin's value tiers, beside
// scoring the same contacts with the same plugin (the same eight
// attributes, so the same batches to build), in one run:
//
//   - score: ScoreSubjects, a Score and an event per contact;
//   - segment-first: SegmentSubjects with no memberships yet, so every
//     contact enters a tier (a membership and an event each);
//   - segment-again: the same run again, the data unchanged, so nobody
//     moves (the answer is compared with the open memberships and nothing
//     is written but the run's counts).
//
// It reports contacts/s of each, the plugin's share of the wall time, and
// the ratio of each segmentation's throughput to scoring's:
//
//	go test ./core/extension -run '^$' -bench SegmentStoredContacts -benchtime 1x
func BenchmarkSegmentStoredContacts(b *testing.B) {
	if testing.Short() {
		b.Skip("stores 100,000 contacts")
	}
	const n = 100_000
	ctx, st, reg, prom := storedContacts(b, n)
	for _, p := range []sdk.Point{sdk.PointScore, sdk.PointSegment} {
		if _, err := reg.Bind(ctx, st.Client, extension.BindInput{Point: p, SubjectType: "contact", Plugin: "idic", Version: "1.1.0"}); err != nil {
			b.Fatal(err)
		}
	}
	var wall, inPlugin [3]time.Duration
	timed := func(i int, run func()) {
		before := pluginSeconds(b, prom)
		t0 := time.Now()
		run()
		wall[i] += time.Since(t0)
		inPlugin[i] += time.Duration((pluginSeconds(b, prom) - before) * float64(time.Second))
	}
	for b.Loop() {
		timed(0, func() {
			run, err := reg.ScoreSubjects(ctx, st.Client, extension.ScoreOptions{SubjectType: "contact"})
			if err != nil || run.Scored != n {
				b.Fatalf("scored %+v: %v", run, err)
			}
		})
		b.StopTimer()
		if _, err := st.Client.SegmentMembership.Delete().Where(segmentmembership.RunIDNotNil()).Exec(schema.Segmentation(ctx)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		timed(1, func() {
			run, err := reg.SegmentSubjects(ctx, st.Client, extension.SegmentOptions{SubjectType: "contact"})
			if err != nil || run.Segmented != n || run.Entered != n {
				b.Fatalf("segmented %+v: %v", run, err)
			}
		})
		timed(2, func() {
			run, err := reg.SegmentSubjects(ctx, st.Client, extension.SegmentOptions{SubjectType: "contact"})
			if err != nil || run.Stayed != n || run.Entered+run.Left != 0 {
				b.Fatalf("segmented again %+v: %v", run, err)
			}
		})
	}
	for i, name := range []string{"score", "segment-first", "segment-again"} {
		b.ReportMetric(float64(n)*float64(b.N)/wall[i].Seconds(), name+"-contacts/s")
		b.ReportMetric(100*inPlugin[i].Seconds()/wall[i].Seconds(), name+"-plugin-%")
	}
	b.ReportMetric(wall[0].Seconds()/wall[1].Seconds(), "segment-first/score")
	b.ReportMetric(wall[0].Seconds()/wall[2].Seconds(), "segment-again/score")
}
