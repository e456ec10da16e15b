package wasm_test

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/rapportcrm/rapport/sdk/pluginpkg"
)

// TestHostFunctionsListed checks that the import list packages are held
// to (sdk/pluginpkg.HostFunctions) is what the runtime provides: every
// WASI preview 1 function the engine instantiates, and rapport.log.
func TestHostFunctionsListed(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		t.Fatal(err)
	}
	mod := rt.Module(wasi_snapshot_preview1.ModuleName)
	var got []string
	for name := range mod.ExportedFunctionDefinitions() {
		got = append(got, name)
	}
	sort.Strings(got)
	if want := pluginpkg.HostFunctions["wasi_snapshot_preview1"]; !slices.Equal(got, want) {
		t.Fatalf("the engine provides\n%v\nbut packages are checked against\n%v", got, want)
	}
	if want := pluginpkg.HostFunctions["rapport"]; !slices.Equal(want, []string{"log"}) {
		t.Fatalf("rapport host functions %v; the engine provides log", want)
	}
}
