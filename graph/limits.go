package graph

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/core/errcode"
)

// Limits bound what one request may ask for.
type Limits struct {
	// MaxDepth is the deepest nesting of fields (default 12).
	MaxDepth int
	// MaxComplexity bounds the estimated number of values a request returns,
	// where a connection's fields count once per requested item
	// (default 50,000).
	MaxComplexity int
	// MaxPage is the largest first/last a connection accepts (default 1,000).
	MaxPage int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = 12
	}
	if l.MaxComplexity <= 0 {
		l.MaxComplexity = 50_000
	}
	if l.MaxPage <= 0 {
		l.MaxPage = 1_000
	}
	return l
}

// pagedSchema estimates a connection's cost as its page size times the cost
// of one item, which gqlgen's default (1 + children) does not.
type pagedSchema struct {
	graphql.ExecutableSchema
	maxPage int
	// connections holds "Type.field" for every field returning a Relay
	// connection.
	connections map[string]bool
}

func newPagedSchema(es graphql.ExecutableSchema, maxPage int) pagedSchema {
	conns := map[string]bool{}
	for name, def := range es.Schema().Types {
		for _, f := range def.Fields {
			if f.Type != nil && strings.HasSuffix(f.Type.Name(), "Connection") {
				conns[name+"."+f.Name] = true
			}
		}
	}
	return pagedSchema{ExecutableSchema: es, maxPage: maxPage, connections: conns}
}

func (s pagedSchema) Complexity(ctx context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	if c, ok := s.ExecutableSchema.Complexity(ctx, typeName, field, child, args); ok {
		return c, true
	}
	n := pageSize(args["first"])
	if m := pageSize(args["last"]); m > n {
		n = m
	}
	if n == 0 {
		if s.connections[typeName+"."+field] {
			n = s.maxPage // a connection without first or last may return a whole page
		} else {
			n = 1
		}
	}
	return 1 + n*child, true
}

func pageSize(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case *int:
		if x != nil {
			return *x
		}
	case json.Number:
		n, _ := x.Int64()
		return int(n)
	}
	return 0
}

// depthLimit refuses operations nested deeper than max.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, 0); depth > d.max {
		err := gqlerror.Errorf("operation is nested %d levels deep; the limit is %d", depth, d.max)
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return err
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, seen int) int {
	if seen > 100 {
		return seen
	}
	deepest := seen
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.SelectionSet) == 0 {
				d = seen + 1
			} else {
				d = selectionDepth(s.SelectionSet, seen+1)
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, seen)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = selectionDepth(s.Definition.SelectionSet, seen)
			}
		}
		if d > deepest {
			deepest = d
		}
	}
	return deepest
}

// pageLimit refuses first/last above max on any field.
func pageLimit(max int) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc != nil && fc.Args != nil {
			for _, name := range []string{"first", "last"} {
				if n := pageSize(fc.Args[name]); n > max || n < 0 {
					return nil, badPage(name, n, max)
				}
			}
		}
		return next(ctx)
	}
}

func badPage(arg string, n, max int) error {
	return errcode.Input(arg, "must be between 0 and %d, got %d", max, n)
}
