package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/sdk/manifest"
)

// TestPluginSchemaCmd: `plugin schema` prints the manifest's JSON Schema.
func TestPluginSchemaCmd(t *testing.T) {
	out, err := run(t, "plugin", "schema")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(out), manifest.JSONSchema()) {
		t.Errorf("printed %d bytes, not the schema", len(out))
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc["$id"] != manifest.SchemaID {
		t.Errorf("not the schema document: %v, $id %v", err, doc["$id"])
	}
}

// TestPluginInspectSchemaProblems: `plugin inspect` names every problem
// the schema finds, by JSON pointer, and Validate's, before it looks for
// the module.
func TestPluginInspectSchemaProblems(t *testing.T) {
	for _, c := range []struct {
		name, manifest string
		want           []string
	}{
		{"several problems", `{"name": "Bad Name", "version": "1.0", "abi": 1, "runtime": "wasm", "module": "plugin.wasm",
			"points": ["score"], "colour": "red", "limits": {"timeout_ms": -1}}`,
			[]string{"JSON Schema", "/name: 'Bad Name' does not match", "/version:", "/colour: unknown field", "/limits/timeout_ms: minimum",
				"refused by the host", `unknown field "colour"`}},
		{"validate only", `{"name": "a", "version": "1.0.0", "abi": 1, "runtime": "wasm", "module": "plugin.wasm",
			"points": ["score"], "config_schema": {"type": "objekt"}}`,
			[]string{"refused by the host", "config_schema: not a valid JSON Schema"}},
		{"schema only", `{"Name": "a", "version": "1.0.0", "abi": 1, "runtime": "wasm", "module": "plugin.wasm", "points": ["score"]}`,
			[]string{"/Name: unknown field", "/name: missing"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, manifest.FileName), []byte(c.manifest), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := run(t, "plugin", "inspect", dir)
			if err == nil {
				t.Fatal("inspect accepted the manifest")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "build it with") {
				t.Errorf("inspect looked for the module: %v", err)
			}
		})
	}
}
