package graph_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/internal/round"
)

const bindLeads = `mutation($p: String!, $v: String!, $c: Map) {
	bindExtension(input: {point: score, subjectType: lead, plugin: $p, version: $v, config: $c}) { id plugin version } }`

// TestScoreSubjectsThroughTheAPI binds the example lead scorer in
// workspace A, scores A's leads, rebinds with another config, and checks
// that B's data never changes; then binds a plugin that loops and checks
// the failure is PLUGIN_FAILED while other queries keep being served.
func TestScoreSubjectsThroughTheAPI(t *testing.T) {
	dir := extensiontest.Plugins(t)
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) {
			e := newEnvWith(t, dia, extensiontest.Registry(t, dir))
			for _, tok := range []string{"a", "b"} {
				in := make([]map[string]any, 30)
				for i := range in {
					in[i] = map[string]any{"title": fmt.Sprintf("L%d", i), "source": "referral", "estimatedValue": i * 1000, "email": "x@y.test"}
				}
				for _, l := range in {
					e.ok(tok, `mutation($in: CreateLeadInput!) { createLead(input: $in) { id } }`, map[string]any{"in": l})
				}
			}
			d := e.ok("a", `{ plugins { name version status points } }`, nil)
			if len(get(d, "plugins").([]any)) != 2 || str(d, "plugins", 1, "name") != "leadscore" || str(d, "plugins", 1, "status") != "ready" {
				t.Fatalf("plugins = %v", d)
			}
			e.fail("a", `mutation { scoreSubjects(subjectType: lead) { scored } }`, nil, "NOT_FOUND") // nothing bound yet
			e.ok("a", bindLeads, map[string]any{"p": "leadscore", "v": "1.0.0"})
			e.fail("aViewer", bindLeads, map[string]any{"p": "leadscore", "v": "1.0.0"}, "FORBIDDEN")
			e.fail("a", bindLeads, map[string]any{"p": "nope", "v": "1.0.0"}, "NOT_FOUND")
			d = e.ok("a", `mutation { scoreSubjects(subjectType: lead, leadWhere: {titleHasPrefix: "L1"}) { plugin subjects scored batches failedBatches } }`, nil)
			if str(d, "scoreSubjects", "plugin") != "leadscore@1.0.0" || num(d, "scoreSubjects", "scored") != 11 {
				t.Fatalf("scored = %v", d) // L1 and L10..L19
			}
			d = e.ok("a", `{ leads(first: 1, where: {title: "L19"}) { edges { node { scores { value label plugin pluginVersion explanation { name contribution } } } } } }`, nil)
			s := get(d, "leads", "edges", 0, "node", "scores", 0)
			if s == nil || str(s, "plugin") != "leadscore" || len(get(s, "explanation").([]any)) != 10 {
				t.Fatalf("lead scores = %v", d)
			}
			// Scores are shown rounded to six significant digits
			// (internal/round); the stored values keep the plugin's.
			if v := num(s, "value"); round.Measure(v) != v {
				t.Errorf("score value %v not rounded", v)
			}
			for _, f := range get(s, "explanation").([]any) {
				if c := num(f, "contribution"); round.Measure(c) != c {
					t.Errorf("contribution %v not rounded", c)
				}
			}
			before := str(s, "label")
			// Rebinding with other thresholds changes the next scores' labels.
			e.ok("a", bindLeads, map[string]any{"p": "leadscore", "v": "1.0.0", "c": map[string]any{"hot": 0, "warm": 0}})
			e.ok("a", `mutation { scoreSubjects(subjectType: lead) { scored } }`, nil)
			d = e.ok("a", `{ leads(first: 1, where: {title: "L19"}) { edges { node { scores(first: 1) { label } } } } }`, nil)
			if after := str(d, "leads", "edges", 0, "node", "scores", 0, "label"); after != "hot" || before == "hot" {
				t.Errorf("label before rebinding %q, after %q", before, after)
			}
			d = e.ok("a", `{ extensionBindings { plugin config } timelineEvents(where: {subjectType: "ExtensionBinding"}) { totalCount } }`, nil)
			if len(get(d, "extensionBindings").([]any)) != 1 || num(d, "timelineEvents", "totalCount") != 2 {
				t.Errorf("binding audit = %v", d)
			}
			// B saw nothing of it.
			d = e.ok("b", `{ scores { totalCount } extensionBindings { id } }`, nil)
			if num(d, "scores", "totalCount") != 0 || len(get(d, "extensionBindings").([]any)) != 0 {
				t.Errorf("workspace B = %v", d)
			}
			// A looping plugin fails with PLUGIN_FAILED while the API serves on.
			e.ok("b", bindLeads, map[string]any{"p": "faulty", "v": "0.1.0", "c": map[string]any{"Mode": "loop"}})
			var wg sync.WaitGroup
			wg.Add(1)
			var er gqlError
			go func() {
				defer wg.Done()
				er = e.fail("b", `mutation { scoreSubjects(subjectType: lead) { scored } }`, nil, "PLUGIN_FAILED")
			}()
			for i := 0; i < 5; i++ {
				e.ok("a", `{ leads { totalCount } }`, nil)
			}
			wg.Wait()
			if er.Message == "" {
				t.Fatal("no error message")
			}
			if n := num(e.ok("b", `{ scores { totalCount } }`, nil), "scores", "totalCount"); n != 0 {
				t.Errorf("failed run stored %v scores", n)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPluginTrapThroughTheAPI scores with a WASM plugin that traps (the
// test guest overflows its stack) and one that panics: the GraphQL error
// is PLUGIN_FAILED with one line naming the plugin and what it said,
// and the runtime's stack trace is in the server's log, not the answer.
func TestPluginTrapThroughTheAPI(t *testing.T) {
	var logged syncBuffer
	engine, err := wasm.NewEngine(wasm.Config{CacheDir: filepath.Join(os.TempDir(), "rapport-wasm-test-cache"),
		Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := extension.NewRegistry(context.Background(), extension.Config{Dirs: []string{extensiontest.Plugins(t)}, Engine: engine})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close(context.Background()) })
	e := newEnvWith(t, "sqlite", reg)
	e.ok("a", `mutation { createLead(input: {title: "L", estimatedValue: 100}) { id } }`, nil)
	for _, tc := range []struct{ mode, says string }{
		{"crash", "trap"},
		{"panic", "assignment to entry in nil map"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			e.ok("a", bindLeads, map[string]any{"p": "faulty", "v": "0.1.0", "c": map[string]any{"Mode": tc.mode}})
			er := e.fail("a", `mutation { scoreSubjects(subjectType: lead) { scored } }`, nil, "PLUGIN_FAILED")
			if !strings.Contains(er.Message, "faulty@0.1.0") || !strings.Contains(er.Message, tc.says) {
				t.Errorf("message %q does not name the plugin and %q", er.Message, tc.says)
			}
			if strings.Contains(er.Message, "\n") || strings.Contains(er.Message, "wasm stack trace") || strings.Contains(er.Message, "wasm error") {
				t.Errorf("message carries the runtime's trace: %q", er.Message)
			}
		})
	}
	if !strings.Contains(logged.String(), "wasm stack trace") {
		t.Errorf("the server log lacks the trap's stack trace:\n%s", logged.String())
	}
}
