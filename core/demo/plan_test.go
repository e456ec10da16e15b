package demo

import (
	"reflect"
	"testing"
	"time"
)

func TestPlanDeterministic(t *testing.T) {
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	a, b := newPlan(now), newPlan(now)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two plans for the same Now differ")
	}
	// Organizations are drawn before anything that depends on dates.
	c := newPlan(now.AddDate(0, 0, 1))
	for i := range a.orgs {
		if a.orgs[i].name != c.orgs[i].name {
			t.Fatalf("organization %d: %q, with a later Now %q", i, a.orgs[i].name, c.orgs[i].name)
		}
	}
	t.Logf("orgs %d, contacts %d, deals %d, leads %d, activities %d, orders %d",
		len(a.orgs), len(a.contacts), len(a.deals), len(a.leads), len(a.activities), len(a.orders))
}

// TestPlanSizes checks the sizes the package promises for many values of
// Now, since the numbers of orders and renewals depend on dates.
func TestPlanSizes(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for k := 0; k < 40; k++ {
		now := base.Add(time.Duration(k) * 9 * 24 * time.Hour).Add(time.Duration(k) * 37 * time.Minute)
		p := newPlan(now)
		var stageChanges, lineItems int
		status := map[string]int{}
		for i := range p.deals {
			stageChanges += len(p.deals[i].path)
			lineItems += len(p.deals[i].items)
			kind, _, _ := p.closed(&p.deals[i])
			status[kind]++
		}
		if len(p.orgs) < 100 || len(p.contacts) < 500 || len(p.leads) < 200 || len(p.deals) < 1000 ||
			len(p.activities) < 2000 || len(p.orders) < 3000 || lineItems == 0 {
			t.Errorf("now %v: orgs %d, contacts %d, leads %d, deals %d, activities %d, orders %d, line items %d",
				now, len(p.orgs), len(p.contacts), len(p.leads), len(p.deals), len(p.activities), len(p.orders), lineItems)
		}
		if k == 0 {
			t.Logf("now %v: orgs %d, contacts %d, leads %d, deals %d %v, stage changes %d, line items %d, activities %d, orders %d",
				now, len(p.orgs), len(p.contacts), len(p.leads), len(p.deals), status, stageChanges, lineItems, len(p.activities), len(p.orders))
		}
	}
}
