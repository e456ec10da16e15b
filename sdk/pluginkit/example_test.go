package pluginkit_test

import (
	"context"
	"fmt"

	"github.com/rapportcrm/rapport/examples/leadscore"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

// A plugin's own test file needs one test to run every check on the
// plugin's Go code, natively. For examples/leadscore it is:
//
//	package leadscore_test
//
//	import (
//		"testing"
//
//		"github.com/rapportcrm/rapport/examples/leadscore"
//		"github.com/rapportcrm/rapport/sdk/manifest"
//		"github.com/rapportcrm/rapport/sdk/pluginkit"
//	)
//
//	func TestConformance(t *testing.T) {
//		m, err := manifest.Load(manifest.FileName)
//		if err != nil {
//			t.Fatal(err)
//		}
//		pluginkit.Run(t, pluginkit.Native(m, leadscore.Plugin))
//	}
//
// `go test -v` then lists one subtest per check, TestConformance/score/deterministic
// and so on. Below, the same checks run through Suite.Check, which needs no
// *testing.T, to show which checks a score plugin gets.
func Example() {
	m, err := manifest.Load("../../examples/leadscore/" + manifest.FileName)
	if err != nil {
		fmt.Println(err)
		return
	}
	results, err := pluginkit.Suite{}.Check(context.Background(), pluginkit.Native(m, leadscore.Plugin))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		status := "ok  "
		if r.Failed() {
			status = "FAIL"
		}
		fmt.Println(status, r.Name)
		for _, p := range r.Problems {
			fmt.Println("    ", p)
		}
	}
	// Output:
	// ok   manifest
	// ok   score/well-formed
	// ok   score/deterministic
	// ok   score/empty-batch
	// ok   score/large-batch
	// ok   score/missing-values
	// ok   score/order-independent
	// ok   score/malformed-input
	// ok   score/config-defaults
	// ok   undeclared-points
}
