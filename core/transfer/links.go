package transfer

import (
	"context"
	"strings"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/transfer/value"
	"github.com/rapportcrm/rapport/schema"
)

// key folds a name or email as rows are matched by it.
func key(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// firstOf keeps the first ID seen for k in m: among existing records
// with one name, the oldest is the one rows link to.
func firstOf(m map[string]pulid.ID, k string, id pulid.ID) {
	if k == "" {
		return
	}
	if _, dup := m[k]; !dup {
		m[k] = id
	}
}

// contactIndex finds contacts by source ID, email, phone and name.
type contactIndex struct {
	byExt, byEmail, byPhone, byName map[string]pulid.ID
	// hasEmail says which contacts have an email: a phone shared by two
	// people with emails is a switchboard, not a duplicate.
	hasEmail map[pulid.ID]bool
}

func loadContacts(ctx context.Context, c *ent.Client, source string) (*contactIndex, error) {
	ix := &contactIndex{byExt: map[string]pulid.ID{}, byEmail: map[string]pulid.ID{}, byPhone: map[string]pulid.ID{},
		byName: map[string]pulid.ID{}, hasEmail: map[pulid.ID]bool{}}
	cs, err := c.Contact.Query().Order(ent.Asc(contact.FieldCreatedAt), ent.Asc(contact.FieldID)).
		Select(contact.FieldID, contact.FieldFirstName, contact.FieldLastName, contact.FieldEmail, contact.FieldPhone,
			contact.FieldExternalSource, contact.FieldExternalID).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, x := range cs {
		ix.add(x, source)
		schema.Vouch(ctx, x.ID)
	}
	return ix, nil
}

func (ix *contactIndex) add(x *ent.Contact, source string) {
	if x.ExternalSource != nil && *x.ExternalSource == source && x.ExternalID != nil {
		ix.byExt[*x.ExternalID] = x.ID
	}
	firstOf(ix.byEmail, key(x.Email), x.ID)
	firstOf(ix.byPhone, value.Phone(x.Phone), x.ID)
	firstOf(ix.byName, key(x.FirstName+" "+x.LastName), x.ID)
	ix.hasEmail[x.ID] = x.Email != ""
}

// dealIndex finds deals by source ID and name.
type dealIndex struct{ byExt, byName map[string]pulid.ID }

func loadDeals(ctx context.Context, c *ent.Client, source string) (*dealIndex, error) {
	ix := &dealIndex{byExt: map[string]pulid.ID{}, byName: map[string]pulid.ID{}}
	ds, err := c.Deal.Query().Order(ent.Asc(deal.FieldCreatedAt), ent.Asc(deal.FieldID)).
		Select(deal.FieldID, deal.FieldName, deal.FieldExternalSource, deal.FieldExternalID).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		ix.add(d, source)
		schema.Vouch(ctx, d.ID)
	}
	return ix, nil
}

func (ix *dealIndex) add(d *ent.Deal, source string) {
	if d.ExternalSource != nil && *d.ExternalSource == source && d.ExternalID != nil {
		ix.byExt[*d.ExternalID] = d.ID
	}
	firstOf(ix.byName, key(d.Name), d.ID)
}

// links resolves what a row refers to: its organization, contact, deal
// and owner. A reference by source ID or name that finds nothing rejects
// the row (an orphan), naming the column: a link is never dropped
// silently.
type links struct {
	source   string
	orgs     *orgIndex
	contacts *contactIndex
	deals    *dealIndex
	// members are the workspace's members by email and by name.
	members map[string]pulid.ID
}

// load fills what the targets of kind refer to.
func (l *links) load(ctx context.Context, c *ent.Client, source string, orgs, contacts, deals bool) (err error) {
	l.source = source
	if orgs {
		if l.orgs, err = loadOrgs(ctx, c, source); err != nil {
			return err
		}
	}
	if contacts {
		if l.contacts, err = loadContacts(ctx, c, source); err != nil {
			return err
		}
	}
	if deals {
		if l.deals, err = loadDeals(ctx, c, source); err != nil {
			return err
		}
	}
	l.members = map[string]pulid.ID{}
	ms, err := c.Member.Query().Order(ent.Asc(member.FieldCreatedAt)).Select(member.FieldID, member.FieldEmail, member.FieldName).All(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		schema.Vouch(ctx, m.ID)
		firstOf(l.members, key(m.Email), m.ID)
		firstOf(l.members, key(m.Name), m.ID)
	}
	return nil
}

// org is the row's organization: nil when the row names none.
func (l *links) org(r record) (*pulid.ID, *Reject) {
	if x := r.get("organization.external_id"); x != "" {
		if id, ok := l.orgs.byExt[x]; ok {
			return &id, nil
		}
		return nil, r.reject("organization.external_id", "unknown_organization", "no organization of %s has the ID %q: import the organizations first", l.source, x)
	}
	if n := r.get("organization.name"); n != "" {
		if id, ok := l.orgs.byName[key(n)]; ok {
			return &id, nil
		}
		return nil, r.reject("organization.name", "unknown_organization", "no organization is named %q", n)
	}
	return nil, nil
}

// contact is the row's contact: nil when the row names none.
func (l *links) contact(r record) (*pulid.ID, *Reject) {
	if x := r.get("contact.external_id"); x != "" {
		if id, ok := l.contacts.byExt[x]; ok {
			return &id, nil
		}
		return nil, r.reject("contact.external_id", "unknown_contact", "no contact of %s has the ID %q: import the contacts first", l.source, x)
	}
	if e := r.get("contact.email"); e != "" {
		if id, ok := l.contacts.byEmail[key(e)]; ok {
			return &id, nil
		}
		return nil, r.reject("contact.email", "unknown_contact", "no contact has the email %q", e)
	}
	if n := r.get("contact.name"); n != "" {
		if id, ok := l.contacts.byName[key(n)]; ok {
			return &id, nil
		}
		return nil, r.reject("contact.name", "unknown_contact", "no contact is named %q", n)
	}
	return nil, nil
}

// deal is the row's deal: nil when the row names none.
func (l *links) deal(r record) (*pulid.ID, *Reject) {
	if x := r.get("deal.external_id"); x != "" {
		if id, ok := l.deals.byExt[x]; ok {
			return &id, nil
		}
		return nil, r.reject("deal.external_id", "unknown_deal", "no deal of %s has the ID %q: import the deals first", l.source, x)
	}
	if n := r.get("deal.name"); n != "" {
		if id, ok := l.deals.byName[key(n)]; ok {
			return &id, nil
		}
		return nil, r.reject("deal.name", "unknown_deal", "no deal is named %q", n)
	}
	return nil, nil
}

// owner is the member the row names by email or name: nil when none.
func (l *links) owner(r record) (*pulid.ID, *Reject) {
	o := r.get("owner.email")
	if o == "" {
		return nil, nil
	}
	if id, ok := l.members[key(o)]; ok {
		return &id, nil
	}
	return nil, r.reject("owner.email", "unknown_owner", "no member of the workspace has the email or name %q", o)
}
