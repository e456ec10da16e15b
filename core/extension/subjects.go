package extension

import (
	"context"
	"fmt"
	"math"
	"reflect"
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
	"github.com/rapportcrm/rapport/sdk/inputs"
)

// Attributes lists, per subject type, the built-in inputs: "number"
// (numbers and flags), "category", or "id" (which sends the subject IDs).
// Declared inputs go further: see the sdk/inputs package.
var Attributes = map[string]map[string]string{}

func init() {
	for subject, names := range inputs.Builtins {
		Attributes[subject] = map[string]string{}
		for name, k := range names {
			kind := "number"
			switch k {
			case inputs.Category:
				kind = "category"
			case inputs.ID:
				kind = "id"
			}
			Attributes[subject][name] = kind
		}
	}
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

// buildBuiltins loads the subjects with the given IDs (in that order) and
// fills one column per built-in attribute. Queries run through the client
// with the caller's context, so tenancy applies; IDs the caller cannot see
// are an error. The columns are returned by name, not yet in the batch.
//
// When loaded is not nil it receives the subjects' records, for declared
// inputs that read their fields (one load of the subjects per batch).
func buildBuiltins(ctx context.Context, client *ent.Client, subjectType string, ids []pulid.ID, attrs []string, now time.Time, loaded *[]reflect.Value) (sdk.Batch, map[string]*column, error) {
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
			return b, nil, err
		}
		keep(loaded, rows)
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
				return b, nil, err
			}
			fill(cols["activity_count"], index, agg, 0)
		}
	case "contact":
		var rows []*ent.Contact
		if rows, err = client.Contact.Query().Where(contact.IDIn(ids...)).All(ctx); err != nil {
			return b, nil, err
		}
		keep(loaded, rows)
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
			return b, nil, err
		}
		if err := customerFigures(ctx, client, cols, index, ids, "contact", now); err != nil {
			return b, nil, err
		}
	case "organization":
		var rows []*ent.Organization
		if rows, err = client.Organization.Query().Where(organization.IDIn(ids...)).All(ctx); err != nil {
			return b, nil, err
		}
		keep(loaded, rows)
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
				return b, nil, err
			}
			fill(cols["contact_count"], index, agg, 0)
		}
		if err := aggregates(ctx, client, cols, index, ids, "organization"); err != nil {
			return b, nil, err
		}
		if err := customerFigures(ctx, client, cols, index, ids, "organization", now); err != nil {
			return b, nil, err
		}
	case "deal":
		var rows []*ent.Deal
		if rows, err = client.Deal.Query().Where(deal.IDIn(ids...)).WithStage().All(ctx); err != nil {
			return b, nil, err
		}
		keep(loaded, rows)
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
				return b, nil, err
			}
			fill(cols["activity_count"], index, agg, 0)
		}
	}
	if found != n {
		return b, nil, errcode.New(errcode.NotFound, "%d of %d %s subjects not found in this workspace", n-found, n, subjectType)
	}
	if want["id"] {
		b.IDs = make([]string, n)
		for i, id := range ids {
			b.IDs[i] = string(id)
		}
	}
	return b, cols, nil
}

// keep stores rows as reflect.Values in dst, when dst is not nil.
func keep[T any](dst *[]reflect.Value, rows []T) {
	if dst == nil {
		return
	}
	*dst = make([]reflect.Value, len(rows))
	for i, r := range rows {
		(*dst)[i] = reflect.ValueOf(r)
	}
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
