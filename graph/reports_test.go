package graph_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/internal/round"
)

// TestReportsThroughTheAPI runs the bundled models over GraphQL: the QCI
// questionnaire and its answers (checked, audited, per workspace), reports
// whose figures come from the caller's workspace only, and shadow
// comparisons of scores and of segments; bad input gets codes.
func TestReportsThroughTheAPI(t *testing.T) {
	reg := extensiontest.Registry(t, filepath.Join(extensiontest.Root(), "plugins"))
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) {
			e := newEnvWith(t, dia, reg)
			// A: two organizations with orders, one contact of the first.
			var orgs []string
			for _, name := range []string{"Acme", "Globex"} {
				d := e.ok("a", `mutation($n: String!) { createOrganization(input: {name: $n, employees: 50}) { id } }`, map[string]any{"n": name})
				orgs = append(orgs, str(d, "createOrganization", "id"))
			}
			e.ok("a", `mutation($o: ID!) { createContact(input: {firstName: "Ann", lastName: "Lee", email: "ann@acme.test", organizationID: $o}) { id } }`, map[string]any{"o": orgs[0]})
			for i, amount := range []string{"1200.00", "300.00", "80.00"} {
				e.ok("a", `mutation($o: ID!, $a: Money!) { createOrder(input: {organizationID: $o, amount: $a, cost: "20.00", orderedAt: "2026-10-01T00:00:00Z"}) { id } }`,
					map[string]any{"o": orgs[i%2], "a": amount})
			}

			d := e.ok("a", `{ questionnaire(plugin: "qci") { plugin scale questions { key area answer { answer } } } }`, nil)
			qs := get(d, "questionnaire", "questions").([]any)
			if str(d, "questionnaire", "plugin") != "qci@1.1.0" || len(qs) < 20 || len(get(d, "questionnaire", "scale").([]any)) != 5 || get(qs[0], "answer") != nil {
				t.Fatalf("questionnaire = %v", d)
			}
			first := str(qs[0], "key")
			const record = `mutation($a: [AssessmentAnswerInput!]!) { recordAssessmentAnswers(plugin: "qci", answers: $a) { question answer answeredBy } }`
			er := e.fail("a", record, map[string]any{"a": []any{map[string]any{"question": first, "answer": 3}, map[string]any{"question": "nope", "answer": 1}}}, "BAD_USER_INPUT")
			if er.field() != "answers.1.question" {
				t.Errorf("field %q", er.field())
			}
			e.fail("a", record, map[string]any{"a": []any{map[string]any{"question": first, "answer": 9}}}, "BAD_USER_INPUT")
			e.fail("aViewer", record, map[string]any{"a": []any{map[string]any{"question": first, "answer": 3}}}, "FORBIDDEN")
			d = e.ok("a", record, map[string]any{"a": []any{map[string]any{"question": first, "answer": 3}}})
			if num(d, "recordAssessmentAnswers", 0, "answer") != 3 || str(d, "recordAssessmentAnswers", 0, "answeredBy") == "" {
				t.Errorf("recorded = %v", d)
			}
			d = e.ok("a", `{ questionnaire(plugin: "qci") { questions { answer { answer } } } assessmentAnswers { totalCount } }`, nil)
			if num(d, "questionnaire", "questions", 0, "answer", "answer") != 3 || num(d, "assessmentAnswers", "totalCount") != 1 {
				t.Errorf("after recording = %v", d)
			}
			if d = e.ok("b", `{ assessmentAnswers { totalCount } questionnaire(plugin: "qci") { questions { answer { answer } } } }`, nil); num(d, "assessmentAnswers", "totalCount") != 0 || get(d, "questionnaire", "questions", 0, "answer") != nil {
				t.Errorf("workspace B sees A's answers: %v", d)
			}

			const report = `query($p: String!, $params: Map) { runReport(plugin: $p, params: $params) {
				plugin title sections { key title kpis { key value unit } tables { key columns rows } series { name labels values } } } }`
			kpi := func(d map[string]any, section, key string) float64 {
				for _, s := range get(d, "runReport", "sections").([]any) {
					if str(s, "key") != section {
						continue
					}
					for _, k := range get(s, "kpis").([]any) {
						if str(k, "key") == key {
							return num(k, "value")
						}
					}
				}
				t.Fatalf("no KPI %s.%s in %v", section, key, d)
				return 0
			}
			d = e.ok("a", report, map[string]any{"p": "valuechain", "params": map[string]any{"from": "2026-01-01", "to": "2026-11-01"}})
			if str(d, "runReport", "plugin") != "valuechain@1.0.0" || len(get(d, "runReport", "sections").([]any)) != 3 {
				t.Fatalf("report = %v", d)
			}
			// Two organizations bought (Ann buys for Acme): both placed,
			// margins 1,200 + 80 − 40 = 1,240 and 300 − 20 = 280.
			if kpi(d, "portfolio", "customers_placed") != 2 || kpi(d, "lifecycle", "customers") != 2 {
				t.Errorf("valuechain in A = %v", d)
			}
			// Figures are shown rounded: money to the cent, the rest to six
			// significant digits (internal/round).
			for _, s := range get(d, "runReport", "sections").([]any) {
				for _, k := range get(s, "kpis").([]any) {
					if v := num(k, "value"); round.Unit(v, str(k, "unit")) != v {
						t.Errorf("KPI %s = %v, not rounded", str(k, "key"), v)
					}
				}
				for _, sr := range get(s, "series").([]any) {
					for _, v := range get(sr, "values").([]any) {
						if f := v.(float64); round.Measure(f) != f {
							t.Errorf("series %s value %v, not rounded", str(sr, "name"), f)
						}
					}
				}
			}
			d = e.ok("b", report, map[string]any{"p": "valuechain"})
			if kpi(d, "portfolio", "customers_placed") != 0 {
				t.Errorf("valuechain in B sees A's customers: %v", d)
			}
			d = e.ok("a", report, map[string]any{"p": "qci"})
			if kpi(d, "coverage", "answered") != 1 {
				t.Errorf("qci answered = %v", d)
			}
			e.fail("a", report, map[string]any{"p": "nope"}, "NOT_FOUND")
			e.fail("a", report, map[string]any{"p": "valuechain", "params": map[string]any{"colour": "red"}}, "BAD_USER_INPUT")
			e.fail("a", report, map[string]any{"p": "valuechain", "params": map[string]any{"period": "fortnight"}}, "BAD_USER_INPUT")

			d = e.ok("a", `{ shadowScore(baseline: "idic", candidate: "idic@1.1.0", subjectType: organization) { subjects rankCorrelation meanShift topK topKOverlap labelChangeCount } }`, nil)
			if num(d, "shadowScore", "subjects") != 2 || num(d, "shadowScore", "rankCorrelation") != 1 || num(d, "shadowScore", "labelChangeCount") != 0 {
				t.Errorf("shadow = %v", d)
			}
			e.fail("a", `{ shadowScore(baseline: "idic", candidate: "qci", subjectType: organization) { subjects } }`, nil, "BAD_USER_INPUT")
			if d = e.ok("a", `{ shadowScore(baseline: "idic", candidate: "idic", subjectType: organization) { segments { changedShare } } }`, nil); get(d, "shadowScore", "segments") != nil {
				t.Errorf("a score comparison has segments: %v", d)
			}
			// IDIC's value tiers against the value chain's lifecycle stages:
			// each puts each organization in exactly one segment, and their
			// keys (the four and five each declares) share nothing, so every
			// key set changed but no shared membership did.
			d = e.ok("a", `{ shadowScore(point: segment, baseline: "idic", candidate: "valuechain", subjectType: organization) { subjects labelChangeCount
				segments { sizes { key baseline candidate } baselineOnlyKeys candidateOnlyKeys sharedKeys changedShare sharedChangedShare
					confusion { baseline candidate count } confusionCellCount baselineLabels candidateLabels } } }`, nil)
			sg := get(d, "shadowScore", "segments")
			if num(d, "shadowScore", "subjects") != 2 || num(d, "shadowScore", "labelChangeCount") != 2 || num(sg, "changedShare") != 1 || num(sg, "sharedChangedShare") != 0 ||
				fmt.Sprint(get(sg, "baselineOnlyKeys")) != "[below_zero maintain most_growable most_valuable]" ||
				fmt.Sprint(get(sg, "candidateOnlyKeys")) != "[first_time lapsed loyal prospect repeat]" || fmt.Sprint(get(sg, "sharedKeys")) != "[]" {
				t.Errorf("segment shadow = %v", d)
			}
			var sizes [2]float64
			for _, z := range get(sg, "sizes").([]any) {
				sizes[0] += num(z, "baseline")
				sizes[1] += num(z, "candidate")
			}
			cells, in := 0.0, 0.0
			for _, c := range get(sg, "confusion").([]any) {
				cells++
				in += num(c, "count")
			}
			if len(get(sg, "sizes").([]any)) != 9 || sizes != [2]float64{2, 2} || in != 2 || cells != num(sg, "confusionCellCount") ||
				len(get(sg, "baselineLabels").([]any)) > 2 || len(get(sg, "candidateLabels").([]any)) > 2 {
				t.Errorf("segment sizes and matrix = %v", sg)
			}
		})
	}
}
