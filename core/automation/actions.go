package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/automation/internal/webhook"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/delivery"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/outbound"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/internal/clip"
)

func (e *Engine) runAction(ctx context.Context, rs *runState, i int, a compiledAction) error {
	switch a.Type {
	case ActionWebhook:
		return e.postWebhook(ctx, rs, i, a)
	case ActionCreateActivity:
		return e.createActivity(rs, i, a)
	case ActionAssignOwner:
		return e.assignOwner(rs, i, a)
	case ActionRunPlugin:
		if a.Point == "segment" {
			if e.cfg.Segmenter == nil {
				return permanent("run_plugin: this server runs no plugins")
			}
			ids := []pulid.ID{rs.run.SubjectID}
			if rs.run.SubjectID == rs.run.WorkspaceID {
				ids = nil // a scheduled re-segmentation of the whole workspace
			}
			return e.cfg.Segmenter.SegmentRecords(rs.ctx, e.client, rs.run.SubjectType, ids)
		}
		if e.cfg.Scorer == nil {
			return permanent("run_plugin: this server runs no plugins")
		}
		return e.cfg.Scorer.ScoreRecords(rs.ctx, e.client, rs.run.SubjectType, []pulid.ID{rs.run.SubjectID})
	case ActionSendEmail:
		return e.sendEmail(ctx, rs, i, a)
	}
	return permanent("unknown action type %q", a.Type)
}

// delivery returns the delivery of key, creating it (pending) if needed.
func (e *Engine) delivery(ctx context.Context, rs *runState, i int, kind delivery.Kind, target, key string) (*ent.Delivery, error) {
	sys := tenancy.System(ctx)
	d, err := e.client.Delivery.Query().Where(delivery.Key(key)).Only(sys)
	if err == nil || !ent.IsNotFound(err) {
		return d, err
	}
	d, err = e.client.Delivery.Create().
		SetWorkspaceID(rs.run.WorkspaceID).
		SetRunID(rs.run.ID).
		SetAutomationID(rs.run.AutomationID).
		SetKey(key).
		SetStep(i).
		SetKind(kind).
		SetTarget(clip.String(target, 2000, "...")).
		Save(sys)
	if ent.IsConstraintError(err) {
		return e.client.Delivery.Query().Where(delivery.Key(key)).Only(sys)
	}
	return d, err
}

// attempted records one attempt of d: delivered when err is nil.
func (e *Engine) attempted(ctx context.Context, d *ent.Delivery, status int, err error) error {
	u := e.client.Delivery.UpdateOneID(d.ID).AddAttempts(1)
	if status != 0 {
		u.SetResponseStatus(status)
	}
	if err == nil {
		u.SetStatus(delivery.StatusDelivered).SetDeliveredAt(time.Now())
		e.m.deliveries.WithLabelValues(string(d.Kind), "delivered").Inc()
	} else {
		u.SetLastError(clip.String(err.Error(), 2000, "..."))
		e.m.deliveries.WithLabelValues(string(d.Kind), "failed").Inc()
	}
	return u.Exec(tenancy.System(ctx))
}

// failDeliveries marks the undelivered deliveries of a run's step failed.
func (e *Engine) failDeliveries(sys context.Context, run pulid.ID, step int, cause error) {
	err := e.client.Delivery.Update().
		Where(delivery.RunID(run), delivery.Step(step), delivery.StatusEQ(delivery.StatusPending)).
		SetStatus(delivery.StatusFailed).
		Exec(sys)
	if err != nil {
		e.cfg.Logger.Warn("marking deliveries failed", "run", run, "err", err, "cause", cause)
	}
}

// Payload is the JSON body of a webhook.
type Payload struct {
	// ID is the delivery's ID, the same on every retry: receivers
	// deduplicate on it.
	ID string `json:"id"`
	// Type is the event type (deal.stage_changed), or schedule for a
	// time trigger.
	Type string `json:"type"`
	// WorkspaceID, AutomationID and RunID say whose automation fired.
	WorkspaceID  string `json:"workspace_id"`
	AutomationID string `json:"automation_id"`
	RunID        string `json:"run_id"`
	// EventID is the record event that fired the run, if any.
	EventID string `json:"event_id,omitempty"`
	// OccurredAt is when the change happened (or the schedule fired).
	OccurredAt time.Time `json:"occurred_at"`
	// Actor is who made the change: member:<id>, token:<id>,
	// automation:<id>, system.
	Actor string `json:"actor,omitempty"`
	// Subject is the record.
	Subject PayloadSubject `json:"subject"`
	// Changes are the fields the event changed, before and after.
	Changes any `json:"changes,omitempty"`
	// Record is the record and its linked records, by entity and field,
	// as they are when the webhook is sent.
	Record map[string]map[string]any `json:"record"`
}

// PayloadSubject names the record a webhook is about.
type PayloadSubject struct {
	// Type is deal, contact, lead, organization or activity.
	Type string `json:"type"`
	// ID is the record's ID.
	ID string `json:"id"`
}

func (e *Engine) postWebhook(ctx context.Context, rs *runState, i int, a compiledAction) error {
	key := fmt.Sprintf("%s:%d", rs.run.ID, i)
	d, err := e.delivery(ctx, rs, i, delivery.KindWebhook, a.URL, key)
	if err != nil {
		return err
	}
	if d.Status == delivery.StatusDelivered {
		return nil
	}
	p := Payload{
		ID: string(d.ID), Type: rs.run.Trigger, WorkspaceID: string(rs.run.WorkspaceID),
		AutomationID: string(rs.run.AutomationID), RunID: string(rs.run.ID),
		OccurredAt: rs.run.FiredAt.UTC(),
		Subject:    PayloadSubject{Type: rs.run.SubjectType, ID: string(rs.run.SubjectID)},
		Record:     rs.rec.nested(),
	}
	if ev := rs.event; ev != nil {
		p.EventID, p.OccurredAt, p.Actor = string(ev.ID), ev.OccurredAt.UTC(), ev.Actor
		if len(ev.Changes) > 0 {
			p.Changes = ev.Changes
		}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return permanent("encoding webhook payload: %v", err)
	}
	pctx, cancel := context.WithTimeout(ctx, e.cfg.WebhookTimeout)
	defer cancel()
	res, err := postWebhook(pctx, e.cfg.HTTPClient, webhook.Request{
		URL: a.URL, Secret: []byte(a.Secret), DeliveryID: string(d.ID), Event: rs.run.Trigger, Body: body, Now: time.Now(),
	})
	if rerr := e.attempted(ctx, d, res.Status, err); rerr != nil && err == nil {
		// Delivered but not recorded: the retry will post again, with
		// the same delivery ID.
		return rerr
	}
	if errors.Is(err, outbound.ErrRefused) {
		return permanent("%v", err) // the operator's policy will not change on retry
	}
	return err
}

// createActivity creates the activity and records the step as done in
// one transaction: a retry after a crash finds the step done.
func (e *Engine) createActivity(rs *runState, i int, a compiledAction) error {
	tx, err := e.client.Tx(rs.ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	b := tx.Activity.Create().
		SetKind(activity.Kind(a.Kind)).
		SetSubject(clip.String(a.subject.Render(rs.rec.Lookup), 300, "...")).
		SetBody(a.body.Render(rs.rec.Lookup))
	if a.DueInDays != nil {
		b.SetDueAt(time.Now().AddDate(0, 0, *a.DueInDays))
	}
	if owner, ok := rs.rec.Fields[rs.run.SubjectType+".owner_id"].(string); ok && owner != "" {
		b.SetOwnerID(pulid.ID(owner))
	}
	id := rs.run.SubjectID
	switch rs.run.SubjectType {
	case "deal":
		b.SetDealID(id)
		if c, ok := rs.rec.Fields["deal.contact_id"].(string); ok && c != "" {
			b.SetContactID(pulid.ID(c))
		}
	case "contact":
		b.SetContactID(id)
	case "lead":
		b.SetLeadID(id)
	case "organization":
		b.SetOrganizationID(id)
	default:
		return permanent("create_activity: %s records have no activities", rs.run.SubjectType)
	}
	if err := b.Exec(rs.ctx); err != nil {
		return fmt.Errorf("create_activity: %w", err)
	}
	e.succeed(&rs.steps[i])
	if err := e.saveSteps(rs.ctx, tx.Client(), rs); err != nil {
		rs.steps[i].Status = stepPending
		return err
	}
	if err := tx.Commit(); err != nil {
		rs.steps[i].Status = stepPending
		return err
	}
	return nil
}

// assignOwner sets the record's owner — the next member in turn, or the
// one named — and records the step, in one transaction.
func (e *Engine) assignOwner(rs *runState, i int, a compiledAction) error {
	tx, err := e.client.Tx(rs.ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	ids := make([]pulid.ID, len(a.Members))
	for j, m := range a.Members {
		ids[j] = pulid.ID(m)
	}
	q := tx.Member.Query().Where(member.RoleIn(member.RoleAdmin, member.RoleMember))
	if len(ids) > 0 {
		q.Where(member.IDIn(ids...))
	}
	members, err := q.Order(member.ByCreatedAt(), member.ByID()).IDs(rs.ctx)
	if err != nil {
		return err
	}
	if len(members) == 0 {
		return permanent("assign_owner: no member to assign")
	}
	pick := members[0]
	ruled := false
	for j, r := range a.rules {
		if r.Eval(rs.rec) {
			pick, ruled = pulid.ID(a.Rules[j].Member), true
			n, err := tx.Member.Query().Where(member.ID(pick), member.RoleIn(member.RoleAdmin, member.RoleMember)).Count(rs.ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				return permanent("assign_owner: rule %d names no member of this workspace", j)
			}
			break
		}
	}
	if !ruled && a.Strategy != "member" && len(members) > 1 {
		auto, err := tx.Automation.UpdateOneID(rs.run.AutomationID).AddAssignCursor(1).Save(rs.ctx)
		if err != nil {
			return fmt.Errorf("assign_owner: %w", err)
		}
		pick = members[int((auto.AssignCursor-1)%int64(len(members)))]
	}
	id := rs.run.SubjectID
	switch rs.run.SubjectType {
	case "deal":
		err = tx.Deal.UpdateOneID(id).SetOwnerID(pick).Exec(rs.ctx)
	case "contact":
		err = tx.Contact.UpdateOneID(id).SetOwnerID(pick).Exec(rs.ctx)
	case "lead":
		err = tx.Lead.UpdateOneID(id).SetOwnerID(pick).Exec(rs.ctx)
	case "activity":
		err = tx.Activity.UpdateOneID(id).SetOwnerID(pick).Exec(rs.ctx)
	default:
		return permanent("assign_owner: %s records have no owner", rs.run.SubjectType)
	}
	if err != nil {
		return fmt.Errorf("assign_owner: %w", err)
	}
	// Later actions of the run see the new owner.
	rs.rec.Fields[rs.run.SubjectType+".owner_id"] = string(pick)
	if m, err := tx.Member.Get(rs.ctx, pick); err == nil {
		rs.rec.Fields[rs.run.SubjectType+".owner"] = m.Name
		rs.rec.Fields[rs.run.SubjectType+".owner_email"] = m.Email
	}
	e.succeed(&rs.steps[i])
	if err := e.saveSteps(rs.ctx, tx.Client(), rs); err != nil {
		rs.steps[i].Status = stepPending
		return err
	}
	if err := tx.Commit(); err != nil {
		rs.steps[i].Status = stepPending
		return err
	}
	return nil
}

func lowerTrim(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
