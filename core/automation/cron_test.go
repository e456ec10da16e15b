package automation

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/timelineevent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
)

var taskAction = []map[string]any{{"type": "create_activity", "subject": "Follow up on {{deal.name}}"}}

func cronAutomation(schedule map[string]any, cond map[string]any) Input {
	return Input{Name: "cron", Schedule: schedule, Condition: cond, Actions: taskAction}
}

// stoppedEngine is an engine that is not started: tests step it with Scan.
func (f *fixture) stoppedEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := New(context.Background(), Config{Store: f.st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop(context.Background()) })
	return e
}

// startAt puts a's cron schedule where it would stand after an update at
// base: the first tick to fire is the first after base.
func (f *fixture) startAt(t *testing.T, a *ent.Automation, base time.Time) {
	t.Helper()
	f.client.Automation.UpdateOneID(a.ID).SetScheduleFiredAt(base).ExecX(f.a.ctx)
}

func scan(t *testing.T, e *Engine, now time.Time) int {
	t.Helper()
	n, err := e.Scan(context.Background(), now)
	if err != nil {
		t.Fatalf("Scan(%v): %v", now, err)
	}
	return n
}

func runsOf(t *testing.T, client *ent.Client, a *ent.Automation) []*ent.AutomationRun {
	t.Helper()
	return runs(t, client, func(q *ent.AutomationRunQuery) { q.Where(automationrun.AutomationID(a.ID)) })
}

// ticked returns, by tick time (UTC, RFC 3339), the records the runs of a
// cron schedule fired on, read from the run keys.
func ticked(t *testing.T, rs []*ent.AutomationRun) map[string][]pulid.ID {
	t.Helper()
	out := map[string][]pulid.ID{}
	for _, r := range rs {
		parts := strings.Split(r.Key, ":")
		if len(parts) != 4 || parts[1] != "cron" || parts[3] != string(r.SubjectID) || r.Trigger != "schedule" {
			t.Fatalf("run key %q trigger %q subject %s", r.Key, r.Trigger, r.SubjectID)
		}
		unix, err := strconv.ParseInt(parts[2], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Unix(unix, 0).UTC().Format(time.RFC3339)
		out[at] = append(out[at], r.SubjectID)
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

func sorted(ids ...pulid.ID) []pulid.ID {
	return slices.Sorted(slices.Values(ids))
}

func TestCronScheduleValidation(t *testing.T) {
	sched := func(kv ...any) map[string]any {
		m := map[string]any{"subject": "deal"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	bad := []struct {
		name     string
		schedule map[string]any
		field    string
		msg      string
	}{
		{"neither cron nor idle_days", sched(), "input.schedule", "idle_days, cron or both"},
		{"four fields", sched("cron", "0 9 * *"), "input.schedule.cron", "5 fields"},
		{"minute out of range", sched("cron", "61 9 * * *"), "input.schedule.cron", "61"},
		{"not a cron expression", sched("cron", "every monday"), "input.schedule.cron", "every"},
		{"unknown zone", sched("cron", "0 9 * * *", "timezone", "Mars/Olympus_Mons"), "input.schedule.timezone", "Mars/Olympus_Mons"},
		{"server's local zone", sched("cron", "0 9 * * *", "timezone", "Local"), "input.schedule.timezone", "Local"},
		{"zone without cron", sched("idle_days", 14, "timezone", "Europe/Berlin"), "input.schedule.timezone", "cron"},
		{"zone inside the expression", sched("cron", "CRON_TZ=Europe/Berlin 0 9 * * *"), "input.schedule.cron", "timezone"},
		{"every minute", sched("cron", "* * * * *"), "input.schedule.cron", "more often than every 5 minutes"},
		{"every four minutes", sched("cron", "*/4 * * * *"), "input.schedule.cron", "more often than every 5 minutes"},
		{"two ticks a minute apart once a day", sched("cron", "0,1 9 * * 1"), "input.schedule.cron", "09:00 and 09:01"},
		// 23:58 and 00:00 the next day are two minutes apart.
		{"close across midnight", sched("cron", "0,58 0,23 * * *"), "input.schedule.cron", "23:58 and 00:00"},
		// Only on the 30th and 1st of a month of 30 days.
		{"close across the end of some months", sched("cron", "0,58 0,23 1,30 * *"), "input.schedule.cron", "23:58 and 00:00"},
		{"@every", sched("cron", "@every 10m"), "input.schedule.cron", "@every"},
		{"never ticks", sched("cron", "0 9 30 2 *"), "input.schedule.cron", "never ticks"},
		{"cron with zero idle_days", sched("cron", "0 9 * * *", "idle_days", 0), "input.schedule.idle_days", "1 to 3650"},
	}
	good := []struct {
		name     string
		schedule map[string]any
		want     map[string]any // as stored
	}{
		{"idle_days alone", sched("idle_days", 14), map[string]any{"subject": "deal", "idle_days": float64(14)}},
		{"cron alone, UTC by default", sched("cron", " 0 9 * * 1 "),
			map[string]any{"subject": "deal", "cron": "0 9 * * 1", "timezone": "UTC"}},
		{"cron and idle_days", sched("cron", "0 9 * * 1", "timezone", "Europe/Berlin", "idle_days", 14),
			map[string]any{"subject": "deal", "cron": "0 9 * * 1", "timezone": "Europe/Berlin", "idle_days": float64(14)}},
		{"every five minutes", sched("cron", "*/5 * * * *"), map[string]any{"subject": "deal", "cron": "*/5 * * * *", "timezone": "UTC"}},
		{"descriptor", sched("cron", "@monthly", "timezone", "America/New_York"),
			map[string]any{"subject": "deal", "cron": "@monthly", "timezone": "America/New_York"}},
		// 23:58 on the 1st and 00:00 on the 15th are two weeks apart.
		{"late and early ticks never on consecutive days", sched("cron", "0,58 0,23 1,15 * *"),
			map[string]any{"subject": "deal", "cron": "0,58 0,23 1,15 * *", "timezone": "UTC"}},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				_, err := Create(f.a.ctx, f.client, cronAutomation(tt.schedule, nil))
				e, ok := errcode.As(err)
				if !ok || e.Code != errcode.BadUserInput {
					t.Fatalf("Create = %v, want BAD_USER_INPUT", err)
				}
				if e.Field != tt.field || !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("field %q error %q, want field %q mentioning %q", e.Field, err, tt.field, tt.msg)
				}
			})
		}
		if n := f.client.Automation.Query().CountX(f.a.ctx); n != 0 {
			t.Errorf("%d automations stored", n)
		}
		for _, tt := range good {
			t.Run(tt.name, func(t *testing.T) {
				a, err := Create(f.a.ctx, f.client, cronAutomation(tt.schedule, nil))
				if err != nil {
					t.Fatal(err)
				}
				got := f.client.Automation.GetX(f.a.ctx, a.ID).Schedule
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("stored %v, want %v", got, tt.want)
				}
			})
		}
	})
}

// TestCronTicks: a cron schedule fires nothing before its first tick
// after the automation's creation, fires once per matching record at the
// tick, nothing more until the next tick, and again at the next tick.
func TestCronTicks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		e := f.stoppedEngine(t)
		a := f.a.automation(t, f.client, cronAutomation(map[string]any{"subject": "deal", "cron": "0 9 * * *"},
			map[string]any{"field": "deal.stage", "op": "eq", "value": "Proposal"}))
		p1 := f.a.deal(t, f.client, "P1", "Proposal", 1)
		p2 := f.a.deal(t, f.client, "P2", "Proposal", 1)
		f.a.deal(t, f.client, "Q", "Qualified", 1)
		f.b.deal(t, f.client, "Other workspace", "Proposal", 1)

		first := a.CreatedAt.UTC().Truncate(24 * time.Hour).Add(9 * time.Hour)
		if !first.After(a.CreatedAt) {
			first = first.Add(24 * time.Hour)
		}
		steps := []struct {
			name string
			now  time.Time
			want int
		}{
			{"ticks before the creation", a.CreatedAt.Add(-72 * time.Hour), 0},
			{"just before the first tick", first.Add(-time.Second), 0},
			{"at the first tick", first, 2},
			{"again at the first tick", first, 0},
			{"just before the next tick", first.Add(24*time.Hour - time.Second), 0},
			{"at the next tick", first.Add(24 * time.Hour), 2},
			{"an hour later", first.Add(25 * time.Hour), 0},
		}
		for _, s := range steps {
			if n := scan(t, e, s.now); n != s.want {
				t.Fatalf("%s (%v): fired %d, want %d", s.name, s.now, n, s.want)
			}
		}
		want := map[string][]pulid.ID{
			first.Format(time.RFC3339):                     sorted(p1.ID, p2.ID),
			first.Add(24 * time.Hour).Format(time.RFC3339): sorted(p1.ID, p2.ID),
		}
		if got := ticked(t, runsOf(t, f.client, a)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("runs by tick %v, want %v", got, want)
		}
		if n := len(runs(t, f.client)); n != 4 {
			t.Errorf("%d runs in all, want 4", n)
		}
		if got := f.client.Automation.GetX(f.a.ctx, a.ID).ScheduleFiredAt; got == nil || !got.Equal(first.Add(24*time.Hour)) {
			t.Errorf("schedule fired at %v, want %v", got, first.Add(24*time.Hour))
		}
	})
}

// TestCronMissedTicks: a scan after three missed ticks fires the latest
// one only, once.
func TestCronMissedTicks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		e := f.stoppedEngine(t)
		a := f.a.automation(t, f.client, cronAutomation(map[string]any{"subject": "deal", "cron": "0 9 * * *"}, nil))
		d := f.a.deal(t, f.client, "D", "Qualified", 1)
		base := time.Date(2031, 3, 2, 0, 0, 0, 0, time.UTC)
		f.startAt(t, a, base)
		// Ticks on March 2, 3 and 4 at 09:00 were missed.
		if n := scan(t, e, time.Date(2031, 3, 4, 10, 0, 0, 0, time.UTC)); n != 1 {
			t.Fatalf("fired %d after three missed ticks, want 1", n)
		}
		if n := scan(t, e, time.Date(2031, 3, 4, 11, 0, 0, 0, time.UTC)); n != 0 {
			t.Fatalf("fired %d more before the next tick", n)
		}
		want := map[string][]pulid.ID{"2031-03-04T09:00:00Z": {d.ID}}
		if got := ticked(t, runsOf(t, f.client, a)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("runs by tick %v, want %v", got, want)
		}
	})
}

// TestCronTimezone: 09:00 in Europe/Berlin is 08:00 UTC in winter (CET,
// UTC+1) and 07:00 UTC in summer (CEST, UTC+2); in 2031 summer time
// starts on Sunday 30 March at 01:00 UTC, so that day's 09:00 is 07:00 UTC.
func TestCronTimezone(t *testing.T) {
	tests := []struct {
		name string
		tick time.Time // UTC, computed by hand
	}{
		{"winter", time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC)},
		{"the day before summer time", time.Date(2031, 3, 29, 8, 0, 0, 0, time.UTC)},
		{"the first day of summer time", time.Date(2031, 3, 30, 7, 0, 0, 0, time.UTC)},
		{"summer", time.Date(2031, 7, 15, 7, 0, 0, 0, time.UTC)},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		e := f.stoppedEngine(t)
		d := f.a.deal(t, f.client, "D", "Qualified", 1)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a := f.a.automation(t, f.client, cronAutomation(map[string]any{"subject": "deal", "cron": "0 9 * * *", "timezone": "Europe/Berlin"}, nil))
				defer func() {
					if err := Delete(f.a.ctx, f.client, a.ID); err != nil {
						t.Fatal(err)
					}
				}()
				// The schedule starts 20 hours before the tick: no other tick between.
				f.startAt(t, a, tt.tick.Add(-20*time.Hour))
				if n := scan(t, e, tt.tick.Add(-time.Second)); n != 0 {
					t.Fatalf("fired %d a second before %v", n, tt.tick)
				}
				if n := scan(t, e, tt.tick); n != 1 {
					t.Fatalf("fired %d at %v, want 1", n, tt.tick)
				}
				want := map[string][]pulid.ID{tt.tick.Format(time.RFC3339): {d.ID}}
				if got := ticked(t, runsOf(t, f.client, a)); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("runs by tick %v, want %v", got, want)
				}
			})
		}
	})
}

// TestCronWithIdleDays: at each tick, only the records unchanged for
// idle_days fire, each tick again.
func TestCronWithIdleDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		e := f.stoppedEngine(t)
		a := f.a.automation(t, f.client, cronAutomation(map[string]any{"subject": "deal", "cron": "0 9 * * *", "idle_days": 14}, nil))
		f.startAt(t, a, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
		touched := func(name string, at time.Time) *ent.Deal {
			d := f.a.deal(t, f.client, name, "Qualified", 1)
			f.client.Deal.UpdateOne(d).SetUpdatedAt(at).ExecX(f.a.ctx)
			if d = f.client.Deal.GetX(f.a.ctx, d.ID); !d.UpdatedAt.Equal(at) {
				t.Fatalf("deal %s updated at %v, want %v", name, d.UpdatedAt, at)
			}
			return d
		}
		old := touched("Old", time.Date(2030, 12, 1, 0, 0, 0, 0, time.UTC))
		recent := touched("Recent", time.Date(2030, 12, 25, 8, 0, 0, 0, time.UTC))
		touched("New", time.Date(2031, 1, 7, 0, 0, 0, 0, time.UTC)) // idle at neither tick
		// On 1 January Old has been idle 31 days, Recent 7; on 8 January
		// Recent has been idle 14 days and an hour.
		if n := scan(t, e, time.Date(2031, 1, 1, 9, 0, 0, 0, time.UTC)); n != 1 {
			t.Fatalf("fired %d on 1 January, want 1", n)
		}
		if n := scan(t, e, time.Date(2031, 1, 8, 9, 0, 0, 0, time.UTC)); n != 2 {
			t.Fatalf("fired %d on 8 January, want 2", n)
		}
		want := map[string][]pulid.ID{
			"2031-01-01T09:00:00Z": {old.ID},
			"2031-01-08T09:00:00Z": sorted(old.ID, recent.ID),
		}
		if got := ticked(t, runsOf(t, f.client, a)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("runs by tick %v, want %v", got, want)
		}
	})
}

// TestCronFiresEveryRecord: a tick goes through all the records, page by
// page, not just the first scanBatch.
func TestCronFiresEveryRecord(t *testing.T) {
	defer func(n int) { scanBatch = n }(scanBatch)
	scanBatch = 3
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		e := f.stoppedEngine(t)
		a := f.a.automation(t, f.client, Input{Name: "at risk", Schedule: map[string]any{"subject": "contact", "cron": "0 8 1 * *"},
			Condition: map[string]any{"field": "contact.title", "op": "eq", "value": "Buyer"},
			Actions:   []map[string]any{{"type": "create_activity", "subject": "Call {{contact.last_name}}"}}})
		f.startAt(t, a, time.Date(2031, 5, 20, 0, 0, 0, 0, time.UTC))
		var buyers []pulid.ID
		for i := range 11 {
			title := "CEO"
			if i%2 == 0 {
				title = "Buyer"
			}
			c := f.client.Contact.Create().SetLastName(fmt.Sprintf("C%02d", i)).SetTitle(title).SaveX(f.a.ctx)
			if title == "Buyer" {
				buyers = append(buyers, c.ID)
			}
		}
		tick := time.Date(2031, 6, 1, 8, 0, 0, 0, time.UTC)
		if n := scan(t, e, tick); n != len(buyers) {
			t.Fatalf("fired %d, want %d", n, len(buyers))
		}
		if n := scan(t, e, tick.Add(time.Hour)); n != 0 {
			t.Fatalf("fired %d more", n)
		}
		want := map[string][]pulid.ID{tick.Format(time.RFC3339): sorted(buyers...)}
		if got := ticked(t, runsOf(t, f.client, a)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("runs by tick %v, want %v", got, want)
		}
	})
}

// TestCronRacingScans: scans of two engines at once fire each run once.
func TestCronRacingScans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		engines := []*Engine{f.stoppedEngine(t), f.stoppedEngine(t)}
		a := f.a.automation(t, f.client, cronAutomation(map[string]any{"subject": "deal", "cron": "0 9 * * *"}, nil))
		f.startAt(t, a, time.Date(2031, 3, 2, 0, 0, 0, 0, time.UTC))
		for i := range 20 {
			f.a.deal(t, f.client, fmt.Sprintf("D%d", i), "Qualified", 1)
		}
		now := time.Date(2031, 3, 2, 9, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		fired := make([]int, len(engines))
		errs := make([]error, len(engines))
		for i, e := range engines {
			wg.Go(func() { fired[i], errs[i] = e.Scan(context.Background(), now) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := len(runsOf(t, f.client, a)); n != 20 {
			t.Errorf("%d runs, want 20", n)
		}
		if fired[0]+fired[1] != 20 {
			t.Errorf("the scans counted %v fired, want 20 in all", fired)
		}
	})
}

// TestCronRestartsOnUpdateAndEnable: an update or a re-enable starts the
// schedule from then; ticks before are not fired.
func TestCronRestartsOnUpdateAndEnable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		e := f.stoppedEngine(t)
		in := cronAutomation(map[string]any{"subject": "deal", "cron": "0 9 * * *"}, nil)
		kept := f.a.automation(t, f.client, in)
		toggled := f.a.automation(t, f.client, in)
		updated := f.a.automation(t, f.client, in)
		stillOn := f.a.automation(t, f.client, in)
		for _, a := range []*ent.Automation{kept, toggled, updated, stillOn} {
			// A tick was due yesterday or today.
			f.startAt(t, a, time.Now().Add(-48*time.Hour))
		}
		f.a.deal(t, f.client, "D", "Qualified", 1)
		if _, err := SetEnabled(f.a.ctx, f.client, toggled.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := SetEnabled(f.a.ctx, f.client, toggled.ID, true); err != nil {
			t.Fatal(err)
		}
		// Enabling an automation already on changes nothing.
		if _, err := SetEnabled(f.a.ctx, f.client, stillOn.ID, true); err != nil {
			t.Fatal(err)
		}
		in.Name = "renamed"
		if _, err := Update(f.a.ctx, f.client, updated.ID, in); err != nil {
			t.Fatal(err)
		}
		// The timeline shows the update's changes, not where the schedule
		// stands (bookkeeping).
		for _, id := range []pulid.ID{updated.ID, toggled.ID} {
			entries := f.client.TimelineEvent.Query().
				Where(timelineevent.SubjectID(id), timelineevent.ActionEQ(timelineevent.ActionUpdate)).AllX(f.a.ctx)
			var fields []string
			for _, en := range entries {
				for _, c := range en.Changes {
					fields = append(fields, c.Field)
				}
			}
			if slices.Contains(fields, errcode.FieldName("schedule_fired_at")) || len(fields) == 0 {
				t.Errorf("timeline of %s lists changes %v", id, fields)
			}
		}
		scan(t, e, time.Now())
		for _, tt := range []struct {
			a    *ent.Automation
			want int
		}{{kept, 1}, {toggled, 0}, {updated, 0}, {stillOn, 1}} {
			if n := len(runsOf(t, f.client, tt.a)); n != tt.want {
				t.Errorf("automation %s fired %d, want %d", tt.a.ID, n, tt.want)
			}
		}
	})
}

// TestTickJobFiresCronOnly: the frequent tick job fires due cron ticks and
// queues their runs, and leaves idle_days schedules to the scan.
func TestTickJobFiresCronOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		e := f.stoppedEngine(t)
		cronA := f.a.automation(t, f.client, cronAutomation(map[string]any{"subject": "deal", "cron": "0 9 * * *"}, nil))
		f.startAt(t, cronA, time.Now().Add(-48*time.Hour))
		idleA := f.a.automation(t, f.client, cronAutomation(map[string]any{"subject": "deal", "idle_days": 3}, nil))
		d := f.a.deal(t, f.client, "D", "Qualified", 1)
		f.client.Deal.UpdateOne(d).SetUpdatedAt(time.Now().AddDate(0, 0, -10)).ExecX(f.a.ctx)
		if err := (&tickWorker{e: e}).Work(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		rs := runsOf(t, f.client, cronA)
		if len(rs) != 1 || !rs[0].Queued {
			t.Fatalf("cron runs %+v, want one queued", rs)
		}
		if n := len(runsOf(t, f.client, idleA)); n != 0 {
			t.Fatalf("the tick job fired the idle schedule %d times", n)
		}
		if n := scan(t, e, time.Now()); n != 1 {
			t.Errorf("the scan fired %d, want the idle schedule's 1", n)
		}
	})
}

// TestCronRunsWork: the running engine fires a due tick by itself and
// the runs' actions run.
func TestCronRunsWork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		a := f.a.automation(t, f.client, cronAutomation(map[string]any{"subject": "deal", "cron": "30 6 * * *", "timezone": "Asia/Tokyo"}, nil))
		f.startAt(t, a, time.Now().Add(-48*time.Hour))
		d1 := f.a.deal(t, f.client, "One", "Qualified", 1)
		d2 := f.a.deal(t, f.client, "Two", "Won", 1)
		f.engine(t, nil)
		eventually(t, "two runs", func() bool { return finished(runsOf(t, f.client, a), 2) })
		for _, r := range runsOf(t, f.client, a) {
			if r.Status != automationrun.StatusSucceeded {
				t.Errorf("run %s: %s %s", r.ID, r.Status, r.Error)
			}
		}
		for _, d := range []*ent.Deal{d1, d2} {
			act, err := f.client.Activity.Query().Where(activity.DealID(d.ID)).Only(f.a.ctx)
			if err != nil || act.Subject != "Follow up on "+d.Name {
				t.Errorf("deal %s activity %+v %v", d.Name, act, err)
			}
		}
	})
}

func TestLastTick(t *testing.T) {
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		expr, after, now, want string // want "" for none
	}{
		{"0 9 * * *", "2031-03-02T00:00:00Z", "2031-03-02T08:59:59Z", ""},
		{"0 9 * * *", "2031-03-02T00:00:00Z", "2031-03-02T09:00:00Z", "2031-03-02T09:00:00Z"},
		{"0 9 * * *", "2031-03-02T09:00:00Z", "2031-03-02T09:00:00Z", ""}, // fired already
		{"0 9 * * *", "2031-03-02T09:00:00Z", "2031-03-05T08:00:00Z", "2031-03-04T09:00:00Z"},
		{"*/5 * * * *", "2031-03-02T00:00:00Z", "2031-03-09T07:33:10Z", "2031-03-09T07:30:00Z"},
		{"0 9 1 1 *", "2031-03-02T00:00:00Z", "2033-06-01T00:00:00Z", "2033-01-01T09:00:00Z"},
		{"0 9 29 2 *", "2028-03-01T00:00:00Z", "2032-12-31T00:00:00Z", "2032-02-29T09:00:00Z"},
		{"0 9 29 2 *", "2032-03-01T00:00:00Z", "2032-12-31T00:00:00Z", ""},
		{"0 9 * * *", "2031-03-03T00:00:00Z", "2031-03-02T12:00:00Z", ""}, // now before after
	}
	for _, tt := range tests {
		s, err := cron.ParseStandard(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		s.(*cron.SpecSchedule).Location = time.UTC
		got, ok := lastTick(s, utc(tt.after), utc(tt.now))
		if (tt.want == "") != !ok || (ok && !got.Equal(utc(tt.want))) {
			t.Errorf("%s after %s at %s: %v %v, want %q", tt.expr, tt.after, tt.now, got, ok, tt.want)
		}
	}
}

func TestNextRun(t *testing.T) {
	now := time.Date(2031, 1, 15, 8, 30, 0, 0, time.UTC) // 09:30 in Berlin
	berlin := map[string]any{"subject": "deal", "cron": "0 9 * * *", "timezone": "Europe/Berlin"}
	tests := []struct {
		name string
		a    *ent.Automation
		want string
	}{
		{"cron", &ent.Automation{Enabled: true, Schedule: berlin}, "2031-01-16T08:00:00Z"},
		{"disabled", &ent.Automation{Enabled: false, Schedule: berlin}, ""},
		{"idle_days", &ent.Automation{Enabled: true, Schedule: map[string]any{"subject": "deal", "idle_days": 3.0}}, ""},
		{"event", &ent.Automation{Enabled: true, Event: "deal.created"}, ""},
	}
	for _, tt := range tests {
		got := NextRun(tt.a, now)
		if (got == nil) != (tt.want == "") || (got != nil && got.UTC().Format(time.RFC3339) != tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, got, tt.want)
		}
	}
}

func BenchmarkCronValidation(b *testing.B) {
	for b.Loop() {
		spec, err := parseCron("*/5 * * * *", "Europe/Berlin")
		if err != nil {
			b.Fatal(err)
		}
		if err := checkCronInterval(spec, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIdleFiresBeyondTheFirstPage: an idle_days schedule pages through
// every idle record, so records already fired (the longest idle) never
// hide the others, and a second scan fires nothing more.
func TestIdleFiresBeyondTheFirstPage(t *testing.T) {
	defer func(n int) { scanBatch = n }(scanBatch)
	scanBatch = 3
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		e := f.stoppedEngine(t)
		a := f.a.automation(t, f.client, cronAutomation(map[string]any{"subject": "deal", "idle_days": 14}, nil))
		now := time.Now()
		var want []pulid.ID
		for i := range 8 {
			d := f.a.deal(t, f.client, fmt.Sprintf("D%d", i), "Qualified", 1)
			// Every deal idle 20 to 27 days; the first three fired already.
			f.client.Deal.UpdateOne(d).SetUpdatedAt(now.AddDate(0, 0, -20-i)).ExecX(f.a.ctx)
			want = append(want, d.ID)
		}
		// Two scans of the first version would fire the 3 longest idle,
		// then nothing: 3 runs. Paging fires all 8 in the first scan.
		if n := scan(t, e, now); n != 8 {
			t.Fatalf("first scan fired %d, want all 8 idle deals", n)
		}
		if n := scan(t, e, now.Add(time.Hour)); n != 0 {
			t.Fatalf("second scan fired %d again, want 0", n)
		}
		var got []pulid.ID
		for _, r := range runsOf(t, f.client, a) {
			got = append(got, r.SubjectID)
		}
		if fmt.Sprint(sorted(got...)) != fmt.Sprint(sorted(want...)) {
			t.Errorf("runs for %v, want %v", got, want)
		}
	})
}
