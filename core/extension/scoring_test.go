package extension_test

import (
	"context"
	"errors"
	"testing"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/sdk"
)

// TestScoreSubjectsCancelled cancels a run after its first batch: the
// run stops with the context's error while later batches are already read
// or scored, and only the first batch's scores are stored.
func TestScoreSubjectsCancelled(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	r := registry(t, plugins(t))
	a := workspace(t, st, "alpha", 2500)
	if _, err := r.Bind(a, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: "leadscore", Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(a)
	defer cancel()
	var progress []int
	run, err := r.ScoreSubjects(ctx, st.Client, extension.ScoreOptions{SubjectType: "lead", Progress: func(done, total int) {
		progress = append(progress, done)
		cancel()
	}})
	if !errors.Is(err, context.Canceled) || run == nil || run.Scored != 1000 || len(progress) != 1 {
		t.Fatalf("run %+v, progress %v, err %v", run, progress, err)
	}
	if n, err := st.Client.Score.Query().Count(a); err != nil || n != 1000 {
		t.Fatalf("%d scores stored, %v", n, err)
	}
}
