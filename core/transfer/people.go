package transfer

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/transfer/mapping"
	"github.com/rapportcrm/rapport/core/transfer/read"
	"github.com/rapportcrm/rapport/core/transfer/value"
	"github.com/rapportcrm/rapport/schema"
)

type readRow = read.Row

// record gathers a row's cells by target: the first non-empty cell of
// the columns mapped to it.
func (im *importer) record(row read.Row) record {
	r := record{num: row.Num, cells: map[string]string{}, header: map[string]string{}, custom: map[string]any{}}
	for _, c := range im.m.Columns {
		if c.Target == mapping.Ignore || c.Index >= len(row.Cells) {
			continue
		}
		if _, has := r.cells[c.Target]; has && strings.TrimSpace(r.cells[c.Target]) != "" {
			continue
		}
		r.cells[c.Target] = row.Cells[c.Index]
		r.header[c.Target] = c.Header
	}
	for t, v := range r.cells {
		if k, ok := strings.CutPrefix(t, mapping.Custom); ok && strings.TrimSpace(v) != "" {
			r.custom[k] = strings.TrimSpace(v)
		}
	}
	return r
}

// orgIndex finds organizations by source ID, name and domain.
type orgIndex struct {
	byExt    map[string]pulid.ID
	byName   map[string]pulid.ID
	byDomain map[string]pulid.ID
}

func loadOrgs(ctx context.Context, c *ent.Client, source string) (*orgIndex, error) {
	ix := &orgIndex{byExt: map[string]pulid.ID{}, byName: map[string]pulid.ID{}, byDomain: map[string]pulid.ID{}}
	orgs, err := c.Organization.Query().Order(ent.Asc(organization.FieldCreatedAt), ent.Asc(organization.FieldID)).
		Select(organization.FieldID, organization.FieldName, organization.FieldDomain, organization.FieldExternalSource, organization.FieldExternalID).
		All(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range orgs {
		ix.add(o, source)
		schema.Vouch(ctx, o.ID)
	}
	return ix, nil
}

func (ix *orgIndex) add(o *ent.Organization, source string) {
	if o.ExternalSource != nil && *o.ExternalSource == source && o.ExternalID != nil {
		ix.byExt[*o.ExternalID] = o.ID
	}
	firstOf(ix.byName, key(o.Name), o.ID)
	firstOf(ix.byDomain, value.Domain(o.Domain), o.ID)
}

// match finds the record a row is: by its source ID when it has one;
// a row without one is the record it names by its natural keys (so a
// file without IDs can be imported twice). A row with an unknown
// source ID that shares a natural key with a record is a duplicate: it
// is reported, or with Merge folded into that record.
//
// It returns the record's ID (empty when the row is new) and, for a
// duplicate without Merge, a reject.
func match(r record, merge bool, ext string, byExt map[string]pulid.ID, keys ...dupKey) (pulid.ID, *Reject) {
	if ext != "" {
		if id, ok := byExt[ext]; ok {
			return id, nil
		}
	}
	for _, k := range keys {
		if k.value == "" {
			continue
		}
		id, ok := k.in[k.value]
		if !ok {
			continue
		}
		if ext == "" || merge {
			return id, nil
		}
		return "", r.reject(k.target, "duplicate", "%s is the %s of %s already; --merge folds this row into it", r.get(k.target), k.what, id)
	}
	return "", nil
}

// dupKey is a natural key a row is matched by.
type dupKey struct {
	target, what, value string
	in                  map[string]pulid.ID
}

type organizations struct{ ix *orgIndex }

func (k *organizations) load(ctx context.Context, c *ent.Client, source string) (err error) {
	k.ix, err = loadOrgs(ctx, c, source)
	return err
}

func (k *organizations) apply(ctx context.Context, c *ent.Client, im *importer, r record) (outcome, *Reject, error) {
	name := r.get("name")
	if name == "" {
		return 0, r.reject("name", "missing_name", "an organization needs a name"), nil
	}
	domain := ""
	if d := r.get("domain"); d != "" {
		if domain = value.Domain(d); domain == "" {
			return 0, r.reject("domain", "invalid_domain", "%q is not a domain or web address", d), nil
		}
	}
	var employees *int
	if e := r.get("employees"); e != "" {
		n, err := strconv.Atoi(strings.NewReplacer(",", "", " ", "", "'", "", ".", "").Replace(e))
		if err != nil || n < 0 {
			return 0, r.reject("employees", "invalid_number", "%q is not a number of employees", e), nil
		}
		employees = &n
	}
	owner, rej := im.links.owner(r)
	if rej != nil {
		return 0, rej, nil
	}
	custom, rej := im.customOf(r)
	if rej != nil {
		return 0, rej, nil
	}
	ext := r.get("external_id")
	keys := []dupKey{{"domain", "domain", domain, k.ix.byDomain}}
	if domain == "" {
		// Without a domain, a row without an ID is the organization of
		// its name; names alone do not make duplicates of rows with IDs.
		if ext == "" {
			keys = append(keys, dupKey{"name", "name", key(name), k.ix.byName})
		}
	}
	id, rej := match(r, im.o.Merge, ext, k.ix.byExt, keys...)
	if rej != nil {
		return 0, rej, nil
	}
	if id != "" {
		old, err := c.Organization.Get(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		u := c.Organization.UpdateOneID(id)
		n := 0
		n += setIf(old.Name != name, func() { u.SetName(name) })
		n += setIf(domain != "" && old.Domain != domain, func() { u.SetDomain(domain) })
		n += setIf(employees != nil && (old.Employees == nil || *old.Employees != *employees), func() { u.SetEmployees(*employees) })
		n += setIf(r.get("industry") != "" && old.Industry != r.get("industry"), func() { u.SetIndustry(r.get("industry")) })
		n += setIf(owner != nil && !samePtr(old.OwnerID, owner), func() { u.SetOwnerID(*owner) })
		n += setIf(old.ExternalID == nil && ext != "", func() { u.SetExternalSource(im.m.Source).SetExternalID(ext) })
		if merged, ch := withCustom(old.CustomFields, custom); ch {
			n++
			u.SetCustomFields(merged)
		}
		if n == 0 {
			return unchanged, nil, nil
		}
		o, err := u.Save(ctx)
		if err != nil {
			return 0, nil, err
		}
		k.ix.add(o, im.m.Source)
		return updated, nil, nil
	}
	cr := c.Organization.Create().SetName(name)
	if ext != "" {
		cr.SetExternalSource(im.m.Source).SetExternalID(ext)
	}
	if domain != "" {
		cr.SetDomain(domain)
	}
	if employees != nil {
		cr.SetEmployees(*employees)
	}
	if v := r.get("industry"); v != "" {
		cr.SetIndustry(v)
	}
	cr.SetNillableOwnerID(owner)
	if len(custom) > 0 {
		cr.SetCustomFields(custom)
	}
	if !r.createdAt.IsZero() {
		cr.SetCreatedAt(r.createdAt)
	}
	o, err := cr.Save(ctx)
	if err != nil {
		return 0, nil, err
	}
	k.ix.add(o, im.m.Source)
	return created, nil, nil
}

// setIf runs set when cond holds, and says whether it did.
func setIf(cond bool, set func()) int {
	if !cond {
		return 0
	}
	set()
	return 1
}

// samePtr says whether an optional ID is id.
func samePtr(a, b *pulid.ID) bool { return a != nil && b != nil && *a == *b }

// date parses a date target of r; zero when empty.
func (im *importer) date(r record, target string) (time.Time, *Reject) {
	s := r.get(target)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := value.Date(s, im.order, im.loc)
	if err != nil {
		return time.Time{}, r.reject(target, "invalid_date", "%v", err)
	}
	return t, nil
}

type contacts struct{}

func (k *contacts) load(context.Context, *ent.Client, string) error { return nil }

func (k *contacts) apply(ctx context.Context, c *ent.Client, im *importer, r record) (outcome, *Reject, error) {
	ix := im.links.contacts
	first, last := r.get("first_name"), r.get("last_name")
	if first == "" && last == "" {
		if full := r.get("name"); full != "" {
			if i := strings.LastIndexByte(full, ' '); i > 0 {
				first, last = strings.TrimSpace(full[:i]), strings.TrimSpace(full[i+1:])
			} else {
				last = full
			}
		}
	}
	if last == "" {
		if first == "" {
			return 0, r.reject("last_name", "missing_name", "a contact needs a name"), nil
		}
		first, last = "", first
	}
	email := ""
	if e := r.get("email"); e != "" {
		var err error
		if email, err = value.Email(e); err != nil {
			return 0, r.reject("email", "invalid_email", "%v", err), nil
		}
	}
	phone := r.get("phone")
	// The organization: by its source ID, its name, else the email's
	// domain. An organization name that matches none is kept out (a
	// contact's company is often free text); an unknown ID is an orphan.
	var org *pulid.ID
	if x := r.get("organization.external_id"); x != "" {
		id, ok := im.links.orgs.byExt[x]
		if !ok {
			return 0, r.reject("organization.external_id", "unknown_organization", "no organization of %s has the ID %q: import the organizations first", im.m.Source, x), nil
		}
		org = &id
	}
	if org == nil {
		if id, ok := im.links.orgs.byName[key(r.get("organization.name"))]; ok {
			org = &id
		}
	}
	if org == nil && email != "" {
		if id, ok := im.links.orgs.byDomain[value.Domain(email)]; ok {
			org = &id
		}
	}
	owner, rej := im.links.owner(r)
	if rej != nil {
		return 0, rej, nil
	}
	custom, rej := im.customOf(r)
	if rej != nil {
		return 0, rej, nil
	}
	ext := r.get("external_id")
	keys := []dupKey{{"email", "email", key(email), ix.byEmail}}
	// A phone number makes a duplicate only where one side has no email:
	// colleagues share a switchboard.
	if pk := value.Phone(phone); pk != "" {
		if id, ok := ix.byPhone[pk]; ok && (email == "" || !ix.hasEmail[id]) {
			keys = append(keys, dupKey{"phone", "phone", pk, ix.byPhone})
		}
	}
	if email == "" && value.Phone(phone) == "" && ext == "" {
		keys = append(keys, dupKey{"last_name", "name", key(first + " " + last), ix.byName})
	}
	id, rej := match(r, im.o.Merge, ext, ix.byExt, keys...)
	if rej != nil {
		return 0, rej, nil
	}
	if id != "" {
		old, err := c.Contact.Get(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		u := c.Contact.UpdateOneID(id)
		n := 0
		n += setIf(first != "" && old.FirstName != first, func() { u.SetFirstName(first) })
		n += setIf(old.LastName != last, func() { u.SetLastName(last) })
		n += setIf(email != "" && old.Email != email, func() { u.SetEmail(email) })
		n += setIf(phone != "" && old.Phone != phone, func() { u.SetPhone(phone) })
		n += setIf(r.get("title") != "" && old.Title != r.get("title"), func() { u.SetTitle(r.get("title")) })
		n += setIf(org != nil && !samePtr(old.OrganizationID, org), func() { u.SetOrganizationID(*org) })
		n += setIf(owner != nil && !samePtr(old.OwnerID, owner), func() { u.SetOwnerID(*owner) })
		n += setIf(old.ExternalID == nil && ext != "", func() { u.SetExternalSource(im.m.Source).SetExternalID(ext) })
		if merged, ch := withCustom(old.CustomFields, custom); ch {
			n++
			u.SetCustomFields(merged)
		}
		if n == 0 {
			return unchanged, nil, nil
		}
		x, err := u.Save(ctx)
		if err != nil {
			return 0, nil, err
		}
		ix.add(x, im.m.Source)
		return updated, nil, nil
	}
	cr := c.Contact.Create().SetFirstName(first).SetLastName(last)
	if ext != "" {
		cr.SetExternalSource(im.m.Source).SetExternalID(ext)
	}
	if email != "" {
		cr.SetEmail(email)
	}
	if phone != "" {
		cr.SetPhone(phone)
	}
	if v := r.get("title"); v != "" {
		cr.SetTitle(v)
	}
	cr.SetNillableOrganizationID(org).SetNillableOwnerID(owner)
	if len(custom) > 0 {
		cr.SetCustomFields(custom)
	}
	if !r.createdAt.IsZero() {
		cr.SetCreatedAt(r.createdAt)
	}
	x, err := cr.Save(ctx)
	if err != nil {
		return 0, nil, err
	}
	ix.add(x, im.m.Source)
	return created, nil, nil
}
