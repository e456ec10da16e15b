package graph_test

import (
	"fmt"
	"runtime"
	"testing"
)

// TestAbuseSuiteMemoryIsFlat runs the abuse suite (every dialect) twice
// and checks that the heap in use, after a collection, grows by less than
// 50 MB across the second pass: the first warms caches (parsed schema,
// connection pools, the PostgreSQL test server), the second must leave
// nothing behind. Servers run in this process, so their memory is counted.
func TestAbuseSuiteMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the abuse suite twice")
	}
	suite := []struct {
		name string
		f    func(*testing.T)
	}{
		{"atomicity", TestBatchMutationCannotBreakAtomicity},
		{"heavy", TestHeavyFieldsAreBounded},
		{"filters", TestFilterInputIsBounded},
		{"body", TestRequestBodyIsCapped},
		{"badInput", TestBadInputIsNeverInternal},
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	const limit = 50 << 20
	var before uint64
	for pass := 1; pass <= 2; pass++ {
		if pass == 2 {
			before = heap()
		}
		for _, s := range suite {
			if !t.Run(fmt.Sprintf("pass%d-%s", pass, s.name), s.f) {
				t.FailNow()
			}
		}
	}
	after := heap()
	t.Logf("heap in use: %d MB before the second pass, %d MB after", before>>20, after>>20)
	if after > before && after-before > limit {
		t.Errorf("heap grew by %d MB across the abuse suite (limit %d MB)", (after-before)>>20, limit>>20)
	}
}
