package extension

import (
	"context"
	"math"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/order"
	"github.com/rapportcrm/rapport/core/ent/predicate"
	"github.com/rapportcrm/rapport/core/pulid"
)

// customerFigures fills the customerAttributes the batch asks for. It
// reads the subjects' orders, open deals and activities a row each (a
// page of subjects at a time, so a few thousand rows) and reduces them in
// Go, which keeps time arithmetic out of dialect-specific SQL.
func customerFigures(ctx context.Context, client *ent.Client, cols map[string]*column, index map[pulid.ID]int, ids []pulid.ID, of string, now time.Time) error {
	wants := func(names ...string) bool {
		for _, n := range names {
			if cols[n] != nil {
				return true
			}
		}
		return false
	}
	key := func(org, contact *pulid.ID) (int, bool) {
		id := contact
		if of == "organization" {
			id = org
		}
		if id == nil {
			return 0, false
		}
		i, ok := index[*id]
		return i, ok
	}
	n := len(ids)
	if wants("order_margin", "days_since_first_order", "days_since_last_order") {
		var where predicate.Order = order.ContactIDIn(ids...)
		if of == "organization" {
			where = order.OrganizationIDIn(ids...)
		}
		orders, err := client.Order.Query().Where(where).
			Select(order.FieldOrganizationID, order.FieldContactID, order.FieldAmount, order.FieldCost, order.FieldOrderedAt).All(ctx)
		if err != nil {
			return err
		}
		margin := make([]float64, n)
		first, last := make([]time.Time, n), make([]time.Time, n)
		for _, o := range orders {
			i, ok := key(o.OrganizationID, o.ContactID)
			if !ok {
				continue
			}
			margin[i] += float64(o.Amount-o.Cost) / 100
			if first[i].IsZero() || o.OrderedAt.Before(first[i]) {
				first[i] = o.OrderedAt
			}
			if o.OrderedAt.After(last[i]) {
				last[i] = o.OrderedAt
			}
		}
		for i := 0; i < n; i++ {
			setNumber(cols["order_margin"], i, margin[i])
			if !first[i].IsZero() {
				setNumber(cols["days_since_first_order"], i, days(now.Sub(first[i])))
				setNumber(cols["days_since_last_order"], i, days(now.Sub(last[i])))
			}
		}
	}
	if wants("open_pipeline", "open_probability") {
		var where predicate.Deal = deal.ContactIDIn(ids...)
		if of == "organization" {
			where = deal.OrganizationIDIn(ids...)
		}
		deals, err := client.Deal.Query().Where(where, deal.StatusEQ(deal.StatusOpen)).WithStage().All(ctx)
		if err != nil {
			return err
		}
		amount, probSum, count := make([]float64, n), make([]float64, n), make([]float64, n)
		for _, d := range deals {
			i, ok := key(d.OrganizationID, d.ContactID)
			if !ok {
				continue
			}
			amount[i] += d.Amount.Float()
			p := math.NaN()
			if d.Probability != nil {
				p = *d.Probability
			} else if d.Edges.Stage != nil {
				p = d.Edges.Stage.Probability
			}
			if !math.IsNaN(p) {
				probSum[i] += p
				count[i]++
			}
		}
		for i := 0; i < n; i++ {
			setNumber(cols["open_pipeline"], i, amount[i])
			if count[i] > 0 {
				setNumber(cols["open_probability"], i, probSum[i]/count[i])
			}
		}
	}
	kinds := []activity.Kind{activity.KindCall, activity.KindEmail, activity.KindMeeting, activity.KindNote, activity.KindTask}
	if wants("call_count", "email_count", "meeting_count", "note_count", "task_count", "inbound_call_count", "inbound_email_count",
		"inbound_meeting_count", "days_since_last_activity", "activity_span_days") {
		var where predicate.Activity = activity.ContactIDIn(ids...)
		if of == "organization" {
			where = activity.OrganizationIDIn(ids...)
		}
		acts, err := client.Activity.Query().Where(where).
			Select(activity.FieldOrganizationID, activity.FieldContactID, activity.FieldKind, activity.FieldDirection, activity.FieldOccurredAt).All(ctx)
		if err != nil {
			return err
		}
		counts, inbound := map[activity.Kind][]float64{}, map[activity.Kind][]float64{}
		for _, k := range kinds {
			counts[k], inbound[k] = make([]float64, n), make([]float64, n)
		}
		first, last := make([]time.Time, n), make([]time.Time, n)
		for _, a := range acts {
			i, ok := key(a.OrganizationID, a.ContactID)
			if !ok {
				continue
			}
			if c := counts[a.Kind]; c != nil {
				c[i]++
				if a.Direction != nil && *a.Direction == activity.DirectionInbound {
					inbound[a.Kind][i]++
				}
			}
			if first[i].IsZero() || a.OccurredAt.Before(first[i]) {
				first[i] = a.OccurredAt
			}
			if a.OccurredAt.After(last[i]) {
				last[i] = a.OccurredAt
			}
		}
		for _, k := range kinds {
			for i := 0; i < n; i++ {
				setNumber(cols[string(k)+"_count"], i, counts[k][i])
				setNumber(cols["inbound_"+string(k)+"_count"], i, inbound[k][i])
			}
		}
		for i := 0; i < n; i++ {
			if !first[i].IsZero() {
				setNumber(cols["days_since_last_activity"], i, days(now.Sub(last[i])))
				setNumber(cols["activity_span_days"], i, days(last[i].Sub(first[i])))
			}
		}
	}
	return nil
}

// setNumber sets a numeric column's value, when the column is asked for.
func setNumber(c *column, i int, v float64) {
	if c != nil {
		c.Numbers[i] = v
	}
}
