package schema

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/privacy"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// Policy of the WorkspaceMixin: every query and every update or delete is
// filtered to the caller's workspace; viewers cannot write.
func (WorkspaceMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{workspaceFilter()},
		Mutation: privacy.MutationPolicy{denyReadOnly(), workspaceFilter()},
	}
}

// Policy of the Workspace: a caller sees only its own workspace, and only
// the operator's tools (a system context) create or change workspaces.
func (Workspace) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
				if v := tenancy.FromContext(ctx); v != nil {
					wf, ok := f.(interface{ WhereID(entql.StringP) })
					if !ok {
						return privacy.Denyf("unexpected filter %T", f)
					}
					wf.WhereID(entql.StringEQ(string(v.WorkspaceID)))
					return privacy.Skip
				}
				if tenancy.IsSystem(ctx) {
					return privacy.Skip
				}
				return privacy.Denyf("no workspace in context")
			}),
		},
		Mutation: privacy.MutationPolicy{
			privacy.MutationRuleFunc(func(ctx context.Context, _ gen.Mutation) error {
				if tenancy.IsSystem(ctx) && tenancy.FromContext(ctx) == nil {
					return privacy.Skip
				}
				return errcode.New(errcode.Forbidden, "only the operator changes workspaces")
			}),
		},
	}
}

// workspaceFilter narrows a query or mutation to the viewer's workspace.
// A system context without a viewer sees every workspace.
func workspaceFilter() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := tenancy.FromContext(ctx)
		if v == nil {
			if tenancy.IsSystem(ctx) {
				return privacy.Skip
			}
			return errcode.New(errcode.Unauthenticated, "no workspace in context")
		}
		wf, ok := f.(interface{ WhereWorkspaceID(entql.StringP) })
		if !ok {
			return privacy.Denyf("%T is not workspace scoped", f)
		}
		wf.WhereWorkspaceID(entql.StringEQ(string(v.WorkspaceID)))
		return privacy.Skip
	})
}

// denyReadOnly refuses every write by a viewer-role caller.
func denyReadOnly() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m gen.Mutation) error {
		if v := tenancy.FromContext(ctx); v != nil && !v.Role.CanWrite() {
			return errcode.New(errcode.Forbidden, "role %s cannot change records", v.Role)
		}
		return privacy.Skip
	})
}

// workspaceOf returns the workspace a mutation acts in: the viewer's, or for
// a system context the workspace_id the mutation sets.
func workspaceOf(ctx context.Context, m ent.Mutation) (pulid.ID, bool) {
	if v := tenancy.FromContext(ctx); v != nil {
		return v.WorkspaceID, true
	}
	if val, ok := m.Field("workspace_id"); ok {
		id, ok := val.(pulid.ID)
		return id, ok && id != ""
	}
	return "", false
}

// setWorkspace fills workspace_id on create from the caller, and refuses a
// create that names another workspace.
func setWorkspace(ctx context.Context, m ent.Mutation) error {
	v := tenancy.FromContext(ctx)
	cur, has := m.Field("workspace_id")
	if v == nil {
		if tenancy.IsSystem(ctx) && has && cur.(pulid.ID) != "" {
			return nil
		}
		return errcode.New(errcode.Unauthenticated, "creating %s: no workspace in context", m.Type())
	}
	if has && cur.(pulid.ID) != "" && cur.(pulid.ID) != v.WorkspaceID {
		return errcode.New(errcode.Forbidden, "creating %s: workspace mismatch", m.Type())
	}
	return m.SetField("workspace_id", v.WorkspaceID)
}

// checkLinks refuses edges to records the caller cannot see: records of
// another workspace, deleted records, or IDs of the wrong type. The error
// is NOT_FOUND, the same as for an ID that does not exist, so nothing
// leaks about other workspaces.
func checkLinks(ctx context.Context, m ent.Mutation) error {
	ws, ok := workspaceOf(ctx, m)
	if !ok {
		return nil
	}
	cm, ok := m.(interface{ Client() *gen.Client })
	if !ok {
		return fmt.Errorf("mutation %T has no client", m)
	}
	scoped := ctx
	if tenancy.FromContext(ctx) == nil {
		scoped = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws, Role: tenancy.RoleAdmin})
	}
	// Scores and segment memberships point at their subject by ID alone.
	// (Timeline events, events and automation runs do too, but may
	// describe a record just deleted.)
	if v, ok := m.Field("subject_id"); ok && !describesAnyRecord[m.Type()] && !subjectsVerified(ctx) {
		id, _ := v.(pulid.ID)
		n, err := cm.Client().CountIDs(scoped, id.Prefix(), []pulid.ID{id})
		if err != nil {
			return fmt.Errorf("checking subject: %w", err)
		}
		if n != 1 {
			return &errcode.Error{Code: errcode.NotFound, Field: "subjectID", Msg: "no such record in this workspace"}
		}
	}
	edges := m.AddedEdges()
	sort.Strings(edges)
	for _, e := range edges {
		if e == "workspace" {
			continue
		}
		byPrefix := map[string][]pulid.ID{}
		for _, v := range m.AddedIDs(e) {
			id, ok := v.(pulid.ID)
			if !ok {
				return fmt.Errorf("edge %s: unexpected id type %T", e, v)
			}
			byPrefix[id.Prefix()] = append(byPrefix[id.Prefix()], id)
		}
		want := gen.EdgeTargets[m.Type()][e]
		for prefix, ids := range byPrefix {
			if want != "" && prefix != want {
				return &errcode.Error{Code: errcode.NotFound, Field: linkField(m, e), Msg: "no such record in this workspace"}
			}
			ids = uniqueIDs(ids)
			b := batchOf(ctx)
			if b != nil {
				ids = slices.DeleteFunc(ids, func(id pulid.ID) bool { return b.linked[id] == ws })
				if len(ids) == 0 {
					continue
				}
			}
			n, err := cm.Client().CountIDs(scoped, prefix, ids)
			if err != nil {
				return fmt.Errorf("checking %s: %w", e, err)
			}
			if n != len(ids) {
				return &errcode.Error{Code: errcode.NotFound, Field: linkField(m, e), Msg: "no such record in this workspace"}
			}
			if b != nil {
				for _, id := range ids {
					b.linked[id] = ws
				}
			}
		}
	}
	return nil
}

// linkField names the input field that sets edge e of m, as the generated
// GraphQL inputs name it: organizationID for a unique edge with a field
// (organization_id), tagIDs for a list on create, addTagIDs on update.
func linkField(m ent.Mutation, e string) string {
	if _, ok := m.Field(e + "_id"); ok {
		return errcode.FieldName(e) + "ID"
	}
	one := e
	switch {
	case strings.HasSuffix(e, "ies"):
		one = strings.TrimSuffix(e, "ies") + "y"
	case strings.HasSuffix(e, "s"):
		one = strings.TrimSuffix(e, "s")
	default:
		return errcode.FieldName(e) + "ID"
	}
	name := errcode.FieldName(one) + "IDs"
	if !m.Op().Is(ent.OpCreate) {
		name = "add" + strings.ToUpper(name[:1]) + name[1:]
	}
	return name
}

// describesAnyRecord are the entities whose subject_id may name a record
// that is deleted: they describe what happened to it.
var describesAnyRecord = map[string]bool{
	gen.TypeTimelineEvent: true,
	gen.TypeEvent:         true,
	gen.TypeAutomationRun: true,
}

func uniqueIDs(ids []pulid.ID) []pulid.ID {
	seen := make(map[pulid.ID]bool, len(ids))
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

type subjectsVerifiedKey struct{}

// SubjectsVerified returns a context whose writes skip the per-row check
// that a score's or segment membership's subject is visible. The host uses
// it for batches whose subjects it has just loaded through the same
// tenancy-scoped client; never derive it from a request.
func SubjectsVerified(ctx context.Context) context.Context {
	return context.WithValue(ctx, subjectsVerifiedKey{}, true)
}

func subjectsVerified(ctx context.Context) bool {
	b, _ := ctx.Value(subjectsVerifiedKey{}).(bool)
	return b
}
