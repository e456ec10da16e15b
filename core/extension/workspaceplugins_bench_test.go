package extension_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/sdk"
)

// BenchmarkScoreBesideFaultyWorkspace measures one workspace's scoring
// run (1,000 leads, its own plugin) alone and while another workspace's
// plugin loops to its deadline over and over beside it.
func BenchmarkScoreBesideFaultyWorkspace(b *testing.B) {
	pk := packages(b)
	st := storetest.Open(b, "sqlite")
	r := wsRegistry(b, extension.WorkspacePluginConfig{MaxTimeout: 2 * time.Second})
	bad := workspace(b, st, "alpha", 20)
	good := workspace(b, st, "beta", 1000)
	for _, in := range []struct {
		ctx    context.Context
		pkg    string
		plugin string
		config map[string]any
	}{{bad, "faulty", "faulty", map[string]any{"Mode": "loop"}}, {good, "leadscore", "leadscore", nil}} {
		if _, err := r.Install(in.ctx, st.Client, pk[in.pkg]); err != nil {
			b.Fatal(err)
		}
		version := map[string]string{"faulty": "0.1.0", "leadscore": "1.0.0"}[in.plugin]
		if _, err := r.Bind(in.ctx, st.Client, extension.BindInput{Point: sdk.PointScore, SubjectType: "lead", Plugin: in.plugin, Version: version, Config: in.config}); err != nil {
			b.Fatal(err)
		}
	}
	score := func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if run, err := r.ScoreSubjects(good, st.Client, extension.ScoreOptions{SubjectType: "lead"}); err != nil || run.Scored != 1000 {
				b.Fatalf("%+v %v", run, err)
			}
		}
	}
	b.Run("alone", score)
	b.Run("beside-loop", func(b *testing.B) {
		ctx, cancel := context.WithCancel(bad)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := r.ScoreSubjects(ctx, st.Client, extension.ScoreOptions{SubjectType: "lead"}); err != nil && errcode.Of(err) != errcode.PluginFailed && ctx.Err() == nil {
					b.Error(err)
					return
				}
			}
		}()
		score(b)
		cancel()
		wg.Wait()
	})
}
