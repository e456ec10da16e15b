package automation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/rapportcrm/rapport/core/automation/internal/condition"
	"github.com/rapportcrm/rapport/core/automation/internal/template"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
)

// Action types.
const (
	ActionWebhook        = "webhook"
	ActionCreateActivity = "create_activity"
	ActionAssignOwner    = "assign_owner"
	ActionRunPlugin      = "run_plugin"
	ActionSendEmail      = "send_email"
)

// MaxActions bounds the actions of one automation.
const MaxActions = 20

// MaxRecipients bounds the recipients of one group email.
const MaxRecipients = 100

// Action is one step of an automation, as stored (JSON). Which fields
// apply depends on Type:
//
//	webhook          URL, Secret (HMAC key; required)
//	create_activity  Kind (default task), Subject and Body (templates), DueInDays
//	assign_owner     Strategy round_robin (default) among Members (default: every
//	                 admin and member of the workspace); member, with Members[0];
//	                 or rule: the member of the first of Rules whose condition the
//	                 record meets, else round robin
//	run_plugin       Point (score or segment): re-score or re-segment the record
//	                 with the bound plugin
//	send_email       Subject and Body (templates), and either To (a template such
//	                 as {{contact.email}}) or Recipients (a condition on contacts;
//	                 up to 100, one message each, rendered with contact.* of the
//	                 recipient)
type Action struct {
	Type       string         `json:"type"`
	URL        string         `json:"url,omitempty"`
	Secret     string         `json:"secret,omitempty"`
	Kind       string         `json:"kind,omitempty"`
	Subject    string         `json:"subject,omitempty"`
	Body       string         `json:"body,omitempty"`
	DueInDays  *int           `json:"due_in_days,omitempty"`
	Strategy   string         `json:"strategy,omitempty"`
	Members    []string       `json:"members,omitempty"`
	Rules      []AssignRule   `json:"rules,omitempty"`
	Point      string         `json:"point,omitempty"`
	To         string         `json:"to,omitempty"`
	Recipients map[string]any `json:"recipients,omitempty"`
}

// AssignRule is one rule of an assign_owner action with strategy rule:
// records meeting When go to Member.
type AssignRule struct {
	When   map[string]any `json:"when"`
	Member string         `json:"member"`
}

// Schedule is a time trigger on the records of Subject that meet the
// automation's condition. It takes one of three forms:
//
//	idle_days alone    fires once for each record left unchanged for
//	                   IdleDays days (again after it changes and goes idle
//	                   again)
//	cron alone         at each tick of Cron, fires once for every record
//	cron and idle_days at each tick of Cron, fires once for every record
//	                   unchanged for at least IdleDays days
//
// Cron is a standard five-field expression (minute hour day-of-month month
// day-of-week, e.g. "0 9 * * 1" for Mondays at 09:00) or a descriptor
// (@hourly, @daily, @weekly, @monthly, @yearly), read in the IANA zone
// Timezone (UTC when empty); it may not tick more often than every
// MinCronInterval. The first tick that fires is the first after the
// automation was created, updated or enabled; a tick is fired once, and a
// scan after several missed ticks (the workers were down) fires only the
// latest of them. See RATIONALE.md.
type Schedule struct {
	Subject  string `json:"subject"`
	IdleDays int    `json:"idle_days"`
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
}

// Input is an automation as a client writes it.
type Input struct {
	Name    string
	Enabled *bool
	// Event is the event type that fires the automation, e.g.
	// deal.stage_changed; empty with a Schedule.
	Event string
	// Schedule is a time trigger (see Schedule), e.g. {"subject": "deal",
	// "idle_days": 14} or {"subject": "deal", "cron": "0 9 * * 1",
	// "timezone": "Europe/Berlin", "idle_days": 14}.
	Schedule map[string]any
	// Condition is the condition on the record (see the condition
	// language in the package documentation); nil always holds.
	Condition map[string]any
	// Actions run in order.
	Actions []map[string]any
}

// EventTypes lists the event types of a subject that automations can
// react to.
func EventTypes(subject string) []string {
	out := []string{subject + ".created", subject + ".updated", subject + ".deleted"}
	switch subject {
	case "deal":
		out = append(out, "deal.stage_changed", "deal.score_changed")
	case "lead":
		out = append(out, "lead.converted", "lead.score_changed")
	case "contact", "organization":
		out = append(out, subject+".score_changed")
	}
	return out
}

// Segment events fire for any subject a segmentation run moves; an
// automation on them reads segment.key, segment.name and segment.run
// beside the fields of the subject (contact.*, organization.*, lead.*,
// deal.*: those of other subject types are empty).
const (
	EventSegmentEntered = "segment.entered"
	EventSegmentLeft    = "segment.left"
)

// segmentSubject is the subject that automations on segment events
// compile against: any of the four, plus the segment.
const segmentSubject = "segment"

// isSegmentEvent reports whether ev is a segment event.
func isSegmentEvent(ev string) bool { return ev == EventSegmentEntered || ev == EventSegmentLeft }

// subjectOfEvent returns the subject type of a known event type.
func subjectOfEvent(ev string) (string, bool) {
	if isSegmentEvent(ev) {
		return segmentSubject, true
	}
	subj, _, _ := strings.Cut(ev, ".")
	if !slices.Contains(Subjects, subj) || !slices.Contains(EventTypes(subj), ev) {
		return "", false
	}
	return subj, true
}

// compiled is a validated automation, ready to run.
type compiled struct {
	subject  string
	cond     *condition.Node
	schedule *Schedule
	// cron is the schedule's cron expression in its zone; nil without.
	cron    *cron.SpecSchedule
	actions []compiledAction
}

type compiledAction struct {
	Action
	subject, body, to *template.Template
	recipients        *condition.Node
	rules             []*condition.Node
}

// wholeWorkspace reports whether c is a cron schedule, without idle_days
// or a condition, whose only action re-segments the record: each tick
// then fires one run that re-segments every record of the subject type at
// once (its subject is the workspace), instead of a run per record.
func (c *compiled) wholeWorkspace() bool {
	return c.cron != nil && c.schedule.IdleDays == 0 && c.cond == nil && len(c.actions) == 1 &&
		c.actions[0].Type == ActionRunPlugin && c.actions[0].Point == "segment"
}

// compile validates in; errors are BAD_USER_INPUT naming the field.
func compile(in Input) (*compiled, error) { return compileInput(in, true) }

// compileInput is compile; without checkInterval it skips the check of
// how often a cron schedule ticks, which was made when it was saved.
func compileInput(in Input, checkInterval bool) (*compiled, error) {
	c := &compiled{}
	if strings.TrimSpace(in.Name) == "" {
		return nil, errcode.Input("input.name", "name is required")
	}
	switch {
	case in.Event != "" && len(in.Schedule) > 0:
		return nil, errcode.Input("input.schedule", "give an event or a schedule, not both")
	case in.Event != "":
		subj, ok := subjectOfEvent(in.Event)
		if !ok {
			return nil, errcode.Input("input.event", "unknown event type %q (e.g. deal.stage_changed, contact.created, segment.entered)", in.Event)
		}
		c.subject = subj
	case len(in.Schedule) > 0:
		var s Schedule
		if err := strictDecode(in.Schedule, &s); err != nil {
			return nil, errcode.Input("input.schedule", "%v", err)
		}
		if !slices.Contains(Subjects, s.Subject) {
			return nil, errcode.Input("input.schedule.subject", "unknown subject %q (want one of %s)", s.Subject, strings.Join(Subjects, ", "))
		}
		if _, ok := in.Schedule["idle_days"]; ok && (s.IdleDays < 1 || s.IdleDays > 3650) {
			return nil, errcode.Input("input.schedule.idle_days", "idle_days must be 1 to 3650")
		}
		if s.Cron == "" && s.Timezone != "" {
			return nil, errcode.Input("input.schedule.timezone", "timezone applies to a cron schedule; give cron too")
		}
		if s.Cron == "" && s.IdleDays == 0 {
			return nil, errcode.Input("input.schedule", "a schedule needs idle_days, cron or both")
		}
		if s.Cron != "" {
			spec, err := parseCron(s.Cron, s.Timezone)
			if err != nil {
				return nil, err
			}
			if checkInterval {
				if err := checkCronInterval(spec, time.Now()); err != nil {
					return nil, errcode.Input("input.schedule.cron", "%v", err)
				}
			}
			s.Cron = strings.TrimSpace(s.Cron)
			if s.Timezone == "" {
				s.Timezone = "UTC"
			}
			c.cron = spec
		}
		c.subject, c.schedule = s.Subject, &s
	default:
		return nil, errcode.Input("input.event", "an event type or a schedule is required")
	}
	cond, err := condition.FromMap(in.Condition, knownFields(c.subject))
	if err != nil {
		return nil, conditionInput("input.condition", err)
	}
	c.cond = cond
	if len(in.Actions) == 0 {
		return nil, errcode.Input("input.actions", "at least one action is required")
	}
	if len(in.Actions) > MaxActions {
		return nil, errcode.Input("input.actions", "at most %d actions", MaxActions)
	}
	for i, raw := range in.Actions {
		a, err := compileAction(c.subject, raw)
		if err != nil {
			return nil, errcode.AtIndex("input.actions", i, err)
		}
		c.actions = append(c.actions, *a)
	}
	return c, nil
}

func conditionInput(field string, err error) error {
	var ce *condition.Error
	if errors.As(err, &ce) && ce.Path != "" {
		return errcode.Input(field+"."+ce.Path, "%s", ce.Msg)
	}
	return errcode.Input(field, "%v", err)
}

func strictDecode(m map[string]any, v any) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func compileAction(subject string, raw map[string]any) (*compiledAction, error) {
	var a compiledAction
	if err := strictDecode(raw, &a.Action); err != nil {
		return nil, errcode.Input("", "%v", err)
	}
	known := knownFields(subject)
	tpl := func(field, src string, known func(string) bool) (*template.Template, error) {
		t, err := template.Parse(src, known)
		if err != nil {
			return nil, errcode.Input(field, "%v", err)
		}
		return t, nil
	}
	var err error
	switch a.Type {
	case ActionWebhook:
		u, perr := url.Parse(a.URL)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errcode.Input("url", "want an http or https URL")
		}
		if len(a.Secret) < 16 {
			return nil, errcode.Input("secret", "the signing secret must be at least 16 characters")
		}
	case ActionCreateActivity:
		if a.Kind == "" {
			a.Kind = "task"
		}
		if !slices.Contains([]string{"note", "call", "email", "meeting", "task"}, a.Kind) {
			return nil, errcode.Input("kind", "unknown activity kind %q", a.Kind)
		}
		if strings.TrimSpace(a.Subject) == "" {
			return nil, errcode.Input("subject", "subject is required")
		}
		if subject == "activity" {
			return nil, errcode.Input("type", "create_activity needs a deal, contact, lead or organization")
		}
		if a.DueInDays != nil && (*a.DueInDays < 0 || *a.DueInDays > 3650) {
			return nil, errcode.Input("due_in_days", "due_in_days must be 0 to 3650")
		}
		if a.subject, err = tpl("subject", a.Subject, known); err != nil {
			return nil, err
		}
		if a.body, err = tpl("body", a.Body, known); err != nil {
			return nil, err
		}
	case ActionAssignOwner:
		if subject == "organization" {
			return nil, errcode.Input("type", "organizations have no owner")
		}
		switch a.Strategy {
		case "", "round_robin":
			a.Strategy = "round_robin"
		case "member":
			if len(a.Members) != 1 {
				return nil, errcode.Input("members", "strategy member takes exactly one member")
			}
		case "rule":
			if len(a.Rules) == 0 {
				return nil, errcode.Input("rules", "strategy rule needs rules")
			}
			for i, r := range a.Rules {
				field := "rules." + strconv.Itoa(i)
				if pulid.ID(r.Member).Prefix() != "mem" {
					return nil, errcode.Input(field+".member", "not a member ID")
				}
				n, err := condition.FromMap(r.When, known)
				if err != nil {
					return nil, conditionInput(field+".when", err)
				}
				a.rules = append(a.rules, n)
			}
		default:
			return nil, errcode.Input("strategy", "unknown strategy %q (want round_robin, member or rule)", a.Strategy)
		}
		if a.Strategy != "rule" && len(a.Rules) > 0 {
			return nil, errcode.Input("rules", "rules apply to strategy rule")
		}
		for i, m := range a.Members {
			if pulid.ID(m).Prefix() != "mem" {
				return nil, errcode.Input("members."+strconv.Itoa(i), "not a member ID")
			}
		}
	case ActionRunPlugin:
		if a.Point == "" {
			a.Point = "score"
		}
		if a.Point != "score" && a.Point != "segment" {
			return nil, errcode.Input("point", "run_plugin runs the score or the segment point")
		}
		if !slices.Contains([]string{"deal", "contact", "lead", "organization", segmentSubject}, subject) {
			return nil, errcode.Input("type", "%s records are not %sd", subject, a.Point)
		}
	case ActionSendEmail:
		if strings.TrimSpace(a.Subject) == "" {
			return nil, errcode.Input("subject", "subject is required")
		}
		if (a.To == "") == (len(a.Recipients) == 0) {
			return nil, errcode.Input("to", "give to or recipients")
		}
		if len(a.Recipients) > 0 {
			known = knownFields(subject, "contact")
			if a.recipients, err = condition.FromMap(a.Recipients, knownFields("contact")); err != nil {
				return nil, conditionInput("recipients", err)
			}
		} else if a.to, err = tpl("to", a.To, known); err != nil {
			return nil, err
		}
		if a.subject, err = tpl("subject", a.Subject, known); err != nil {
			return nil, err
		}
		if a.body, err = tpl("body", a.Body, known); err != nil {
			return nil, err
		}
	case "":
		return nil, errcode.Input("type", "type is required")
	default:
		return nil, errcode.Input("type", "unknown action type %q", a.Type)
	}
	return &a, nil
}

// compileStored recompiles an automation's stored actions, for running
// them (they were validated when saved; fields known then are known now).
func compileStored(subject string, actions []map[string]any) ([]compiledAction, error) {
	out := make([]compiledAction, len(actions))
	for i, raw := range actions {
		a, err := compileAction(subject, raw)
		if err != nil {
			return nil, fmt.Errorf("action %d: %w", i, err)
		}
		out[i] = *a
	}
	return out, nil
}

func actionsJSON(c *compiled) []map[string]any {
	out := make([]map[string]any, len(c.actions))
	for i, a := range c.actions {
		data, _ := json.Marshal(a.Action)
		_ = json.Unmarshal(data, &out[i])
	}
	return out
}

func scheduleJSON(s *Schedule) map[string]any {
	if s == nil {
		return nil
	}
	out := map[string]any{"subject": s.Subject}
	if s.IdleDays > 0 {
		out["idle_days"] = s.IdleDays
	}
	if s.Cron != "" {
		out["cron"], out["timezone"] = s.Cron, s.Timezone
	}
	return out
}

// Create validates and stores an automation in the caller's workspace.
// Call it with a transactional client to make it atomic with other
// writes. An invalid trigger, condition, action or template is refused with
// BAD_USER_INPUT naming the field.
func Create(ctx context.Context, client *ent.Client, in Input) (*ent.Automation, error) {
	c, err := compile(in)
	if err != nil {
		return nil, err
	}
	b := client.Automation.Create().
		SetName(strings.TrimSpace(in.Name)).
		SetEvent(in.Event).
		SetSchedule(scheduleJSON(c.schedule)).
		SetCondition(in.Condition).
		SetActions(actionsJSON(c))
	if in.Enabled != nil {
		b.SetEnabled(*in.Enabled)
	}
	return b.Save(ctx)
}

// Update replaces an automation's definition; runs already fired keep the
// actions they were fired with. A cron schedule starts again from now: the
// first tick to fire is the first after the update.
func Update(ctx context.Context, client *ent.Client, id pulid.ID, in Input) (*ent.Automation, error) {
	old, err := client.Automation.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, &errcode.Error{Code: errcode.NotFound, Field: "id", Msg: "no such automation in this workspace"}
	}
	if err != nil {
		return nil, err
	}
	in.Actions = unmask(in.Actions, old.Actions)
	c, err := compile(in)
	if err != nil {
		return nil, err
	}
	u := client.Automation.UpdateOneID(id).
		SetName(strings.TrimSpace(in.Name)).
		SetEvent(in.Event).
		SetSchedule(scheduleJSON(c.schedule)).
		SetCondition(in.Condition).
		SetActions(actionsJSON(c))
	if c.cron != nil {
		u.SetScheduleFiredAt(time.Now())
	} else {
		u.ClearScheduleFiredAt()
	}
	if in.Enabled != nil {
		u.SetEnabled(*in.Enabled)
	}
	a, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, &errcode.Error{Code: errcode.NotFound, Field: "id", Msg: "no such automation in this workspace"}
	}
	return a, err
}

// Delete removes an automation; its runs and deliveries stay as history.
func Delete(ctx context.Context, client *ent.Client, id pulid.ID) error {
	err := client.Automation.DeleteOneID(id).Exec(ctx)
	if ent.IsNotFound(err) {
		return &errcode.Error{Code: errcode.NotFound, Field: "id", Msg: "no such automation in this workspace"}
	}
	return err
}

// SetEnabled turns an automation on or off. Turning a disabled automation
// on starts its cron schedule again from now: the ticks it missed while off
// do not fire.
func SetEnabled(ctx context.Context, client *ent.Client, id pulid.ID, enabled bool) (*ent.Automation, error) {
	old, err := client.Automation.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, &errcode.Error{Code: errcode.NotFound, Field: "id", Msg: "no such automation in this workspace"}
	}
	if err != nil {
		return nil, err
	}
	u := client.Automation.UpdateOneID(id).SetEnabled(enabled)
	if enabled && !old.Enabled && old.Schedule["cron"] != nil {
		u.SetScheduleFiredAt(time.Now())
	}
	a, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, &errcode.Error{Code: errcode.NotFound, Field: "id", Msg: "no such automation in this workspace"}
	}
	return a, err
}

// mask hides a webhook secret in GraphQL and CLI output.
const mask = "********"

// unmask puts back the stored secret of an action sent back with its
// secret masked (same position, same URL).
func unmask(actions, stored []map[string]any) []map[string]any {
	out := make([]map[string]any, len(actions))
	for i, a := range actions {
		out[i] = a
		if a["secret"] != mask || i >= len(stored) || stored[i]["url"] != a["url"] {
			continue
		}
		c := make(map[string]any, len(a))
		for k, v := range a {
			c[k] = v
		}
		c["secret"] = stored[i]["secret"]
		out[i] = c
	}
	return out
}

// Redacted returns stored actions for display: webhook secrets are
// replaced by a mask.
func Redacted(actions []map[string]any) []map[string]any {
	out := make([]map[string]any, len(actions))
	for i, a := range actions {
		c := make(map[string]any, len(a))
		for k, v := range a {
			c[k] = v
		}
		if _, ok := c["secret"]; ok {
			c["secret"] = mask
		}
		out[i] = c
	}
	return out
}
