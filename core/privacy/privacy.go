// Package privacy answers for one person's data: Export gathers everything
// a workspace holds about a contact, and Erase anonymises it.
//
// Both act as the tenancy.Viewer in their context, so a contact of another
// workspace is NOT_FOUND. Both see soft-deleted records too: a deleted
// activity still holds what it said until it is erased.
//
// Erase keeps the shape of the data: the contact, its activities, deals,
// orders and leads stay, with their kinds, directions, dates, amounts and
// links, so engagement metrics, revenue and lifetime values are unchanged;
// only the personal values go. The timeline keeps who changed what and
// when, with the personal values scrubbed from it.
package privacy

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/order"
	"github.com/rapportcrm/rapport/core/ent/score"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/ent/timelineevent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
)

// Export is everything a workspace holds about one contact, as
// ContactExport returns it. Its JSON form is the document
// `rapport privacy export` prints.
type Export struct {
	// ExportedAt is when the export was taken.
	ExportedAt time.Time `json:"exportedAt"`
	// WorkspaceID is the contact's workspace.
	WorkspaceID pulid.ID `json:"workspaceId"`
	// Contact is the contact with its fields and custom fields.
	Contact *ent.Contact `json:"contact"`
	// Organization is the contact's organization, if any: its ID and name.
	Organization *OrganizationRef `json:"organization,omitempty"`
	// Tags are the names of the contact's tags.
	Tags []string `json:"tags"`
	// Segments are the contact's segment memberships, past and current.
	Segments []SegmentMembership `json:"segments"`
	// Scores are the scores computed for the contact, with their
	// explanations.
	Scores []*ent.Score `json:"scores"`
	// Activities are the activities about the contact or its leads, with
	// their content (notes and emails are activities).
	Activities []*ent.Activity `json:"activities"`
	// Deals are the deals whose contact it is.
	Deals []*ent.Deal `json:"deals"`
	// Orders are the orders whose contact it is.
	Orders []*ent.Order `json:"orders"`
	// Leads are the leads linked to the contact.
	Leads []*ent.Lead `json:"leads"`
	// Timeline is the audit trail of the contact, its activities and its
	// leads, oldest first.
	Timeline []*ent.TimelineEvent `json:"timeline"`
}

// OrganizationRef names an organization.
type OrganizationRef struct {
	ID   pulid.ID `json:"id"`
	Name string   `json:"name"`
}

// SegmentMembership is one stay of the contact in a segment.
type SegmentMembership struct {
	SegmentID pulid.ID   `json:"segmentId"`
	Key       string     `json:"key"`
	Name      string     `json:"name"`
	Weight    *float64   `json:"weight,omitempty"`
	StartedAt time.Time  `json:"startedAt"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
}

// scope returns the context the package queries with: the caller's
// viewer, soft-deleted records included. It is UNAUTHENTICATED without a
// viewer.
func scope(ctx context.Context) (context.Context, *tenancy.Viewer, error) {
	v := tenancy.FromContext(ctx)
	if v == nil {
		return nil, nil, errcode.New(errcode.Unauthenticated, "no viewer")
	}
	return schema.IncludeDeleted(ctx), v, nil
}

// loadContact returns the contact id of the viewer's workspace, or
// NOT_FOUND.
func loadContact(ctx context.Context, c *ent.Client, id pulid.ID) (*ent.Contact, error) {
	ct, err := c.Contact.Query().Where(contact.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errcode.New(errcode.NotFound, "contact %s not found", id)
	}
	return ct, err
}

// related are the records of one contact: its activities (and those of
// its leads), deals, orders and leads.
type related struct {
	activities []*ent.Activity
	deals      []*ent.Deal
	orders     []*ent.Order
	leads      []*ent.Lead
}

func loadRelated(ctx context.Context, c *ent.Client, id pulid.ID) (*related, error) {
	var (
		r   related
		err error
	)
	if r.leads, err = c.Lead.Query().Where(lead.ContactID(id)).Order(ent.Asc(lead.FieldCreatedAt), ent.Asc(lead.FieldID)).All(ctx); err != nil {
		return nil, err
	}
	leadIDs := make([]pulid.ID, len(r.leads))
	for i, l := range r.leads {
		leadIDs[i] = l.ID
	}
	if r.activities, err = c.Activity.Query().
		Where(activity.Or(activity.ContactID(id), activity.LeadIDIn(leadIDs...))).
		Order(ent.Asc(activity.FieldOccurredAt), ent.Asc(activity.FieldID)).All(ctx); err != nil {
		return nil, err
	}
	if r.deals, err = c.Deal.Query().Where(deal.ContactID(id)).Order(ent.Asc(deal.FieldCreatedAt), ent.Asc(deal.FieldID)).All(ctx); err != nil {
		return nil, err
	}
	if r.orders, err = c.Order.Query().Where(order.ContactID(id)).Order(ent.Asc(order.FieldOrderedAt), ent.Asc(order.FieldID)).All(ctx); err != nil {
		return nil, err
	}
	return &r, nil
}

// personalSubjects are the contact, its activities and its leads: the
// records whose timeline holds the person's values.
func (r *related) personalSubjects(id pulid.ID) []pulid.ID {
	ids := []pulid.ID{id}
	for _, a := range r.activities {
		ids = append(ids, a.ID)
	}
	for _, l := range r.leads {
		ids = append(ids, l.ID)
	}
	return ids
}

// ContactExport gathers everything the viewer's workspace holds about the
// contact id. It is NOT_FOUND for a contact of another workspace.
func ContactExport(ctx context.Context, c *ent.Client, id pulid.ID) (*Export, error) {
	ctx, v, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	ct, err := loadContact(ctx, c, id)
	if err != nil {
		return nil, err
	}
	r, err := loadRelated(ctx, c, id)
	if err != nil {
		return nil, err
	}
	x := &Export{
		ExportedAt: time.Now().UTC(), WorkspaceID: v.WorkspaceID, Contact: ct,
		Tags: []string{}, Segments: []SegmentMembership{},
		Activities: r.activities, Deals: r.deals, Orders: r.orders, Leads: r.leads,
	}
	if ct.OrganizationID != nil {
		org, err := ct.QueryOrganization().Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		if org != nil {
			x.Organization = &OrganizationRef{ID: org.ID, Name: org.Name}
		}
	}
	tags, err := ct.QueryTags().All(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		x.Tags = append(x.Tags, t.Name)
	}
	ms, err := c.SegmentMembership.Query().
		Where(segmentmembership.SubjectTypeEQ(segmentmembership.SubjectTypeContact), segmentmembership.SubjectID(id)).
		WithSegment().Order(ent.Asc(segmentmembership.FieldStartedAt), ent.Asc(segmentmembership.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		sm := SegmentMembership{SegmentID: m.SegmentID, Weight: m.Weight, StartedAt: m.StartedAt, EndedAt: m.EndedAt}
		if s := m.Edges.Segment; s != nil {
			sm.Key, sm.Name = s.Key, s.Name
		}
		x.Segments = append(x.Segments, sm)
	}
	if x.Scores, err = c.Score.Query().
		Where(score.SubjectTypeEQ(score.SubjectTypeContact), score.SubjectID(id)).
		Order(ent.Asc(score.FieldComputedAt), ent.Asc(score.FieldID)).All(ctx); err != nil {
		return nil, err
	}
	if x.Timeline, err = c.TimelineEvent.Query().
		Where(timelineevent.SubjectIDIn(r.personalSubjects(id)...)).
		Order(ent.Asc(timelineevent.FieldOccurredAt), ent.Asc(timelineevent.FieldID)).All(ctx); err != nil {
		return nil, err
	}
	return x, nil
}
