package main

import "regexp"

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

// plainFields marshals every plain field of src directly, and returns how many
// plain fields src has (rewritten now or before).
func plainFields(src []byte) ([]byte, int) {
	before := len(done.FindAllIndex(src, -1))
	n := 0
	out := plainField.ReplaceAllFunc(src, func(m []byte) []byte {
		n++
		return plainField.ReplaceAll(m, []byte("${1}\treturn ec.${3}(ctx, field.Selections, obj.${2}) // plain field\n}\n"))
	})
	return out, before + n
}
