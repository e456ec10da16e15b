package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/ent/stagechange"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// batchSize is how many rows one CreateBulk inserts.
const batchSize = 500

// writer stores a plan through an ent client bound to a transaction, in
// dependency order, remembering the IDs each index became.
type writer struct {
	ctx context.Context // acts as an admin of the demo workspace
	c   *ent.Client
	p   *plan

	members, products, tags, pipelines []pulid.ID
	stages                             [][]pulid.ID // by pipeline, then stage
	orgs, contacts, deals, leads       []pulid.ID
}

// batches calls f for consecutive index ranges of at most batchSize
// covering [0, n).
func batches(n int, f func(lo, hi int) error) error {
	for lo := 0; lo < n; lo += batchSize {
		if err := f(lo, min(lo+batchSize, n)); err != nil {
			return err
		}
	}
	return nil
}

// ref returns the ID at index i of ids, or nil for none.
func ref(ids []pulid.ID, i int) *pulid.ID {
	if i == none {
		return nil
	}
	return &ids[i]
}

func refs(ids []pulid.ID, is []int) []pulid.ID {
	out := make([]pulid.ID, len(is))
	for k, i := range is {
		out[k] = ids[i]
	}
	return out
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (w *writer) write() error {
	for _, step := range []struct {
		what string
		do   func() error
	}{
		{"members", w.writeMembers},
		{"settings", w.writeSettings},
		{"pipelines", w.writePipelines},
		{"organizations", w.writeOrganizations},
		{"contacts", w.writeContacts},
		{"deals", w.writeDeals},
		{"line items", w.writeLineItems},
		{"leads", w.writeLeads},
		{"activities", w.writeActivities},
		{"orders", w.writeOrders},
	} {
		if err := step.do(); err != nil {
			return fmt.Errorf("write %s: %w", step.what, err)
		}
	}
	return nil
}

func (w *writer) writeMembers() error {
	p := w.p
	bs := make([]*ent.MemberCreate, len(p.members))
	for i, m := range p.members {
		bs[i] = w.c.Member.Create().
			SetName(m.name).
			SetEmail(m.email).
			SetRole(member.Role(m.role)).
			SetCreatedAt(p.setup).
			SetUpdatedAt(p.setup)
	}
	saved, err := w.c.Member.CreateBulk(bs...).Save(w.ctx)
	for _, m := range saved {
		w.members = append(w.members, m.ID)
	}
	return err
}

// writeSettings stores custom field definitions, tags and products.
func (w *writer) writeSettings() error {
	p := w.p
	fs := make([]*ent.CustomFieldCreate, len(p.fields))
	for i, f := range p.fields {
		fs[i] = w.c.CustomField.Create().
			SetEntity(customfield.Entity(f.entity)).
			SetKey(f.key).
			SetLabel(f.label).
			SetType(customfield.Type(f.typ)).
			SetCreatedAt(p.setup).
			SetUpdatedAt(p.setup)
		if len(f.options) > 0 {
			fs[i].SetOptions(f.options)
		}
	}
	if err := w.c.CustomField.CreateBulk(fs...).Exec(w.ctx); err != nil {
		return err
	}
	ts := make([]*ent.TagCreate, len(p.tags))
	for i, t := range p.tags {
		ts[i] = w.c.Tag.Create().SetName(t.name).SetColor(t.color).SetCreatedAt(p.setup).SetUpdatedAt(p.setup)
	}
	tags, err := w.c.Tag.CreateBulk(ts...).Save(w.ctx)
	if err != nil {
		return err
	}
	for _, t := range tags {
		w.tags = append(w.tags, t.ID)
	}
	ps := make([]*ent.ProductCreate, len(p.products))
	for i, pr := range p.products {
		ps[i] = w.c.Product.Create().
			SetName(pr.name).
			SetSku(pr.sku).
			SetDescription(pr.description).
			SetPrice(crm.Money(pr.price)).
			SetUnitCost(crm.Money(pr.cost)).
			SetCurrency("USD").
			SetCreatedAt(p.setup).
			SetUpdatedAt(p.setup)
	}
	products, err := w.c.Product.CreateBulk(ps...).Save(w.ctx)
	if err != nil {
		return err
	}
	for _, pr := range products {
		w.products = append(w.products, pr.ID)
	}
	return nil
}

func (w *writer) writePipelines() error {
	p := w.p
	for _, pl := range p.pipelines {
		saved, err := w.c.Pipeline.Create().
			SetName(pl.name).
			SetIsDefault(pl.isDefault).
			SetCreatedAt(p.setup).
			SetUpdatedAt(p.setup).
			Save(w.ctx)
		if err != nil {
			return err
		}
		bs := make([]*ent.StageCreate, len(pl.stages))
		for i, s := range pl.stages {
			bs[i] = w.c.Stage.Create().
				SetPipelineID(saved.ID).
				SetName(s.name).
				SetPosition(i).
				SetProbability(s.probability).
				SetKind(stage.Kind(s.kind)).
				SetCreatedAt(p.setup).
				SetUpdatedAt(p.setup)
		}
		stages, err := w.c.Stage.CreateBulk(bs...).Save(w.ctx)
		if err != nil {
			return err
		}
		ids := make([]pulid.ID, len(stages))
		for i, s := range stages {
			ids[i] = s.ID
		}
		w.pipelines = append(w.pipelines, saved.ID)
		w.stages = append(w.stages, ids)
	}
	return nil
}

func (w *writer) writeOrganizations() error {
	p := w.p
	return batches(len(p.orgs), func(lo, hi int) error {
		bs := make([]*ent.OrganizationCreate, 0, hi-lo)
		for _, o := range p.orgs[lo:hi] {
			b := w.c.Organization.Create().
				SetName(o.name).
				SetDomain(o.domain).
				SetIndustry(o.industry).
				SetEmployees(o.employees).
				SetOwnerID(w.members[o.owner]).
				AddTagIDs(refs(w.tags, o.tags)...).
				SetCreatedAt(o.created).
				SetUpdatedAt(o.created)
			if o.tier != "" {
				b.SetCustomFields(map[string]any{"tier": o.tier})
			}
			bs = append(bs, b)
		}
		saved, err := w.c.Organization.CreateBulk(bs...).Save(w.ctx)
		for _, o := range saved {
			w.orgs = append(w.orgs, o.ID)
		}
		return err
	})
}

func (w *writer) writeContacts() error {
	p := w.p
	return batches(len(p.contacts), func(lo, hi int) error {
		bs := make([]*ent.ContactCreate, 0, hi-lo)
		for _, c := range p.contacts[lo:hi] {
			b := w.c.Contact.Create().
				SetFirstName(c.first).
				SetLastName(c.last).
				SetEmail(c.email).
				SetPhone(c.phone).
				SetNillableOrganizationID(ref(w.orgs, c.org)).
				SetOwnerID(w.members[c.owner]).
				AddTagIDs(refs(w.tags, c.tags)...).
				SetCreatedAt(c.created).
				SetUpdatedAt(c.created)
			if c.title != "" {
				b.SetTitle(c.title)
			}
			if c.linkedin != "" {
				b.SetCustomFields(map[string]any{"linkedin": c.linkedin})
			}
			bs = append(bs, b)
		}
		saved, err := w.c.Contact.CreateBulk(bs...).Save(w.ctx)
		for _, c := range saved {
			w.contacts = append(w.contacts, c.ID)
		}
		return err
	})
}

// writeDeals stores the deals with their full stage histories.
//
// The Deal hooks date a new deal's status, closed_at and first
// StageChange at its created_at, and any later stage move at time.Now(),
// so a history in the past cannot be written by moving deals. Instead each
// deal is created directly in its final stage (the hooks then set the
// right status), the StageChange the hook wrote for it is replaced by the
// deal's whole history, and closed_at is set to the date of the last
// change.
func (w *writer) writeDeals() error {
	p := w.p
	return batches(len(p.deals), func(lo, hi int) error {
		bs := make([]*ent.DealCreate, 0, hi-lo)
		for i := lo; i < hi; i++ {
			d := &p.deals[i]
			bs = append(bs, w.c.Deal.Create().
				SetName(d.name).
				SetAmount(crm.Money(d.amount)).
				SetCurrency("USD").
				SetPipelineID(w.pipelines[d.pipeline]).
				SetStageID(w.stages[d.pipeline][d.last().stage]).
				SetExpectedCloseDate(d.expectedClose).
				SetNillableLostReason(optString(d.lostReason)).
				SetNillableContactID(ref(w.contacts, d.contact)).
				SetNillableOrganizationID(ref(w.orgs, d.org)).
				SetOwnerID(w.members[d.owner]).
				AddTagIDs(refs(w.tags, d.tags)...).
				SetCreatedAt(d.created()).
				SetUpdatedAt(d.last().at))
		}
		saved, err := w.c.Deal.CreateBulk(bs...).Save(w.ctx)
		if err != nil {
			return err
		}
		ids := make([]pulid.ID, len(saved))
		for k, d := range saved {
			ids[k] = d.ID
		}
		w.deals = append(w.deals, ids...)
		// The history is append-only for members; the seeder replaces the
		// hook's "created now" entries with the dated history as the operator.
		op := tenancy.System(tenancy.NewContext(w.ctx, nil))
		if _, err := w.c.StageChange.Delete().Where(stagechange.DealIDIn(ids...)).Exec(op); err != nil {
			return fmt.Errorf("replace stage history: %w", err)
		}
		var changes []*ent.StageChangeCreate
		for k, id := range ids {
			d := &p.deals[lo+k]
			actor := "member:" + string(w.members[d.owner])
			for n, s := range d.path {
				b := w.c.StageChange.Create().
					SetDealID(id).
					SetToStageID(w.stages[d.pipeline][s.stage]).
					SetChangedAt(s.at).
					SetActor(actor).
					SetCreatedAt(s.at).
					SetUpdatedAt(s.at)
				if n > 0 {
					b.SetFromStageID(w.stages[d.pipeline][d.path[n-1].stage])
				}
				changes = append(changes, b)
			}
		}
		err = batches(len(changes), func(lo, hi int) error {
			return w.c.StageChange.CreateBulk(changes[lo:hi]...).Exec(w.ctx)
		})
		if err != nil {
			return fmt.Errorf("stage history: %w", err)
		}
		for k, id := range ids {
			d := &p.deals[lo+k]
			if _, at, closed := p.closed(d); closed {
				if err := w.c.Deal.UpdateOneID(id).SetClosedAt(at).SetUpdatedAt(at).Exec(w.ctx); err != nil {
					return fmt.Errorf("close date: %w", err)
				}
			}
		}
		return nil
	})
}

func (w *writer) writeLineItems() error {
	p := w.p
	var bs []*ent.LineItemCreate
	for i := range p.deals {
		d := &p.deals[i]
		for _, it := range d.items {
			bs = append(bs, w.c.LineItem.Create().
				SetDealID(w.deals[i]).
				SetProductID(w.products[it.product]).
				SetName(p.products[it.product].name).
				SetQuantity(it.quantity).
				SetUnitPrice(crm.Money(it.unitPrice)).
				SetCreatedAt(d.created()).
				SetUpdatedAt(d.created()))
		}
	}
	return batches(len(bs), func(lo, hi int) error {
		return w.c.LineItem.CreateBulk(bs[lo:hi]...).Exec(w.ctx)
	})
}

func (w *writer) writeLeads() error {
	p := w.p
	return batches(len(p.leads), func(lo, hi int) error {
		bs := make([]*ent.LeadCreate, 0, hi-lo)
		for _, l := range p.leads[lo:hi] {
			b := w.c.Lead.Create().
				SetTitle(l.title).
				SetFirstName(l.first).
				SetLastName(l.last).
				SetEmail(l.email).
				SetCompany(l.company).
				SetSource(l.source).
				SetStatus(lead.Status(l.status)).
				SetCurrency("USD").
				SetNillableConvertedAt(optTime(l.convertedAt)).
				SetNillableOrganizationID(ref(w.orgs, l.org)).
				SetNillableContactID(ref(w.contacts, l.contact)).
				SetNillableDealID(ref(w.deals, l.deal)).
				SetNillableOwnerID(ref(w.members, l.owner)).
				SetCreatedAt(l.created).
				SetUpdatedAt(l.created)
			if l.phone != "" {
				b.SetPhone(l.phone)
			}
			if l.estimatedValue > 0 {
				b.SetEstimatedValue(crm.Money(l.estimatedValue))
			}
			if !l.convertedAt.IsZero() {
				b.SetUpdatedAt(l.convertedAt)
			}
			bs = append(bs, b)
		}
		saved, err := w.c.Lead.CreateBulk(bs...).Save(w.ctx)
		for _, l := range saved {
			w.leads = append(w.leads, l.ID)
		}
		return err
	})
}

func (w *writer) writeActivities() error {
	p := w.p
	return batches(len(p.activities), func(lo, hi int) error {
		bs := make([]*ent.ActivityCreate, 0, hi-lo)
		for _, a := range p.activities[lo:hi] {
			b := w.c.Activity.Create().
				SetKind(activity.Kind(a.kind)).
				SetSubject(a.subject).
				SetOccurredAt(a.occurred).
				SetNillableDueAt(optTime(a.due)).
				SetNillableDoneAt(optTime(a.done)).
				SetNillableContactID(ref(w.contacts, a.contact)).
				SetNillableOrganizationID(ref(w.orgs, a.org)).
				SetNillableDealID(ref(w.deals, a.deal)).
				SetNillableLeadID(ref(w.leads, a.lead)).
				SetNillableOwnerID(ref(w.members, a.owner)).
				SetCreatedAt(a.occurred).
				SetUpdatedAt(a.occurred)
			if a.body != "" {
				b.SetBody(a.body)
			}
			if a.direction != "" {
				b.SetDirection(activity.Direction(a.direction))
			}
			if !a.done.IsZero() {
				b.SetUpdatedAt(a.done)
			}
			bs = append(bs, b)
		}
		return w.c.Activity.CreateBulk(bs...).Exec(w.ctx)
	})
}

func (w *writer) writeOrders() error {
	p := w.p
	return batches(len(p.orders), func(lo, hi int) error {
		bs := make([]*ent.OrderCreate, 0, hi-lo)
		for _, o := range p.orders[lo:hi] {
			bs = append(bs, w.c.Order.Create().
				SetNumber(o.number).
				SetAmount(crm.Money(o.amount)).
				SetCost(crm.Money(o.cost)).
				SetCurrency("USD").
				SetOrderedAt(o.at).
				SetNillableContactID(ref(w.contacts, o.contact)).
				SetNillableOrganizationID(ref(w.orgs, o.org)).
				SetNillableDealID(ref(w.deals, o.deal)).
				SetCreatedAt(o.at).
				SetUpdatedAt(o.at))
		}
		return w.c.Order.CreateBulk(bs...).Exec(w.ctx)
	})
}
