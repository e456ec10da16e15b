package automation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/schema"
)

// Subjects are the record types automations react to.
var Subjects = []string{"deal", "contact", "lead", "organization", "activity"}

// hidden are columns no condition or template reads.
var hidden = map[string]bool{"workspace_id": true, "deleted_at": true, "custom_fields": true}

// derived are the fields computed from a record's links, by entity, and
// the column whose change changes them.
// A subject's "segments" are the keys and IDs of the segments it is a
// member of now (a list: eq, contains and in test for a key or an ID); no
// column changes them.
var derived = map[string]map[string]string{
	"deal":         {"stage": "stage_id", "pipeline": "pipeline_id", "owner": "owner_id", "owner_email": "owner_id", "segments": ""},
	"contact":      {"owner": "owner_id", "owner_email": "owner_id", "name": "first_name", "segments": ""},
	"lead":         {"owner": "owner_id", "owner_email": "owner_id", "segments": ""},
	"organization": {"segments": ""},
	"activity":     {"owner": "owner_id", "owner_email": "owner_id"},
}

// segmentKeys returns the keys, then the IDs, of the segments each of the
// subjects is a member of now; every subject of the type when ids is nil.
func segmentKeys(ctx context.Context, client *ent.Client, subjectType string, ids []pulid.ID) (map[pulid.ID][]string, error) {
	out := map[pulid.ID][]string{}
	q := client.SegmentMembership.Query().
		Where(segmentmembership.SubjectTypeEQ(segmentmembership.SubjectType(subjectType)), segmentmembership.EndedAtIsNil())
	if ids != nil {
		q.Where(segmentmembership.SubjectIDIn(ids...))
	}
	ms, err := q.WithSegment().All(ctx)
	if err != nil {
		return nil, err
	}
	segIDs := map[pulid.ID][]string{}
	for _, m := range ms {
		if m.Edges.Segment != nil && !slices.Contains(out[m.SubjectID], m.Edges.Segment.Key) {
			out[m.SubjectID] = append(out[m.SubjectID], m.Edges.Segment.Key)
		}
		segIDs[m.SubjectID] = append(segIDs[m.SubjectID], string(m.SegmentID))
	}
	for s, keys := range out {
		slices.Sort(keys)
		slices.Sort(segIDs[s])
		out[s] = append(keys, segIDs[s]...)
	}
	return out, nil
}

var columns = map[string][]string{
	"deal":         deal.Columns,
	"contact":      contact.Columns,
	"lead":         lead.Columns,
	"organization": organization.Columns,
	"activity":     activity.Columns,
	"segment":      segmentFields,
}

// related are the records a subject's templates and conditions may also
// read, through its links.
var related = map[string][]string{
	"deal":         {"deal", "contact", "organization"},
	"contact":      {"contact", "organization"},
	"lead":         {"lead", "contact", "organization"},
	"organization": {"organization"},
	"activity":     {"activity", "contact", "organization", "deal", "lead"},
	segmentSubject: {"segment", "contact", "organization", "lead", "deal"},
}

// segmentFields are what automations on segment events read of the
// segment: its key and name, and the run that moved the subject.
var segmentFields = []string{"key", "name", "run"}

// withSegment adds the segment of a segment event to the record.
func (r *record) withSegment(ctx context.Context, client *ent.Client, ev *ent.Event) {
	if ev == nil || !isSegmentEvent(ev.Type) {
		return
	}
	for _, f := range segmentFields {
		r.Fields["segment."+f] = nil
	}
	for _, c := range ev.Changes {
		switch c.Field {
		case "segment":
			r.Fields["segment.key"] = c.After
		case "run":
			r.Fields["segment.run"] = c.After
		case "segment_id":
			id, _ := c.After.(string)
			if sg, err := client.Segment.Get(ctx, pulid.ID(id)); err == nil {
				r.Fields["segment.name"] = sg.Name
			}
		}
	}
}

// knownFields returns the check for field paths readable on subject: the
// fields of the subject and of its linked records, plus extra entities
// (e.g. contact for the recipients of a group email).
func knownFields(subject string, extra ...string) func(string) bool {
	ents := append(slices.Clone(related[subject]), extra...)
	return func(path string) bool {
		ent, field, ok := strings.Cut(path, ".")
		if !ok || !slices.Contains(ents, ent) {
			return false
		}
		if _, ok := derived[ent][field]; ok {
			return true
		}
		return !hidden[field] && slices.Contains(columns[ent], field)
	}
}

// record is a subject with its linked records, flattened for conditions
// and templates: "deal.amount" → "12000.00".
type record struct {
	Type    string
	ID      pulid.ID
	Fields  map[string]any
	changed map[string]bool
	// lazy computes fields that cost a query (the subject's segments) the
	// first time they are looked up.
	lazy map[string]func() any
}

// Lookup implements condition.Record.
func (r *record) Lookup(path string) (any, bool) {
	v, ok := r.Fields[path]
	if !ok {
		if f := r.lazy[path]; f != nil {
			v, ok = f(), true
			r.Fields[path] = v
		}
	}
	return v, ok
}

// Changed implements condition.Record: whether the event changed the
// field (or the column a derived field comes from).
func (r *record) Changed(path string) bool {
	ent, field, _ := strings.Cut(path, ".")
	if ent != r.Type {
		return false
	}
	if col, ok := derived[ent][field]; ok {
		field = col
	}
	return r.changed[field]
}

// nested returns the record as {entity: {field: value}} for payloads.
func (r *record) nested() map[string]map[string]any {
	for path := range r.lazy {
		r.Lookup(path)
	}
	out := map[string]map[string]any{}
	for k, v := range r.Fields {
		ent, field, _ := strings.Cut(k, ".")
		if out[ent] == nil {
			out[ent] = map[string]any{}
		}
		out[ent][field] = v
	}
	return out
}

// with returns a copy of r whose entity namespace is replaced by fields
// of v (e.g. the recipient contact of a group email).
func (r *record) with(entity string, v any) *record {
	out := &record{Type: r.Type, ID: r.ID, Fields: map[string]any{}, changed: r.changed, lazy: map[string]func() any{}}
	for k, val := range r.Fields {
		if !strings.HasPrefix(k, entity+".") {
			out.Fields[k] = val
		}
	}
	for k, f := range r.lazy {
		if !strings.HasPrefix(k, entity+".") {
			out.lazy[k] = f
		}
	}
	flatten(out.Fields, entity, v)
	return out
}

// setChanges marks the columns an event changed.
func (r *record) setChanges(changes []crm.Change) {
	r.changed = map[string]bool{}
	for _, c := range changes {
		r.changed[c.Field] = true
	}
	// Changes carry GraphQL field names (stageID); match columns too.
	for _, col := range columns[r.Type] {
		if r.changed[fieldName(col)] {
			r.changed[col] = true
		}
	}
}

// fieldName is the name a change of col carries in events.
func fieldName(col string) string { return errcode.FieldName(col) }

// asOf sets the fields an event changed to the values the event left
// them at, so that a condition sees the record as of the event even when
// later changes were made before it is dispatched. Derived fields (the
// stage's name, the owner's) follow their column.
func (r *record) asOf(ctx context.Context, client *ent.Client, changes []crm.Change) {
	byName := map[string]string{}
	for _, col := range columns[r.Type] {
		byName[fieldName(col)] = col
		byName[col] = col
	}
	for _, c := range changes {
		col, ok := byName[c.Field]
		if !ok || hidden[col] {
			continue
		}
		r.Fields[r.Type+"."+col] = c.After
		id, _ := c.After.(string)
		switch col {
		case "stage_id":
			if st, err := client.Stage.Get(ctx, pulid.ID(id)); err == nil {
				r.Fields[r.Type+".stage"] = st.Name
			}
		case "pipeline_id":
			if p, err := client.Pipeline.Get(ctx, pulid.ID(id)); err == nil {
				r.Fields[r.Type+".pipeline"] = p.Name
			}
		case "owner_id":
			r.Fields[r.Type+".owner"], r.Fields[r.Type+".owner_email"] = nil, nil
			if m, err := client.Member.Get(ctx, pulid.ID(id)); err == nil {
				r.Fields[r.Type+".owner"], r.Fields[r.Type+".owner_email"] = m.Name, m.Email
			}
		}
	}
}

// flatten writes v's JSON fields under entity into out.
func flatten(out map[string]any, entity string, v any) {
	if v == nil {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // keeps money as written: 12000.00
	if dec.Decode(&m) != nil {
		return
	}
	for _, col := range columns[entity] {
		if hidden[col] {
			continue
		}
		val, ok := m[col]
		if !ok {
			val = nil
		}
		out[entity+"."+col] = val
	}
}

// loadRecord reads a subject and its links through client, whose context
// is scoped to the subject's workspace. Deleted records are read too.
func loadRecord(ctx context.Context, client *ent.Client, subjectType string, id pulid.ID) (*record, error) {
	ctx = schema.IncludeDeleted(ctx)
	r := &record{Type: subjectType, ID: id, Fields: map[string]any{}}
	owner := func(m *ent.Member) {
		if m != nil {
			r.Fields[subjectType+".owner"] = m.Name
			r.Fields[subjectType+".owner_email"] = m.Email
		} else {
			r.Fields[subjectType+".owner"] = nil
			r.Fields[subjectType+".owner_email"] = nil
		}
	}
	var err error
	switch subjectType {
	case "deal":
		var d *ent.Deal
		d, err = client.Deal.Query().Where(deal.ID(id)).
			WithStage().WithPipeline().WithOwner().WithContact().WithOrganization().Only(ctx)
		if err == nil {
			flatten(r.Fields, "deal", d)
			r.Fields["deal.stage"] = d.Edges.Stage.Name
			r.Fields["deal.pipeline"] = d.Edges.Pipeline.Name
			owner(d.Edges.Owner)
			flattenOrNil(r.Fields, "contact", d.Edges.Contact)
			flattenOrNil(r.Fields, "organization", d.Edges.Organization)
		}
	case "contact":
		var c *ent.Contact
		c, err = client.Contact.Query().Where(contact.ID(id)).WithOwner().WithOrganization().Only(ctx)
		if err == nil {
			flatten(r.Fields, "contact", c)
			r.Fields["contact.name"] = strings.TrimSpace(c.FirstName + " " + c.LastName)
			owner(c.Edges.Owner)
			flattenOrNil(r.Fields, "organization", c.Edges.Organization)
		}
	case "lead":
		var l *ent.Lead
		l, err = client.Lead.Query().Where(lead.ID(id)).WithOwner().WithContact().WithOrganization().Only(ctx)
		if err == nil {
			flatten(r.Fields, "lead", l)
			owner(l.Edges.Owner)
			flattenOrNil(r.Fields, "contact", l.Edges.Contact)
			flattenOrNil(r.Fields, "organization", l.Edges.Organization)
		}
	case "organization":
		var o *ent.Organization
		o, err = client.Organization.Query().Where(organization.ID(id)).Only(ctx)
		if err == nil {
			flatten(r.Fields, "organization", o)
		}
	case "activity":
		var a *ent.Activity
		a, err = client.Activity.Query().Where(activity.ID(id)).
			WithOwner().WithContact().WithOrganization().WithDeal().WithLead().Only(ctx)
		if err == nil {
			flatten(r.Fields, "activity", a)
			owner(a.Edges.Owner)
			flattenOrNil(r.Fields, "contact", a.Edges.Contact)
			flattenOrNil(r.Fields, "organization", a.Edges.Organization)
			flattenOrNil(r.Fields, "deal", a.Edges.Deal)
			flattenOrNil(r.Fields, "lead", a.Edges.Lead)
		}
	default:
		return nil, fmt.Errorf("automations do not read %s records", subjectType)
	}
	if err != nil {
		return nil, fmt.Errorf("loading %s %s: %w", subjectType, id, err)
	}
	if _, ok := derived[subjectType]["segments"]; ok {
		r.lazy = map[string]func() any{subjectType + ".segments": func() any {
			keys, err := segmentKeys(ctx, client, subjectType, []pulid.ID{id})
			if err != nil {
				return nil // as if unknown: conditions on it do not hold
			}
			return append([]string{}, keys[id]...)
		}}
	}
	return r, nil
}

// flattenOrNil flattens v, or sets every field of entity to nil when v is
// a nil pointer, so that templates render nothing rather than fail.
func flattenOrNil[T any](out map[string]any, entity string, v *T) {
	if v == nil {
		for _, col := range columns[entity] {
			if !hidden[col] {
				out[entity+"."+col] = nil
			}
		}
		return
	}
	flatten(out, entity, v)
}
