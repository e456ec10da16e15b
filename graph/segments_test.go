package graph_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/store/storetest"
)

const bindSegmenter = `mutation($c: Map) {
	bindExtension(input: {point: segment, subjectType: lead, plugin: "faulty", version: "0.1.0", config: $c}) { id } }`

// TestSegmentSubjectsThroughTheAPI segments workspace A's leads with the
// test segmenter (big from an estimated value of 10,000, else small; all
// known), then reads the result every way the API offers: the run,
// segmentRuns, Segment sizes and member connections, a lead's segments, and
// where filters by key. B's leads are never segmented; a viewer cannot
// run; a run whose only batch fails returns its summary beside the error.
func TestSegmentSubjectsThroughTheAPI(t *testing.T) {
	dir := extensiontest.Plugins(t)
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) {
			e := newEnvWith(t, dia, extensiontest.Registry(t, dir))
			for _, tok := range []string{"a", "b"} {
				for i := 0; i < 15; i++ { // values 0, 1,000 … 14,000: 10 small, 5 big
					e.ok(tok, `mutation($in: CreateLeadInput!) { createLead(input: $in) { id } }`,
						map[string]any{"in": map[string]any{"title": fmt.Sprintf("L%02d", i), "estimatedValue": i * 1000}})
				}
			}
			e.fail("a", `mutation { segmentSubjects(subjectType: lead) { id } }`, nil, "NOT_FOUND")
			e.ok("a", bindSegmenter, nil)
			e.fail("aViewer", `mutation { segmentSubjects(subjectType: lead) { id } }`, nil, "FORBIDDEN")
			d := e.ok("a", `mutation { segmentSubjects(subjectType: lead) { plugin subjectType status subjects segmented entered left stayed batches failedBatches errors finishedAt } }`, nil)
			run := get(d, "segmentSubjects", 0)
			if str(run, "plugin") != "faulty@0.1.0" || str(run, "status") != "succeeded" || num(run, "subjects") != 15 ||
				num(run, "entered") != 30 || num(run, "left") != 0 || num(run, "failedBatches") != 0 || get(run, "finishedAt") == nil {
				t.Fatalf("run = %v", run)
			}
			d = e.ok("a", `{ segments(orderBy: [{field: KEY}]) { edges { node { key name managed binding { plugin }
				size all: size(subjectType: lead)
				leads(first: 3, orderBy: [{field: TITLE}]) { totalCount edges { node { title } } } } } } }`, nil)
			var got []string
			for _, edge := range get(d, "segments", "edges").([]any) {
				n := get(edge, "node")
				got = append(got, fmt.Sprintf("%s/%s/%v/%s/%v/%v/%v/%s", str(n, "key"), str(n, "name"), get(n, "managed"), str(n, "binding", "plugin"),
					num(n, "size"), num(n, "all"), num(n, "leads", "totalCount"), str(n, "leads", "edges", 0, "node", "title")))
			}
			want := "big/Big leads/true/faulty/5/5/5/L10 known/Known/true/faulty/15/15/15/L00 small/Small/true/faulty/10/10/10/L00"
			if strings.Join(got, " ") != want {
				t.Fatalf("segments:\n got %s\nwant %s", strings.Join(got, " "), want)
			}
			d = e.ok("a", `{ leads(where: {title: "L12"}) { edges { node { segments { key } } } }
				big: leads(where: {inSegment: "big"}) { totalCount }
				either: leads(where: {inSegmentIn: ["big", "small"]}) { totalCount }
				nested: leads(where: {or: [{inSegment: "big"}, {title: "L00"}]}) { totalCount }
				segmentRuns { totalCount edges { node { entered } } } }`, nil)
			if k := get(d, "leads", "edges", 0, "node", "segments"); fmt.Sprint(k) != "[map[key:big] map[key:known]]" {
				t.Errorf("L12's segments = %v", k)
			}
			if num(d, "big", "totalCount") != 5 || num(d, "either", "totalCount") != 15 || num(d, "nested", "totalCount") != 6 || num(d, "segmentRuns", "totalCount") != 1 {
				t.Errorf("filters = %v", d)
			}
			// Members as memberships, with their subjects, now and before the run.
			d = e.ok("a", `{ segments(first: 1, where: {key: "big"}) { edges { node {
				members(first: 10, orderBy: [{field: STARTED_AT}]) { totalCount edges { node { subjectType runID endedAt subject { ... on Lead { title } } } } }
				before: members(asOf: "2001-01-01T00:00:00Z") { totalCount }
				none: members(subjectType: contact) { totalCount } } } } }`, nil)
			m := get(d, "segments", "edges", 0, "node")
			if num(m, "members", "totalCount") != 5 || num(m, "before", "totalCount") != 0 || num(m, "none", "totalCount") != 0 ||
				!strings.HasPrefix(str(m, "members", "edges", 0, "node", "subject", "title"), "L1") || str(m, "members", "edges", 0, "node", "runID") == "" ||
				get(m, "members", "edges", 0, "node", "endedAt") != nil {
				t.Fatalf("members = %v", m)
			}
			// Workspace B: no segments, no runs, and A's keys match nothing.
			d = e.ok("b", `{ segments { totalCount } segmentRuns { totalCount } leads(where: {inSegment: "big"}) { totalCount } }`, nil)
			if num(d, "segments", "totalCount")+num(d, "segmentRuns", "totalCount")+num(d, "leads", "totalCount") != 0 {
				t.Errorf("workspace B sees %v", d)
			}
			// People cannot edit a plugin's segment's key, but can rename it.
			id := str(e.ok("a", `{ segments(where: {key: "big"}) { edges { node { id } } } }`, nil), "segments", "edges", 0, "node", "id")
			e.fail("a", `mutation($id: ID!) { updateSegment(id: $id, input: {key: "huge"}) { id } }`, map[string]any{"id": id}, "BAD_USER_INPUT")
			e.ok("a", `mutation($id: ID!) { updateSegment(id: $id, input: {name: "Whales"}) { id } }`, map[string]any{"id": id})
			// A run whose only batch fails returns its summary with the error.
			e.ok("a", bindSegmenter, map[string]any{"c": map[string]any{"Mode": "garbage"}})
			r := e.do("a", `mutation { segmentSubjects(subjectType: lead) { status failedBatches segmented errors } }`, nil)
			if len(r.Errors) != 1 || r.Errors[0].code() != "PLUGIN_FAILED" || str(r.Data, "segmentSubjects", 0, "status") != "failed" ||
				num(r.Data, "segmentSubjects", 0, "failedBatches") != 1 || !strings.Contains(str(r.Data, "segmentSubjects", 0, "errors", 0), "key code 99") {
				t.Fatalf("failed run: data %v errors %+v", r.Data, r.Errors)
			}
			d = e.ok("a", `{ segments(where: {key: "big"}) { edges { node { size } } } }`, nil)
			if num(d, "segments", "edges", 0, "node", "size") != 5 {
				t.Errorf("a failed run changed memberships: %v", d)
			}
		})
	}
}
