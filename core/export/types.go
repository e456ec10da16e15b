package export

import (
	"context"
	"reflect"
	"sort"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/order"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/ent/predicate"
	"github.com/rapportcrm/rapport/core/ent/product"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
)

// pager reads the page of up to n records whose IDs follow after (all
// from the start when after is empty), in ID order, as a slice of
// pointers to the type's ent struct.
type pager func(ctx context.Context, after pulid.ID, n int) (any, error)

// source is one exportable record type.
type source struct {
	// entity is the CustomField entity of the type, or "" when the type
	// has no custom fields.
	entity customfield.Entity
	// record is the type's ent struct.
	record reflect.Type
	// newPager decodes a --where filter and returns the type's pager.
	newPager func(c *ent.Client, where []byte) (pager, error)
	// where is a new, empty XxxWhereInput of the type.
	where func() any
}

var sources = map[string]source{
	"organizations": {
		entity: customfield.EntityOrganization,
		record: reflect.TypeFor[ent.Organization](),
		where:  func() any { return new(ent.OrganizationWhereInput) },
		newPager: func(c *ent.Client, where []byte) (pager, error) {
			ps, err := predicates[predicate.Organization](where, new(ent.OrganizationWhereInput), ent.ErrEmptyOrganizationWhereInput)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, after pulid.ID, n int) (any, error) {
				q := c.Organization.Query().Where(ps...).Order(ent.Asc(organization.FieldID)).Limit(n)
				if after != "" {
					q.Where(organization.IDGT(after))
				}
				return q.All(ctx)
			}, nil
		},
	},
	"contacts": {
		entity: customfield.EntityContact,
		record: reflect.TypeFor[ent.Contact](),
		where:  func() any { return new(ent.ContactWhereInput) },
		newPager: func(c *ent.Client, where []byte) (pager, error) {
			ps, err := predicates[predicate.Contact](where, new(ent.ContactWhereInput), ent.ErrEmptyContactWhereInput)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, after pulid.ID, n int) (any, error) {
				q := c.Contact.Query().Where(ps...).Order(ent.Asc(contact.FieldID)).Limit(n)
				if after != "" {
					q.Where(contact.IDGT(after))
				}
				return q.All(ctx)
			}, nil
		},
	},
	"leads": {
		entity: customfield.EntityLead,
		record: reflect.TypeFor[ent.Lead](),
		where:  func() any { return new(ent.LeadWhereInput) },
		newPager: func(c *ent.Client, where []byte) (pager, error) {
			ps, err := predicates[predicate.Lead](where, new(ent.LeadWhereInput), ent.ErrEmptyLeadWhereInput)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, after pulid.ID, n int) (any, error) {
				q := c.Lead.Query().Where(ps...).Order(ent.Asc(lead.FieldID)).Limit(n)
				if after != "" {
					q.Where(lead.IDGT(after))
				}
				return q.All(ctx)
			}, nil
		},
	},
	"deals": {
		entity: customfield.EntityDeal,
		record: reflect.TypeFor[ent.Deal](),
		where:  func() any { return new(ent.DealWhereInput) },
		newPager: func(c *ent.Client, where []byte) (pager, error) {
			ps, err := predicates[predicate.Deal](where, new(ent.DealWhereInput), ent.ErrEmptyDealWhereInput)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, after pulid.ID, n int) (any, error) {
				q := c.Deal.Query().Where(ps...).Order(ent.Asc(deal.FieldID)).Limit(n)
				if after != "" {
					q.Where(deal.IDGT(after))
				}
				return q.All(ctx)
			}, nil
		},
	},
	"activities": {
		record: reflect.TypeFor[ent.Activity](),
		where:  func() any { return new(ent.ActivityWhereInput) },
		newPager: func(c *ent.Client, where []byte) (pager, error) {
			ps, err := predicates[predicate.Activity](where, new(ent.ActivityWhereInput), ent.ErrEmptyActivityWhereInput)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, after pulid.ID, n int) (any, error) {
				q := c.Activity.Query().Where(ps...).Order(ent.Asc(activity.FieldID)).Limit(n)
				if after != "" {
					q.Where(activity.IDGT(after))
				}
				return q.All(ctx)
			}, nil
		},
	},
	"products": {
		record: reflect.TypeFor[ent.Product](),
		where:  func() any { return new(ent.ProductWhereInput) },
		newPager: func(c *ent.Client, where []byte) (pager, error) {
			ps, err := predicates[predicate.Product](where, new(ent.ProductWhereInput), ent.ErrEmptyProductWhereInput)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, after pulid.ID, n int) (any, error) {
				q := c.Product.Query().Where(ps...).Order(ent.Asc(product.FieldID)).Limit(n)
				if after != "" {
					q.Where(product.IDGT(after))
				}
				return q.All(ctx)
			}, nil
		},
	},
	"orders": {
		record: reflect.TypeFor[ent.Order](),
		where:  func() any { return new(ent.OrderWhereInput) },
		newPager: func(c *ent.Client, where []byte) (pager, error) {
			ps, err := predicates[predicate.Order](where, new(ent.OrderWhereInput), ent.ErrEmptyOrderWhereInput)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, after pulid.ID, n int) (any, error) {
				q := c.Order.Query().Where(ps...).Order(ent.Asc(order.FieldID)).Limit(n)
				if after != "" {
					q.Where(order.IDGT(after))
				}
				return q.All(ctx)
			}, nil
		},
	},
}

// Types lists the record types Run exports, in alphabetical order.
func Types() []string {
	out := make([]string, 0, len(sources))
	for k := range sources {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NewWhere returns a new, empty filter of the record type typ: a pointer
// to its generated ent.XxxWhereInput, for DecodeWhere.
func NewWhere(typ string) (any, error) {
	s, err := sourceOf(typ)
	if err != nil {
		return nil, err
	}
	return s.where(), nil
}

func sourceOf(typ string) (source, error) {
	s, ok := sources[typ]
	if !ok {
		return source{}, errcode.Input("type", "unknown record type %q: use one of %v", typ, Types())
	}
	return s, nil
}

// predicates decodes where into in and returns its predicate, or none
// when the filter is empty.
func predicates[P any](where []byte, in interface{ P() (P, error) }, empty error) ([]P, error) {
	if err := DecodeWhere(where, in); err != nil {
		return nil, err
	}
	p, err := in.P()
	if err == empty { // as the GraphQL filter does: a nested empty filter is an error
		return nil, nil
	}
	if err != nil {
		return nil, errcode.Input("where", "%v", err)
	}
	return []P{p}, nil
}
