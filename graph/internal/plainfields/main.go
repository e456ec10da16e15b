// Command plainfields rewrites gqlgen's generated executor so that a field
// read straight from a struct field (obj.Name: no resolver, no arguments,
// no directive) is marshalled directly instead of through
// graphql.ResolveField. ResolveField gives every field a FieldContext, a
// context, a panic recovery and a pass through the field middleware: for a
// page of records that is most of the server's time and allocations, spent
// on values that cannot fail. The field middleware (graph's fieldChecks)
// has nothing to do for such fields: it checks first/last arguments, which
// they have none of, and traces resolvers and methods, which they are not.
// Fields with a resolver, a method, arguments or a directive keep
// ResolveField. It runs after gqlgen in graph/generate.go and is
// idempotent.
//
//	go run ./graph/internal/plainfields generated/generated.go
package main

import (
	"fmt"
	"os"
	"regexp"
)

// plainField matches the whole of a field function generated for a struct
// field: its resolver is `return obj.Field, nil`, it has no middleware
// chain, and its value is marshalled by one ec.marshal… function.
var plainField = regexp.MustCompile(`(?m)^(func \(ec \*executionContext\) _\w+\(ctx context\.Context, field graphql\.CollectedField, obj \*[\w.]+\) \(ret graphql\.Marshaler\) \{\n)` +
	`\treturn graphql\.ResolveField\(\n` +
	`\t\tctx,\n` +
	`\t\tec\.OperationContext,\n` +
	`\t\tfield,\n` +
	`\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n` +
	`\t\t\treturn ec\.fieldContext_\w+\(ctx, field\)\n` +
	`\t\t\},\n` +
	`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n` +
	`\t\t\treturn obj\.(\w+), nil\n` +
	`\t\t\},\n` +
	`\t\tnil,\n` +
	`\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v [^\n]+\) graphql\.Marshaler \{\n` +
	`\t\t\treturn ec\.(marshal[^(\s]+)\(ctx, selections, v\)\n` +
	`\t\t\},\n` +
	`\t\ttrue,\n` +
	`\t\t(?:true|false),\n` +
	`\t\)\n` +
	`\}\n`)

// done matches a field function this command has already rewritten.
var done = regexp.MustCompile(`(?m)^\treturn ec\.marshal[^(\s]+\(ctx, field\.Selections, obj\.\w+\) // plain field\n`)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: plainfields FILE")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, n := rewrite(src)
	if n == 0 {
		fmt.Fprintf(os.Stderr, "plainfields: no plain field in %s\n", path)
		os.Exit(1)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// rewrite marshals every plain field of src directly, and returns how many
// plain fields src has (rewritten now or before).
func rewrite(src []byte) ([]byte, int) {
	before := len(done.FindAllIndex(src, -1))
	n := 0
	out := plainField.ReplaceAllFunc(src, func(m []byte) []byte {
		n++
		return plainField.ReplaceAll(m, []byte("${1}\treturn ec.${3}(ctx, field.Selections, obj.${2}) // plain field\n}\n"))
	})
	return out, before + n
}
