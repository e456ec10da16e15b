package metrics

import (
	"context"
	"sync"
	"time"
)

// Report is every metric over one range: what the GraphQL metrics field,
// the CLI and report plugins are given.
type Report struct {
	Period       Period           `json:"period"`
	From         time.Time        `json:"from"`
	To           time.Time        `json:"to"`
	ActiveWindow int              `json:"activeWindow"`
	Customers    []CustomerPeriod `json:"customers"`
	Cohorts      *CohortMatrix    `json:"cohorts"`
	CLV          *CLV             `json:"clv"`
	Deals        []DealPeriod     `json:"deals"`
	Conversion   []Funnel         `json:"conversion"`
	Forecast     *Forecast        `json:"forecast"`
	Engagement   *Engagement      `json:"engagement"`
}

// Report computes every metric of q. The customer metrics (series,
// cohorts, CLV) share one query; the deal, conversion, forecast and
// engagement queries run beside it, each on its own connection.
func (s *Service) Report(ctx context.Context, q Query) (*Report, error) {
	p, err := s.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	r := &Report{Period: p.Period, From: p.From, To: p.To, ActiveWindow: p.window}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	run := func(f func(p *plan) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.read(ctx, p, f); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	run(func(p *plan) error {
		b, err := s.customerBase(ctx, p, p.TopCustomers)
		if err != nil {
			return err
		}
		r.Customers, r.Cohorts = b.series(), b.cohorts()
		r.CLV, err = s.finishCLV(ctx, p, b)
		return err
	})
	run(func(p *plan) (err error) { r.Deals, err = s.deals(ctx, p); return })
	run(func(p *plan) (err error) { r.Conversion, err = s.conversion(ctx, p); return })
	run(func(p *plan) (err error) { r.Forecast, err = s.forecast(ctx, p); return })
	run(func(p *plan) (err error) { r.Engagement, err = s.engagement(ctx, p); return })
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return r, nil
}
