package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/internal/ratelimit"
	"github.com/rapportcrm/rapport/internal/telemetry"
)

// Quotas bound what one API token and one workspace ask of the server over
// time, so a noisy tenant waits for its own budget instead of slowing the
// others. A request over a quota is answered 429 with a Retry-After header
// (whole seconds) and an error whose extensions hold code RATE_LIMITED,
// reason (REQUEST_RATE_EXCEEDED or QUERY_COST_EXCEEDED), scope (token,
// member for a signed-in session, or workspace), limit, remaining and reset (seconds until the budget is whole
// again) and retryAfter (seconds).
//
// Unlike Limits, a zero value turns its quota off: rapport serve sets the
// defaults (see its --rate-* flags).
type Quotas struct {
	// TokenRate is the requests a second one API token, or one member's
	// signed-in sessions together, may send on average, TokenBurst how
	// many at once.
	TokenRate  float64
	TokenBurst int
	// WorkspaceRate and WorkspaceBurst are the same for all of one
	// workspace's tokens together.
	WorkspaceRate  float64
	WorkspaceBurst int
	// CostRate is the query complexity (see Limits.MaxComplexity) a
	// workspace may spend a second, CostBurst what it may spend at once;
	// CostBurst is raised to Limits.MaxComplexity, so every operation that
	// passes the complexity limit can run.
	CostRate  float64
	CostBurst int
	// MaxKeys bounds the tokens and workspaces whose budgets are held in
	// memory at once (default 100,000); a budget idle long enough to be
	// whole again is forgotten first.
	MaxKeys int
}

// DefaultQuotas are the quotas rapport serve runs with unless told
// otherwise: an API token may send 20 requests a second (40 at once), a
// workspace 50 (100 at once), and a workspace may spend 25,000 of query
// complexity a second (250,000 at once). They keep a tenant sending ten
// times its budget from slowing another (BenchmarkNoisyNeighbor).
func DefaultQuotas() Quotas {
	return Quotas{TokenRate: 20, TokenBurst: 40, WorkspaceRate: 50, WorkspaceBurst: 100,
		CostRate: 25_000, CostBurst: 250_000, MaxKeys: 100_000}
}

// Reasons beside code RATE_LIMITED.
const (
	reasonRequestRate = "REQUEST_RATE_EXCEEDED"
	reasonQueryCost   = "QUERY_COST_EXCEEDED"
	reasonComplexity  = "COMPLEXITY_LIMIT_EXCEEDED"
)

// quotas holds the buckets of Quotas; a nil field is a quota that is off.
type quotas struct {
	tokens, workspaces, cost *ratelimit.Buckets
	now                      func() time.Time
}

func newQuotas(q Quotas, maxComplexity int) *quotas {
	keys := q.MaxKeys
	if keys <= 0 {
		keys = 100_000
	}
	out := &quotas{now: time.Now}
	if q.TokenRate > 0 && q.TokenBurst > 0 {
		out.tokens = ratelimit.New(q.TokenRate, q.TokenBurst, keys)
	}
	if q.WorkspaceRate > 0 && q.WorkspaceBurst > 0 {
		out.workspaces = ratelimit.New(q.WorkspaceRate, q.WorkspaceBurst, keys)
	}
	if q.CostRate > 0 && q.CostBurst > 0 {
		out.cost = ratelimit.New(q.CostRate, max(q.CostBurst, maxComplexity), keys)
	}
	return out
}

// refusal is a spent budget.
type refusal struct {
	reason, scope string
	d             ratelimit.Decision
}

func (r *refusal) retryAfter() int { return ceilSeconds(r.d.RetryAfter) }

func (r *refusal) extensions() map[string]any {
	return map[string]any{
		"code": string(errcode.RateLimited), "reason": r.reason, "scope": r.scope,
		"limit": r.d.Limit, "remaining": r.d.Remaining, "reset": ceilSeconds(r.d.Reset), "retryAfter": r.retryAfter(),
	}
}

func (r *refusal) message() string {
	what := "requests"
	if r.reason == reasonQueryCost {
		what = "query cost"
	}
	return fmt.Sprintf("the %s's %s budget is spent (%d, refilling over time): retry in %d s", r.scope, what, r.d.Limit, r.retryAfter())
}

func ceilSeconds(d time.Duration) int {
	if d >= time.Duration(math.MaxInt64) {
		return math.MaxInt32
	}
	return int(math.Ceil(d.Seconds()))
}

type refusalKey struct{}

// requests refuses, with 429, a request whose token or workspace sent more
// than its rate, before its body is read; and answers 429 to one whose
// operation the cost budget refused (see charge).
func (q *quotas) requests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := tenancy.FromContext(r.Context())
		if v == nil || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		now := q.now()
		if key, scope := credentialOf(v); q.tokens != nil && key != "" {
			if d := q.tokens.Take(key, 1, now); !d.Allowed {
				q.refuse(w, r, &refusal{reasonRequestRate, scope, d})
				return
			}
		}
		if q.workspaces != nil {
			if d := q.workspaces.Take(string(v.WorkspaceID), 1, now); !d.Allowed {
				q.refuse(w, r, &refusal{reasonRequestRate, "workspace", d})
				return
			}
		}
		if q.cost == nil {
			next.ServeHTTP(w, r)
			return
		}
		note := new(*refusal)
		next.ServeHTTP(&refusingWriter{ResponseWriter: w, note: note}, r.WithContext(context.WithValue(r.Context(), refusalKey{}, note)))
	})
}

// credentialOf returns the key of the token budget v spends and its
// scope: its API token's, or, signed in, its member's (every session of
// one member in one workspace shares a budget, so signing in again does
// not refill it); none for a viewer with neither.
func credentialOf(v *tenancy.Viewer) (key, scope string) {
	switch {
	case v.TokenID != "":
		return string(v.TokenID), "token"
	case v.MemberID != "":
		return "member:" + string(v.MemberID), "member"
	}
	return "", ""
}

func (q *quotas) refuse(w http.ResponseWriter, r *http.Request, ref *refusal) {
	w.Header().Set("Retry-After", strconv.Itoa(ref.retryAfter()))
	writeErrorExt(w, r.Context(), http.StatusTooManyRequests, ref.message(), ref.extensions())
}

// charge takes an operation's complexity from its workspace's cost budget;
// an error when the budget holds less.
func (q *quotas) charge(ctx context.Context, cost int) *gqlerror.Error {
	v := tenancy.FromContext(ctx)
	if q == nil || q.cost == nil || v == nil {
		return nil
	}
	d := q.cost.Take(string(v.WorkspaceID), cost, q.now())
	if d.Allowed {
		return nil
	}
	ref := &refusal{reasonQueryCost, "workspace", d}
	if note, ok := ctx.Value(refusalKey{}).(**refusal); ok {
		*note = ref
	}
	err := gqlerror.Errorf("%s", ref.message())
	err.Extensions = ref.extensions()
	return err
}

// refusingWriter answers 429 with Retry-After once the cost budget refused
// the request's operation.
type refusingWriter struct {
	http.ResponseWriter
	note    **refusal
	written bool
}

func (w *refusingWriter) WriteHeader(status int) {
	if !w.written {
		w.written = true
		if ref := *w.note; ref != nil {
			w.Header().Set("Retry-After", strconv.Itoa(ref.retryAfter()))
			status = http.StatusTooManyRequests
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *refusingWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer below.
func (w *refusingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// complexityLimit refuses an operation whose estimated complexity (see
// pagedSchema) is over max, naming the connection to page, then charges
// the workspace's cost budget with it. It replaces gqlgen's fixed limit,
// whose error says only the total.
type complexityLimit struct {
	max    int
	quotas *quotas
	es     graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*complexityLimit)(nil)

func (*complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	defaulted, _ := oc.Stats.GetExtension(pageEdges{}.ExtensionName()).(pagedFields)
	w := costWalker{es: c.es, schema: c.es.Schema(), vars: oc.Variables, defaulted: defaulted}
	total := w.set(ctx, oc.Operation.SelectionSet, "")
	if total > c.max {
		err := codedError(errcode.BadUserInput, reasonComplexity, "operation has complexity %d, over the limit of %d", total, c.max)
		switch {
		case w.unpaged.path != "":
			err.Message += fmt.Sprintf(": %s has no first or last, so it counts a whole page (%d in all); page it with first or last", w.unpaged.path, w.unpaged.cost)
			err.Extensions["field"] = w.unpaged.path
		case w.worst.path != "":
			err.Message += fmt.Sprintf(": %s costs %d; page it with a smaller first or last", w.worst.path, w.worst.cost)
			err.Extensions["field"] = w.worst.path
		}
		err.Extensions["complexity"] = total
		err.Extensions["limit"] = c.max
		return err
	}
	return c.quotas.charge(ctx, total)
}

// costWalker adds up an operation's complexity as gqlgen's does (the
// same ExecutableSchema.Complexity per field, the costliest implementor
// for a field of an interface), noting the costliest paged field: a
// connection, or a field with first or last, and the costliest of those
// that were sent without first or last (defaulted).
type costWalker struct {
	es        graphql.ExecutableSchema
	schema    *ast.Schema
	vars      map[string]any
	defaulted pagedFields
	unpaged   struct {
		path string
		cost int
	}
	worst struct {
		path string
		cost int
	}
	root struct {
		path string
		cost int
	}
}

func (w *costWalker) set(ctx context.Context, set ast.SelectionSet, path string) int {
	total := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Definition == nil || s.ObjectDefinition == nil {
				continue
			}
			def := w.schema.Types[s.Definition.Type.Name()]
			if def == nil || def.Name == "__Schema" {
				continue
			}
			name := s.Alias
			if name == "" {
				name = s.Name
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			child := 0
			switch def.Kind {
			case ast.Object, ast.Interface, ast.Union:
				child = w.set(ctx, s.SelectionSet, p)
			}
			args := s.ArgumentMap(w.vars)
			cost := 0
			if s.ObjectDefinition.Kind == ast.Interface {
				for _, t := range w.schema.GetPossibleTypes(s.ObjectDefinition) {
					cost = max(cost, w.field(ctx, t.Name, def.Kind, s.Name, child, args))
				}
			} else {
				cost = w.field(ctx, s.ObjectDefinition.Name, def.Kind, s.Name, child, args)
			}
			paged := args["first"] != nil || args["last"] != nil || (def.Kind == ast.Object && len(def.Name) > len("Connection") && def.Name[len(def.Name)-len("Connection"):] == "Connection")
			if paged && cost > w.worst.cost {
				w.worst.path, w.worst.cost = p, cost
			}
			if w.defaulted[s] && cost > w.unpaged.cost {
				w.unpaged.path, w.unpaged.cost = p, cost
			}
			if path == "" && cost > w.root.cost {
				w.root.path, w.root.cost = p, cost
			}
			total = addCost(total, cost)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				total = addCost(total, w.set(ctx, s.Definition.SelectionSet, path))
			}
		case *ast.InlineFragment:
			total = addCost(total, w.set(ctx, s.SelectionSet, path))
		}
	}
	if path == "" && w.worst.path == "" {
		w.worst = w.root
	}
	return total
}

func (w *costWalker) field(ctx context.Context, typ string, kind ast.DefinitionKind, field string, child int, args map[string]any) int {
	if c, ok := w.es.Complexity(ctx, typ, field, child, args); ok && c >= 1 {
		return c
	}
	return addCost(1, child)
}

// addCost adds saturating at MaxInt, ignoring negative parts, as gqlgen's
// complexity does.
func addCost(a, b int) int {
	a, b = max(a, 0), max(b, 0)
	if c := a + b; c >= a {
		return c
	}
	return math.MaxInt
}

// pageEdges gives every connection field without first or last, at the
// root or nested in another record (an edge), first: page, so that the
// eager loading of edges and their resolvers fetch one page, as root
// connections do, and the complexity estimate counts that page.
type pageEdges struct {
	page        int
	connections map[string]bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = pageEdges{}

func (pageEdges) ExtensionName() string                   { return "PageEdges" }
func (pageEdges) Validate(graphql.ExecutableSchema) error { return nil }

func (p pageEdges) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation != nil && oc.Doc != nil {
		e := edgePager{page: p.page, connections: p.connections, vars: oc.Variables, frags: map[string]*ast.FragmentDefinition{}, paged: pagedFields{}}
		if set, changed := e.set(oc.Operation.SelectionSet); changed {
			// The document may be shared with other requests (the
			// query cache), so the operation and the fragments that
			// changed are copies: the request runs those.
			op := *oc.Operation
			op.SelectionSet = set
			doc := *oc.Doc
			doc.Operations = replaced(oc.Doc.Operations, oc.Operation, &op)
			doc.Fragments = make(ast.FragmentDefinitionList, len(oc.Doc.Fragments))
			for i, f := range oc.Doc.Fragments {
				if c := e.frags[f.Name]; c != nil {
					f = c
				}
				doc.Fragments[i] = f
			}
			oc.Doc, oc.Operation = &doc, &op
		}
		oc.Stats.SetExtension(pageEdges{}.ExtensionName(), e.paged)
	}
	return nil
}

func replaced[T comparable](list []T, old, new T) []T {
	out := make([]T, len(list))
	for i, x := range list {
		if x == old {
			x = new
		}
		out[i] = x
	}
	return out
}

// pagedFields are the fields pageEdges gave a first.
type pagedFields map[*ast.Field]bool

// edgePager gives one operation's connections their first, never writing
// to the document it reads: a selection that changes is copied, and so is
// every selection set and fragment on the way to it.
type edgePager struct {
	page        int
	connections map[string]bool
	vars        map[string]any
	// frags holds each fragment once it has been looked at: its copy, or
	// itself when nothing in it changed. A fragment's result does not
	// depend on where it is spread, so it is worked out once however many
	// times it is spread.
	frags map[string]*ast.FragmentDefinition
	paged pagedFields
}

// set returns set with every connection field in it paged, and whether
// that differs from set (then it is a copy).
func (e *edgePager) set(set ast.SelectionSet) (ast.SelectionSet, bool) {
	var out ast.SelectionSet // nil until a selection changes
	for i, sel := range set {
		var repl ast.Selection
		switch s := sel.(type) {
		case *ast.Field:
			sub, changed := e.set(s.SelectionSet)
			page := s.ObjectDefinition != nil && s.Definition != nil && e.connections[s.ObjectDefinition.Name+"."+s.Name]
			if page {
				// first: null, or a variable left null, counts as absent.
				args := s.ArgumentMap(e.vars)
				page = args["first"] == nil && args["last"] == nil
			}
			if page || changed {
				f := *s
				f.SelectionSet = sub
				if page {
					kept := make(ast.ArgumentList, 0, len(s.Arguments)+1)
					for _, a := range s.Arguments {
						if a.Name != "first" && a.Name != "last" {
							kept = append(kept, a)
						}
					}
					f.Arguments = append(kept, &ast.Argument{Name: "first", Position: s.Position,
						Value: &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(e.page), Position: s.Position}})
					e.paged[&f] = true
				}
				repl = &f
			}
		case *ast.InlineFragment:
			if sub, changed := e.set(s.SelectionSet); changed {
				f := *s
				f.SelectionSet = sub
				repl = &f
			}
		case *ast.FragmentSpread:
			if s.Definition != nil {
				if def := e.fragment(s.Definition); def != s.Definition {
					f := *s
					f.Definition = def
					repl = &f
				}
			}
		}
		if repl != nil {
			if out == nil {
				out = slices.Clone(set)
			}
			out[i] = repl
		}
	}
	if out == nil {
		return set, false
	}
	return out, true
}

// fragment returns def paged: def itself if nothing in it changes.
func (e *edgePager) fragment(def *ast.FragmentDefinition) *ast.FragmentDefinition {
	if done, ok := e.frags[def.Name]; ok {
		return done
	}
	// Validation refuses cycles of fragments; until def is worked out, a
	// spread of it inside itself (never valid) sees it unchanged.
	e.frags[def.Name] = def
	if sub, changed := e.set(def.SelectionSet); changed {
		c := *def
		c.SelectionSet = sub
		e.frags[def.Name] = &c
	}
	return e.frags[def.Name]
}

// writeErrorExt answers with one GraphQL-shaped error of the given
// extensions.
func writeErrorExt(w http.ResponseWriter, ctx context.Context, status int, msg string, ext map[string]any) {
	if id := telemetry.TraceID(ctx); id != "" {
		ext["traceId"] = id
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": msg, "extensions": ext}}})
}
