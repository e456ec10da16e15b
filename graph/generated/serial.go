package generated

// This file is written by hand; generated.go is written by gqlgen and then
// rewritten by graph/internal/gqlpost (see graph/generate.go).

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSerially marshals a list's elements one after the other, on the
// calling goroutine: it has graphql.MarshalSliceConcurrently's signature
// and its results (each element with a field context of its own carrying
// its index, and a panic in one element turned into an error and a null),
// without a goroutine per element. gqlgen's generated code marshals every
// list of objects concurrently; for the edges of a connection page, whose
// nodes and their edges ent loaded beforehand (one query per level), that
// is a goroutine, its stack growth and a WaitGroup per record for no I/O
// to overlap. graph/internal/gqlpost puts it in place of
// MarshalSliceConcurrently in the marshallers of edge lists.
func marshalSerially(ctx context.Context, length int, _ int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, length)
	for i := range length {
		childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					ret[i] = graphql.Null
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
	}
	return ret
}
