package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// BatchMutations are the root mutation fields that commit their work batch
// by batch (a plugin run over every matching subject), so they cannot run
// inside the request's transaction: they resolve with the store's client,
// outside any transaction, and an operation holding one may hold only
// such fields. Every other mutation operation runs in one transaction,
// all or nothing.
var BatchMutations = map[string]bool{
	"scoreSubjects":   true,
	"segmentSubjects": true,
	// startScoring commits its run and ranges before it queues them.
	"startScoring":      true,
	"startSegmentation": true,
	// importRecords stores its job (committed before it is queued) or
	// checks its file in a transaction of its own.
	"importRecords": true,
}

// AdminMutations are the root mutation fields only a workspace's admin
// may run. Another role's operation holding one is FORBIDDEN before its
// input is looked at, like a viewer's write.
var AdminMutations = map[string]bool{
	"updateMemberRole": true,
	"removeMember":     true,
	"deleteWorkspace":  true,
	"installPlugin":    true,
	"uninstallPlugin":  true,
	"eraseContact":     true,
}

// AdminQueries are the root query fields only a workspace's admin may
// read, refused like AdminMutations before their input is looked at.
var AdminQueries = map[string]bool{
	"privacyExport": true,
}

// HeavyFields are the root fields whose work is a plugin call or a scan of
// the workspace's history rather than a page of records: each costs
// Limits.HeavyCost in the complexity budget, an operation may hold at most
// Limits.MaxHeavy of them, and at most Limits.MaxHeavyConcurrent run at
// once on a server (Limits.MaxHeavyPerWorkspace for one workspace).
var HeavyFields = map[string]bool{
	"Query.runReport":            true,
	"Query.metrics":              true,
	"Query.cohortRetention":      true,
	"Query.forecast":             true,
	"Query.shadowScore":          true,
	"Query.shadowSample":         true,
	"Mutation.segmentSubjects":   true,
	"Query.questionnaire":        true,
	"Mutation.scoreSubjects":     true,
	"Query.privacyExport":        true,
	"Mutation.importRecords":     true,
	"Mutation.startScoring":      true,
	"Mutation.startSegmentation": true,
}

// reasons given in extensions.reason beside code BAD_USER_INPUT.
const (
	reasonMixedBatch     = "BATCH_MUTATION_NOT_ALONE"
	reasonHeavyLimit     = "HEAVY_FIELD_LIMIT_EXCEEDED"
	reasonMutationOnGET  = "MUTATION_OVER_GET"
	reasonInputLimit     = "INPUT_LIMIT_EXCEEDED"
	reasonInvalidValue   = "INVALID_VALUE"
	reasonBodyTooLarge   = "REQUEST_TOO_LARGE"
	reasonBadBody        = "INVALID_REQUEST_BODY"
	reasonBatchedRequest = "BATCHING_UNSUPPORTED"
)

// codedError is a gqlerror with a code and a reason in its extensions.
func codedError(code errcode.Code, reason, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": string(code)}
	if reason != "" {
		err.Extensions["reason"] = reason
	}
	return err
}

// operationGuard checks an operation before anything of it runs:
// permission first (a viewer's mutation is FORBIDDEN whatever its input),
// then the shape (mutations only over POST, batch mutations alone, heavy
// fields bounded) and the input values (see checkInputs).
type operationGuard struct {
	limits Limits
	schema *ast.Schema
	// queries holds documents parsed for earlier requests, read (never
	// written) instead of parsing the query again.
	queries *queryCache
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = (*operationGuard)(nil)

func (*operationGuard) ExtensionName() string { return "OperationGuard" }

// Validate keeps the schema, whose input types checkInputs walks.
func (g *operationGuard) Validate(es graphql.ExecutableSchema) error {
	g.schema = es.Schema()
	return nil
}

// MutateOperationParameters runs before the query is validated or its
// variables coerced: a viewer's mutation is refused here, so its input is
// never looked at, and variables are checked against the types the
// operation declares for them (see checkInputs) before the GraphQL layer
// spends time coercing a value it would refuse.
func (g *operationGuard) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	v := tenancy.FromContext(ctx)
	readOnly := v != nil && !v.Role.CanWrite()
	notAdmin := v != nil && v.Role != tenancy.RoleAdmin && mentionsAdminMutation(p.Query)
	if !readOnly && !notAdmin && len(p.Variables) == 0 {
		return nil
	}
	doc, ok := g.queries.Get(ctx, p.Query)
	if !ok {
		var err error
		if doc, err = parser.ParseQuery(&ast.Source{Input: p.Query}); err != nil {
			return nil // gqlgen reports the syntax error
		}
	}
	op := doc.Operations.ForName(p.OperationName)
	if op == nil && p.OperationName == "" && len(doc.Operations) > 0 {
		op = doc.Operations[0]
	}
	if op == nil {
		return nil
	}
	if readOnly && op.Operation == ast.Mutation {
		return codedError(errcode.Forbidden, "", "role %s may not run a %s", v.Role, op.Operation)
	}
	if notAdmin && (op.Operation == ast.Mutation || op.Operation == ast.Query) {
		admin := AdminMutations
		if op.Operation == ast.Query {
			admin = AdminQueries
		}
		for _, f := range rootFields(op.SelectionSet, map[string]bool{}, doc.Fragments) {
			if admin[f.Name] {
				return codedError(errcode.Forbidden, "", "only an admin may run %s", f.Name)
			}
		}
	}
	return checkVariables(op, p.Variables, g.schema, g.limits)
}

// MutateOperationContext runs after validation, before any resolver.
func (g *operationGuard) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Operation
	if op == nil {
		return nil
	}
	if op.Operation != ast.Query && methodOf(ctx) == http.MethodGet {
		return codedError(errcode.BadUserInput, reasonMutationOnGET, "a %s must be sent with POST, not GET", op.Operation)
	}
	roots := rootFields(op.SelectionSet, map[string]bool{})
	if err := checkUploadOperation(ctx, op, roots); err != nil {
		return err
	}
	if op.Operation == ast.Mutation {
		var batch, other string
		for _, f := range roots {
			if BatchMutations[f.Name] {
				batch = f.Name
			} else if f.Name != "__typename" {
				other = f.Name
			}
		}
		if batch != "" && other != "" {
			return codedError(errcode.BadUserInput, reasonMixedBatch,
				"%s commits batch by batch outside the request's transaction, so it cannot share an operation with %s: send it in an operation of its own", batch, other)
		}
	}
	heavy := 0
	typ := "Query"
	if op.Operation == ast.Mutation {
		typ = "Mutation"
	}
	for _, f := range roots {
		if HeavyFields[typ+"."+f.Name] {
			heavy++
		}
	}
	if heavy > g.limits.MaxHeavy {
		return codedError(errcode.BadUserInput, reasonHeavyLimit,
			"the operation asks for %d reports, metrics, plugin runs or questionnaires; the limit is %d per operation", heavy, g.limits.MaxHeavy)
	}
	if err := checkInputs(oc, g.schema, g.limits); err != nil {
		return err
	}
	return nil
}

// onlyBatchMutations reports whether every root field of op is a batch
// mutation: such an operation runs without the request's transaction.
func onlyBatchMutations(op *ast.OperationDefinition) bool {
	if op.Operation != ast.Mutation {
		return false
	}
	roots := rootFields(op.SelectionSet, map[string]bool{})
	n := 0
	for _, f := range roots {
		switch {
		case BatchMutations[f.Name]:
			n++
		case f.Name == "__typename":
		default:
			return false
		}
	}
	return n > 0
}

// rootFields lists the fields of a selection set, through inline fragments
// and fragment spreads, whatever their directives say. Spreads are followed
// to their definition, or before validation (which links them) to the
// fragment of that name in frags.
func rootFields(set ast.SelectionSet, seen map[string]bool, frags ...ast.FragmentDefinitionList) []*ast.Field {
	var out []*ast.Field
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			out = append(out, s)
		case *ast.InlineFragment:
			out = append(out, rootFields(s.SelectionSet, seen, frags...)...)
		case *ast.FragmentSpread:
			def := s.Definition
			if def == nil && len(frags) > 0 {
				def = frags[0].ForName(s.Name)
			}
			if def != nil && !seen[s.Name] {
				seen[s.Name] = true
				out = append(out, rootFields(def.SelectionSet, seen, frags...)...)
			}
		}
	}
	return out
}

// mentionsAdminMutation reports whether query may hold an admin-only
// mutation or query field: a cheap test that spares parsing the others.
func mentionsAdminMutation(query string) bool {
	for _, fields := range []map[string]bool{AdminMutations, AdminQueries} {
		for name := range fields {
			if strings.Contains(query, name) {
				return true
			}
		}
	}
	return false
}

type methodKey struct{}

// methodOf is the HTTP method of the request serving ctx, if known.
func methodOf(ctx context.Context) string {
	m, _ := ctx.Value(methodKey{}).(string)
	return m
}

// errorf returns a BAD_USER_INPUT gqlerror naming the argument path.
func inputError(reason, path, format string, args ...any) *gqlerror.Error {
	err := codedError(errcode.BadUserInput, reason, "%s: %s", path, fmt.Sprintf(format, args...))
	err.Extensions["field"] = path
	return err
}
