package extension

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/order"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/sdk"
)

// Attributes lists, per subject type, the attributes a manifest may ask
// for in "inputs". Numbers are plain (money in currency units, durations in
// days, flags 0 or 1); names ending in a category are categorical. "id"
// sends the subject IDs.
var Attributes = map[string]map[string]string{
	"lead": {
		"estimated_value": "number", "source": "category", "status": "category",
		"has_email": "number", "has_phone": "number", "has_company": "number",
		"activity_count": "number", "age_days": "number", "id": "id",
	},
	"contact": {
		"has_email": "number", "has_phone": "number", "has_title": "number", "has_organization": "number",
		"email_domain": "category", "title": "category",
		"activity_count": "number", "deal_count": "number", "won_amount": "number",
		"order_count": "number", "order_total": "number", "age_days": "number", "id": "id",
		"first_name": "category", "last_name": "category", "email": "category", "phone": "category", "organization_id": "category",
	},
	"organization": {
		"employees": "number", "industry": "category", "has_domain": "number",
		"contact_count": "number", "deal_count": "number", "won_amount": "number",
		"order_count": "number", "order_total": "number", "age_days": "number", "id": "id",
	},
	"deal": {
		"amount": "number", "status": "category", "probability": "number",
		"has_contact": "number", "has_organization": "number",
		"activity_count": "number", "age_days": "number", "days_to_close": "number", "id": "id",
	},
}

// CheckInputs reports an error naming every attribute of subjectType that
// the host cannot provide.
func CheckInputs(subjectType string, attrs []string) error {
	known, ok := Attributes[subjectType]
	if !ok {
		return errcode.Input("subjectType", "unknown subject type %q", subjectType)
	}
	var missing []string
	for _, a := range attrs {
		if _, ok := known[a]; !ok {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		return errcode.Input("plugin", "asks for %s attributes the host does not provide: %s", subjectType, strings.Join(missing, ", "))
	}
	return nil
}

// column accumulates one attribute's values for a batch.
type column struct {
	sdk.Column
	codes map[string]uint32
}

func newColumn(name, kind string, n int) *column {
	c := &column{Column: sdk.Column{Name: name}}
	if kind == "category" {
		c.Codes = make([]uint32, n)
		for i := range c.Codes {
			c.Codes[i] = sdk.Missing
		}
		c.Dictionary = []string{}
		c.codes = map[string]uint32{}
	} else {
		c.Numbers = make([]float64, n)
		for i := range c.Numbers {
			c.Numbers[i] = math.NaN()
		}
	}
	return c
}

func (c *column) setText(i int, s string) {
	if s == "" {
		c.Codes[i] = sdk.Missing
		return
	}
	code, ok := c.codes[s]
	if !ok {
		code = uint32(len(c.Dictionary))
		c.Dictionary = append(c.Dictionary, s)
		c.codes[s] = code
	}
	c.Codes[i] = code
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func days(d time.Duration) float64 { return d.Hours() / 24 }

// counts runs a GROUP BY that counts (or sums) rows per subject ID.
type idValue struct {
	ID    pulid.ID `json:"id"`
	Value float64  `json:"value"`
}

func toMap(rows []idValue) map[pulid.ID]float64 {
	m := make(map[pulid.ID]float64, len(rows))
	for _, r := range rows {
		m[r.ID] = r.Value
	}
	return m
}

// BuildBatch loads the subjects with the given IDs (in that order) and
// fills one column per asked attribute. Queries run through the client with
// the caller's context, so tenancy applies; IDs the caller cannot see are
// an error.
func BuildBatch(ctx context.Context, client *ent.Client, subjectType string, ids []pulid.ID, attrs []string, now time.Time) (sdk.Batch, error) {
	if err := CheckInputs(subjectType, attrs); err != nil {
		return sdk.Batch{}, err
	}
	n := len(ids)
	b := sdk.Batch{SubjectType: subjectType, Count: n}
	index := make(map[pulid.ID]int, n)
	for i, id := range ids {
		index[id] = i
	}
	cols := map[string]*column{}
	want := map[string]bool{}
	for _, a := range attrs {
		want[a] = true
		if kind := Attributes[subjectType][a]; kind != "id" {
			cols[a] = newColumn(a, kind, n)
		}
	}
	set := func(name string, i int, v float64) {
		if c := cols[name]; c != nil {
			c.Numbers[i] = v
		}
	}
	setText := func(name string, i int, s string) {
		if c := cols[name]; c != nil {
			c.setText(i, s)
		}
	}
	found := 0
	var err error
	switch subjectType {
	case "lead":
		var rows []*ent.Lead
		if rows, err = client.Lead.Query().Where(lead.IDIn(ids...)).All(ctx); err != nil {
			return b, err
		}
		for _, l := range rows {
			i := index[l.ID]
			found++
			set("estimated_value", i, l.EstimatedValue.Float())
			setText("source", i, l.Source)
			setText("status", i, string(l.Status))
			set("has_email", i, flag(l.Email != ""))
			set("has_phone", i, flag(l.Phone != ""))
			set("has_company", i, flag(l.Company != "" || l.OrganizationID != nil))
			set("age_days", i, days(now.Sub(l.CreatedAt)))
		}
		if want["activity_count"] {
			var agg []idValue
			if err := client.Activity.Query().Where(activity.LeadIDIn(ids...)).
				Modify(countBy(activity.FieldLeadID)).Scan(ctx, &agg); err != nil {
				return b, err
			}
			fill(cols["activity_count"], index, agg, 0)
		}
	case "contact":
		var rows []*ent.Contact
		if rows, err = client.Contact.Query().Where(contact.IDIn(ids...)).All(ctx); err != nil {
			return b, err
		}
		for _, c := range rows {
			i := index[c.ID]
			found++
			set("has_email", i, flag(c.Email != ""))
			set("has_phone", i, flag(c.Phone != ""))
			set("has_title", i, flag(c.Title != ""))
			set("has_organization", i, flag(c.OrganizationID != nil))
			_, domain, _ := strings.Cut(c.Email, "@")
			setText("email_domain", i, strings.ToLower(domain))
			setText("title", i, c.Title)
			set("age_days", i, days(now.Sub(c.CreatedAt)))
		}
		for _, c := range rows {
			i := index[c.ID]
			setText("first_name", i, c.FirstName)
			setText("last_name", i, c.LastName)
			setText("email", i, c.Email)
			setText("phone", i, c.Phone)
			if c.OrganizationID != nil {
				setText("organization_id", i, string(*c.OrganizationID))
			}
		}
		if err := aggregates(ctx, client, cols, index, ids, "contact"); err != nil {
			return b, err
		}
		if err := customerFigures(ctx, client, cols, index, ids, "contact", now); err != nil {
			return b, err
		}
	case "organization":
		var rows []*ent.Organization
		if rows, err = client.Organization.Query().Where(organization.IDIn(ids...)).All(ctx); err != nil {
			return b, err
		}
		for _, o := range rows {
			i := index[o.ID]
			found++
			if o.Employees != nil {
				set("employees", i, float64(*o.Employees))
			}
			setText("industry", i, o.Industry)
			set("has_domain", i, flag(o.Domain != ""))
			set("age_days", i, days(now.Sub(o.CreatedAt)))
		}
		if want["contact_count"] {
			var agg []idValue
			if err := client.Contact.Query().Where(contact.OrganizationIDIn(ids...)).
				Modify(countBy(contact.FieldOrganizationID)).Scan(ctx, &agg); err != nil {
				return b, err
			}
			fill(cols["contact_count"], index, agg, 0)
		}
		if err := aggregates(ctx, client, cols, index, ids, "organization"); err != nil {
			return b, err
		}
		if err := customerFigures(ctx, client, cols, index, ids, "organization", now); err != nil {
			return b, err
		}
	case "deal":
		var rows []*ent.Deal
		if rows, err = client.Deal.Query().Where(deal.IDIn(ids...)).WithStage().All(ctx); err != nil {
			return b, err
		}
		for _, d := range rows {
			i := index[d.ID]
			found++
			set("amount", i, d.Amount.Float())
			setText("status", i, string(d.Status))
			p := 0.0
			if d.Probability != nil {
				p = *d.Probability
			} else if d.Edges.Stage != nil {
				p = d.Edges.Stage.Probability
			}
			set("probability", i, p)
			set("has_contact", i, flag(d.ContactID != nil))
			set("has_organization", i, flag(d.OrganizationID != nil))
			set("age_days", i, days(now.Sub(d.CreatedAt)))
			if d.ExpectedCloseDate != nil {
				set("days_to_close", i, days(d.ExpectedCloseDate.Sub(now)))
			}
		}
		if want["activity_count"] {
			var agg []idValue
			if err := client.Activity.Query().Where(activity.DealIDIn(ids...)).
				Modify(countBy(activity.FieldDealID)).Scan(ctx, &agg); err != nil {
				return b, err
			}
			fill(cols["activity_count"], index, agg, 0)
		}
	}
	if found != n {
		return b, errcode.New(errcode.NotFound, "%d of %d %s subjects not found in this workspace", n-found, n, subjectType)
	}
	names := make([]string, 0, len(cols))
	for name := range cols {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b.Columns = append(b.Columns, cols[name].Column)
	}
	if want["id"] {
		b.IDs = make([]string, n)
		for i, id := range ids {
			b.IDs[i] = string(id)
		}
	}
	return b, nil
}

// countBy selects, per value of the column col, the number of rows, as
// (id, value) — an idValue.
func countBy(col string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		s.Select(sql.As(s.C(col), "id"), sql.As(sql.Count("*"), "value")).GroupBy(s.C(col))
	}
}

// sumBy selects, per value of the column col, the sum of column of.
func sumBy(col, of string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		s.Select(sql.As(s.C(col), "id"), sql.As(sql.Sum(s.C(of)), "value")).GroupBy(s.C(col))
	}
}

func fill(c *column, index map[pulid.ID]int, rows []idValue, otherwise float64) {
	if c == nil {
		return
	}
	for i := range c.Numbers {
		c.Numbers[i] = otherwise
	}
	for _, r := range rows {
		if i, ok := index[r.ID]; ok {
			c.Numbers[i] = r.Value
		}
	}
}

// aggregates fills the activity, deal and order figures of contacts or
// organizations.
func aggregates(ctx context.Context, client *ent.Client, cols map[string]*column, index map[pulid.ID]int, ids []pulid.ID, of string) error {
	type q struct {
		col  string
		scan func(*[]idValue) error
	}
	var qs []q
	if of == "contact" {
		qs = []q{
			{"activity_count", func(out *[]idValue) error {
				return client.Activity.Query().Where(activity.ContactIDIn(ids...)).Modify(countBy(activity.FieldContactID)).Scan(ctx, out)
			}},
			{"deal_count", func(out *[]idValue) error {
				return client.Deal.Query().Where(deal.ContactIDIn(ids...)).Modify(countBy(deal.FieldContactID)).Scan(ctx, out)
			}},
			{"won_amount", func(out *[]idValue) error {
				return client.Deal.Query().Where(deal.ContactIDIn(ids...), deal.StatusEQ(deal.StatusWon)).Modify(sumBy(deal.FieldContactID, deal.FieldAmount)).Scan(ctx, out)
			}},
			{"order_count", func(out *[]idValue) error {
				return client.Order.Query().Where(order.ContactIDIn(ids...)).Modify(countBy(order.FieldContactID)).Scan(ctx, out)
			}},
			{"order_total", func(out *[]idValue) error {
				return client.Order.Query().Where(order.ContactIDIn(ids...)).Modify(sumBy(order.FieldContactID, order.FieldAmount)).Scan(ctx, out)
			}},
		}
	} else {
		qs = []q{
			{"deal_count", func(out *[]idValue) error {
				return client.Deal.Query().Where(deal.OrganizationIDIn(ids...)).Modify(countBy(deal.FieldOrganizationID)).Scan(ctx, out)
			}},
			{"won_amount", func(out *[]idValue) error {
				return client.Deal.Query().Where(deal.OrganizationIDIn(ids...), deal.StatusEQ(deal.StatusWon)).Modify(sumBy(deal.FieldOrganizationID, deal.FieldAmount)).Scan(ctx, out)
			}},
			{"order_count", func(out *[]idValue) error {
				return client.Order.Query().Where(order.OrganizationIDIn(ids...)).Modify(countBy(order.FieldOrganizationID)).Scan(ctx, out)
			}},
			{"order_total", func(out *[]idValue) error {
				return client.Order.Query().Where(order.OrganizationIDIn(ids...)).Modify(sumBy(order.FieldOrganizationID, order.FieldAmount)).Scan(ctx, out)
			}},
		}
	}
	for _, x := range qs {
		c := cols[x.col]
		if c == nil {
			continue
		}
		var rows []idValue
		if err := x.scan(&rows); err != nil {
			return fmt.Errorf("%s: %w", x.col, err)
		}
		if x.col == "won_amount" || x.col == "order_total" {
			for i := range rows {
				rows[i].Value /= 100 // cents to currency units
			}
		}
		fill(c, index, rows, 0)
	}
	return nil
}
