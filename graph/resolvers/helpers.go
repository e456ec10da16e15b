package resolvers

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/extensionbinding"
	"github.com/rapportcrm/rapport/core/ent/predicate"
	"github.com/rapportcrm/rapport/core/ent/score"
	"github.com/rapportcrm/rapport/core/ent/segment"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/segments"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/graph/model"
	"github.com/rapportcrm/rapport/internal/round"
	"github.com/rapportcrm/rapport/sdk"
)

// MaxBulk is the most records one bulk mutation accepts.
const MaxBulk = 5000

// tx returns the request's transactional client (mutations run in one
// transaction each), or the root client outside one.
func (r *Resolver) tx(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return r.Client
}

// requireAdmin returns the caller if it is an admin of its workspace, and
// FORBIDDEN otherwise.
func requireAdmin(ctx context.Context) (*tenancy.Viewer, error) {
	v := tenancy.FromContext(ctx)
	if v == nil {
		return nil, errcode.New(errcode.Unauthenticated, "no token")
	}
	if v.Role != tenancy.RoleAdmin {
		return nil, errcode.New(errcode.Forbidden, "only an admin manages members and the workspace")
	}
	return v, nil
}

// members lists the caller's workspace's members, for any role.
func (r *Resolver) members(ctx context.Context) ([]*ent.Member, error) {
	v := tenancy.FromContext(ctx)
	if v == nil {
		return nil, errcode.New(errcode.Unauthenticated, "no token")
	}
	return access.Members(ctx, r.Client, v.WorkspaceID)
}

func (r *Resolver) viewer(ctx context.Context) (*model.Viewer, error) {
	v := tenancy.FromContext(ctx)
	if v == nil {
		return nil, errcode.New(errcode.Unauthenticated, "no token")
	}
	ws, err := r.Client.Workspace.Get(ctx, v.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return &model.Viewer{Workspace: ws, Role: string(v.Role)}, nil
}

// bulkCreate creates every input in order, inside the mutation's
// transaction: the first failure aborts the whole batch, and its error
// names the failing index ("input.3.email").
func bulkCreate[In, Out any](ctx context.Context, c *ent.Client, inputs []*In, create func(*ent.Client, *In) (Out, error)) ([]Out, error) {
	if len(inputs) > MaxBulk {
		return nil, errcode.Input("input", "at most %d records per call, got %d", MaxBulk, len(inputs))
	}
	out := make([]Out, 0, len(inputs))
	for i, in := range inputs {
		v, err := create(c, in)
		if err != nil {
			return nil, errcode.AtIndex("input", i, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// inInput returns v and err, with err's field given as a path in the
// mutation's input argument ("input.organizationID"), as bulk mutations
// give theirs ("input.3.organizationID").
func inInput[T any](v T, err error) (T, error) {
	if err != nil && errcode.FieldOf(err) != "" {
		return v, errcode.Under("input", err)
	}
	return v, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefID(id *pulid.ID) pulid.ID {
	if id == nil {
		return ""
	}
	return *id
}

var errNoPlugins = errcode.New(errcode.NotFound, "this server has no plugins loaded (see rapport serve --plugins)")

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// scoresOf lists a subject's newest scores.
func (r *Resolver) scoresOf(ctx context.Context, typ score.SubjectType, id pulid.ID, first *int) ([]*ent.Score, error) {
	n := 10
	if first != nil {
		n = *first
	}
	if n < 0 || n > 1000 {
		return nil, errcode.Input("first", "must be between 0 and 1000, got %d", n)
	}
	return r.Client.Score.Query().
		Where(score.SubjectTypeEQ(typ), score.SubjectID(id)).
		Order(ent.Desc(score.FieldComputedAt)).
		Limit(n).
		All(ctx)
}

// DefaultPage is how many records a root connection returns when the
// client gives neither first nor last.
const DefaultPage = 1000

// pageSize bounds a root connection asked for without first or last.
func pageSize(first, last *int) *int {
	if first != nil || last != nil {
		return first
	}
	n := DefaultPage
	return &n
}

// whereOf picks the filter of the subject type.
func whereOf(t extensionbinding.SubjectType, lead *ent.LeadWhereInput, contact *ent.ContactWhereInput, org *ent.OrganizationWhereInput, deal *ent.DealWhereInput) any {
	switch t {
	case extensionbinding.SubjectTypeLead:
		return lead
	case extensionbinding.SubjectTypeContact:
		return contact
	case extensionbinding.SubjectTypeOrganization:
		return org
	case extensionbinding.SubjectTypeDeal:
		return deal
	}
	return nil
}

// reportModel is a plugin's report as the API returns it: lists never
// null.
func reportModel(plugin string, r *sdk.Report) *model.Report {
	out := &model.Report{Plugin: plugin, Title: r.Title, Sections: []*model.ReportSection{}}
	for _, s := range r.Sections {
		ms := &model.ReportSection{Key: s.Key, Title: s.Title, Summary: s.Summary,
			Kpis: []*model.ReportKpi{}, Tables: []*model.ReportTable{}, Series: []*model.ReportSeries{}}
		for _, k := range s.KPIs {
			var target *float64
			if k.Target != nil {
				v := round.Unit(*k.Target, k.Unit)
				target = &v
			}
			ms.Kpis = append(ms.Kpis, &model.ReportKpi{Key: k.Key, Label: k.Label, Value: round.Unit(k.Value, k.Unit), Unit: k.Unit, Target: target})
		}
		for _, t := range s.Tables {
			rows := make([][]string, len(t.Rows))
			for i, row := range t.Rows {
				rows[i] = append([]string{}, row...)
			}
			ms.Tables = append(ms.Tables, &model.ReportTable{Key: t.Key, Title: t.Title, Columns: append([]string{}, t.Columns...), Rows: rows})
		}
		for _, sr := range s.Series {
			values := make([]float64, len(sr.Values))
			for i, v := range sr.Values {
				values[i] = round.Measure(v)
			}
			ms.Series = append(ms.Series, &model.ReportSeries{Name: sr.Name, Labels: append([]string{}, sr.Labels...), Values: values, Chart: sr.Chart})
		}
		out.Sections = append(out.Sections, ms)
	}
	return out
}

// automationInput turns the GraphQL input into the service's.
func automationInput(in model.AutomationInput) automation.Input {
	return automation.Input{Name: in.Name, Enabled: in.Enabled, Event: deref(in.Event),
		Schedule: in.Schedule, Condition: in.Condition, Actions: in.Actions}
}

// workspaceOf is the caller's workspace.
func workspaceOf(ctx context.Context) (pulid.ID, error) {
	v := tenancy.FromContext(ctx)
	if v == nil {
		return "", errcode.New(errcode.Unauthenticated, "no token")
	}
	return v.WorkspaceID, nil
}

// timeOf is *t in UTC, or the zero time (now) for nil.
func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func subjectTypes(types []string) []segmentmembership.SubjectType {
	out := make([]segmentmembership.SubjectType, len(types))
	for i, t := range types {
		out[i] = segmentmembership.SubjectType(t)
	}
	return out
}

// segmentsOf lists the segments a subject is a member of at asOf (now
// when nil), by key.
func (r *Resolver) segmentsOf(ctx context.Context, subjectType string, id pulid.ID, asOf *time.Time) ([]*ent.Segment, error) {
	return r.Client.Segment.Query().
		Where(predicate.Segment(segments.Of(subjectType, id, timeOf(asOf)))).
		Order(ent.Asc(segment.FieldKey), ent.Asc(segment.FieldID)).
		All(ctx)
}

// inSegment narrows a where input of subjectType to the members of the
// segments with the given keys.
func inSegment(ctx context.Context, subjectType string, keys []string) (func(*sql.Selector), error) {
	if len(keys) > segments.MaxKeys {
		return nil, errcode.Input("where.inSegmentIn", "at most %d segment keys", segments.MaxKeys)
	}
	ws, err := workspaceOf(ctx)
	if err != nil {
		return nil, err
	}
	return segments.WithKeys(ws, subjectType, keys, time.Time{}), nil
}
