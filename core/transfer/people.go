package transfer

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/transfer/mapping"
	"github.com/rapportcrm/rapport/core/transfer/read"
	"github.com/rapportcrm/rapport/core/transfer/value"
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

// withCustom is old's custom fields with the row's over them.
func withCustom(old map[string]any, row map[string]any) map[string]any {
	merged := make(map[string]any, len(old)+len(row))
	for k, v := range old {
		merged[k] = v
	}
	for k, v := range row {
		merged[k] = v
	}
	return merged
}

// orgIndex finds organizations by source ID, name and domain.
type orgIndex struct {
	byExt    map[string]pulid.ID
	byName   map[string]pulid.ID
	byDomain map[string]pulid.ID
}

func loadOrgs(ctx context.Context, c *ent.Client, source string) (*orgIndex, error) {
	ix := &orgIndex{byExt: map[string]pulid.ID{}, byName: map[string]pulid.ID{}, byDomain: map[string]pulid.ID{}}
	orgs, err := c.Organization.Query().
		Select(organization.FieldID, organization.FieldName, organization.FieldDomain, organization.FieldExternalSource, organization.FieldExternalID).
		All(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range orgs {
		ix.add(o, source)
	}
	return ix, nil
}

func (ix *orgIndex) add(o *ent.Organization, source string) {
	if o.ExternalSource != nil && *o.ExternalSource == source && o.ExternalID != nil {
		ix.byExt[*o.ExternalID] = o.ID
	}
	if k := strings.ToLower(strings.TrimSpace(o.Name)); k != "" {
		if _, dup := ix.byName[k]; !dup {
			ix.byName[k] = o.ID
		}
	}
	if d := value.Domain(o.Domain); d != "" {
		if _, dup := ix.byDomain[d]; !dup {
			ix.byDomain[d] = o.ID
		}
	}
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
		n, err := strconv.Atoi(strings.ReplaceAll(strings.ReplaceAll(e, ",", ""), " ", ""))
		if err != nil || n < 0 {
			return 0, r.reject("employees", "invalid_number", "%q is not a number of employees", e), nil
		}
		employees = &n
	}
	ext := r.get("external_id")
	id, found := pulid.ID(""), false
	switch {
	case ext != "":
		id, found = k.ix.byExt[ext]
	case domain != "":
		id, found = k.ix.byDomain[domain]
	default:
		id, found = k.ix.byName[strings.ToLower(name)]
	}
	if found {
		old, err := c.Organization.Get(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		if old.Name == name && (domain == "" || old.Domain == domain) && (employees == nil || (old.Employees != nil && *old.Employees == *employees)) &&
			(r.get("industry") == "" || old.Industry == r.get("industry")) && len(r.custom) == 0 {
			return unchanged, nil, nil
		}
		u := c.Organization.UpdateOneID(id).SetName(name)
		if domain != "" {
			u.SetDomain(domain)
		}
		if employees != nil {
			u.SetEmployees(*employees)
		}
		if v := r.get("industry"); v != "" {
			u.SetIndustry(v)
		}
		if len(r.custom) > 0 {
			u.SetCustomFields(withCustom(old.CustomFields, r.custom))
		}
		return updated, nil, u.Exec(ctx)
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
	if len(r.custom) > 0 {
		cr.SetCustomFields(r.custom)
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

type contacts struct {
	orgs    *orgIndex
	byExt   map[string]pulid.ID
	byEmail map[string]pulid.ID
}

func (k *contacts) load(ctx context.Context, c *ent.Client, source string) (err error) {
	if k.orgs, err = loadOrgs(ctx, c, source); err != nil {
		return err
	}
	k.byExt, k.byEmail = map[string]pulid.ID{}, map[string]pulid.ID{}
	cs, err := c.Contact.Query().Select(contact.FieldID, contact.FieldEmail, contact.FieldExternalSource, contact.FieldExternalID).All(ctx)
	if err != nil {
		return err
	}
	for _, x := range cs {
		k.add(x, source)
	}
	return nil
}

func (k *contacts) add(x *ent.Contact, source string) {
	if x.ExternalSource != nil && *x.ExternalSource == source && x.ExternalID != nil {
		k.byExt[*x.ExternalID] = x.ID
	}
	if e := strings.ToLower(x.Email); e != "" {
		if _, dup := k.byEmail[e]; !dup {
			k.byEmail[e] = x.ID
		}
	}
}

func (k *contacts) apply(ctx context.Context, c *ent.Client, im *importer, r record) (outcome, *Reject, error) {
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
	// The organization: by its source ID, its name, else the email's
	// domain.
	var org *pulid.ID
	if x := r.get("organization.external_id"); x != "" {
		if id, ok := k.orgs.byExt[x]; ok {
			org = &id
		}
	}
	if org == nil {
		if n := strings.ToLower(r.get("organization.name")); n != "" {
			if id, ok := k.orgs.byName[n]; ok {
				org = &id
			}
		}
	}
	if org == nil && email != "" {
		if id, ok := k.orgs.byDomain[value.Domain(email)]; ok {
			org = &id
		}
	}
	ext := r.get("external_id")
	id, found := pulid.ID(""), false
	if ext != "" {
		id, found = k.byExt[ext]
	}
	if !found && email != "" {
		if dup, ok := k.byEmail[strings.ToLower(email)]; ok {
			if !im.o.Merge {
				return 0, r.reject("email", "duplicate", "%s is the email of contact %s already; --merge folds this row into it", email, dup), nil
			}
			id, found = dup, true
		}
	}
	if found {
		old, err := c.Contact.Get(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		same := old.FirstName == first && old.LastName == last && (email == "" || old.Email == email) &&
			(r.get("phone") == "" || old.Phone == r.get("phone")) && (r.get("title") == "" || old.Title == r.get("title")) &&
			(org == nil || (old.OrganizationID != nil && *old.OrganizationID == *org)) && len(r.custom) == 0
		if same {
			return unchanged, nil, nil
		}
		u := c.Contact.UpdateOneID(id).SetFirstName(first).SetLastName(last)
		if email != "" {
			u.SetEmail(email)
		}
		if v := r.get("phone"); v != "" {
			u.SetPhone(v)
		}
		if v := r.get("title"); v != "" {
			u.SetTitle(v)
		}
		if org != nil {
			u.SetOrganizationID(*org)
		}
		if old.ExternalID == nil && ext != "" {
			u.SetExternalSource(im.m.Source).SetExternalID(ext)
		}
		if len(r.custom) > 0 {
			u.SetCustomFields(withCustom(old.CustomFields, r.custom))
		}
		return updated, nil, u.Exec(ctx)
	}
	cr := c.Contact.Create().SetFirstName(first).SetLastName(last)
	if ext != "" {
		cr.SetExternalSource(im.m.Source).SetExternalID(ext)
	}
	if email != "" {
		cr.SetEmail(email)
	}
	if v := r.get("phone"); v != "" {
		cr.SetPhone(v)
	}
	if v := r.get("title"); v != "" {
		cr.SetTitle(v)
	}
	if org != nil {
		cr.SetOrganizationID(*org)
	}
	if len(r.custom) > 0 {
		cr.SetCustomFields(r.custom)
	}
	if !r.createdAt.IsZero() {
		cr.SetCreatedAt(r.createdAt)
	}
	x, err := cr.Save(ctx)
	if err != nil {
		return 0, nil, err
	}
	k.add(x, im.m.Source)
	return created, nil, nil
}
