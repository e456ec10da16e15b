package transfer

import (
	"context"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/order"
	"github.com/rapportcrm/rapport/core/ent/product"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/transfer/value"
)

// money parses a money target: cents and the currency the cell or the
// row's currency column names ("" when neither does).
func (im *importer) money(r record, target string, negative bool) (cents int64, currency string, rej *Reject) {
	if s := r.get(target); s != "" {
		var err error
		if cents, currency, err = value.Money(s, negative); err != nil {
			return 0, "", r.reject(target, "invalid_amount", "%v", err)
		}
	}
	if c := r.get("currency"); c != "" {
		currency = strings.ToUpper(c)
	}
	return cents, currency, nil
}

// leadStatus reads a lead status as CRMs write them.
func leadStatus(s string) (lead.Status, bool) {
	n := key(s)
	switch {
	case n == "":
		return "", true
	case strings.Contains(n, "not converted") || strings.Contains(n, "unqualified") || strings.Contains(n, "disqualified") || n == "junk":
		return lead.StatusUnqualified, true
	case strings.Contains(n, "converted"):
		return lead.StatusConverted, true
	case strings.Contains(n, "qualified"):
		return lead.StatusQualified, true
	case strings.Contains(n, "not contacted") || n == "new" || n == "open":
		return lead.StatusNew, true
	case strings.Contains(n, "contacted") || strings.Contains(n, "working") || strings.Contains(n, "in progress"):
		return lead.StatusContacted, true
	}
	return "", false
}

// leads imports leads, matched by source ID, else by email.
type leads struct{ byExt, byEmail map[string]pulid.ID }

func (k *leads) load(ctx context.Context, c *ent.Client, source string) error {
	k.byExt, k.byEmail = map[string]pulid.ID{}, map[string]pulid.ID{}
	ls, err := c.Lead.Query().Order(ent.Asc(lead.FieldCreatedAt), ent.Asc(lead.FieldID)).
		Select(lead.FieldID, lead.FieldEmail, lead.FieldExternalSource, lead.FieldExternalID).All(ctx)
	for _, l := range ls {
		k.add(l, source)
	}
	return err
}

func (k *leads) add(l *ent.Lead, source string) {
	if l.ExternalSource != nil && *l.ExternalSource == source && l.ExternalID != nil {
		k.byExt[*l.ExternalID] = l.ID
	}
	firstOf(k.byEmail, key(l.Email), l.ID)
}

func (k *leads) apply(ctx context.Context, c *ent.Client, im *importer, r record) (outcome, *Reject, error) {
	first, last, company := r.get("first_name"), r.get("last_name"), r.get("company")
	title := r.get("title")
	if title == "" {
		// Salesforce leads have no title: the person and company name it.
		title = strings.TrimSpace(strings.Join(strings.Fields(first+" "+last), " "))
		if company != "" {
			if title != "" {
				title += ", "
			}
			title += company
		}
	}
	if title == "" {
		return 0, r.reject("title", "missing_name", "a lead needs a title, a name or a company"), nil
	}
	email := ""
	if e := r.get("email"); e != "" {
		var err error
		if email, err = value.Email(e); err != nil {
			return 0, r.reject("email", "invalid_email", "%v", err), nil
		}
	}
	status, ok := leadStatus(r.get("status"))
	if !ok {
		return 0, r.reject("status", "invalid_status", "%q is not a lead status: want new, contacted, qualified, unqualified or converted", r.get("status")), nil
	}
	cents, currency, rej := im.money(r, "estimated_value", false)
	if rej != nil {
		return 0, rej, nil
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
	id, rej := match(r, im.o.Merge, ext, k.byExt, dupKey{"email", "email", key(email), k.byEmail})
	if rej != nil {
		return 0, rej, nil
	}
	phone, source := r.get("phone"), r.get("source")
	if id != "" {
		old, err := c.Lead.Get(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		u := c.Lead.UpdateOneID(id)
		n := 0
		n += setIf(old.Title != title, func() { u.SetTitle(title) })
		n += setIf(first != "" && old.FirstName != first, func() { u.SetFirstName(first) })
		n += setIf(last != "" && old.LastName != last, func() { u.SetLastName(last) })
		n += setIf(email != "" && old.Email != email, func() { u.SetEmail(email) })
		n += setIf(phone != "" && old.Phone != phone, func() { u.SetPhone(phone) })
		n += setIf(company != "" && old.Company != company, func() { u.SetCompany(company) })
		n += setIf(source != "" && old.Source != source, func() { u.SetSource(source) })
		n += setIf(status != "" && old.Status != status, func() { u.SetStatus(status) })
		n += setIf(r.get("estimated_value") != "" && int64(old.EstimatedValue) != cents, func() { u.SetEstimatedValue(crm.Money(cents)) })
		n += setIf(currency != "" && old.Currency != currency, func() { u.SetCurrency(currency) })
		n += setIf(owner != nil && !samePtr(old.OwnerID, owner), func() { u.SetOwnerID(*owner) })
		n += setIf(old.ExternalID == nil && ext != "", func() { u.SetExternalSource(im.m.Source).SetExternalID(ext) })
		if merged, ch := withCustom(old.CustomFields, custom); ch {
			n++
			u.SetCustomFields(merged)
		}
		if n == 0 {
			return unchanged, nil, nil
		}
		l, err := u.Save(ctx)
		if err != nil {
			return 0, nil, err
		}
		k.add(l, im.m.Source)
		return updated, nil, nil
	}
	cr := c.Lead.Create().SetTitle(title).SetFirstName(first).SetLastName(last).SetCompany(company).SetPhone(phone).SetSource(source)
	if email != "" {
		cr.SetEmail(email)
	}
	if status != "" {
		cr.SetStatus(status)
	}
	if r.get("estimated_value") != "" {
		cr.SetEstimatedValue(crm.Money(cents))
	}
	if currency != "" {
		cr.SetCurrency(currency)
	}
	if ext != "" {
		cr.SetExternalSource(im.m.Source).SetExternalID(ext)
	}
	cr.SetNillableOwnerID(owner)
	if len(custom) > 0 {
		cr.SetCustomFields(custom)
	}
	if !r.createdAt.IsZero() {
		cr.SetCreatedAt(r.createdAt)
	}
	l, err := cr.Save(ctx)
	if err != nil {
		return 0, nil, err
	}
	k.add(l, im.m.Source)
	return created, nil, nil
}

// activityKinds read the activity types of CRMs.
var activityKinds = map[string]activity.Kind{
	"note": activity.KindNote, "notes": activity.KindNote, "comment": activity.KindNote,
	"call": activity.KindCall, "phone": activity.KindCall, "phone call": activity.KindCall, "calls": activity.KindCall,
	"email": activity.KindEmail, "e-mail": activity.KindEmail, "mail": activity.KindEmail, "emails": activity.KindEmail,
	"meeting": activity.KindMeeting, "lunch": activity.KindMeeting, "event": activity.KindMeeting, "meetings": activity.KindMeeting,
	"task": activity.KindTask, "deadline": activity.KindTask, "todo": activity.KindTask, "to-do": activity.KindTask, "tasks": activity.KindTask,
}

// activities imports calls, meetings, emails, notes and tasks, dated
// when they happened. A row without a source ID is the activity of the
// same kind, subject and time.
type activities struct{ byExt, byKey map[string]pulid.ID }

func activityKey(kind activity.Kind, subject string, at time.Time) string {
	return string(kind) + "\x00" + key(subject) + "\x00" + at.UTC().Format(time.RFC3339)
}

func (k *activities) load(ctx context.Context, c *ent.Client, source string) error {
	k.byExt, k.byKey = map[string]pulid.ID{}, map[string]pulid.ID{}
	as, err := c.Activity.Query().Select(activity.FieldID, activity.FieldKind, activity.FieldSubject, activity.FieldOccurredAt,
		activity.FieldExternalSource, activity.FieldExternalID).All(ctx)
	for _, a := range as {
		k.add(a, source)
	}
	return err
}

func (k *activities) add(a *ent.Activity, source string) {
	if a.ExternalSource != nil && *a.ExternalSource == source && a.ExternalID != nil {
		k.byExt[*a.ExternalID] = a.ID
	}
	firstOf(k.byKey, activityKey(a.Kind, a.Subject, a.OccurredAt), a.ID)
}

// when dates an activity's trail by when it happened.
func (k *activities) when(im *importer, r record) (time.Time, *Reject) {
	return im.date(r, "occurred_at")
}

func (k *activities) apply(ctx context.Context, c *ent.Client, im *importer, r record) (outcome, *Reject, error) {
	kind, ok := activityKinds[key(r.get("kind"))]
	if r.get("kind") == "" {
		kind, ok = activity.KindNote, true
	}
	if !ok {
		return 0, r.reject("kind", "invalid_kind", "%q is not an activity type: want note, call, email, meeting or task", r.get("kind")), nil
	}
	subject, body := r.get("subject"), r.get("body")
	if subject == "" {
		// A note is often only its text.
		if subject = strings.TrimSpace(strings.SplitN(body, "\n", 2)[0]); len(subject) > 120 {
			subject = strings.ToValidUTF8(subject[:120], "") + "…"
		}
	}
	if subject == "" {
		return 0, r.reject("subject", "missing_subject", "an activity needs a subject or a text"), nil
	}
	var direction *activity.Direction
	switch d := key(r.get("direction")); d {
	case "":
	case "inbound", "in", "incoming", "received":
		v := activity.DirectionInbound
		direction = &v
	case "outbound", "out", "outgoing", "sent":
		v := activity.DirectionOutbound
		direction = &v
	default:
		return 0, r.reject("direction", "invalid_value", "%q is not a direction: want inbound or outbound", r.get("direction")), nil
	}
	occurred, rej := im.date(r, "occurred_at")
	if rej != nil {
		return 0, rej, nil
	}
	if occurred.IsZero() {
		occurred = r.createdAt
	}
	if occurred.IsZero() {
		return 0, r.reject("occurred_at", "missing_date", "an activity needs the date it happened"), nil
	}
	done, rej := im.date(r, "done_at")
	if rej != nil {
		return 0, rej, nil
	}
	person, rej := im.links.contact(r)
	if rej != nil {
		return 0, rej, nil
	}
	org, rej := im.links.org(r)
	if rej != nil {
		return 0, rej, nil
	}
	dl, rej := im.links.deal(r)
	if rej != nil {
		return 0, rej, nil
	}
	owner, rej := im.links.owner(r)
	if rej != nil {
		return 0, rej, nil
	}
	ext := r.get("external_id")
	var keys []dupKey
	if ext == "" {
		keys = append(keys, dupKey{"subject", "activity", activityKey(kind, subject, occurred), k.byKey})
	}
	id, rej := match(r, im.o.Merge, ext, k.byExt, keys...)
	if rej != nil {
		return 0, rej, nil
	}
	if id != "" {
		old, err := c.Activity.Get(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		u := c.Activity.UpdateOneID(id)
		n := 0
		n += setIf(old.Kind != kind, func() { u.SetKind(kind) })
		n += setIf(old.Subject != subject, func() { u.SetSubject(subject) })
		n += setIf(body != "" && old.Body != body, func() { u.SetBody(body) })
		n += setIf(direction != nil && (old.Direction == nil || *old.Direction != *direction), func() { u.SetDirection(*direction) })
		n += setIf(!old.OccurredAt.Equal(occurred), func() { u.SetOccurredAt(occurred) })
		n += setIf(!done.IsZero() && (old.DoneAt == nil || !old.DoneAt.Equal(done)), func() { u.SetDoneAt(done) })
		n += setIf(person != nil && !samePtr(old.ContactID, person), func() { u.SetContactID(*person) })
		n += setIf(org != nil && !samePtr(old.OrganizationID, org), func() { u.SetOrganizationID(*org) })
		n += setIf(dl != nil && !samePtr(old.DealID, dl), func() { u.SetDealID(*dl) })
		n += setIf(owner != nil && !samePtr(old.OwnerID, owner), func() { u.SetOwnerID(*owner) })
		n += setIf(old.ExternalID == nil && ext != "", func() { u.SetExternalSource(im.m.Source).SetExternalID(ext) })
		if n == 0 {
			return unchanged, nil, nil
		}
		a, err := u.Save(ctx)
		if err != nil {
			return 0, nil, err
		}
		k.add(a, im.m.Source)
		return updated, nil, nil
	}
	cr := c.Activity.Create().SetKind(kind).SetSubject(subject).SetBody(body).SetOccurredAt(occurred).
		SetNillableDirection(direction).SetNillableContactID(person).SetNillableOrganizationID(org).
		SetNillableDealID(dl).SetNillableOwnerID(owner)
	if !done.IsZero() {
		cr.SetDoneAt(done)
	}
	if ext != "" {
		cr.SetExternalSource(im.m.Source).SetExternalID(ext)
	}
	made := r.createdAt
	if made.IsZero() {
		made = occurred
	}
	cr.SetCreatedAt(made)
	a, err := cr.Save(ctx)
	if err != nil {
		return 0, nil, err
	}
	k.add(a, im.m.Source)
	return created, nil, nil
}

// products imports products, matched by source ID, else by SKU, else by
// name.
type products struct{ byExt, bySKU, byName map[string]pulid.ID }

func (k *products) load(ctx context.Context, c *ent.Client, source string) error {
	k.byExt, k.bySKU, k.byName = map[string]pulid.ID{}, map[string]pulid.ID{}, map[string]pulid.ID{}
	ps, err := c.Product.Query().Order(ent.Asc(product.FieldCreatedAt), ent.Asc(product.FieldID)).
		Select(product.FieldID, product.FieldName, product.FieldSku, product.FieldExternalSource, product.FieldExternalID).All(ctx)
	for _, p := range ps {
		k.add(p, source)
	}
	return err
}

func (k *products) add(p *ent.Product, source string) {
	if p.ExternalSource != nil && *p.ExternalSource == source && p.ExternalID != nil {
		k.byExt[*p.ExternalID] = p.ID
	}
	firstOf(k.bySKU, key(p.Sku), p.ID)
	firstOf(k.byName, key(p.Name), p.ID)
}

func (k *products) apply(ctx context.Context, c *ent.Client, im *importer, r record) (outcome, *Reject, error) {
	name, sku, desc := r.get("name"), r.get("sku"), r.get("description")
	if name == "" {
		return 0, r.reject("name", "missing_name", "a product needs a name"), nil
	}
	price, currency, rej := im.money(r, "price", false)
	if rej != nil {
		return 0, rej, nil
	}
	cost, costCur, rej := im.money(r, "unit_cost", false)
	if rej != nil {
		return 0, rej, nil
	}
	if currency == "" {
		currency = costCur
	}
	var active *bool
	if a := r.get("active"); a != "" {
		b, err := value.Bool(a)
		if err != nil {
			return 0, r.reject("active", "invalid_value", "%v", err), nil
		}
		active = &b
	}
	ext := r.get("external_id")
	keys := []dupKey{{"sku", "SKU", key(sku), k.bySKU}}
	if sku == "" && ext == "" {
		keys = append(keys, dupKey{"name", "name", key(name), k.byName})
	}
	id, rej := match(r, im.o.Merge, ext, k.byExt, keys...)
	if rej != nil {
		return 0, rej, nil
	}
	if id != "" {
		old, err := c.Product.Get(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		u := c.Product.UpdateOneID(id)
		n := 0
		n += setIf(old.Name != name, func() { u.SetName(name) })
		n += setIf(sku != "" && old.Sku != sku, func() { u.SetSku(sku) })
		n += setIf(desc != "" && old.Description != desc, func() { u.SetDescription(desc) })
		n += setIf(r.get("price") != "" && int64(old.Price) != price, func() { u.SetPrice(crm.Money(price)) })
		n += setIf(r.get("unit_cost") != "" && int64(old.UnitCost) != cost, func() { u.SetUnitCost(crm.Money(cost)) })
		n += setIf(currency != "" && old.Currency != currency, func() { u.SetCurrency(currency) })
		n += setIf(active != nil && old.Active != *active, func() { u.SetActive(*active) })
		n += setIf(old.ExternalID == nil && ext != "", func() { u.SetExternalSource(im.m.Source).SetExternalID(ext) })
		if n == 0 {
			return unchanged, nil, nil
		}
		p, err := u.Save(ctx)
		if err != nil {
			return 0, nil, err
		}
		k.add(p, im.m.Source)
		return updated, nil, nil
	}
	cr := c.Product.Create().SetName(name).SetSku(sku).SetDescription(desc).SetPrice(crm.Money(price)).
		SetUnitCost(crm.Money(cost)).SetNillableActive(active)
	if currency != "" {
		cr.SetCurrency(currency)
	}
	if ext != "" {
		cr.SetExternalSource(im.m.Source).SetExternalID(ext)
	}
	if !r.createdAt.IsZero() {
		cr.SetCreatedAt(r.createdAt)
	}
	p, err := cr.Save(ctx)
	if err != nil {
		return 0, nil, err
	}
	k.add(p, im.m.Source)
	return created, nil, nil
}

// orders imports orders (a negative amount is a refund), matched by
// source ID, else by number.
type orders struct{ byExt, byNumber map[string]pulid.ID }

func (k *orders) load(ctx context.Context, c *ent.Client, source string) error {
	k.byExt, k.byNumber = map[string]pulid.ID{}, map[string]pulid.ID{}
	os, err := c.Order.Query().Order(ent.Asc(order.FieldCreatedAt), ent.Asc(order.FieldID)).
		Select(order.FieldID, order.FieldNumber, order.FieldExternalSource, order.FieldExternalID).All(ctx)
	for _, o := range os {
		k.add(o, source)
	}
	return err
}

func (k *orders) add(o *ent.Order, source string) {
	if o.ExternalSource != nil && *o.ExternalSource == source && o.ExternalID != nil {
		k.byExt[*o.ExternalID] = o.ID
	}
	firstOf(k.byNumber, key(o.Number), o.ID)
}

// when dates an order's trail by when it was placed.
func (k *orders) when(im *importer, r record) (time.Time, *Reject) {
	return im.date(r, "ordered_at")
}

func (k *orders) apply(ctx context.Context, c *ent.Client, im *importer, r record) (outcome, *Reject, error) {
	if r.get("amount") == "" {
		return 0, r.reject("amount", "missing_amount", "an order needs an amount"), nil
	}
	amount, currency, rej := im.money(r, "amount", true)
	if rej != nil {
		return 0, rej, nil
	}
	cost, _, rej := im.money(r, "cost", true)
	if rej != nil {
		return 0, rej, nil
	}
	at, rej := im.date(r, "ordered_at")
	if rej != nil {
		return 0, rej, nil
	}
	if at.IsZero() {
		if at = r.createdAt; at.IsZero() {
			return 0, r.reject("ordered_at", "missing_date", "an order needs the date it was placed"), nil
		}
	}
	person, rej := im.links.contact(r)
	if rej != nil {
		return 0, rej, nil
	}
	org, rej := im.links.org(r)
	if rej != nil {
		return 0, rej, nil
	}
	dl, rej := im.links.deal(r)
	if rej != nil {
		return 0, rej, nil
	}
	if person == nil && org == nil {
		return 0, r.reject("contact.email", "missing_customer", "an order needs its customer: a contact or an organization"), nil
	}
	number, ext := r.get("number"), r.get("external_id")
	id, rej := match(r, im.o.Merge, ext, k.byExt, dupKey{"number", "number", key(number), k.byNumber})
	if rej != nil {
		return 0, rej, nil
	}
	if id != "" {
		old, err := c.Order.Get(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		u := c.Order.UpdateOneID(id)
		n := 0
		n += setIf(number != "" && old.Number != number, func() { u.SetNumber(number) })
		n += setIf(int64(old.Amount) != amount, func() { u.SetAmount(crm.Money(amount)) })
		n += setIf(r.get("cost") != "" && int64(old.Cost) != cost, func() { u.SetCost(crm.Money(cost)) })
		n += setIf(currency != "" && old.Currency != currency, func() { u.SetCurrency(currency) })
		n += setIf(!old.OrderedAt.Equal(at), func() { u.SetOrderedAt(at) })
		n += setIf(person != nil && !samePtr(old.ContactID, person), func() { u.SetContactID(*person) })
		n += setIf(org != nil && !samePtr(old.OrganizationID, org), func() { u.SetOrganizationID(*org) })
		n += setIf(dl != nil && !samePtr(old.DealID, dl), func() { u.SetDealID(*dl) })
		n += setIf(old.ExternalID == nil && ext != "", func() { u.SetExternalSource(im.m.Source).SetExternalID(ext) })
		if n == 0 {
			return unchanged, nil, nil
		}
		o, err := u.Save(ctx)
		if err != nil {
			return 0, nil, err
		}
		k.add(o, im.m.Source)
		return updated, nil, nil
	}
	cr := c.Order.Create().SetAmount(crm.Money(amount)).SetCost(crm.Money(cost)).SetOrderedAt(at).
		SetNillableContactID(person).SetNillableOrganizationID(org).SetNillableDealID(dl)
	if number != "" {
		cr.SetNumber(number)
	}
	if currency != "" {
		cr.SetCurrency(currency)
	}
	if ext != "" {
		cr.SetExternalSource(im.m.Source).SetExternalID(ext)
	}
	made := r.createdAt
	if made.IsZero() {
		made = at
	}
	cr.SetCreatedAt(made)
	o, err := cr.Save(ctx)
	if err != nil {
		return 0, nil, err
	}
	k.add(o, im.m.Source)
	return created, nil, nil
}
