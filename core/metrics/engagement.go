package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/metrics/rollup"
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
	for k := p.first; k <= p.last; k++ {
		ep := EngagementPeriod{Span: p.span(k), ByKind: make([]KindCount, len(ActivityKinds))}
		for i, kind := range ActivityKinds {
			ep.ByKind[i].Kind = kind
		}
		out.Periods = append(out.Periods, ep)
	}
	var err error
	switch {
	case s.raw:
		if err = s.rawActivities(ctx, p, out); err == nil {
			err = s.rawReplies(ctx, p, out)
		}
		if err == nil {
			out.LastTouch, err = s.lastTouch(ctx, p)
		}
	default:
		// The rollups count replies within their window; another window
		// is computed from the activities.
		replies := p.replyIn == rollup.ReplyWithin
		if err = s.rollupActivities(ctx, p, out, replies); err == nil && !replies {
			err = s.rawReplies(ctx, p, out)
		}
		if err == nil {
			out.LastTouch, err = s.rollupLastTouch(ctx, p)
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// countActivity adds n activities of a kind to period k of out.
func countActivity(p *plan, out *Engagement, k int, kind string, n int) {
	for i, kd := range ActivityKinds {
		if kd == kind {
			ep := &out.Periods[k-p.first]
			ep.ByKind[i].Count += n
			ep.Activities += n
			return
		}
	}
}

// setContacts sets each period's contacts, from the contacts created by
// period (periods up to the range's last), and the rates over them.
func setContacts(p *plan, out *Engagement, created map[int]int) {
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
}

// rollupActivities counts contacts, activities and (with replies) the
// outbound emails and their replies from the engagement rollups: without
// a filter from the monthly sums over all contacts, with one from the
// filtered contacts' monthly rows (and contacts from the contacts table).
func (s *Service) rollupActivities(ctx context.Context, p *plan, out *Engagement, replies bool) error {
	d := p.d
	pm := p.Period.months()
	var a args
	ws := a.add(string(p.ws))
	firstM, lastM := a.add(p.first*pm), a.add((p.last+1)*pm-1)
	per := fmt.Sprintf("month / %d", pm)
	var query string
	if p.Filter == (Filter{}) {
		query = `SELECT 0, ` + per + `, '', ` + d.sum("contacts") + `, 0, 0 FROM rollup_engagement_created
WHERE workspace_id = ` + ws + ` AND month <= ` + lastM + `
GROUP BY ` + per + `
UNION ALL
SELECT 1, ` + per + `, kind, ` + d.sum("activities") + `, ` + d.sum("outbound") + `, ` + d.sum("replied") + ` FROM rollup_engagement_months
WHERE workspace_id = ` + ws + ` AND month >= ` + firstM + ` AND month <= ` + lastM + `
GROUP BY ` + per + `, kind`
	} else {
		last := a.add(p.last)
		cp := d.period("created_at", p.Period)
		query = `SELECT 0, ` + cp + `, '', COUNT(*), 0, 0 FROM ` + d.scan("contacts", "") + `
WHERE workspace_id = ` + ws + ` AND deleted_at IS NULL` + contactFilter(&a, p, ws, "") + `
GROUP BY ` + cp + ` HAVING ` + cp + ` <= ` + last + `
UNION ALL
SELECT 1, ` + per + `, kind, ` + d.sum("activities") + `, ` + d.sum("outbound") + `, ` + d.sum("replied") + ` FROM rollup_contact_months
WHERE workspace_id = ` + ws + ` AND month >= ` + firstM + ` AND month <= ` + lastM + ` AND contact_id IN (` + contactSet(&a, p, ws) + `)
GROUP BY ` + per + `, kind`
	}
	created := map[int]int{}
	err := p.each(ctx, query, a, func(r *sql.Rows) error {
		var (
			what, k, n, outbound, replied int
			kind                          string
		)
		if err := r.Scan(&what, &k, &kind, &n, &outbound, &replied); err != nil {
			return err
		}
		if what == 0 {
			created[k] += n
			return nil
		}
		countActivity(p, out, k, kind, n)
		if replies && kind == "email" {
			ep := &out.Periods[k-p.first]
			ep.OutboundEmails += outbound
			ep.Replied += replied
			ep.ReplyRate = ratio(float64(ep.Replied), float64(ep.OutboundEmails))
		}
		return nil
	})
	if err != nil {
		return wrap("activities", err)
	}
	setContacts(p, out, created)
	return nil
}

// rawActivities counts contacts and activities from the contacts and
// activities tables.
func (s *Service) rawActivities(ctx context.Context, p *plan, out *Engagement) error {
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
		countActivity(p, out, k, kind, n)
		return nil
	})
	if err != nil {
		return wrap("activities", err)
	}
	setContacts(p, out, created)
	return nil
}

// rawReplies counts the outbound emails and their replies, within the
// plan's reply window, from the activities table.
func (s *Service) rawReplies(ctx context.Context, p *plan, out *Engagement) error {
	d := p.d
	var a args
	ws := a.add(string(p.ws))
	first, last := a.add(p.first), a.add(p.last)
	before := a.add(d.roughlyBefore(p.To))
	contacts := contactSet(&a, p, ws)
	op := d.period("o.occurred_at", p.Period)
	query := `WITH ib AS MATERIALIZED (
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
	err := p.each(ctx, query, a, func(r *sql.Rows) error {
		var k, n, replied int
		if err := r.Scan(&k, &n, &replied); err != nil {
			return err
		}
		ep := &out.Periods[k-p.first]
		ep.OutboundEmails, ep.Replied = n, replied
		ep.ReplyRate = ratio(float64(replied), float64(n))
		return nil
	})
	return wrap("email replies", err)
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
	return touches(ctx, p, query, a)
}

// rollupLastTouch is lastTouch from the engagement rollups: a contact's
// latest activity at or before the as-of time is its latest activity
// when that is not after it; otherwise the latest of its monthly rows up
// to the as-of month that ended by then, and for a month row that
// straddles the as-of time (as-of is now, and the contact has activities
// later this month), the latest of its activities up to then.
func (s *Service) rollupLastTouch(ctx context.Context, p *plan) (LastTouch, error) {
	d := p.d
	var a args
	ws := a.add(string(p.ws))
	asOf := a.add(d.at(p.asOf))
	asOfT := asOf
	if !d.sqlite() {
		asOfT = "CAST(" + asOf + " AS TIMESTAMPTZ)"
	}
	month := a.add(rollup.MonthIndex(p.asOf))
	filter := ""
	if p.Filter != (Filter{}) {
		filter = " AND r.contact_id IN (" + contactSet(&a, p, ws) + ")"
	}
	query := `SELECT ` + d.floorInt("t.days") + `, COUNT(*), SUM(t.days)
FROM (
  SELECT ` + d.days("x.last_at", asOfT) + ` AS days
  FROM (
    SELECT CASE WHEN r.last_at IS NULL OR r.last_at <= ` + asOfT + ` THEN r.last_at ELSE (
      SELECT MAX(CASE WHEN m.last_at <= ` + asOfT + ` THEN m.last_at WHEN m.first_at <= ` + asOfT + ` THEN (
        SELECT MAX(` + d.utc("a.occurred_at") + `) FROM activities AS a
        WHERE a.workspace_id = ` + ws + ` AND a.contact_id = r.contact_id AND a.deleted_at IS NULL AND ` + d.utc("a.occurred_at") + ` <= ` + asOfT + `
      ) END)
      FROM rollup_contact_months AS m
      WHERE m.workspace_id = ` + ws + ` AND m.contact_id = r.contact_id AND m.month <= ` + month + `
    ) END AS last_at
    FROM rollup_contacts AS r
    WHERE r.workspace_id = ` + ws + ` AND r.created_at < ` + asOfT + filter + `
  ) AS x
) AS t
GROUP BY 1`
	return touches(ctx, p, query, a)
}

// touches reads the last touch statements' rows: by whole days since the
// last touch (NULL for never), the contacts and the sum of their days.
func touches(ctx context.Context, p *plan, query string, a args) (LastTouch, error) {
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
