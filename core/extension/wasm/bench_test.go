package wasm

import (
	"context"
	"testing"
)

// BenchmarkCall measures one pooled call of the test guest's log scorer
// at several batch sizes; ns/op is per call.
func BenchmarkCall(b *testing.B) {
	m := load(b, Limits{})
	for _, n := range []int{0, 1000} {
		req := request(n, "")
		b.Run(itoa(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := m.Score(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "empty"
	}
	return "batch1000"
}
