// Package metrics computes Rapport's built-in measurements of a
// workspace: customer churn and retention, revenue retention, cohort
// retention, customer lifetime value, stage-to-stage conversion, win rate,
// sales cycle and velocity, the weighted pipeline forecast, and activity
// engagement. The GraphQL API, the CLI (rapport metrics …) and report
// plugins all get them from a Service; charts of them are drawn by the
// chart subpackage.
//
// Every figure is aggregated in the database (SQLite or PostgreSQL) by
// hand-written SQL that names the workspace itself; Go only combines the
// aggregated rows, a few per period. Answers are for the workspace of the
// tenancy.Viewer in the context; without one a Service refuses
// (ErrNoWorkspace).
//
// # Periods and ranges
//
// A Query names a range [From, To) and a Period (month, quarter or year;
// calendar periods in UTC). From is moved back to the start of its period
// and To forward to the end of its own, so a series has one entry per
// whole period. Times are bucketed in UTC whatever offset they were
// stored with.
//
// # Customers
//
// A customer is an organization or a contact with at least one order: an
// order belongs to its organization, or, when it has none, to its
// contact; orders with neither are nobody's and are left out of every
// customer metric. Orders are counted whether or not their customer was
// deleted since (history does not change when a record is removed).
// Refunds are orders with a negative amount: they count as orders and
// subtract from revenue and margin.
//
// A customer is active in period k when they have an order in one of the
// ActiveWindow periods ending with k (k−W+1 … k; W = 1 by default: an
// order within the period). For each period k:
//
//	S  customers at start   = active in k−1
//	E  customers at end     = active in k
//	new                     = first order ever in k
//	reactivated             = active in k, not in k−1, first order before k
//	N                       = new + reactivated
//	churned                 = active in k−1, not in k        (= S − E + N)
//	retained                = active in k−1 and in k         (= S − churned)
//	churn rate              = churned / S
//	retention rate          = (E − N) / S                    (= retained / S)
//
// A rate over S = 0 is null, never 0, NaN or an error.
//
// Revenue retention compares each customer's net revenue (Σ amount,
// refunds included) in consecutive periods, over the customers with an
// order in k−1 (B):
//
//	starting revenue R0     = Σ_{c∈B} revenue_c(k−1)
//	retained revenue R1     = Σ_{c∈B} revenue_c(k)
//	lost revenue L          = Σ_{c∈B} max(0, revenue_c(k−1) − revenue_c(k))   (churned + contracted)
//	revenue churn rate      = L / R0
//	net revenue retention   = R1 / R0
//
// both null when R0 ≤ 0. Revenue and margin (Σ amount − cost) of period k
// are summed over every customer's orders in k.
//
// # Cohorts
//
// A customer's cohort is the period of their first order. For each cohort
// c in the range and each period c+j up to the range's end:
//
//	size        = customers of the cohort
//	active(j)   = of them, active in period c+j (by the window above)
//	rate(j)     = active(j) / size        (null for an empty cohort)
//	revenue(j), margin(j) = Σ of their orders in period c+j
//
// # Lifetime value
//
// Historical CLV of a customer is the sum of the margin (amount − cost)
// of all their orders up to the range's end; the report gives the total,
// the average over customers (null without customers) and the top
// customers by it.
//
// Predictive CLV is
//
//	CLV = m · r / (1 + i − r) − AC
//
// with m the margin per active customer per period (measured over the
// range: Σ_k margin(k) / Σ_k E(k)), r the retention rate per period
// (pooled over the range: Σ_k retained(k) / Σ_k S(k)), i the discount rate
// per period ((1 + annual)^(1/periods per year) − 1, annual 10 % unless
// configured) and AC the acquisition cost (0 unless configured). Any of
// m, r, annual i and AC can be configured (CLVConfig). CLV is null when m
// or r is unknown or 1 + i − r ≤ 0.
//
// # Deals
//
// Deleted deals are never counted. A deal counts by its current status
// and close date: a deal lost and reopened is open until it closes again,
// and then counts once, in the period it closed last. For period k:
//
//	created              = deals created in k
//	open at start (O)    = deals created before k and not closed before k
//	won, lost            = deals closed in k with that status
//	win rate             = won / (won + lost)
//	win rate by amount   = Σ won amount / Σ closed amount
//	average won amount V = Σ won amount / won
//	average cycle L      = mean of (closed_at − created_at) in days over the deals won in k
//	sales velocity       = O · V · win rate / L     (money per day)
//
// each null when its denominator is zero.
//
// Conversion is per pipeline, over the deals created in the range and the
// StageChange rows recorded for them up to the range's end. The steps are
// the pipeline's open stages by position, then its won stage(s) as one
// last step; lost stages are not steps. A deal's furthest step is the
// highest it entered (won above every open stage, lost below all):
//
//	deals        = deals with a stage change into the pipeline
//	entered(s)   = deals with a stage change into s
//	reached(s)   = deals whose furthest step is s or later
//	skipped(s)   = reached(s) − entered(s)      (deals that jumped over s)
//	conversion(s)= reached(s) / reached(previous step)
//	from first   = reached(s) / reached(first step)
//	win rate     = reached(won) / deals
//
// so a deal that skips a stage still passed it, moving back does not undo
// a stage reached, and re-entering a stage counts once.
//
// # Forecast
//
// The weighted pipeline sums the open deals (as they are now) by the
// period of their expected close date:
//
//	weighted = Σ amount × p,  p = the deal's probability, else its stage's
//
// rounded to the cent per bucket. Deals expected before the range are
// overdue, after it later, and without a date unscheduled.
//
// # Engagement
//
// Only activities linked to a contact count, and neither deleted
// activities nor deleted contacts do. For period k:
//
//	contacts             = contacts created before the end of k
//	per contact (kind)   = activities of the kind in k / contacts
//	outbound emails      = emails with direction outbound in k
//	replied              = of them, followed by an inbound email of the same contact within ReplyWithin (7 days)
//	reply rate           = replied / outbound emails
//
// Days since last touch is, for each contact created before the as-of
// time (the range's end, or now if earlier), as-of minus their latest
// activity at or before it, in days; the report gives the average over
// touched contacts and counts by whole days (0–7, 8–30, 31–90, 91–365,
// over 365, never).
//
// # Filters
//
// A Filter narrows every metric: by segment (customers that are members;
// deals that are, or whose organization or contact is; contacts that
// are), by owner (of the customer, the deal, the contact) and by pipeline
// (deals of the pipeline, and orders linked to one of its deals).
//
// # Speed
//
// The metrics read rollups that core/metrics/rollup keeps in the
// transaction of every write: without a filter and with the default
// activity window, the customer series, cohorts and CLV sum the cohort
// cells of the range (a few hundred rows, whatever the number of orders),
// and the top customers come from per-customer totals. With a filter or
// another window, the customer base statement runs over the customers'
// monthly rollups: window functions (LAG, LEAD, FIRST_VALUE) find each
// customer's previous and next active period and cohort, and the result
// is summed by (cohort, period). Service.Raw computes the same figures
// from the orders themselves, reading them from the order_customer_month
// index; it is the recomputation the rollups are checked against.
// BenchmarkMetrics measures every metric on a million orders (see its doc
// for the command). A period that has not ended is reported with Partial
// set: its figures are so far.
package metrics
