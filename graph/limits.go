package graph

import (
	"context"
	"encoding/json"
	"strings"
	"time"

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
	// HeavyCost is what each HeavyFields field costs in the complexity
	// budget, besides its selections (default 5,000). A field with a
	// range argument (metrics, cohortRetention, forecast) also costs its
	// selections once per period of the range.
	HeavyCost int
	// MaxHeavy is how many HeavyFields root fields one operation may hold
	// (default 3).
	MaxHeavy int
	// MaxHeavyConcurrent is how many HeavyFields root fields, and chart
	// renderings, run at once on the server (default 4); more wait for a
	// slot up to HeavyWait, then fail with UNAVAILABLE.
	MaxHeavyConcurrent int
	// MaxHeavyPerWorkspace is how many of those one workspace runs at once
	// (default 2), so one tenant cannot take every slot.
	MaxHeavyPerWorkspace int
	// HeavyWait is how long a heavy field waits for a slot (default 30s).
	HeavyWait time.Duration
	// MaxInFlight is how many GraphQL requests run at once (default 4
	// per CPU the server may use); later ones wait their turn in arrival
	// order (see admission).
	MaxInFlight int
	// MaxInFlightPerWorkspace is how many of those one workspace runs at
	// once (default half of MaxInFlight).
	MaxInFlightPerWorkspace int
	// InFlightWait is how long a request waits for its turn before it is
	// answered 503 UNAVAILABLE with Retry-After (default 30s).
	InFlightWait time.Duration
	// MaxBody is the largest request body read, in bytes (default 8 MiB);
	// a larger one is answered 413.
	MaxBody int64
	// MaxFilterDepth is how deeply filter (where) inputs nest and, or and
	// not (default 10).
	MaxFilterDepth int
	// MaxFilterBranches is how many conditions one filter holds (default
	// 500).
	MaxFilterBranches int
	// MaxFilterList is the longest list in a filter, e.g. idIn (default
	// 1,000).
	MaxFilterList int
	// MaxInputList is the longest list in any argument (default 5,000, the
	// bulk mutations' limit).
	MaxInputList int
	// MaxInputDepth is how deeply any argument's value nests (default 32).
	MaxInputDepth int
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
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.HeavyCost, 5_000)
	def(&l.MaxHeavy, 3)
	def(&l.MaxHeavyConcurrent, 4)
	def(&l.MaxHeavyPerWorkspace, 2)
	def(&l.MaxFilterDepth, 10)
	def(&l.MaxFilterBranches, 500)
	def(&l.MaxFilterList, 1_000)
	def(&l.MaxInputList, 5_000)
	def(&l.MaxInputDepth, 32)
	if l.HeavyWait <= 0 {
		l.HeavyWait = 30 * time.Second
	}
	if l.MaxBody <= 0 {
		l.MaxBody = 8 << 20
	}
	return l
}

// pagedSchema estimates a connection's cost as its page size times the cost
// of one item, which gqlgen's default (1 + children) does not.
type pagedSchema struct {
	graphql.ExecutableSchema
	maxPage   int
	heavyCost int
	// connections holds "Type.field" for every field returning a Relay
	// connection.
	connections map[string]bool
}

func newPagedSchema(es graphql.ExecutableSchema, maxPage, heavyCost int) pagedSchema {
	conns := map[string]bool{}
	for name, def := range es.Schema().Types {
		for _, f := range def.Fields {
			if f.Type != nil && strings.HasSuffix(f.Type.Name(), "Connection") {
				conns[name+"."+f.Name] = true
			}
		}
	}
	return pagedSchema{ExecutableSchema: es, maxPage: maxPage, heavyCost: heavyCost, connections: conns}
}

func (s pagedSchema) Complexity(ctx context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	if c, ok := s.ExecutableSchema.Complexity(ctx, typeName, field, child, args); ok {
		return c, true
	}
	if HeavyFields[typeName+"."+field] {
		return s.heavyCost + periods(args)*child, true
	}
	if typeName == "Metrics" && child > 0 {
		// Metrics' series are computed per period by queries of their own.
		return 100 + child, true
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

// periods is how many periods a metric's range and period arguments span
// (1 when it has none or they do not parse: validation refuses those).
func periods(args map[string]any) int {
	r, _ := args["range"].(map[string]any)
	if r == nil {
		return 1
	}
	from, err1 := timeArg(r["from"])
	to, err2 := timeArg(r["to"])
	if err1 != nil || err2 != nil || !to.After(from) {
		return 1
	}
	months := (to.Year()-from.Year())*12 + int(to.Month()) - int(from.Month()) + 1
	switch p, _ := args["period"].(string); p {
	case "QUARTER":
		months = months/3 + 1
	case "YEAR":
		months = months/12 + 1
	}
	if months < 1 || months > 100_000 {
		return 100_000
	}
	return months
}

func timeArg(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		return time.Parse(time.RFC3339Nano, x)
	}
	return time.Time{}, errNotTime
}

var errNotTime = errcode.New(errcode.BadUserInput, "not a time")

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

// fieldChecks is the server's one field middleware, as every field of
// every answer passes through each: it refuses first/last above maxPage on
// any field, then traces the field (resolverSpans).
func fieldChecks(maxPage int) graphql.FieldMiddleware {
	return func(ctx context.Context, next graphql.Resolver) (any, error) {
		fc := graphql.GetFieldContext(ctx)
		if fc == nil {
			return next(ctx)
		}
		if fc.Args != nil {
			for _, name := range []string{"first", "last"} {
				if n := pageSize(fc.Args[name]); n > maxPage || n < 0 {
					return nil, badPage(name, n, maxPage)
				}
			}
		}
		return resolverSpans(ctx, fc, next)
	}
}

func badPage(arg string, n, max int) error {
	return errcode.Input(arg, "must be between 0 and %d, got %d", max, n)
}
