package extension

import (
	"context"
	gosql "database/sql"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/ent/predicate"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/segments"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/inputs"
)

// InputPlan is a subject type's declared inputs, checked against the
// workspace: what a batch of that type is built from. Compile it once per
// run (it reads the workspace's custom fields), build many batches.
type InputPlan struct {
	subject  string
	builtins []string
	declared []*inputs.Input
	// custom are the workspace's custom fields (entity → key → type) when
	// the plan was compiled; a field defined since arrives as missing.
	custom map[string]map[string]string
}

// CompileInputs parses a manifest's inputs for subjectType and checks
// them against the catalog and the caller's workspace's custom fields.
// Every problem is named, by index, in one BAD_USER_INPUT error.
func CompileInputs(ctx context.Context, client *ent.Client, subjectType string, texts []string) (*InputPlan, error) {
	if _, ok := inputs.Builtins[subjectType]; !ok {
		return nil, errcode.Input("subjectType", "unknown subject type %q", subjectType)
	}
	ws := &inputs.Workspace{Custom: map[string]map[string]string{}}
	if needsCustom(subjectType, texts) && client != nil {
		defs, err := client.CustomField.Query().Select(customfield.FieldEntity, customfield.FieldKey, customfield.FieldType).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading custom fields: %w", err)
		}
		for _, d := range defs {
			e := string(d.Entity)
			if ws.Custom[e] == nil {
				ws.Custom[e] = map[string]string{}
			}
			ws.Custom[e][d.Key] = string(d.Type)
		}
	}
	var wsArg *inputs.Workspace
	if client != nil {
		wsArg = ws
	}
	parsed, err := inputs.ParseAll(wsArg, subjectType, texts)
	if err != nil {
		return nil, errcode.Input("plugin", "%v", err)
	}
	p := &InputPlan{subject: subjectType, custom: ws.Custom}
	for _, in := range parsed {
		if in.Builtin {
			p.builtins = append(p.builtins, in.Name)
		} else {
			p.declared = append(p.declared, in)
		}
	}
	return p, nil
}

// needsCustom reports whether any input is more than a built-in: it may
// name a custom field, or need them for a suggestion.
func needsCustom(subjectType string, texts []string) bool {
	for _, t := range texts {
		if _, builtin := inputs.Builtins[subjectType][t]; !builtin {
			return true
		}
	}
	return false
}

// CheckInputs checks a manifest's inputs for subjectType against the
// catalog alone, without a workspace (custom fields are checked only for
// their syntax).
func CheckInputs(subjectType string, texts []string) error {
	_, err := CompileInputs(context.Background(), nil, subjectType, texts)
	return err
}

// BuildBatch compiles the inputs and builds one batch: see
// InputPlan.Build.
func BuildBatch(ctx context.Context, client *ent.Client, subjectType string, ids []pulid.ID, attrs []string, now time.Time) (sdk.Batch, error) {
	p, err := CompileInputs(ctx, client, subjectType, attrs)
	if err != nil {
		return sdk.Batch{}, err
	}
	return p.Build(ctx, client, ids, now)
}

// Build loads the subjects with the given IDs (in that order) and fills
// one column per input. Queries run through the client with the caller's
// context, so tenancy applies; IDs the caller cannot see are an error. The
// number of statements depends on the inputs, never on len(ids): one for
// the subjects, one per relation walked, one for tags, one for segments
// and one per aggregate.
func (p *InputPlan) Build(ctx context.Context, client *ent.Client, ids []pulid.ID, now time.Time) (sdk.Batch, error) {
	// Every statement of a batch selects by the batch's IDs.
	ctx = store.ByKeys(ctx)
	var (
		b    sdk.Batch
		cols map[string]*column
		err  error
	)
	fields := p.hasFields()
	var subjects []reflect.Value
	if len(p.builtins) > 1 || len(p.builtins) == 1 && p.builtins[0] != "id" || !fields {
		var loaded *[]reflect.Value
		if fields {
			loaded = &subjects
		}
		if b, cols, err = buildBuiltins(ctx, client, p.subject, ids, p.builtins, now, loaded); err != nil {
			return b, err
		}
	} else {
		// Only "id" among the built-ins, and the declared fields load the
		// subjects: one load of them is enough (see resolver.fields).
		b, cols = sdk.Batch{SubjectType: p.subject, Count: len(ids)}, map[string]*column{}
		if len(p.builtins) == 1 {
			b.IDs = make([]string, len(ids))
			for i, id := range ids {
				b.IDs[i] = string(id)
			}
		}
	}
	if len(p.declared) > 0 {
		r := resolver{client: client, plan: p, ids: ids, now: now, n: len(ids), subjects: subjects}
		r.index = make(map[pulid.ID]int, len(ids))
		for i, id := range ids {
			r.index[id] = i
		}
		for _, in := range p.declared {
			cols[in.Name] = newColumn(in.Name, kindName(in.Kind), len(ids))
		}
		if err := r.fill(ctx, cols); err != nil {
			return b, err
		}
	}
	names := make([]string, 0, len(cols))
	for name := range cols {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b.Columns = append(b.Columns, cols[name].Column)
	}
	return b, nil
}

// hasFields reports whether a declared input reads the subjects' rows (a
// field, a custom field or a relation).
func (p *InputPlan) hasFields() bool {
	for _, in := range p.declared {
		if in.Agg == nil && in.Tag == "" && !in.Segment {
			return true
		}
	}
	return false
}

func kindName(k inputs.Kind) string {
	if k == inputs.Category {
		return "category"
	}
	return "number"
}

// resolver fills the declared columns of one batch.
type resolver struct {
	client *ent.Client
	plan   *InputPlan
	ids    []pulid.ID
	index  map[pulid.ID]int
	now    time.Time
	n      int
	// subjects are the subjects' records when the built-ins loaded them.
	subjects []reflect.Value
}

func (r *resolver) fill(ctx context.Context, cols map[string]*column) error {
	var fields, tags, segs, aggs []*inputs.Input
	for _, in := range r.plan.declared {
		switch {
		case in.Agg != nil:
			aggs = append(aggs, in)
		case in.Tag != "":
			tags = append(tags, in)
		case in.Segment:
			segs = append(segs, in)
		default:
			fields = append(fields, in)
		}
	}
	if len(fields) > 0 {
		if err := r.fields(ctx, fields, cols); err != nil {
			return err
		}
	}
	if len(tags) > 0 {
		if err := r.tags(ctx, tags, cols); err != nil {
			return err
		}
	}
	if len(segs) > 0 {
		if err := r.segments(ctx, segs, cols); err != nil {
			return err
		}
	}
	for _, in := range aggs {
		if err := r.aggregate(ctx, in, cols[in.Name]); err != nil {
			return fmt.Errorf("%s: %w", in.Name, err)
		}
	}
	return nil
}

// fields reads the subjects' own fields and those of related records,
// one statement per entity reached (the subjects, then each distinct
// chain of relations).
func (r *resolver) fields(ctx context.Context, ins []*inputs.Input, cols map[string]*column) error {
	// rows[path] holds, per subject index, the record reached by path.
	rows := map[string][]reflect.Value{}
	subjects := r.subjects
	if subjects == nil {
		var err error
		if subjects, err = loadByIDs(ctx, r.client, r.plan.subject, r.ids); err != nil {
			return err
		}
	}
	level := make([]reflect.Value, r.n)
	found := 0
	for _, v := range subjects {
		if i, ok := r.index[pulid.ID(fieldOf(v, "id").String())]; ok {
			level[i] = v
			found++
		}
	}
	if found != r.n {
		return errcode.New(errcode.NotFound, "%d of %d %s subjects not found in this workspace", r.n-found, r.n, r.plan.subject)
	}
	rows[""] = level
	// Walk the paths by increasing depth, so a prefix is loaded before it
	// is extended.
	paths := map[string][]string{}
	for _, in := range ins {
		for d := 1; d <= len(in.Path); d++ {
			paths[strings.Join(in.Path[:d], ".")] = in.Path[:d]
		}
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(paths[keys[i]]) != len(paths[keys[j]]) {
			return len(paths[keys[i]]) < len(paths[keys[j]])
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		path := paths[k]
		parent := rows[strings.Join(path[:len(path)-1], ".")]
		entity := r.plan.subject
		for _, hop := range path[:len(path)-1] {
			entity = inputsOne(entity, hop).Target
		}
		rel := inputsOne(entity, path[len(path)-1])
		fks := make([]pulid.ID, r.n)
		var want []pulid.ID
		seen := map[pulid.ID]bool{}
		for i, v := range parent {
			if !v.IsValid() {
				continue
			}
			if id, ok := idValueOf(fieldOf(v, rel.Key)); ok {
				fks[i] = id
				if !seen[id] {
					seen[id] = true
					want = append(want, id)
				}
			}
		}
		byID := map[pulid.ID]reflect.Value{}
		if len(want) > 0 {
			targets, err := loadByIDs(ctx, r.client, rel.Target, want)
			if err != nil {
				return err
			}
			for _, v := range targets {
				byID[pulid.ID(fieldOf(v, "id").String())] = v
			}
		}
		level := make([]reflect.Value, r.n)
		for i, id := range fks {
			if id != "" {
				level[i] = byID[id]
			}
		}
		rows[k] = level
	}
	for _, in := range ins {
		c := cols[in.Name]
		level := rows[strings.Join(in.Path, ".")]
		var f inputs.Field
		if !in.Custom {
			e, _ := inputs.Lookup(in.Entity)
			f = e.Fields[in.Field]
		}
		for i, v := range level {
			if !v.IsValid() {
				continue
			}
			if in.Custom {
				r.setCustom(c, i, in, fieldOf(v, "custom_fields"))
				continue
			}
			setValue(c, i, in.Kind, f, fieldOf(v, in.Field))
		}
	}
	return nil
}

// setCustom sets a custom field's value from a record's customFields,
// when the workspace defines the field with the declared kind.
func (r *resolver) setCustom(c *column, i int, in *inputs.Input, v reflect.Value) {
	typ, ok := r.plan.custom[in.Entity][in.Field]
	if !ok || inputs.CustomKinds[typ] != in.Kind || !v.IsValid() || v.IsNil() {
		return
	}
	m, _ := v.Interface().(map[string]any)
	x, ok := m[in.Field]
	if !ok || x == nil {
		return
	}
	switch in.Kind {
	case inputs.Number:
		if f, ok := toFloat(x); ok {
			c.Numbers[i] = f
		}
	case inputs.Flag:
		if b, ok := x.(bool); ok {
			c.Numbers[i] = flag(b)
		}
	case inputs.Time:
		if s, ok := x.(string); ok {
			if t, err := time.Parse(time.DateOnly, s); err == nil {
				c.Numbers[i] = float64(t.Unix())
			}
		}
	case inputs.Category:
		switch s := x.(type) {
		case string:
			c.setText(i, s)
		case float64:
			c.setText(i, strconv.FormatFloat(s, 'f', -1, 64))
		}
	}
}

func toFloat(x any) (float64, bool) {
	switch v := x.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	}
	return 0, false
}

// setValue sets subject i's value of a stored field.
func setValue(c *column, i int, kind inputs.Kind, f inputs.Field, v reflect.Value) {
	for v.IsValid() && v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return
	}
	switch kind {
	case inputs.Category:
		c.setText(i, v.String())
	case inputs.Flag:
		c.Numbers[i] = flag(v.Bool())
	case inputs.Time:
		if t, ok := v.Interface().(time.Time); ok && !t.IsZero() {
			c.Numbers[i] = float64(t.Unix())
		}
	case inputs.Number:
		var x float64
		switch v.Kind() {
		case reflect.Int, reflect.Int64, reflect.Int32:
			x = float64(v.Int())
		case reflect.Float64, reflect.Float32:
			x = v.Float()
		default:
			return
		}
		if f.Money {
			x /= 100
		}
		c.Numbers[i] = x
	}
}

func idValueOf(v reflect.Value) (pulid.ID, bool) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.String || v.String() == "" {
		return "", false
	}
	return pulid.ID(v.String()), true
}

func inputsOne(entity, rel string) inputs.Relation {
	e, _ := inputs.Lookup(entity)
	return e.One[rel]
}

// tags sets the tag:NAME flags: one statement loads the subjects' tags.
func (r *resolver) tags(ctx context.Context, ins []*inputs.Input, cols map[string]*column) error {
	has := make([]map[string]bool, r.n)
	add := func(id pulid.ID, name string) {
		if i, ok := r.index[id]; ok {
			if has[i] == nil {
				has[i] = map[string]bool{}
			}
			has[i][strings.ToLower(name)] = true
		}
	}
	switch r.plan.subject {
	case "contact":
		rows, err := r.client.Contact.Query().Where(contact.IDIn(r.ids...)).Select(contact.FieldID).WithTags().All(ctx)
		if err != nil {
			return err
		}
		for _, x := range rows {
			for _, t := range x.Edges.Tags {
				add(x.ID, t.Name)
			}
		}
	case "organization":
		rows, err := r.client.Organization.Query().Where(organization.IDIn(r.ids...)).Select(organization.FieldID).WithTags().All(ctx)
		if err != nil {
			return err
		}
		for _, x := range rows {
			for _, t := range x.Edges.Tags {
				add(x.ID, t.Name)
			}
		}
	case "deal":
		rows, err := r.client.Deal.Query().Where(deal.IDIn(r.ids...)).Select(deal.FieldID).WithTags().All(ctx)
		if err != nil {
			return err
		}
		for _, x := range rows {
			for _, t := range x.Edges.Tags {
				add(x.ID, t.Name)
			}
		}
	default:
		return errcode.Input("plugin", "%s records have no tags", r.plan.subject)
	}
	for _, in := range ins {
		c, name := cols[in.Name], strings.ToLower(in.Tag)
		for i := range c.Numbers {
			c.Numbers[i] = flag(has[i][name])
		}
	}
	return nil
}

// segments sets "segment" (the first key, in key order, of the subject's
// open segments) and the segment:KEY flags: one statement for the
// memberships, one for their segments.
func (r *resolver) segments(ctx context.Context, ins []*inputs.Input, cols map[string]*column) error {
	ms, err := r.client.SegmentMembership.Query().
		Where(segmentmembership.SubjectIDIn(r.ids...),
			segmentmembership.SubjectTypeEQ(segmentmembership.SubjectType(r.plan.subject)),
			predicate.SegmentMembership(segments.OpenAt(time.Time{}))).
		WithSegment().All(ctx)
	if err != nil {
		return err
	}
	keys := make([][]string, r.n)
	for _, m := range ms {
		if i, ok := r.index[m.SubjectID]; ok && m.Edges.Segment != nil {
			keys[i] = append(keys[i], m.Edges.Segment.Key)
		}
	}
	for _, in := range ins {
		c := cols[in.Name]
		for i, ks := range keys {
			if in.SegmentKey == "" {
				if len(ks) > 0 {
					sort.Strings(ks)
					c.setText(i, ks[0])
				}
				continue
			}
			member := false
			for _, k := range ks {
				member = member || k == in.SegmentKey
			}
			c.Numbers[i] = flag(member)
		}
	}
	return nil
}

// aggregate fills one aggregate column with one statement.
func (r *resolver) aggregate(ctx context.Context, in *inputs.Input, c *column) error {
	a := in.Agg
	target, _ := inputs.Lookup(a.Target)
	rel, _ := inputs.Lookup(r.plan.subject)
	key := rel.Many[a.Relation].Key
	preds := []func(*sql.Selector){func(s *sql.Selector) {
		s.Where(sql.In(s.C(key), idsAny(r.ids)...))
	}}
	for _, cond := range a.Where {
		preds = append(preds, conditionPred(target, cond))
	}
	timeField := target.Time
	if a.Func == "days_since_first" || a.Func == "days_since_last" {
		timeField = a.Field
	}
	if a.Within > 0 {
		from, to := r.now.Add(-a.Within), r.now
		preds = append(preds, func(s *sql.Selector) {
			s.Where(sql.And(sql.GT(s.C(target.Time), from), sql.LTE(s.C(target.Time), to)))
		})
	}
	q, err := queryOf(r.client, a.Target)
	if err != nil {
		return err
	}
	f := target.Fields[a.Field]
	if a.Func == "days_since_first" || a.Func == "days_since_last" || f.Kind == inputs.Time {
		// Times are reduced here: SQLite and PostgreSQL disagree on what
		// an aggregate of a time column scans as.
		now := r.now
		if a.Func == "days_since_first" || a.Func == "days_since_last" {
			preds = append(preds, func(s *sql.Selector) { s.Where(sql.LTE(s.C(timeField), now)) })
		}
		var rows []struct {
			ID pulid.ID       `json:"id"`
			T  gosql.NullTime `json:"t"`
		}
		field := a.Field
		if err := q.scan(ctx, preds, func(s *sql.Selector) {
			s.Select(sql.As(s.C(key), "id"), sql.As(s.C(field), "t"))
		}, &rows); err != nil {
			return err
		}
		best := make([]time.Time, r.n)
		for _, row := range rows {
			i, ok := r.index[row.ID]
			if !ok || !row.T.Valid {
				continue
			}
			t := row.T.Time
			first := a.Func == "days_since_first" || a.Func == "min"
			if best[i].IsZero() || first && t.Before(best[i]) || !first && t.After(best[i]) {
				best[i] = t
			}
		}
		for i, t := range best {
			if t.IsZero() {
				continue
			}
			if a.Func == "min" || a.Func == "max" {
				c.Numbers[i] = float64(t.Unix())
			} else {
				c.Numbers[i] = days(r.now.Sub(t))
			}
		}
		return nil
	}
	var expr func(s *sql.Selector) string
	switch {
	case a.Func == "count":
		expr = func(*sql.Selector) string { return sql.Count("*") }
	case f.Computed != "":
		// An order's margin: amount − cost.
		expr = func(s *sql.Selector) string {
			return aggFunc(a.Func, s.C("amount")+" - "+s.C("cost"))
		}
	default:
		expr = func(s *sql.Selector) string { return aggFunc(a.Func, s.C(a.Field)) }
	}
	var rows []struct {
		ID    pulid.ID          `json:"id"`
		Value gosql.NullFloat64 `json:"value"`
	}
	if err := q.scan(ctx, preds, func(s *sql.Selector) {
		s.Select(sql.As(s.C(key), "id"), sql.As(expr(s), "value")).GroupBy(s.C(key))
	}, &rows); err != nil {
		return err
	}
	if a.Func == "count" || a.Func == "sum" {
		for i := range c.Numbers {
			c.Numbers[i] = 0
		}
	}
	for _, row := range rows {
		i, ok := r.index[row.ID]
		if !ok || !row.Value.Valid {
			continue
		}
		v := row.Value.Float64
		if f.Money && a.Func != "count" {
			v /= 100
		}
		c.Numbers[i] = v
	}
	return nil
}

func aggFunc(fn, col string) string {
	switch fn {
	case "sum":
		return sql.Sum(col)
	case "min":
		return sql.Min(col)
	case "max":
		return sql.Max(col)
	case "mean":
		return sql.Avg(col)
	}
	panic("aggregate " + fn)
}

func idsAny(ids []pulid.ID) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// conditionPred is one condition of an aggregate as a predicate. A money
// field is compared in currency units; != and not-in keep rows where the
// field is empty.
func conditionPred(e inputs.Entity, c inputs.Condition) func(*sql.Selector) {
	f := e.Fields[c.Field]
	vals := make([]any, len(c.Values))
	for i, v := range c.Values {
		switch f.Kind {
		case inputs.Number:
			x, _ := strconv.ParseFloat(v, 64)
			if f.Money {
				vals[i] = int64(math.Round(x * 100))
			} else {
				vals[i] = x
			}
		case inputs.Flag:
			vals[i] = v == "true"
		default:
			vals[i] = v
		}
	}
	col := c.Field
	return func(s *sql.Selector) {
		switch c.Op {
		case "=":
			s.Where(sql.EQ(s.C(col), vals[0]))
		case "!=":
			s.Where(sql.Or(sql.IsNull(s.C(col)), sql.NEQ(s.C(col), vals[0])))
		case "<":
			s.Where(sql.LT(s.C(col), vals[0]))
		case "<=":
			s.Where(sql.LTE(s.C(col), vals[0]))
		case ">":
			s.Where(sql.GT(s.C(col), vals[0]))
		case ">=":
			s.Where(sql.GTE(s.C(col), vals[0]))
		case "in":
			s.Where(sql.In(s.C(col), vals...))
		}
	}
}

// entityQuery runs queries on one entity type through the client.
type entityQuery struct {
	all  func(ctx context.Context, preds []func(*sql.Selector)) ([]reflect.Value, error)
	scan func(ctx context.Context, preds []func(*sql.Selector), mod func(*sql.Selector), out any) error
}

// query builds an entityQuery over an ent query type.
func query[Q interface {
	Where(...P) Q
	All(context.Context) ([]E, error)
	Modify(...func(*sql.Selector)) S
}, P ~func(*sql.Selector), E any, S interface {
	Scan(context.Context, any) error
}](newQuery func() Q) entityQuery {
	where := func(preds []func(*sql.Selector)) Q {
		q := newQuery()
		for _, p := range preds {
			q = q.Where(P(p))
		}
		return q
	}
	return entityQuery{
		all: func(ctx context.Context, preds []func(*sql.Selector)) ([]reflect.Value, error) {
			rows, err := where(preds).All(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]reflect.Value, len(rows))
			for i, r := range rows {
				out[i] = reflect.ValueOf(r)
			}
			return out, nil
		},
		scan: func(ctx context.Context, preds []func(*sql.Selector), mod func(*sql.Selector), out any) error {
			return where(preds).Modify(mod).Scan(ctx, out)
		},
	}
}

func queryOf(c *ent.Client, entity string) (entityQuery, error) {
	switch entity {
	case "contact":
		return query[*ent.ContactQuery, predicate.Contact, *ent.Contact, *ent.ContactSelect](c.Contact.Query), nil
	case "organization":
		return query[*ent.OrganizationQuery, predicate.Organization, *ent.Organization, *ent.OrganizationSelect](c.Organization.Query), nil
	case "lead":
		return query[*ent.LeadQuery, predicate.Lead, *ent.Lead, *ent.LeadSelect](c.Lead.Query), nil
	case "deal":
		return query[*ent.DealQuery, predicate.Deal, *ent.Deal, *ent.DealSelect](c.Deal.Query), nil
	case "activity":
		return query[*ent.ActivityQuery, predicate.Activity, *ent.Activity, *ent.ActivitySelect](c.Activity.Query), nil
	case "order":
		return query[*ent.OrderQuery, predicate.Order, *ent.Order, *ent.OrderSelect](c.Order.Query), nil
	case "stage":
		return query[*ent.StageQuery, predicate.Stage, *ent.Stage, *ent.StageSelect](c.Stage.Query), nil
	case "pipeline":
		return query[*ent.PipelineQuery, predicate.Pipeline, *ent.Pipeline, *ent.PipelineSelect](c.Pipeline.Query), nil
	case "member":
		return query[*ent.MemberQuery, predicate.Member, *ent.Member, *ent.MemberSelect](c.Member.Query), nil
	case "stage_change":
		return query[*ent.StageChangeQuery, predicate.StageChange, *ent.StageChange, *ent.StageChangeSelect](c.StageChange.Query), nil
	}
	return entityQuery{}, fmt.Errorf("no query for entity %q", entity)
}

// loadByIDs loads the records of an entity with the given IDs.
func loadByIDs(ctx context.Context, c *ent.Client, entity string, ids []pulid.ID) ([]reflect.Value, error) {
	q, err := queryOf(c, entity)
	if err != nil {
		return nil, err
	}
	return q.all(ctx, []func(*sql.Selector){func(s *sql.Selector) {
		s.Where(sql.In(s.C("id"), idsAny(ids)...))
	}})
}

// fieldIndexes caches, per ent struct type, its fields by JSON name.
var fieldIndexes sync.Map // reflect.Type → map[string]int

// fieldOf returns the field of an ent record (a pointer to its struct)
// whose JSON name is name; the zero Value when there is none.
func fieldOf(rec reflect.Value, name string) reflect.Value {
	v := rec.Elem()
	t := v.Type()
	m, ok := fieldIndexes.Load(t)
	if !ok {
		idx := map[string]int{}
		for i := 0; i < t.NumField(); i++ {
			tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if tag != "" && tag != "-" {
				idx[tag] = i
			}
		}
		m, _ = fieldIndexes.LoadOrStore(t, idx)
	}
	i, ok := m.(map[string]int)[name]
	if !ok {
		return reflect.Value{}
	}
	return v.Field(i)
}
