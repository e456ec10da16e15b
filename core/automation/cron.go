package automation

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	// Time zones are checked when an automation is saved and used at every
	// tick; embedding the zone database makes both behave the same on a
	// host without one (a scratch container).
	_ "time/tzdata"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
)

// MinCronInterval is the shortest time a cron schedule may leave between
// two ticks, on its own clock.
const MinCronInterval = 5 * time.Minute

// parseCron parses a standard five-field cron expression or a descriptor
// (@yearly, @monthly, @weekly, @daily, @hourly) in the IANA zone tz (UTC
// when empty). Errors are BAD_USER_INPUT naming input.schedule.cron or
// input.schedule.timezone.
func parseCron(expr, tz string) (*cron.SpecSchedule, error) {
	const field = "input.schedule.cron"
	loc, err := cronZone(tz)
	if err != nil {
		return nil, err
	}
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, errcode.Input(field, "give the time zone in timezone, not in the cron expression")
	}
	if strings.HasPrefix(expr, "@every") {
		return nil, errcode.Input(field, "@every is not supported: use a cron expression (e.g. */15 * * * *) or @hourly, @daily, @weekly, @monthly, @yearly")
	}
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, errcode.Input(field, "%v (want five fields, minute hour day-of-month month day-of-week, e.g. 0 9 * * 1, or @daily)", err)
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, errcode.Input(field, "unsupported schedule %q", expr)
	}
	spec.Location = loc
	return spec, nil
}

// cronZone loads the IANA zone tz; empty is UTC. Local is refused: it
// would depend on the server's configuration.
func cronZone(tz string) (*time.Location, error) {
	const field = "input.schedule.timezone"
	if tz == "" {
		return time.UTC, nil
	}
	if tz == "Local" {
		return nil, errcode.Input(field, "give an IANA time zone such as Europe/Berlin, not Local")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, errcode.Input(field, "unknown time zone %q (want an IANA name such as Europe/Berlin or America/New_York)", tz)
	}
	return loc, nil
}

var errNeverTicks = errors.New("the schedule never ticks (no matching date in the next five years)")

// checkCronInterval refuses a schedule two of whose consecutive ticks are
// less than MinCronInterval apart on the schedule's own clock (a change
// of daylight saving time may bring two ticks closer once a year; that is
// not counted). It walks the schedule in UTC with Next: every tick of its
// first day, where the gaps within a day are (the hour and minute fields
// give every day the same ticks), then, when the last tick of a day and
// the first of the next are close, from the last tick of each day to the
// next tick, for four years and a day (a leap year cycle).
func checkCronInterval(spec *cron.SpecSchedule, now time.Time) error {
	wall := *spec
	wall.Location = time.UTC
	tooOften := func(a, b time.Time) error {
		return fmt.Errorf("the schedule ticks more often than every %d minutes (at %s and %s)",
			int(MinCronInterval/time.Minute), a.Format("15:04"), b.Format("15:04"))
	}
	first := wall.Next(now.UTC())
	if first.IsZero() {
		return errNeverTicks
	}
	day := first.Truncate(24 * time.Hour)
	first = wall.Next(day.Add(-time.Second)) // the day's first tick, maybe before now
	last := first
	for t := wall.Next(first); !t.IsZero() && t.Before(day.Add(24*time.Hour)); t = wall.Next(t) {
		if t.Sub(last) < MinCronInterval {
			return tooOften(last, t)
		}
		last = t
	}
	lastOfDay := last.Sub(day)
	if first.Sub(day)+24*time.Hour-lastOfDay >= MinCronInterval {
		return nil // no two active days are closer than consecutive ones
	}
	end := first.AddDate(4, 0, 1)
	for t := last; t.Before(end); {
		next := wall.Next(t)
		if next.IsZero() {
			break
		}
		if next.Sub(t) < MinCronInterval {
			return tooOften(t, next)
		}
		t = next.Truncate(24 * time.Hour).Add(lastOfDay)
	}
	return nil
}

// lookbacks are the windows lastTick searches, shortest first, so that
// finding the latest tick of a frequent schedule takes a few steps and
// that of a rare one takes one step per window.
var lookbacks = []time.Duration{time.Hour, 25 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 366 * 24 * time.Hour}

// lastTick returns the latest tick T of s with after < T ≤ now, if any.
func lastTick(s cron.Schedule, after, now time.Time) (time.Time, bool) {
	if !now.After(after) {
		return time.Time{}, false
	}
	for _, back := range lookbacks {
		from := now.Add(-back)
		if !from.After(after) {
			from = after
		}
		var last time.Time
		for t := s.Next(from); !t.IsZero() && !t.After(now); t = s.Next(t) {
			last = t
		}
		if !last.IsZero() {
			return last, true
		}
		if from.Equal(after) {
			break
		}
	}
	return time.Time{}, false
}

// NextRun returns when a's cron schedule ticks next after now, or nil when
// a has no cron schedule or is disabled.
func NextRun(a *ent.Automation, now time.Time) *time.Time {
	expr, _ := a.Schedule["cron"].(string)
	if !a.Enabled || expr == "" {
		return nil
	}
	tz, _ := a.Schedule["timezone"].(string)
	spec, err := parseCron(expr, tz)
	if err != nil {
		return nil
	}
	next := spec.Next(now)
	if next.IsZero() {
		return nil
	}
	return &next
}
