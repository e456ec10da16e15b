package automation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/automation"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// scanBatch is how many records a scan reads at once: the idle records one
// idle_days automation fires on per scan, and one page of the records a
// cron tick fires on (a tick goes through all of them, page by page).
var scanBatch = 500

// scanArgs is the periodic job that checks time triggers.
type scanArgs struct{}

// Kind implements river.JobArgs.
func (scanArgs) Kind() string { return "rapport_automation_scan" }

// InsertOpts keeps one pending scan at a time.
func (scanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Minute}}
}

type scanWorker struct {
	river.WorkerDefaults[scanArgs]
	e *Engine
}

// Work checks the time triggers.
func (w *scanWorker) Work(ctx context.Context, _ *river.Job[scanArgs]) error {
	_, err := w.e.Scan(ctx, time.Now())
	return err
}

// tickArgs is the periodic job that fires the cron ticks due, more often
// than the full scan.
type tickArgs struct{}

// Kind implements river.JobArgs.
func (tickArgs) Kind() string { return "rapport_automation_tick" }

// InsertOpts keeps one pending tick check at a time.
func (tickArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: 30 * time.Second}}
}

type tickWorker struct {
	river.WorkerDefaults[tickArgs]
	e *Engine
}

// Work fires the cron ticks due.
func (w *tickWorker) Work(ctx context.Context, _ *river.Job[tickArgs]) error {
	sys := tenancy.System(ctx)
	if _, err := w.e.scanSchedules(sys, time.Now(), true); err != nil {
		return err
	}
	return w.e.enqueuePending(sys)
}

type idle struct {
	id      pulid.ID
	updated time.Time
}

// Scan fires the time-triggered automations (see Schedule) as of now:
//   - an idle_days schedule fires once for every record of its subject
//     unchanged for its idle days and meeting its condition; a record that
//     changes and goes idle again fires again;
//   - a cron schedule whose latest tick at or before now has not fired yet
//     (and came after the automation was created, updated or enabled)
//     fires that tick: once for every record of its subject meeting its
//     condition (and, with idle_days, unchanged for that many days as of
//     now). Older missed ticks do not fire.
//
// It also forgets dispatched events older than EventRetention. It returns
// the number of runs fired; the engine calls it every ScanInterval, and
// checks cron schedules alone every TickInterval.
func (e *Engine) Scan(ctx context.Context, now time.Time) (int, error) {
	sys := tenancy.System(ctx)
	fired, err := e.scanSchedules(sys, now, false)
	if err != nil {
		return fired, err
	}
	if _, err := e.client.Event.Delete().
		Where(event.DispatchedAtLT(now.Add(-e.cfg.EventRetention))).Exec(sys); err != nil {
		return fired, fmt.Errorf("forgetting old events: %w", err)
	}
	return fired, e.enqueuePending(sys)
}

// scanSchedules fires the enabled schedules (only the cron ones when
// cronOnly) as of now and returns the number of runs fired.
func (e *Engine) scanSchedules(sys context.Context, now time.Time, cronOnly bool) (int, error) {
	now = now.UTC() // SQLite compares times as text
	autos, err := e.client.Automation.Query().
		Where(automation.Enabled(true), automation.Or(automation.EventIsNil(), automation.EventEQ(""))).
		Order(automation.ByCreatedAt(), automation.ByID()).
		All(sys)
	if err != nil {
		return 0, err
	}
	fired := 0
	for _, a := range autos {
		if cronOnly && a.Schedule["cron"] == nil {
			continue
		}
		c, err := compileInput(Input{Name: a.Name, Schedule: a.Schedule, Condition: a.Condition, Actions: a.Actions}, false)
		if err != nil {
			e.cfg.Logger.Warn("automation no longer valid", "automation", a.ID, "err", err)
			continue
		}
		if c.schedule == nil {
			continue
		}
		var n int
		if c.cron != nil {
			n, err = e.fireTick(sys, a, c, now)
		} else {
			n, err = e.fireIdle(sys, a, c, now)
		}
		fired += n
		if err != nil {
			return fired, fmt.Errorf("automation %s: %w", a.ID, err)
		}
	}
	return fired, nil
}

// fireIdle fires an idle_days schedule without cron: once for each record
// idle since before now − idle days, per idle spell (the key holds the
// record's last update). It pages through every idle record by ID, so
// records already fired never hide the rest.
func (e *Engine) fireIdle(sys context.Context, a *ent.Automation, c *compiled, now time.Time) (int, error) {
	fired := 0
	wctx := workspaceCtx(sys, a.WorkspaceID)
	subject := c.schedule.Subject
	var cursor pulid.ID
	for {
		page, err := recordPage(wctx, e.client, subject, cursor, now.AddDate(0, 0, -c.schedule.IdleDays))
		if err != nil {
			return fired, err
		}
		if len(page) == 0 {
			break
		}
		cursor = page[len(page)-1].id
		keys := make([]string, len(page))
		for i, r := range page {
			keys[i] = fmt.Sprintf("%s:idle:%s:%d", a.ID, r.id, r.updated.Unix())
		}
		done, err := e.client.AutomationRun.Query().Where(automationrun.KeyIn(keys...)).
			Select(automationrun.FieldKey).Strings(sys)
		if err != nil {
			return fired, err
		}
		for i, r := range page {
			if slices.Contains(done, keys[i]) {
				continue
			}
			rec, err := loadRecord(wctx, e.client, subject, r.id)
			if ent.IsNotFound(err) {
				continue // deleted since the page was read
			}
			if err != nil {
				return fired, err
			}
			if !c.cond.Eval(rec) {
				continue
			}
			ok, err := e.fireRun(sys, a, subject, r.id, keys[i])
			if err != nil {
				return fired, err
			}
			if ok {
				fired++
			}
		}
		if len(page) < scanBatch {
			break
		}
		if err := sys.Err(); err != nil {
			return fired, err
		}
	}
	return fired, nil
}

// fireTick fires the latest tick of a cron schedule at or before now, if
// it is after the automation's creation and after where the schedule
// stands (ScheduleFiredAt), on every matching record, then records the
// tick as fired. A run's key is unique per (automation, tick, record): two
// scans racing, or a scan repeated after a crash, fire each run once.
func (e *Engine) fireTick(sys context.Context, a *ent.Automation, c *compiled, now time.Time) (int, error) {
	after := a.CreatedAt
	if a.ScheduleFiredAt != nil {
		after = *a.ScheduleFiredAt // set at or after the creation
	}
	tick, ok := lastTick(c.cron, after, now)
	if !ok {
		return 0, nil
	}
	tick = tick.UTC()
	var idleBefore time.Time
	if c.schedule.IdleDays > 0 {
		idleBefore = now.AddDate(0, 0, -c.schedule.IdleDays)
	}
	subject := c.schedule.Subject
	wctx := workspaceCtx(sys, a.WorkspaceID)
	fired := 0
	var cursor pulid.ID
	if c.wholeWorkspace() {
		// One run re-segments every record of the subject type.
		ok, err := e.fireRun(sys, a, subject, a.WorkspaceID, fmt.Sprintf("%s:cron:%d:workspace", a.ID, tick.Unix()))
		if err != nil {
			return 0, err
		}
		if ok {
			fired++
		}
		cursor = maxID // no record pages
	}
	for cursor != maxID {
		page, err := recordPage(wctx, e.client, subject, cursor, idleBefore)
		if err != nil {
			return fired, err
		}
		if len(page) == 0 {
			break
		}
		cursor = page[len(page)-1].id
		var ids []pulid.ID
		var keys []string
		for _, r := range page {
			id := r.id
			rec, err := loadRecord(wctx, e.client, subject, id)
			if ent.IsNotFound(err) {
				continue // deleted since the page was read
			}
			if err != nil {
				return fired, err
			}
			if c.cond.Eval(rec) {
				ids = append(ids, id)
				keys = append(keys, fmt.Sprintf("%s:cron:%d:%s", a.ID, tick.Unix(), id))
			}
		}
		if len(keys) > 0 {
			done, err := e.client.AutomationRun.Query().Where(automationrun.KeyIn(keys...)).
				Select(automationrun.FieldKey).Strings(sys)
			if err != nil {
				return fired, err
			}
			for i, key := range keys {
				if slices.Contains(done, key) {
					continue
				}
				ok, err := e.fireRun(sys, a, subject, ids[i], key)
				if err != nil {
					return fired, err
				}
				if ok {
					fired++
				}
			}
		}
		if len(page) < scanBatch {
			break
		}
		if err := sys.Err(); err != nil {
			return fired, err
		}
	}
	// The tick is done; where the schedule stands never moves back (an
	// update or enable may have moved it on meanwhile).
	err := e.client.Automation.Update().
		Where(automation.ID(a.ID), automation.Or(automation.ScheduleFiredAtIsNil(), automation.ScheduleFiredAtLT(tick))).
		SetScheduleFiredAt(tick).
		Exec(sys)
	return fired, err
}

// maxID sorts after every ID: a scan with it as its cursor is done.
const maxID = pulid.ID("~")

// fireRun creates the scheduled run of a on one record under key, and
// reports false when another scan created it first.
func (e *Engine) fireRun(sys context.Context, a *ent.Automation, subject string, id pulid.ID, key string) (bool, error) {
	err := e.client.AutomationRun.Create().
		SetWorkspaceID(a.WorkspaceID).
		SetAutomationID(a.ID).
		SetKey(key).
		SetTrigger("schedule").
		SetSubjectType(subject).
		SetSubjectID(id).
		SetActions(a.Actions).
		SetSteps(newSteps(a.Actions)).
		Exec(sys)
	if ent.IsConstraintError(err) {
		return false, nil
	}
	return err == nil, err
}

// recordPage lists, in ID order, up to scanBatch records of subject after
// the ID after (with when each was last updated), only those not updated
// since idleBefore unless it is zero.
func recordPage(ctx context.Context, client *ent.Client, subject string, after pulid.ID, idleBefore time.Time) ([]idle, error) {
	idleOnly := !idleBefore.IsZero()
	var out []idle
	add := func(id pulid.ID, updated time.Time) { out = append(out, idle{id, updated}) }
	var err error
	switch subject {
	case "deal":
		q := client.Deal.Query().Where(deal.IDGT(after)).Order(deal.ByID()).Limit(scanBatch).Select(deal.FieldUpdatedAt)
		if idleOnly {
			q.Where(deal.UpdatedAtLT(idleBefore))
		}
		var rows []*ent.Deal
		if rows, err = q.All(ctx); err == nil {
			for _, r := range rows {
				add(r.ID, r.UpdatedAt)
			}
		}
	case "contact":
		q := client.Contact.Query().Where(contact.IDGT(after)).Order(contact.ByID()).Limit(scanBatch).Select(contact.FieldUpdatedAt)
		if idleOnly {
			q.Where(contact.UpdatedAtLT(idleBefore))
		}
		var rows []*ent.Contact
		if rows, err = q.All(ctx); err == nil {
			for _, r := range rows {
				add(r.ID, r.UpdatedAt)
			}
		}
	case "lead":
		q := client.Lead.Query().Where(lead.IDGT(after)).Order(lead.ByID()).Limit(scanBatch).Select(lead.FieldUpdatedAt)
		if idleOnly {
			q.Where(lead.UpdatedAtLT(idleBefore))
		}
		var rows []*ent.Lead
		if rows, err = q.All(ctx); err == nil {
			for _, r := range rows {
				add(r.ID, r.UpdatedAt)
			}
		}
	case "organization":
		q := client.Organization.Query().Where(organization.IDGT(after)).Order(organization.ByID()).Limit(scanBatch).Select(organization.FieldUpdatedAt)
		if idleOnly {
			q.Where(organization.UpdatedAtLT(idleBefore))
		}
		var rows []*ent.Organization
		if rows, err = q.All(ctx); err == nil {
			for _, r := range rows {
				add(r.ID, r.UpdatedAt)
			}
		}
	case "activity":
		q := client.Activity.Query().Where(activity.IDGT(after)).Order(activity.ByID()).Limit(scanBatch).Select(activity.FieldUpdatedAt)
		if idleOnly {
			q.Where(activity.UpdatedAtLT(idleBefore))
		}
		var rows []*ent.Activity
		if rows, err = q.All(ctx); err == nil {
			for _, r := range rows {
				add(r.ID, r.UpdatedAt)
			}
		}
	default:
		return nil, fmt.Errorf("no records of %s", subject)
	}
	return out, err
}
