// Command gqlpost rewrites gqlgen's generated executor where gqlgen (v0.17)
// has no option for what the server needs. It runs after gqlgen in
// graph/generate.go, is idempotent, and fails when a rewrite finds nothing
// to do (a gqlgen upgrade changed the code it expects):
//
//   - serialLists: the lists of a connection's edges are marshalled
//     serially (marshalSerially, in graph/generated/serial.go) rather than
//     with a goroutine per edge; gqlgen's worker_limit still starts a
//     goroutine per element.
//   - plainFields: a field read straight from a struct field (obj.Name: no
//     resolver, no arguments, no directive) is marshalled directly instead
//     of through graphql.ResolveField. ResolveField gives every field a
//     FieldContext, a context, a panic recovery and a pass through the
//     field middleware: for a page of records that is most of the server's
//     time and allocations, spent on values that cannot fail. The field
//     middleware (graph's fieldChecks) has nothing to do for such fields: it
//     checks first/last arguments, which they have none of, and traces
//     resolvers and methods, which they are not. Fields with a resolver, a
//     method, arguments or a directive keep ResolveField.
//
// Usage:
//
//	go run ./graph/internal/gqlpost generated/generated.go
package main

import (
	"fmt"
	"os"
)

// rewrites are applied in order; each returns the new source and how many
// places it applies to (rewritten now or before).
var rewrites = []struct {
	name string
	run  func([]byte) ([]byte, int)
}{
	{"serialLists", serialLists},
	{"plainFields", plainFields},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gqlpost FILE")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gqlpost:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, r := range rewrites {
		var n int
		if src, n = r.run(src); n == 0 {
			return fmt.Errorf("%s: nothing to rewrite in %s", r.name, path)
		}
	}
	return os.WriteFile(path, src, 0o644)
}
