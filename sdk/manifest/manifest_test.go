package manifest

import (
	"errors"
	"strings"
	"testing"
)

const good = `{
  "name": "leadscore", "version": "1.2.0", "abi": 1, "runtime": "wasm", "module": "plugin.wasm",
  "points": ["score"], "subjects": ["lead"], "inputs": {"lead": ["estimated_value", "source"]},
  "config_schema": {"type": "object"}, "capabilities": ["log", "config"],
  "limits": {"timeout_ms": 2000, "memory_pages": 256}
}`

func TestParseGood(t *testing.T) {
	m, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if m.Ref() != "leadscore@1.2.0" || !m.Implements("score") || m.Implements("report") || !m.Asks("log") || m.Asks("clock") {
		t.Errorf("parsed %+v", m)
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	for _, c := range []struct {
		edit, want string
	}{
		{`"name": "leadscore"`, `name "Lead Score"`},
		{`"version": "1.2.0"`, `version "v1"`},
		{`"abi": 1`, `abi 2`},
		{`"runtime": "wasm"`, `runtime "jvm"`},
		{`"module": "plugin.wasm"`, `module "../x.wasm"`},
		{`"points": ["score"]`, `unknown extension point "rank"`},
		{`"subjects": ["lead"]`, `unknown subject type "ticket"`},
		{`"capabilities": ["log", "config"]`, `unknown capability "network"`},
		{`"limits": {"timeout_ms": 2000, "memory_pages": 256}`, `limits.timeout_ms -1`},
		{`"config_schema": {"type": "object"}`, `config_schema: not a JSON object`},
	} {
		bad := map[string]string{
			`"name": "leadscore"`:               `"name": "Lead Score"`,
			`"version": "1.2.0"`:                `"version": "v1"`,
			`"abi": 1`:                          `"abi": 2`,
			`"runtime": "wasm"`:                 `"runtime": "jvm"`,
			`"module": "plugin.wasm"`:           `"module": "../x.wasm"`,
			`"points": ["score"]`:               `"points": ["rank"]`,
			`"subjects": ["lead"]`:              `"subjects": ["ticket"]`,
			`"capabilities": ["log", "config"]`: `"capabilities": ["network"]`,
			`"limits": {"timeout_ms": 2000, "memory_pages": 256}`: `"limits": {"timeout_ms": -1}`,
			`"config_schema": {"type": "object"}`:                 `"config_schema": [1]`,
		}[c.edit]
		_, err := Parse([]byte(strings.Replace(good, c.edit, bad, 1)))
		var me *Error
		if !errors.As(err, &me) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want mention of %q", bad, err, c.want)
		}
	}
	if _, err := Parse([]byte(`{"name": "x", "colour": "red"}`)); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("unknown field: %v", err)
	}
	_, err := Parse([]byte(`{"name": "X", "version": "", "abi": 0, "runtime": "", "points": []}`))
	var me *Error
	if !errors.As(err, &me) || len(me.Problems) < 5 {
		t.Errorf("want all problems at once, got %v", err)
	}
}

// FuzzParse: no input panics, and an accepted manifest validates.
func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"inputs": {"lead": ["a"]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err == nil && m.Validate() != nil {
			t.Fatal("accepted an invalid manifest")
		}
	})
}

// TestReportData: records and metrics are checked against the contract's
// lists, and only a report plugin may ask for them.
func TestReportData(t *testing.T) {
	report := strings.Replace(good, `"points": ["score"]`, `"points": ["score", "report"]`, 1)
	for _, c := range []struct {
		manifest, add, want string
	}{
		{report, `"records": {"purchase": ["customer_id", "product"]}, "metrics": ["churn_rate", "activities_by_kind"],`, ""},
		{report, `"records": {"orders": ["id"]},`, `unknown record type "orders"`},
		{report, `"records": {"purchase": ["price"]},`, `records.purchase: unknown attribute "price"`},
		{report, `"metrics": ["happiness"],`, `unknown metric "happiness"`},
		{good, `"metrics": ["churn_rate"],`, `implements no report point`},
	} {
		m := strings.Replace(c.manifest, `"capabilities"`, c.add+` "capabilities"`, 1)
		_, err := Parse([]byte(m))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.add, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: err = %v, want mention of %q", c.add, err, c.want)
		}
	}
}

// TestValidateConfig: configurations are checked against the whole
// schema, and the first problem names the offending value's path.
func TestValidateConfig(t *testing.T) {
	schema := []byte(`{"type": "object", "additionalProperties": false, "properties": {
		"a": {"type": "number", "minimum": 0},
		"kinds": {"type": "array", "items": {"enum": ["call", "email"]}},
		"w": {"type": "object", "additionalProperties": false, "properties": {"x": {"type": "number", "maximum": 1}}}}}`)
	for _, c := range []struct {
		config, field, reason string
	}{
		{`{"a": 1, "kinds": ["call"], "w": {"x": 0.5}}`, "", ""},
		{`{"a": -1}`, "a", "minimum"},
		{`{"a": "ten"}`, "a", "number"},
		{`{"w": {"x": 2}}`, "w.x", "maximum"},
		{`{"w": {"y": 1}}`, "w", "y"},
		{`{"kinds": ["call", "fax"]}`, "kinds.1", "call"},
		{`{"b": 1}`, "", "b"},
	} {
		err := ValidateConfig(schema, []byte(c.config))
		if c.reason == "" {
			if err != nil {
				t.Errorf("%s: %v", c.config, err)
			}
			continue
		}
		ce, ok := err.(*ConfigError)
		if !ok || ce.Field != c.field || !strings.Contains(ce.Reason, c.reason) {
			t.Errorf("%s: %#v, want field %q and a reason mentioning %q", c.config, err, c.field, c.reason)
		}
	}
	// A schema that reaches outside itself is refused when loaded.
	m := strings.Replace(good, `"config_schema": {"type": "object"}`, `"config_schema": {"$ref": "https://schemas.invalid/x.json"}`, 1)
	if _, err := Parse([]byte(m)); err == nil || !strings.Contains(err.Error(), "self-contained") {
		t.Errorf("remote $ref: %v", err)
	}
}

// TestProcessProgramNotEmpty: a process plugin's command names a program;
// an empty one would start the plugin's directory.
func TestProcessProgramNotEmpty(t *testing.T) {
	m := strings.Replace(good, `"runtime": "wasm", "module": "plugin.wasm"`, `"runtime": "process", "command": ["", "--flag"]`, 1)
	if _, err := Parse([]byte(m)); err == nil || !strings.Contains(err.Error(), "command:") {
		t.Errorf("empty program: %v", err)
	}
}
