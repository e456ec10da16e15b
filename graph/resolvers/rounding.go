package resolvers

import (
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/internal/round"
)

// The API shows metrics, reports, scores and comparisons rounded as
// package round says (money to the cent; rates, ratios, scores and
// averages to six significant digits), so that binary noise such as
// 548.5500000000001 never reaches a client. The rounding is applied to
// the freshly computed values a resolver returns, never to what is
// stored or to what plugins are given.

// roundPtr rounds *p in place.
func roundPtr(p *float64) {
	if p != nil {
		*p = round.Measure(*p)
	}
}

func roundCustomerPeriods(ps []metrics.CustomerPeriod) {
	for i := range ps {
		p := &ps[i]
		for _, f := range []*float64{p.ChurnRate, p.RetentionRate, p.RevenueChurnRate, p.NetRevenueRetention} {
			roundPtr(f)
		}
	}
}

func roundCohorts(m *metrics.CohortMatrix) {
	if m == nil {
		return
	}
	for i := range m.Cohorts {
		for j := range m.Cohorts[i].Cells {
			roundPtr(m.Cohorts[i].Cells[j].Rate)
		}
	}
}

func roundCLV(v *metrics.CLV) {
	if v == nil {
		return
	}
	roundPtr(v.Retention)
	v.DiscountRate = round.Measure(v.DiscountRate)
}

func roundDealPeriods(ps []metrics.DealPeriod) {
	for i := range ps {
		roundPtr(ps[i].WinRate)
		roundPtr(ps[i].WinRateByAmount)
		roundPtr(ps[i].AverageCycleDays)
	}
}

func roundFunnels(fs []metrics.Funnel) {
	for i := range fs {
		roundPtr(fs[i].WinRate)
		for j := range fs[i].Steps {
			roundPtr(fs[i].Steps[j].Conversion)
			roundPtr(fs[i].Steps[j].FromFirst)
		}
	}
}

func roundEngagement(e *metrics.Engagement) {
	if e == nil {
		return
	}
	for i := range e.Periods {
		roundPtr(e.Periods[i].ReplyRate)
		for j := range e.Periods[i].ByKind {
			roundPtr(e.Periods[i].ByKind[j].PerContact)
		}
	}
	roundPtr(e.LastTouch.AverageDays)
}
