package graph_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rapportcrm/rapport/core/extension/extensiontest"
)

// TestShadowSample compares the bundled plugins on a bounded sample over
// GraphQL: the answers are the first subjects of the caller's workspace in
// ID order, one per subject, as the comparison counts them; a plugin
// compared with itself agrees everywhere, two segmenters' labels are
// their segment keys; the sample's size is bounded, and a plugin's config
// schema is shown as its manifest declares it.
func TestShadowSample(t *testing.T) {
	reg := extensiontest.Registry(t, filepath.Join(extensiontest.Root(), "plugins"))
	e := newEnvWith(t, "sqlite", reg)
	var orgs []string
	for i, name := range []string{"Acme", "Globex", "Initech", "Umbrella"} {
		d := e.ok("a", `mutation($n: String!, $e: Int!) { createOrganization(input: {name: $n, employees: $e}) { id } }`, map[string]any{"n": name, "e": 10 + 500*i})
		orgs = append(orgs, str(d, "createOrganization", "id"))
	}
	e.ok("b", `mutation { createOrganization(input: {name: "Other", employees: 5}) { id } }`, nil)
	slices.Sort(orgs)

	const q = `query($p: ExtensionBindingPoint!, $a: String!, $b: String!, $n: Int!) {
		shadowSample(point: $p, baseline: $a, candidate: $b, subjectType: organization, sample: $n) {
			comparison { baseline candidate subjects labelChangeCount segments { confusion { count } } }
			answers { subjectID baselineValue baselineLabel candidateValue candidateLabel } } }`
	d := e.ok("aViewer", q, map[string]any{"p": "score", "a": "idic", "b": "idic@1.1.0", "n": 3})
	answers, _ := get(d, "shadowSample", "answers").([]any)
	if len(answers) != 3 || num(d, "shadowSample", "comparison", "subjects") != 3 || str(d, "shadowSample", "comparison", "baseline") != "idic@1.1.0" {
		t.Fatalf("sample of 3 = %v", d)
	}
	for i, a := range answers {
		if str(a, "subjectID") != orgs[i] {
			t.Errorf("answer %d is %s, want %s (ID order)", i, str(a, "subjectID"), orgs[i])
		}
		if num(a, "baselineValue") != num(a, "candidateValue") || str(a, "baselineLabel") != str(a, "candidateLabel") || str(a, "baselineLabel") == "" {
			t.Errorf("idic against itself differs: %v", a)
		}
	}
	if num(d, "shadowSample", "comparison", "labelChangeCount") != 0 {
		t.Errorf("label changes = %v", d)
	}
	// A sample larger than the workspace holds its subjects only.
	d = e.ok("a", q, map[string]any{"p": "score", "a": "idic", "b": "idic", "n": 1000})
	if n := len(get(d, "shadowSample", "answers").([]any)); n != len(orgs) {
		t.Errorf("sample of 1000 has %d answers, want %d", n, len(orgs))
	}
	// Two segmenters: labels are segment keys; the confusion cells count the sample.
	d = e.ok("a", q, map[string]any{"p": "segment", "a": "idic", "b": "valuechain", "n": 4})
	changed, total := 0, 0.0
	for _, a := range get(d, "shadowSample", "answers").([]any) {
		if str(a, "baselineLabel") != str(a, "candidateLabel") {
			changed++
		}
	}
	for _, c := range get(d, "shadowSample", "comparison", "segments", "confusion").([]any) {
		total += num(c, "count")
	}
	if total != 4 || float64(changed) != num(d, "shadowSample", "comparison", "labelChangeCount") {
		t.Errorf("segment sample: confusion sums to %v, %d labels changed: %v", total, changed, d)
	}
	for _, n := range []int{0, 1001} {
		if er := e.fail("a", q, map[string]any{"p": "score", "a": "idic", "b": "idic", "n": n}, "BAD_USER_INPUT"); er.field() != "sample" {
			t.Errorf("sample %d: field %q", n, er.field())
		}
	}
	e.fail("a", q, map[string]any{"p": "score", "a": "idic", "b": "qci", "n": 2}, "BAD_USER_INPUT")

	d = e.ok("a", `{ plugins { name configSchema } }`, nil)
	found := false
	for _, p := range get(d, "plugins").([]any) {
		if str(p, "name") == "idic" {
			found = true
			if fmt.Sprint(get(p, "configSchema", "properties", "email_confidence", "maximum")) != "1" || str(p, "configSchema", "type") != "object" {
				t.Errorf("idic's config schema = %v", get(p, "configSchema"))
			}
		}
	}
	if !found {
		t.Errorf("no idic in %v", d)
	}
}
