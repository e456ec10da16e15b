package schema

import (
	"context"

	"entgo.io/ent"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/hook"
	"github.com/rapportcrm/rapport/core/pulid"
)

// Hooks of the Activity keep the engagement rollups of its contact.
func (Activity) Hooks() []ent.Hook { return []ent.Hook{activityRollups} }

// Hooks of the Contact keep its engagement rollups.
func (Contact) Hooks() []ent.Hook { return []ent.Hook{contactRollups} }

// contactsOfActivities marks the contacts of the activities ids dirty in
// s, deleted activities' too.
func contactsOfActivities(ctx context.Context, c *gen.Client, ids []pulid.ID, s dirtySet) error {
	var rows []struct {
		Workspace pulid.ID  `json:"workspace_id"`
		Contact   *pulid.ID `json:"contact_id"`
	}
	err := c.Activity.Query().Where(activity.IDIn(ids...)).
		Select(activity.FieldWorkspaceID, activity.FieldContactID).Scan(IncludeDeleted(ctx), &rows)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.Contact != nil {
			s.of(r.Workspace).Contact(string(*r.Contact))
		}
	}
	return nil
}

// activityEngages tells whether an update of activities may change
// engagement: a change of what it counts by (contact, kind, direction,
// time) or of whether it is deleted.
func activityEngages(m *gen.ActivityMutation) bool {
	for _, f := range append(m.Fields(), m.ClearedFields()...) {
		switch f {
		case activity.FieldContactID, activity.FieldKind, activity.FieldDirection, activity.FieldOccurredAt, activity.FieldDeletedAt, activity.FieldWorkspaceID:
			return true
		}
	}
	return false
}

// activityRollups marks an activity's contact dirty before and after
// every write that may change its engagement (an update may move the
// activity to another contact, a delete takes it away) and refreshes
// their rollups.
func activityRollups(next ent.Mutator) ent.Mutator {
	return hook.ActivityFunc(func(ctx context.Context, m *gen.ActivityMutation) (ent.Value, error) {
		s := dirtySet{}
		var ids []pulid.ID
		if !m.Op().Is(ent.OpCreate) {
			if m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) && !activityEngages(m) {
				return next.Mutate(ctx, m)
			}
			var err error
			if ids, err = m.IDs(ctx); err != nil {
				return nil, err
			}
			if len(ids) == 0 {
				return next.Mutate(ctx, m)
			}
			if err := contactsOfActivities(ctx, m.Client(), ids, s); err != nil {
				return nil, err
			}
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return v, err
		}
		switch {
		case m.Op().Is(ent.OpCreate):
			if a, ok := v.(*gen.Activity); ok && a.ContactID != nil {
				s.of(a.WorkspaceID).Contact(string(*a.ContactID))
			}
		case m.Op().Is(ent.OpUpdate | ent.OpUpdateOne):
			if err := contactsOfActivities(ctx, m.Client(), ids, s); err != nil {
				return nil, err
			}
		}
		return v, refreshRollups(ctx, m, s)
	})
}

// contactRollups marks a contact dirty when it is created, deleted
// (softly: deleted_at set), restored or removed for good, or its
// creation time changes, and refreshes its rollups.
func contactRollups(next ent.Mutator) ent.Mutator {
	return hook.ContactFunc(func(ctx context.Context, m *gen.ContactMutation) (ent.Value, error) {
		if m.Op().Is(ent.OpCreate) {
			v, err := next.Mutate(ctx, m)
			if err != nil {
				return v, err
			}
			s := dirtySet{}
			if c, ok := v.(*gen.Contact); ok {
				s.of(c.WorkspaceID).Contact(string(c.ID))
			}
			return v, refreshRollups(ctx, m, s)
		}
		_, created := m.CreatedAt()
		_, deleted := m.DeletedAt()
		if m.Op().Is(ent.OpUpdate|ent.OpUpdateOne) && !created && !deleted && !m.DeletedAtCleared() {
			return next.Mutate(ctx, m)
		}
		ids, err := m.IDs(ctx)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return next.Mutate(ctx, m)
		}
		var rows []struct {
			ID        pulid.ID `json:"id"`
			Workspace pulid.ID `json:"workspace_id"`
		}
		if err := m.Client().Contact.Query().Where(contact.IDIn(ids...)).
			Select(contact.FieldID, contact.FieldWorkspaceID).Scan(IncludeDeleted(ctx), &rows); err != nil {
			return nil, err
		}
		v, err := next.Mutate(ctx, m)
		if err != nil {
			return v, err
		}
		s := dirtySet{}
		for _, r := range rows {
			s.of(r.Workspace).Contact(string(r.ID))
		}
		return v, refreshRollups(ctx, m, s)
	})
}
