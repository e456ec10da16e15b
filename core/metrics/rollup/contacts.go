package rollup

// Engagement rollups. Four tables, per workspace:
//
//   - rollup_contacts: one row per contact not deleted, with its creation
//     time and its latest activity (NULL for none);
//   - rollup_contact_months: per contact, UTC month and activity kind, the
//     activities, the outbound emails, how many of them an inbound email
//     of the contact followed within ReplyWithin, and the first and last
//     activity;
//   - rollup_engagement_months: rollup_contact_months summed over the
//     contacts, by month and kind;
//   - rollup_engagement_created: the contacts created in each month.
//
// Only activities that are not deleted, of contacts that are not
// deleted, count: a contact's contribution is all of its rows or none.
//
// Times are those core/metrics compares: in SQLite the UTC text of its
// utc expression (whole seconds, "YYYY-MM-DD HH:MM:SS"), so that a
// reply's window, a month and days since a last touch come out as the
// statements over activities compute them; in PostgreSQL the stored
// timestamptz.

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ReplyWithin is the reply window the engagement rollups count replies
// for: core/metrics' default. Another window is computed from the
// activities.
const ReplyWithin = 7 * 24 * time.Hour

// sqliteTime is the layout of SQLite's UTC text.
const sqliteTime = "2006-01-02 15:04:05"

// engRow is one row of rollup_contact_months.
type engRow struct {
	month         int
	kind          string
	n, out, reply int64
	first, last   time.Time
}

func (m *engRow) String() string {
	return fmt.Sprintf("activities %d outbound %d replied %d first %s last %s", m.n, m.out, m.reply,
		m.first.UTC().Format(time.RFC3339Nano), m.last.UTC().Format(time.RFC3339Nano))
}

// engContact is one contact's engagement rows.
type engContact struct {
	id      string
	created time.Time
	last    time.Time // zero: never touched
	rows    []*engRow // in (month, kind) order
}

func (c *engContact) String() string {
	last := "never"
	if !c.last.IsZero() {
		last = c.last.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("created %s last %s", c.created.UTC().Format(time.RFC3339Nano), last)
}

func (c *engContact) sort() {
	sort.Slice(c.rows, func(i, j int) bool {
		if c.rows[i].month != c.rows[j].month {
			return c.rows[i].month < c.rows[j].month
		}
		return c.rows[i].kind < c.rows[j].kind
	})
}

// act is an activity of a contact.
type act struct {
	kind, dir string
	at        time.Time
}

// build computes the contact's rows from its activities.
func (c *engContact) build(acts []act) {
	var inbound []time.Time
	for _, a := range acts {
		if a.kind == "email" && a.dir == "inbound" {
			inbound = append(inbound, a.at)
		}
	}
	sort.Slice(inbound, func(i, j int) bool { return inbound[i].Before(inbound[j]) })
	byKey := map[string]*engRow{}
	for _, a := range acts {
		m := MonthIndex(a.at)
		k := fmt.Sprintf("%d/%s", m, a.kind)
		r := byKey[k]
		if r == nil {
			r = &engRow{month: m, kind: a.kind, first: a.at, last: a.at}
			byKey[k] = r
			c.rows = append(c.rows, r)
		}
		r.n++
		if a.at.Before(r.first) {
			r.first = a.at
		}
		if a.at.After(r.last) {
			r.last = a.at
		}
		if c.last.IsZero() || a.at.After(c.last) {
			c.last = a.at
		}
		if a.kind == "email" && a.dir == "outbound" {
			r.out++
			// The first inbound email after it, if within the window.
			i := sort.Search(len(inbound), func(i int) bool { return inbound[i].After(a.at) })
			if i < len(inbound) && !inbound[i].After(a.at.Add(ReplyWithin)) {
				r.reply++
			}
		}
	}
	c.sort()
}

// engKey names a row of rollup_engagement_months.
type engKey struct {
	month int
	kind  string
}

// engVal is the values of a row of rollup_engagement_months.
type engVal struct{ n, out, reply int64 }

func (v engVal) String() string {
	return fmt.Sprintf("activities %d outbound %d replied %d", v.n, v.out, v.reply)
}

// engDelta is what contacts add to the aggregate tables.
type engDelta struct {
	months  map[engKey]*engVal
	created map[int]int64
}

func newEngDelta() *engDelta {
	return &engDelta{months: map[engKey]*engVal{}, created: map[int]int64{}}
}

// add adds (sign 1) or takes away (sign −1) the contact's contribution.
func (d *engDelta) add(c *engContact, sign int64) {
	d.created[MonthIndex(c.created)] += sign
	for _, r := range c.rows {
		k := engKey{r.month, r.kind}
		v := d.months[k]
		if v == nil {
			v = &engVal{}
			d.months[k] = v
		}
		v.n += sign * r.n
		v.out += sign * r.out
		v.reply += sign * r.reply
	}
}

// utc returns an expression for a time column as core/metrics compares
// it: in SQLite UTC text to the second, in PostgreSQL the column.
func (r *refresher) utc(col string) string {
	if r.postgres() {
		return col
	}
	off := fmt.Sprintf("substr(%[1]s, 20 + instr(substr(%[1]s, 20), ' '), 5)", col)
	slow := fmt.Sprintf("(CASE WHEN %[2]s GLOB '[+-][0-9][0-9][0-9][0-9]' "+
		"THEN datetime(substr(%[1]s, 1, 19), ((CASE WHEN substr(%[2]s, 1, 1) = '-' THEN 1 ELSE -1 END) * (substr(%[2]s, 2, 2) * 60 + substr(%[2]s, 4, 2))) || ' minutes') "+
		"ELSE datetime(%[1]s) END)", col, off)
	return fmt.Sprintf("(CASE WHEN instr(%[1]s, ' +0000 ') > 0 THEN substr(%[1]s, 1, 19) ELSE %[2]s END)", col, slow)
}

// timeOf reads a time scanned into an any: SQLite's UTC text or a
// PostgreSQL timestamptz. ok is false for NULL or text that is no time.
func timeOf(v any) (t time.Time, ok bool) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), true
	case string:
		t, err := time.ParseInLocation(sqliteTime, x, time.UTC)
		return t, err == nil
	case []byte:
		t, err := time.ParseInLocation(sqliteTime, string(x), time.UTC)
		return t, err == nil
	}
	return time.Time{}, false
}

// stamp is a time as the rollup tables store it.
func (r *refresher) stamp(t time.Time) any {
	if r.postgres() {
		return t.UTC()
	}
	return t.UTC().Format(sqliteTime)
}

// freshContacts recomputes the contacts of the workspace, those named by
// ids or, with none, all of them.
func (r *refresher) freshContacts(ctx context.Context, ids []string) (map[string]*engContact, error) {
	args := []any{r.ws}
	in := func(col string) string { return "" }
	if len(ids) > 0 {
		in = func(col string) string {
			s := ` AND ` + col + ` IN (` + r.phs(len(args)+1, len(ids)) + `)`
			for _, id := range ids {
				args = append(args, id)
			}
			return s
		}
	}
	out := map[string]*engContact{}
	q := `SELECT id, ` + r.utc("created_at") + ` FROM contacts WHERE workspace_id = ` + r.ph(1) + ` AND deleted_at IS NULL` + in("id")
	err := r.each(ctx, q, args, func(rows *sql.Rows) error {
		var (
			id string
			at any
		)
		if err := rows.Scan(&id, &at); err != nil {
			return err
		}
		t, ok := timeOf(at)
		if !ok {
			return fmt.Errorf("contact %s: unreadable created_at %v", id, at)
		}
		out[id] = &engContact{id: id, created: t}
		return nil
	})
	if err != nil {
		return nil, err
	}
	args = []any{r.ws}
	acts := map[string][]act{}
	q = `SELECT contact_id, kind, COALESCE(direction, ''), ` + r.utc("occurred_at") + ` FROM activities WHERE workspace_id = ` + r.ph(1) +
		` AND deleted_at IS NULL AND contact_id IS NOT NULL` + in("contact_id")
	err = r.each(ctx, q, args, func(rows *sql.Rows) error {
		var (
			id string
			a  act
			at any
		)
		if err := rows.Scan(&id, &a.kind, &a.dir, &at); err != nil {
			return err
		}
		if out[id] == nil {
			return nil // a deleted contact's, or another workspace's
		}
		var ok bool
		if a.at, ok = timeOf(at); ok {
			acts[id] = append(acts[id], a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for id, c := range out {
		c.build(acts[id])
	}
	return out, nil
}

// storedContacts reads the stored engagement rows of the workspace's
// contacts named by ids or, with none, of all of them.
func (r *refresher) storedContacts(ctx context.Context, ids []string) (map[string]*engContact, error) {
	where := func() (string, []any) {
		args := []any{r.ws}
		if len(ids) == 0 {
			return "", args
		}
		for _, id := range ids {
			args = append(args, id)
		}
		return ` AND contact_id IN (` + r.phs(2, len(ids)) + `)`, args
	}
	out := map[string]*engContact{}
	w, args := where()
	err := r.each(ctx, `SELECT contact_id, created_at, last_at FROM rollup_contacts WHERE workspace_id = `+r.ph(1)+w, args, func(rows *sql.Rows) error {
		var (
			id            string
			created, last any
		)
		if err := rows.Scan(&id, &created, &last); err != nil {
			return err
		}
		c := &engContact{id: id}
		c.created, _ = timeOf(created)
		c.last, _ = timeOf(last)
		out[id] = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	w, args = where()
	err = r.each(ctx, `SELECT contact_id, month, kind, activities, outbound, replied, first_at, last_at FROM rollup_contact_months WHERE workspace_id = `+r.ph(1)+w, args, func(rows *sql.Rows) error {
		var (
			id          string
			m           engRow
			first, last any
		)
		if err := rows.Scan(&id, &m.month, &m.kind, &m.n, &m.out, &m.reply, &first, &last); err != nil {
			return err
		}
		m.first, _ = timeOf(first)
		m.last, _ = timeOf(last)
		c := out[id]
		if c == nil {
			// A month row without its contact row: kept so that Check
			// reports it and a refresh takes it away.
			c = &engContact{id: id}
			out[id] = c
		}
		c.rows = append(c.rows, &m)
		return nil
	})
	for _, c := range out {
		c.sort()
	}
	return out, err
}

var (
	contactCols  = []string{"workspace_id", "contact_id", "created_at", "last_at"}
	engMonthCols = []string{"workspace_id", "contact_id", "month", "kind", "activities", "outbound", "replied", "first_at", "last_at"}
)

// contactRows returns the rows of c in rollup_contacts and
// rollup_contact_months.
func (r *refresher) contactRows(c *engContact) (contact []any, months [][]any) {
	var last any
	if !c.last.IsZero() {
		last = r.stamp(c.last)
	}
	contact = []any{r.ws, c.id, r.stamp(c.created), last}
	for _, m := range c.rows {
		months = append(months, []any{r.ws, c.id, m.month, m.kind, m.n, m.out, m.reply, r.stamp(m.first), r.stamp(m.last)})
	}
	return contact, months
}

// contacts refreshes the engagement rollups of the contacts ids (sorted).
func (r *refresher) contacts(ctx context.Context, ids []string) error {
	return inChunks(ids, chunk, func(ids []string) error { return r.contactChunk(ctx, ids) })
}

func (r *refresher) contactChunk(ctx context.Context, ids []string) error {
	if err := r.lockAll(ctx, "contact", ids); err != nil {
		return err
	}
	old, err := r.storedContacts(ctx, ids)
	if err != nil {
		return err
	}
	fresh, err := r.freshContacts(ctx, ids)
	if err != nil {
		return err
	}
	d := newEngDelta()
	for _, c := range old {
		if !c.created.IsZero() {
			d.created[MonthIndex(c.created)]--
		}
		for _, m := range c.rows {
			k := engKey{m.month, m.kind}
			v := d.months[k]
			if v == nil {
				v = &engVal{}
				d.months[k] = v
			}
			v.n -= m.n
			v.out -= m.out
			v.reply -= m.reply
		}
	}
	var contacts, months [][]any
	for _, id := range ids {
		c := fresh[id]
		if c == nil {
			continue
		}
		d.add(c, 1)
		row, ms := r.contactRows(c)
		contacts = append(contacts, row)
		months = append(months, ms...)
	}
	args := r.wsAnd(ids)
	for _, table := range []string{"rollup_contacts", "rollup_contact_months"} {
		if _, err := r.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE workspace_id = `+r.ph(1)+` AND contact_id IN (`+r.phs(2, len(ids))+`)`, args...); err != nil {
			return err
		}
	}
	if err := r.insertRows(ctx, "rollup_contacts", contactCols, contacts, ""); err != nil {
		return err
	}
	if err := r.insertRows(ctx, "rollup_contact_months", engMonthCols, months, ""); err != nil {
		return err
	}
	return r.moveEngagement(ctx, d)
}

// moveEngagement adds the deltas to the aggregate tables, in key order.
func (r *refresher) moveEngagement(ctx context.Context, d *engDelta) error {
	ks := make([]engKey, 0, len(d.months))
	for k, v := range d.months {
		if *v != (engVal{}) {
			ks = append(ks, k)
		}
	}
	sort.Slice(ks, func(i, j int) bool {
		if ks[i].month != ks[j].month {
			return ks[i].month < ks[j].month
		}
		return ks[i].kind < ks[j].kind
	})
	rows := make([][]any, 0, len(ks))
	for _, k := range ks {
		v := d.months[k]
		rows = append(rows, []any{r.ws, k.month, k.kind, v.n, v.out, v.reply})
	}
	var set []string
	for _, c := range []string{"activities", "outbound", "replied"} {
		set = append(set, c+" = rollup_engagement_months."+c+" + excluded."+c)
	}
	if err := r.insertRows(ctx, "rollup_engagement_months", []string{"workspace_id", "month", "kind", "activities", "outbound", "replied"}, rows,
		" ON CONFLICT (workspace_id, month, kind) DO UPDATE SET "+strings.Join(set, ", ")); err != nil {
		return err
	}
	ms := make([]int, 0, len(d.created))
	for m, n := range d.created {
		if n != 0 {
			ms = append(ms, m)
		}
	}
	sort.Ints(ms)
	rows = rows[:0]
	for _, m := range ms {
		rows = append(rows, []any{r.ws, m, d.created[m]})
	}
	return r.insertRows(ctx, "rollup_engagement_created", []string{"workspace_id", "month", "contacts"}, rows,
		" ON CONFLICT (workspace_id, month) DO UPDATE SET contacts = rollup_engagement_created.contacts + excluded.contacts")
}

// rebuildContacts recomputes the workspace's engagement rollups.
func (r *refresher) rebuildContacts(ctx context.Context) error {
	all, err := r.freshContacts(ctx, nil)
	if err != nil {
		return err
	}
	for _, table := range []string{"rollup_contacts", "rollup_contact_months", "rollup_engagement_months", "rollup_engagement_created"} {
		if _, err := r.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE workspace_id = `+r.ph(1), r.ws); err != nil {
			return err
		}
	}
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	d := newEngDelta()
	var contacts, months [][]any
	flush := func(force bool) error {
		if len(months)+len(contacts) < 20*chunk && !force {
			return nil
		}
		if err := r.insertRows(ctx, "rollup_contacts", contactCols, contacts, ""); err != nil {
			return err
		}
		if err := r.insertRows(ctx, "rollup_contact_months", engMonthCols, months, ""); err != nil {
			return err
		}
		contacts, months = contacts[:0], months[:0]
		return nil
	}
	for _, id := range ids {
		c := all[id]
		d.add(c, 1)
		row, ms := r.contactRows(c)
		contacts = append(contacts, row)
		months = append(months, ms...)
		if err := flush(false); err != nil {
			return err
		}
	}
	if err := flush(true); err != nil {
		return err
	}
	return r.moveEngagement(ctx, d)
}

// checkContacts compares the workspace's engagement rollups with a
// recomputation.
func (r *refresher) checkContacts(ctx context.Context) ([]Mismatch, error) {
	want, err := r.freshContacts(ctx, nil)
	if err != nil {
		return nil, err
	}
	got, err := r.storedContacts(ctx, nil)
	if err != nil {
		return nil, err
	}
	flat := func(m map[string]*engContact, stored bool) (contacts, months map[string]string) {
		contacts, months = map[string]string{}, map[string]string{}
		for id, c := range m {
			if !stored || !c.created.IsZero() {
				contacts[id] = c.String()
			}
			for _, row := range c.rows {
				months[fmt.Sprintf("%s %d/%s", id, row.month, row.kind)] = row.String()
			}
		}
		return contacts, months
	}
	gotC, gotM := flat(got, true)
	wantC, wantM := flat(want, false)
	out := compare("rollup_contacts", gotC, wantC)
	out = append(out, compare("rollup_contact_months", gotM, wantM)...)

	d := newEngDelta()
	for _, c := range want {
		d.add(c, 1)
	}
	wantE, wantN := map[string]string{}, map[string]string{}
	for k, v := range d.months {
		if *v != (engVal{}) {
			wantE[fmt.Sprintf("%d/%s", k.month, k.kind)] = v.String()
		}
	}
	for m, n := range d.created {
		if n != 0 {
			wantN[fmt.Sprint(m)] = fmt.Sprintf("contacts %d", n)
		}
	}
	gotE, gotN := map[string]string{}, map[string]string{}
	err = r.each(ctx, `SELECT month, kind, activities, outbound, replied FROM rollup_engagement_months WHERE workspace_id = `+r.ph(1), []any{r.ws}, func(rows *sql.Rows) error {
		var (
			k engKey
			v engVal
		)
		if err := rows.Scan(&k.month, &k.kind, &v.n, &v.out, &v.reply); err != nil {
			return err
		}
		if v != (engVal{}) {
			gotE[fmt.Sprintf("%d/%s", k.month, k.kind)] = v.String()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = r.each(ctx, `SELECT month, contacts FROM rollup_engagement_created WHERE workspace_id = `+r.ph(1), []any{r.ws}, func(rows *sql.Rows) error {
		var m int
		var n int64
		if err := rows.Scan(&m, &n); err != nil {
			return err
		}
		if n != 0 {
			gotN[fmt.Sprint(m)] = fmt.Sprintf("contacts %d", n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out = append(out, compare("rollup_engagement_months", gotE, wantE)...)
	out = append(out, compare("rollup_engagement_created", gotN, wantN)...)
	return out, nil
}
