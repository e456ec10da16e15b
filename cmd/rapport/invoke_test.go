package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/errcode"
)

// TestInvokeAppliesManifest calls the example scorer as the server would:
// with its manifest's config schema defaults applied and its config and
// point checked before the plugin runs. The manifest is the example's with
// its thresholds' defaults lowered to hot 10 and warm 5, so that a lead
// with nothing known (15.5) is hot only when the defaults are applied by
// the host (the plugin's own are 70 and 40).
func TestInvokeAppliesManifest(t *testing.T) {
	if _, err := run(t, "plugin", "build", "../../examples/leadscore"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wasmCode, err := os.ReadFile("../../examples/leadscore/plugin.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile("../../examples/leadscore/plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	m = bytes.Replace(m, []byte(`"default": 70`), []byte(`"default": 10`), 1)
	m = bytes.Replace(m, []byte(`"default": 40`), []byte(`"default": 5`), 1)
	os.WriteFile(filepath.Join(dir, "plugin.wasm"), wasmCode, 0o644)
	os.WriteFile(filepath.Join(dir, "plugin.json"), m, 0o644)

	const lead = `"subject_type": "lead", "columns": {"estimated_value": [null]}`
	for _, tc := range []struct {
		name, point, input string
		label              string // the answer's label, when it succeeds
		code               errcode.Code
		mention            string // in the error
	}{
		{name: "defaults", point: "score", input: `{` + lead + `}`, label: "hot"},
		{name: "given beside defaults", point: "score", input: `{` + lead + `, "config": {"hot": 50}}`, label: "warm"},
		{name: "undeclared key", point: "score", input: `{` + lead + `, "config": {"hotter": 50}}`, code: errcode.BadUserInput, mention: "hotter"},
		{name: "wrong type", point: "score", input: `{` + lead + `, "config": {"hot": "very"}}`, code: errcode.BadUserInput, mention: "config.hot"},
		{name: "undeclared point", point: "segment", input: `{` + lead + `}`, code: errcode.BadUserInput, mention: "does not implement segment"},
		{name: "undeclared subject type", point: "score", input: `{"subject_type": "deal", "columns": {"amount": [1]}}`, code: errcode.BadUserInput, mention: "deal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := newRootCmd()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(io.Discard)
			cmd.SetIn(strings.NewReader(tc.input))
			cmd.SetArgs([]string{"plugin", "invoke", dir, "--point", tc.point})
			err := cmd.ExecuteContext(context.Background())
			if tc.code != "" {
				if errcode.Of(err) != tc.code || !strings.Contains(err.Error(), tc.mention) {
					t.Fatalf("error %v (%s), want %s mentioning %q", err, errcode.Of(err), tc.code, tc.mention)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []struct{ Label string }
			if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 1 || got[0].Label != tc.label {
				t.Fatalf("answer %s (%v), want label %q", out.String(), err, tc.label)
			}
		})
	}
}
