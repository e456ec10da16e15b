package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// ActivityKinds are the kinds of activity engagement counts, in order.
var ActivityKinds = []string{"note", "call", "email", "meeting", "task"}

// Engagement is how much the team works with contacts: activity per
// contact by kind, replies to emails, and time since each contact was last
// touched. Deleted activities and deleted contacts are not counted; only
// activities linked to a contact are.
type Engagement struct {
	Periods   []EngagementPeriod `json:"periods"`
	LastTouch LastTouch          `json:"lastTouch"`
}

// EngagementPeriod is one period of engagement.
type EngagementPeriod struct {
	Span
	// Contacts is the number of contacts created before the period's end.
	Contacts int `json:"contacts"`
	// Activities is the number of activities with a contact that occurred
	// in the period.
	Activities int `json:"activities"`
	// ByKind splits Activities by kind, in the order of ActivityKinds.
	ByKind []KindCount `json:"byKind"`
	// OutboundEmails is the number of outbound emails to contacts.
	OutboundEmails int `json:"outboundEmails"`
	// Replied is how many of them an inbound email from the same contact
	// followed within the reply window.
	Replied int `json:"replied"`
	// ReplyRate is Replied / OutboundEmails.
	ReplyRate *float64 `json:"replyRate"`
}

// KindCount is the activities of one kind in a period.
type KindCount struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
	// PerContact is Count / Contacts.
	PerContact *float64 `json:"perContact"`
}

// LastTouch is the distribution of days since each contact's last
// activity, as of the range's end (or now, if earlier).
type LastTouch struct {
	AsOf time.Time `json:"asOf"`
	// Contacts is the number of contacts created before AsOf.
	Contacts int `json:"contacts"`
	// Touched is how many of them have an activity at or before AsOf.
	Touched int `json:"touched"`
	// AverageDays is the mean of (AsOf − last activity) in days over the
	// touched contacts.
	AverageDays *float64 `json:"averageDays"`
	// Buckets count contacts by whole days since their last touch; the
	// last bucket is the contacts never touched.
	Buckets []TouchBucket `json:"buckets"`
}

// TouchBucket counts the contacts last touched MinDays to MaxDays whole
// days before AsOf. MaxDays is nil for an open end; both are nil for the
// never-touched bucket.
type TouchBucket struct {
	Label    string `json:"label"`
	MinDays  *int   `json:"minDays"`
	MaxDays  *int   `json:"maxDays"`
	Contacts int    `json:"contacts"`
}

// touchBuckets are the buckets' bounds in whole days.
var touchBuckets = []struct {
	label    string
	min, max int // max < 0: open
}{{"0–7 days", 0, 7}, {"8–30 days", 8, 30}, {"31–90 days", 31, 90}, {"91–365 days", 91, 365}, {"over 365 days", 366, -1}}

// contactFilter returns the SQL conditions that apply q's filter to the
// contacts table under alias t ("" for none).
func contactFilter(a *args, p *plan, ws, t string) string {
	col := func(c string) string {
		if t == "" {
			return c
		}
		return t + "." + c
	}
	var b strings.Builder
	if seg := segmentMatch(a, p, ws); seg != "" {
		fmt.Fprintf(&b, " AND %s IN (SELECT subject_id FROM segment_memberships WHERE workspace_id = %s AND %s AND ended_at IS NULL AND subject_type = 'contact')", col("id"), ws, seg)
	}
	if p.Filter.OwnerID != "" {
		fmt.Fprintf(&b, " AND %s = %s", col("owner_id"), a.add(string(p.Filter.OwnerID)))
	}
	return b.String()
}

// contactSet returns a SQL subquery selecting the IDs of the filtered,
// not deleted contacts of the workspace.
func contactSet(a *args, p *plan, ws string) string {
	return "SELECT id FROM " + p.d.scan("contacts", "") + " WHERE workspace_id = " + ws + " AND deleted_at IS NULL" + contactFilter(a, p, ws, "")
}

// Engagement returns activity engagement over the range.
func (s *Service) Engagement(ctx context.Context, q Query) (*Engagement, error) {
	p, err := s.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	var out *Engagement
	err = s.read(ctx, p, func(p *plan) (err error) {
		out, err = s.engagement(ctx, p)
		return err
	})
	return out, err
}

func (s *Service) engagement(ctx context.Context, p *plan) (*Engagement, error) {
	out := &Engagement{Periods: make([]EngagementPeriod, 0, p.periods())}
	kindIndex := map[string]int{}
	for i, k := range ActivityKinds {
		kindIndex[k] = i
	}
	for k := p.first; k <= p.last; k++ {
		ep := EngagementPeriod{Span: p.span(k), ByKind: make([]KindCount, len(ActivityKinds))}
		for i, kind := range ActivityKinds {
			ep.ByKind[i].Kind = kind
		}
		out.Periods = append(out.Periods, ep)
	}
	d := p.d

	// Contacts by creation period, and activities by period and kind.
	var a args
	ws := a.add(string(p.ws))
	first, last := a.add(p.first), a.add(p.last)
	before := a.add(d.roughlyBefore(p.To))
	contacts := contactSet(&a, p, ws)
	cp := d.period("created_at", p.Period)
	ap := d.period("occurred_at", p.Period)
	query := `SELECT 0, ` + cp + `, '', COUNT(*) FROM ` + d.scan("contacts", "") + `
WHERE workspace_id = ` + ws + ` AND deleted_at IS NULL` + contactFilter(&a, p, ws, "") + `
GROUP BY ` + cp + ` HAVING ` + cp + ` <= ` + last + `
UNION ALL
SELECT 1, ` + ap + `, kind, COUNT(*) FROM ` + d.scan("activities", "") + `
WHERE workspace_id = ` + ws + ` AND deleted_at IS NULL AND occurred_at < ` + before + ` AND contact_id IN (` + contacts + `)
GROUP BY ` + ap + `, kind HAVING ` + ap + ` >= ` + first + ` AND ` + ap + ` <= ` + last
	created := map[int]int{}
	err := p.each(ctx, query, a, func(r *sql.Rows) error {
		var (
			what, k, n int
			kind       string
		)
		if err := r.Scan(&what, &k, &kind, &n); err != nil {
			return err
		}
		if what == 0 {
			created[k] += n
			return nil
		}
		if i, ok := kindIndex[kind]; ok {
			ep := &out.Periods[k-p.first]
			ep.ByKind[i].Count += n
			ep.Activities += n
		}
		return nil
	})
	if err != nil {
		return nil, wrap("activities", err)
	}
	ks := make([]int, 0, len(created))
	for k := range created {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	total, j := 0, 0
	for i := range out.Periods {
		k := p.first + i
		for ; j < len(ks) && ks[j] <= k; j++ {
			total += created[ks[j]]
		}
		ep := &out.Periods[i]
		ep.Contacts = total
		for c := range ep.ByKind {
			ep.ByKind[c].PerContact = ratio(float64(ep.ByKind[c].Count), float64(total))
		}
	}

	// Replies to outbound emails.
	a = nil
	ws = a.add(string(p.ws))
	first, last = a.add(p.first), a.add(p.last)
	before = a.add(d.roughlyBefore(p.To))
	contacts = contactSet(&a, p, ws)
	op := d.period("o.occurred_at", p.Period)
	query = `WITH ib AS MATERIALIZED (
  SELECT contact_id AS c, ` + d.utc("occurred_at") + ` AS t FROM ` + d.scan("activities", "") + `
  WHERE workspace_id = ` + ws + ` AND kind = 'email' AND direction = 'inbound' AND deleted_at IS NULL AND contact_id IS NOT NULL
)
SELECT r.p, COUNT(*), ` + d.sum("r.replied") + `
FROM (
  SELECT o.id, ` + op + ` AS p, MAX(CASE WHEN ib.c IS NULL THEN 0 ELSE 1 END) AS replied
  FROM ` + d.scan("activities", "o") + `
  LEFT JOIN ib ON ib.c = o.contact_id AND ib.t > ` + d.utc("o.occurred_at") + ` AND ib.t <= ` + d.plusSeconds(d.utc("o.occurred_at"), int64(p.replyIn/time.Second)) + `
  WHERE o.workspace_id = ` + ws + ` AND o.kind = 'email' AND o.direction = 'outbound' AND o.deleted_at IS NULL
    AND o.occurred_at < ` + before + ` AND o.contact_id IN (` + contacts + `)
  GROUP BY o.id, ` + op + `
) AS r
WHERE r.p >= ` + first + ` AND r.p <= ` + last + `
GROUP BY r.p`
	err = p.each(ctx, query, a, func(r *sql.Rows) error {
		var k, n, replied int
		if err := r.Scan(&k, &n, &replied); err != nil {
			return err
		}
		ep := &out.Periods[k-p.first]
		ep.OutboundEmails, ep.Replied = n, replied
		ep.ReplyRate = ratio(float64(replied), float64(n))
		return nil
	})
	if err != nil {
		return nil, wrap("email replies", err)
	}

	if out.LastTouch, err = s.lastTouch(ctx, p); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) lastTouch(ctx context.Context, p *plan) (LastTouch, error) {
	d := p.d
	var a args
	ws := a.add(string(p.ws))
	asOf := a.add(d.at(p.asOf))
	asOfT := asOf
	if !d.sqlite() {
		asOfT = "CAST(" + asOf + " AS TIMESTAMPTZ)"
	}
	days := d.days("la.last_at", asOfT)
	query := `WITH la AS MATERIALIZED (
  SELECT contact_id AS c, MAX(` + d.utc("occurred_at") + `) AS last_at FROM ` + d.scan("activities", "") + `
  WHERE workspace_id = ` + ws + ` AND deleted_at IS NULL AND contact_id IS NOT NULL AND ` + d.utc("occurred_at") + ` <= ` + asOfT + `
  GROUP BY contact_id
)
SELECT ` + d.floorInt("t.days") + `, COUNT(*), SUM(t.days)
FROM (
  SELECT ` + days + ` AS days
  FROM ` + d.scan("contacts", "c") + `
  LEFT JOIN la ON la.c = c.id
  WHERE c.workspace_id = ` + ws + ` AND c.deleted_at IS NULL` + contactFilter(&a, p, ws, "c") + ` AND ` + d.utc("c.created_at") + ` < ` + asOfT + `
) AS t
GROUP BY 1`
	lt := LastTouch{AsOf: p.asOf}
	counts := make([]int, len(touchBuckets))
	never := 0
	var sumDays float64
	err := p.each(ctx, query, a, func(r *sql.Rows) error {
		var (
			dd  sql.NullInt64
			n   int
			sum sql.NullFloat64
		)
		if err := r.Scan(&dd, &n, &sum); err != nil {
			return err
		}
		lt.Contacts += n
		if !dd.Valid {
			never += n
			return nil
		}
		lt.Touched += n
		sumDays += sum.Float64
		for i, b := range touchBuckets {
			if int(dd.Int64) >= b.min && (b.max < 0 || int(dd.Int64) <= b.max) {
				counts[i] += n
				break
			}
		}
		return nil
	})
	if err != nil {
		return lt, wrap("last touch", err)
	}
	if lt.Touched > 0 {
		avg := sumDays / float64(lt.Touched)
		avg = math.Round(avg*1e6) / 1e6
		lt.AverageDays = &avg
	}
	for i, b := range touchBuckets {
		tb := TouchBucket{Label: b.label, MinDays: &touchBuckets[i].min, Contacts: counts[i]}
		if b.max >= 0 {
			tb.MaxDays = &touchBuckets[i].max
		}
		lt.Buckets = append(lt.Buckets, tb)
	}
	lt.Buckets = append(lt.Buckets, TouchBucket{Label: "never", Contacts: never})
	return lt, nil
}
