package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/sdk"
)

// TestSchemaDocument: the embedded schema is the published file, names
// itself and the draft, and JSONSchema hands out copies.
func TestSchemaDocument(t *testing.T) {
	onDisk, err := os.ReadFile("plugin.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	b := JSONSchema()
	if !bytes.Equal(b, onDisk) {
		t.Error("JSONSchema differs from plugin.schema.json")
	}
	b[0] = 'X'
	if JSONSchema()[0] != '{' {
		t.Error("JSONSchema returned the embedded bytes themselves")
	}
	var doc struct {
		Schema string `json:"$schema"`
		ID     string `json:"$id"`
		Title  string `json:"title"`
	}
	if err := json.Unmarshal(onDisk, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "https://json-schema.org/draft/2020-12/schema" || doc.ID != SchemaID || doc.Title == "" {
		t.Errorf("schema header %+v", doc)
	}
	if _, _, err := manifestSchema(); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaListsMatchGo: the schema's enums are the lists Validate
// checks against, so that adding a point, metric or record attribute in
// Go without the schema fails here.
func TestSchemaListsMatchGo(t *testing.T) {
	var s struct {
		Properties struct {
			Capabilities struct{ Items struct{ Enum []string } }
			Metrics      struct{ Items struct{ Enum []string } }
			Records      struct {
				Properties map[string]struct{ Items struct{ Enum []string } }
			}
			Inputs struct{ Properties map[string]any }
		}
		Defs struct {
			Point       struct{ Enum []string }
			SubjectType struct{ Enum []string }
		} `json:"$defs"`
	}
	if err := json.Unmarshal(schemaJSON, &s); err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema has %v, Go has %v", what, got, want)
		}
	}
	check("points", s.Defs.Point.Enum, []string{string(sdk.PointScore), string(sdk.PointSegment), string(sdk.PointReport)})
	check("subject types", s.Defs.SubjectType.Enum, subjects)
	check("inputs", slices.Sorted(maps.Keys(s.Properties.Inputs.Properties)), slices.Sorted(slices.Values(subjects)))
	check("capabilities", s.Properties.Capabilities.Items.Enum, knownCapabilities)
	check("metrics", s.Properties.Metrics.Items.Enum, sdk.ReportMetrics)
	check("record types", slices.Sorted(maps.Keys(s.Properties.Records.Properties)), slices.Sorted(maps.Keys(sdk.RecordTypes)))
	for r, attrs := range sdk.RecordTypes {
		check("records."+r, s.Properties.Records.Properties[r].Items.Enum, attrs)
	}
}

// goodManifests are every manifest the project ships and the edge cases
// of testdata/good, by path.
func goodManifests(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pattern := range []string{"../../plugins/*/plugin.json", "../../examples/*/plugin.json", "testdata/good/*.json"} {
		paths, err := filepath.Glob(pattern)
		if err != nil || len(paths) == 0 {
			t.Fatalf("%s: %v, %d files", pattern, err, len(paths))
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out[p] = b
		}
	}
	return out
}

// TestShippedManifestsAgree: every bundled plugin's and example's
// manifest, and every good edge case, is accepted by both the schema and
// Parse.
func TestShippedManifestsAgree(t *testing.T) {
	for path, b := range goodManifests(t) {
		if err := ValidateSchema(b); err != nil {
			t.Errorf("%s: schema: %v", path, err)
		}
		if _, err := Parse(b); err != nil {
			t.Errorf("%s: Parse: %v", path, err)
		}
	}
}

// TestManifestDocExamples: the complete manifests in sdk/MANIFEST.md
// (code blocks marked "json plugin.json") are accepted by both.
func TestManifestDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../MANIFEST.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json plugin.json\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 3 {
		t.Fatalf("MANIFEST.md has %d complete manifests, want at least 3 (minimal, wasm, process)", len(blocks))
	}
	runtimes := map[string]bool{}
	for i, b := range blocks {
		if err := ValidateSchema(b[1]); err != nil {
			t.Errorf("example %d: schema: %v", i+1, err)
		}
		m, err := Parse(b[1])
		if err != nil {
			t.Errorf("example %d: Parse: %v", i+1, err)
			continue
		}
		runtimes[m.Runtime] = true
	}
	if !runtimes["wasm"] || !runtimes["process"] {
		t.Errorf("examples cover runtimes %v, want wasm and process", runtimes)
	}
}

// base is a valid manifest the bad cases each break in one way.
const base = `{
  "name": "leadscore", "version": "1.2.0", "abi": 1, "runtime": "wasm", "module": "plugin.wasm",
  "points": ["score"], "subjects": ["lead"], "inputs": {"lead": ["estimated_value", "source"]},
  "config_schema": {"type": "object"}, "capabilities": ["log", "config"],
  "limits": {"timeout_ms": 2000, "memory_pages": 256}
}`

// patched applies a JSON merge patch (RFC 7386: null removes a member)
// to base.
func patched(t *testing.T, patch string) []byte {
	t.Helper()
	var doc, p map[string]any
	if err := json.Unmarshal([]byte(base), &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(patch), &p); err != nil {
		t.Fatalf("patch %s: %v", patch, err)
	}
	var merge func(dst, src map[string]any)
	merge = func(dst, src map[string]any) {
		for k, v := range src {
			sub, isObj := v.(map[string]any)
			cur, curObj := dst[k].(map[string]any)
			switch {
			case v == nil:
				delete(dst, k)
			case isObj && curObj:
				merge(cur, sub)
			default:
				dst[k] = v
			}
		}
	}
	merge(doc, p)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPatchedBaseIsGood(t *testing.T) {
	b := patched(t, `{}`)
	if err := ValidateSchema(b); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(b); err != nil {
		t.Fatal(err)
	}
	if b := patched(t, `{"limits": {"memory_pages": null}, "subjects": null}`); bytes.Contains(b, []byte("memory_pages")) || bytes.Contains(b, []byte("subjects")) {
		t.Errorf("merge patch kept removed members: %s", b)
	}
}

// TestBadManifestsAgree: each manifest breaks one rule, and both the
// schema (at the pointer named) and Parse refuse it.
func TestBadManifestsAgree(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	many := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = `"a` + strings.Repeat("b", i%50) + `"`
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	for _, c := range []struct {
		name, patch, pointer string
		// schemaOnly marks a rule Validate does not check yet (the reason).
		schemaOnly string
	}{
		{"name upper case", `{"name": "LeadScore"}`, "/name", ""},
		{"name starts with a digit", `{"name": "1score"}`, "/name", ""},
		{"name with underscore", `{"name": "lead_score"}`, "/name", ""},
		{"name of 64 characters", `{"name": "` + long(64) + `"}`, "/name", ""},
		{"name empty", `{"name": ""}`, "/name", ""},
		{"name missing", `{"name": null}`, "/name", ""},
		{"name not a string", `{"name": 7}`, "/name", ""},
		{"version of two parts", `{"version": "1.0"}`, "/version", ""},
		{"version with v", `{"version": "v1.0.0"}`, "/version", ""},
		{"version with leading zero", `{"version": "01.0.0"}`, "/version", ""},
		{"version with build metadata", `{"version": "1.0.0+abc"}`, "/version", ""},
		{"version missing", `{"version": null}`, "/version", ""},
		{"abi 2", `{"abi": 2}`, "/abi", ""},
		{"abi missing", `{"abi": null}`, "/abi", ""},
		{"abi a string", `{"abi": "1"}`, "/abi", ""},
		{"runtime unknown", `{"runtime": "jvm"}`, "/runtime", ""},
		{"runtime missing", `{"runtime": null}`, "/runtime", ""},
		{"unknown field", `{"colour": "red"}`, "/colour", ""},
		{"unknown limits field", `{"limits": {"cpu": 1}}`, "/limits/cpu", ""},
		{"unknown segment field", `{"points": ["segment"], "segments": {"a": {"name": "A", "colour": "red"}}}`, "/segments/a/colour", ""},
		{"wasm without module", `{"module": null}`, "/module", ""},
		{"wasm module empty", `{"module": ""}`, "/module", ""},
		{"wasm module absolute", `{"module": "/srv/plugin.wasm"}`, "/module", ""},
		{"wasm module outside", `{"module": "../plugin.wasm"}`, "/module", ""},
		{"wasm module outside further in", `{"module": "build/../../plugin.wasm"}`, "/module", ""},
		{"process without command", `{"runtime": "process", "module": null}`, "/command", ""},
		{"process command empty", `{"runtime": "process", "command": []}`, "/command", ""},
		{"process program empty", `{"runtime": "process", "command": [""]}`, "/command/0", ""},
		{"process program outside", `{"runtime": "process", "command": ["../bin/x"]}`, "/command/0", ""},
		{"command not strings", `{"runtime": "process", "command": [1]}`, "/command/0", ""},
		{"points missing", `{"points": null}`, "/points", ""},
		{"points empty", `{"points": []}`, "/points", ""},
		{"unknown point", `{"points": ["rank"]}`, "/points/0", ""},
		{"points a string", `{"points": "score"}`, "/points", ""},
		{"unknown subject", `{"subjects": ["ticket"]}`, "/subjects/0", ""},
		{"inputs of an unknown subject type", `{"inputs": {"ticket": ["x"]}}`, "/inputs/ticket", ""},
		{"inputs not a list", `{"inputs": {"lead": "source"}}`, "/inputs/lead", ""},
		{"input of 201 characters", `{"inputs": {"lead": ["` + long(201) + `"]}}`, "/inputs/lead/0", ""},
		{"input empty", `{"inputs": {"lead": [""]}}`, "/inputs/lead/0", ""},
		{"65 inputs", `{"inputs": {"lead": ` + many(65) + `}}`, "/inputs/lead", ""},
		{"unknown record type", `{"points": ["report"], "records": {"orders": ["id"]}}`, "/records/orders", ""},
		{"unknown record attribute", `{"points": ["report"], "records": {"purchase": ["price"]}}`, "/records/purchase/0", ""},
		{"records without report", `{"records": {"purchase": ["amount"]}}`, "/points", ""},
		{"unknown metric", `{"points": ["report"], "metrics": ["happiness"]}`, "/metrics/0", ""},
		{"metrics without report", `{"metrics": ["churn_rate"]}`, "/points", ""},
		{"segments without segment", `{"segments": {"a": {"name": "A"}}}`, "/points", ""},
		{"segment key upper case", `{"points": ["segment"], "segments": {"AtRisk": {"name": "A"}}}`, "/segments/AtRisk", ""},
		{"segment key of 65 characters", `{"points": ["segment"], "segments": {"` + long(65) + `": {"name": "A"}}}`, "/segments/" + long(65), ""},
		{"segment without name", `{"points": ["segment"], "segments": {"a": {"description": "x"}}}`, "/segments/a/name", ""},
		{"segment name blank", `{"points": ["segment"], "segments": {"a": {"name": "  \t"}}}`, "/segments/a/name", ""},
		{"segment name of 201 characters", `{"points": ["segment"], "segments": {"a": {"name": "` + long(201) + `"}}}`, "/segments/a/name", ""},
		{"segment description of 2001 characters", `{"points": ["segment"], "segments": {"a": {"name": "A", "description": "` + long(2001) + `"}}}`, "/segments/a/description", ""},
		{"questions outside", `{"points": ["report"], "questions": "../q.json", "records": {"assessment": ["answer"]}}`, "/questions", ""},
		{"questions absolute", `{"points": ["report"], "questions": "/q.json", "records": {"assessment": ["answer"]}}`, "/questions", ""},
		{"questions without assessment", `{"points": ["report"], "questions": "q.json"}`, "/records", ""},
		{"assessment without questions", `{"points": ["report"], "records": {"assessment": ["answer"]}}`, "/records/assessment", ""},
		{"unknown capability", `{"capabilities": ["network"]}`, "/capabilities/0", ""},
		{"file system capability", `{"capabilities": ["fs"]}`, "/capabilities/0", ""},
		{"config_schema a list", `{"config_schema": [1]}`, "/config_schema", ""},
		{"config_schema a boolean", `{"config_schema": true}`, "/config_schema", ""},
		{"negative timeout", `{"limits": {"timeout_ms": -1}}`, "/limits/timeout_ms", ""},
		{"negative memory", `{"limits": {"memory_pages": -1}}`, "/limits/memory_pages", ""},
		{"timeout above 10 minutes", `{"limits": {"timeout_ms": 600001}}`, "/limits/timeout_ms", ""},
		{"memory above 4 GiB", `{"limits": {"memory_pages": 65537}}`, "/limits/memory_pages", ""},
		{"fractional timeout", `{"limits": {"timeout_ms": 1.5}}`, "/limits/timeout_ms", ""},
		{"limits a number", `{"limits": 5}`, "/limits", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := patched(t, c.patch)
			err := ValidateSchema(b)
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("schema accepted %s (%v)", b, err)
			}
			if !slices.ContainsFunc(se.Problems, func(p SchemaProblem) bool { return p.Pointer == c.pointer }) {
				t.Errorf("schema problems %v, want one at %s", se.Problems, c.pointer)
			}
			_, err = Parse(b)
			switch {
			case c.schemaOnly != "":
				if err == nil {
					t.Logf("Validate accepts it for now: %s", c.schemaOnly)
				}
			case err == nil:
				t.Errorf("Parse accepted %s", b)
			}
		})
	}
}

// TestSchemaStricterThanParse: what the host reads but the schema
// refuses, as sdk/MANIFEST.md says: field names in another case, and
// null for an absent member.
func TestSchemaStricterThanParse(t *testing.T) {
	for _, c := range []struct{ patch, pointer string }{
		{`{"Model": "x"}`, "/Model"},
		{`{"LIMITS": {"Timeout_MS": 5}, "limits": null}`, "/LIMITS"},
		{`{"subjects": "null"}`, "/subjects"},
		{`{"limits": {"timeout_ms": "null"}}`, "/limits/timeout_ms"},
		{`{"inputs": {"lead": "null"}}`, "/inputs/lead"},
	} {
		// A merge patch cannot set null; "null" strings stand for it.
		b := bytes.ReplaceAll(patched(t, c.patch), []byte(`"null"`), []byte(`null`))
		if _, err := Parse(b); err != nil {
			t.Errorf("%s: Parse: %v", b, err)
		}
		var se *SchemaError
		if err := ValidateSchema(b); !errors.As(err, &se) || !slices.ContainsFunc(se.Problems, func(p SchemaProblem) bool { return p.Pointer == c.pointer }) {
			t.Errorf("%s: schema: %v, want a problem at %s", b, err, c.pointer)
		}
	}
}

// TestSchemaErrorNamesEveryProblem: one run reports every problem, with
// its pointer, sorted, and an allOf rule's description when a rule of
// several fields is broken.
func TestSchemaErrorNamesEveryProblem(t *testing.T) {
	err := ValidateSchema([]byte(`{"name": "X", "version": "1", "abi": 1, "runtime": "process", "points": ["score"],
		"metrics": ["churn_rate"], "limits": {"timeout_ms": -5, "gpu": 1}, "segm~nts/x": 1}`))
	var se *SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("got %v", err)
	}
	var pointers []string
	for _, p := range se.Problems {
		pointers = append(pointers, p.Pointer)
	}
	want := []string{"/command", "/limits/gpu", "/limits/timeout_ms", "/name", "/points", "/segm~0nts~1x", "/version"}
	if !slices.Equal(pointers, want) {
		t.Errorf("pointers %v, want %v", pointers, want)
	}
	msg := err.Error()
	for _, s := range []string{"/command: missing (Runtime process needs command", "/limits/gpu: unknown field", "/points: no item matches: value must be 'report' (records and metrics are report data", "minimum"} {
		if !strings.Contains(msg, s) {
			t.Errorf("error lacks %q:\n%s", s, msg)
		}
	}
	for _, b := range []string{``, `{"name": "a"} {}`, `{"name": `} {
		err := ValidateSchema([]byte(b))
		if !errors.As(err, &se) || len(se.Problems) != 1 || se.Problems[0].Pointer != "" || !strings.Contains(se.Problems[0].Message, "not JSON") {
			t.Errorf("%q: %v", b, err)
		}
	}
	if got := (SchemaProblem{Message: "m"}).String(); got != "(manifest): m" {
		t.Errorf("root problem reads %q", got)
	}
}

// FuzzManifest: neither Parse nor ValidateSchema panics on any input, the
// schema's refusals are *SchemaError, and a manifest Parse accepts is
// accepted by the schema once written out by the Go encoder (which spells
// field names as the schema does). Inputs with a null are skipped: the
// host reads null as an absent member, the schema refuses it.
func FuzzManifest(f *testing.F) {
	for _, b := range [][]byte{[]byte(base), []byte(good), []byte(`{}`), []byte(`null`), []byte(`{"NAME": "x"}`)} {
		f.Add(b)
	}
	paths, _ := filepath.Glob("testdata/good/*.json")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, perr := Parse(b)
		serr := ValidateSchema(b)
		var se *SchemaError
		if serr != nil && !errors.As(serr, &se) {
			t.Fatalf("ValidateSchema: %T %v", serr, serr)
		}
		if perr != nil || bytes.Contains(b, []byte("null")) {
			return
		}
		for _, in := range m.Inputs {
			if len(in) > 64 {
				return // Validate counts inputs with the input language (sdk/INPUTS.md)
			}
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateSchema(out); err != nil {
			t.Fatalf("Parse accepts %s, the schema refuses it as %s: %v", b, out, err)
		}
	})
}
