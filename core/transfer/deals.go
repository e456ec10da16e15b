package transfer

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/pipeline"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer/mapping"
	"github.com/rapportcrm/rapport/core/transfer/value"
)

// deals imports deals into pipelines and stages found by name (created
// when Options.CreateMissing says so), with their stage history.
type deals struct {
	pipes  []*ent.Pipeline
	stages map[pulid.ID][]*ent.Stage
}

func (k *deals) load(ctx context.Context, c *ent.Client, _ string) (err error) {
	if k.pipes, err = c.Pipeline.Query().Order(ent.Desc(pipeline.FieldIsDefault), ent.Asc(pipeline.FieldCreatedAt), ent.Asc(pipeline.FieldID)).All(ctx); err != nil {
		return err
	}
	all, err := c.Stage.Query().Order(ent.Asc(stage.FieldPosition), ent.Asc(stage.FieldID)).All(ctx)
	if err != nil {
		return err
	}
	k.stages = map[pulid.ID][]*ent.Stage{}
	for _, s := range all {
		k.stages[s.PipelineID] = append(k.stages[s.PipelineID], s)
	}
	return nil
}

// pipeline is the row's pipeline: the one it names, else the default.
func (k *deals) pipeline(ctx context.Context, c *ent.Client, im *importer, r record) (*ent.Pipeline, *Reject, error) {
	name := r.get("pipeline")
	for _, p := range k.pipes {
		if name == "" || key(p.Name) == key(name) {
			return p, nil, nil
		}
	}
	if !im.o.CreateMissing {
		if name == "" {
			return nil, r.reject("pipeline", "unknown_pipeline", "the workspace has no pipeline: create one, or import with create missing on"), nil
		}
		return nil, r.reject("pipeline", "unknown_pipeline", "no pipeline is named %q: create it, or import with create missing on", name), nil
	}
	if name == "" {
		name = "Pipeline"
	}
	p, err := c.Pipeline.Create().SetName(name).SetIsDefault(len(k.pipes) == 0).Save(tenancy.WithHistory(ctx, time.Time{}))
	if err != nil {
		return nil, nil, err
	}
	k.pipes = append(k.pipes, p)
	return p, nil, nil
}

// stageKind tells a new stage's kind from its name.
func stageKind(name string) stage.Kind {
	n := key(name)
	switch {
	case strings.Contains(n, "won"):
		return stage.KindWon
	case strings.Contains(n, "lost"):
		return stage.KindLost
	}
	return stage.KindOpen
}

// stage finds the stage named name in p, or one of kind when name is
// empty, creating it when CreateMissing says so.
func (k *deals) stage(ctx context.Context, c *ent.Client, im *importer, r record, target string, p *ent.Pipeline, name string, kind stage.Kind) (*ent.Stage, *Reject, error) {
	for _, s := range k.stages[p.ID] {
		if (name != "" && key(s.Name) == key(name)) || (name == "" && s.Kind == kind) {
			return s, nil, nil
		}
	}
	if !im.o.CreateMissing {
		if name == "" {
			return nil, r.reject(target, "unknown_stage", "pipeline %q has no %s stage", p.Name, kind), nil
		}
		return nil, r.reject(target, "unknown_stage", "pipeline %q has no stage %q: create it, or import with create missing on", p.Name, name), nil
	}
	if name == "" {
		name = map[stage.Kind]string{stage.KindWon: "Won", stage.KindLost: "Lost", stage.KindOpen: "New"}[kind]
	} else {
		kind = stageKind(name)
	}
	pos := 0
	for _, s := range k.stages[p.ID] {
		pos = max(pos, s.Position+1)
	}
	prob := 0.0
	if kind == stage.KindWon {
		prob = 1
	}
	s, err := c.Stage.Create().SetPipelineID(p.ID).SetName(name).SetKind(kind).SetPosition(pos).SetProbability(prob).Save(tenancy.WithHistory(ctx, time.Time{}))
	if err != nil {
		return nil, nil, err
	}
	k.stages[p.ID] = append(k.stages[p.ID], s)
	return s, nil, nil
}

// entered is a stage a deal entered, and when.
type entered struct {
	stage *ent.Stage
	at    time.Time
}

func (k *deals) apply(ctx context.Context, c *ent.Client, im *importer, r record) (outcome, *Reject, error) {
	name := r.get("name")
	if name == "" {
		return 0, r.reject("name", "missing_name", "a deal needs a name"), nil
	}
	var amount int64
	currency := ""
	if a := r.get("amount"); a != "" {
		var err error
		if amount, currency, err = value.Money(a, false); err != nil {
			return 0, r.reject("amount", "invalid_amount", "%v", err), nil
		}
	}
	if cur := r.get("currency"); cur != "" {
		currency = strings.ToUpper(cur)
	}
	status := deal.Status(strings.ToLower(r.get("status")))
	switch status {
	case "", deal.StatusOpen, deal.StatusWon, deal.StatusLost:
	default:
		return 0, r.reject("status", "invalid_status", "%q is not a deal status: want open, won or lost", r.get("status")), nil
	}
	var prob *float64
	if p := r.get("probability"); p != "" {
		f, err := value.Percent(p)
		if err != nil {
			return 0, r.reject("probability", "invalid_number", "%v", err), nil
		}
		prob = &f
	}
	expected, rej := im.date(r, "expected_close_date")
	if rej != nil {
		return 0, rej, nil
	}
	closedAt, rej := im.date(r, "closed_at")
	if rej != nil {
		return 0, rej, nil
	}
	updatedAt, rej := im.date(r, "updated_at")
	if rej != nil {
		return 0, rej, nil
	}
	org, rej := im.links.org(r)
	if rej != nil {
		return 0, rej, nil
	}
	person, rej := im.links.contact(r)
	if rej != nil {
		return 0, rej, nil
	}
	owner, rej := im.links.owner(r)
	if rej != nil {
		return 0, rej, nil
	}
	custom, rej := im.customOf(r)
	if rej != nil {
		return 0, rej, nil
	}
	p, rej, err := k.pipeline(ctx, c, im, r)
	if rej != nil || err != nil {
		return 0, rej, err
	}
	// Stage history columns, in the order the deal entered the stages
	// (new stages are made in that order too).
	var history []entered
	for _, col := range im.m.Columns {
		sn, ok := strings.CutPrefix(col.Target, mapping.StageHistory)
		if !ok || r.get(col.Target) == "" {
			continue
		}
		at, rej := im.date(r, col.Target)
		if rej != nil {
			return 0, rej, nil
		}
		s, rej, err := k.stage(ctx, c, im, r, col.Target, p, sn, stage.KindOpen)
		if rej != nil || err != nil {
			return 0, rej, err
		}
		history = append(history, entered{stage: s, at: at})
	}
	// The stage the deal is in. A won or lost deal whose stage is open
	// (Pipedrive keeps the stage a deal was won from) entered that
	// stage and then closed.
	var cur *ent.Stage
	if sn := r.get("stage"); sn != "" {
		if cur, rej, err = k.stage(ctx, c, im, r, "stage", p, sn, stage.KindOpen); rej != nil || err != nil {
			return 0, rej, err
		}
	}
	if (status == deal.StatusWon || status == deal.StatusLost) && (cur == nil || string(cur.Kind) != string(status)) {
		if cur != nil {
			history = append(history, entered{stage: cur, at: r.createdAt})
		}
		if cur, rej, err = k.stage(ctx, c, im, r, "status", p, "", stage.Kind(status)); rej != nil || err != nil {
			return 0, rej, err
		}
	}
	if cur == nil {
		if cur, rej, err = k.stage(ctx, c, im, r, "stage", p, "", stage.KindOpen); rej != nil || err != nil {
			return 0, rej, err
		}
	}
	sort.SliceStable(history, func(i, j int) bool { return history[i].at.Before(history[j].at) })
	// When the deal reached its present stage: its close, its entry in
	// the history, its last change, else now.
	reached := closedAt
	for _, h := range history {
		if h.stage.ID == cur.ID && reached.IsZero() {
			reached = h.at
		}
	}
	if reached.IsZero() && cur.Kind != stage.KindOpen {
		reached = expected
	}
	if reached.IsZero() {
		reached = updatedAt
	}
	if reached.IsZero() && len(history) > 0 {
		reached = history[len(history)-1].at
	}
	if cur.Kind != stage.KindOpen && closedAt.IsZero() {
		closedAt = reached
	}
	if len(history) == 0 || history[len(history)-1].stage.ID != cur.ID {
		history = append(history, entered{stage: cur, at: reached})
	}
	ext := r.get("external_id")
	var keys []dupKey
	if ext == "" {
		keys = append(keys, dupKey{"name", "name", key(name), im.links.deals.byName})
	}
	id, rej := match(r, im.o.Merge, ext, im.links.deals.byExt, keys...)
	if rej != nil {
		return 0, rej, nil
	}
	if id != "" {
		old, err := c.Deal.Get(ctx, id)
		if err != nil {
			return 0, nil, err
		}
		u := c.Deal.UpdateOneID(id)
		n := 0
		n += setIf(old.Name != name, func() { u.SetName(name) })
		n += setIf(r.get("amount") != "" && int64(old.Amount) != amount, func() { u.SetAmount(crm.Money(amount)) })
		n += setIf(currency != "" && old.Currency != currency, func() { u.SetCurrency(currency) })
		n += setIf(prob != nil && (old.Probability == nil || *old.Probability != *prob), func() { u.SetProbability(*prob) })
		n += setIf(!expected.IsZero() && (old.ExpectedCloseDate == nil || !old.ExpectedCloseDate.Equal(expected)), func() { u.SetExpectedCloseDate(expected) })
		n += setIf(r.get("lost_reason") != "" && old.LostReason != r.get("lost_reason"), func() { u.SetLostReason(r.get("lost_reason")) })
		n += setIf(org != nil && !samePtr(old.OrganizationID, org), func() { u.SetOrganizationID(*org) })
		n += setIf(person != nil && !samePtr(old.ContactID, person), func() { u.SetContactID(*person) })
		n += setIf(owner != nil && !samePtr(old.OwnerID, owner), func() { u.SetOwnerID(*owner) })
		n += setIf(old.ExternalID == nil && ext != "", func() { u.SetExternalSource(im.m.Source).SetExternalID(ext) })
		if merged, ch := withCustom(old.CustomFields, custom); ch {
			n++
			u.SetCustomFields(merged)
		}
		mctx := ctx
		if old.StageID != cur.ID {
			n++
			u.SetStageID(cur.ID)
			if old.PipelineID != p.ID {
				u.SetPipelineID(p.ID)
			}
			if !reached.IsZero() {
				mctx = tenancy.WithHistory(ctx, reached)
			}
		}
		if cur.Kind != stage.KindOpen && !closedAt.IsZero() && (old.ClosedAt == nil || !old.ClosedAt.Equal(closedAt)) {
			n++
			u.SetClosedAt(closedAt)
		}
		if n == 0 {
			return unchanged, nil, nil
		}
		return updated, nil, u.Exec(mctx)
	}
	// A new deal enters its first stage when it is made, then moves
	// through the rest at the times the history gives.
	first := history[0]
	cr := c.Deal.Create().SetName(name).SetPipelineID(p.ID).SetStageID(first.stage.ID).SetAmount(crm.Money(amount))
	if currency != "" {
		cr.SetCurrency(currency)
	}
	if ext != "" {
		cr.SetExternalSource(im.m.Source).SetExternalID(ext)
	}
	cr.SetNillableProbability(prob).SetNillableOrganizationID(org).SetNillableContactID(person).SetNillableOwnerID(owner)
	if !expected.IsZero() {
		cr.SetExpectedCloseDate(expected)
	}
	if v := r.get("lost_reason"); v != "" {
		cr.SetLostReason(v)
	}
	if len(custom) > 0 {
		cr.SetCustomFields(custom)
	}
	made := r.createdAt
	if made.IsZero() || (!first.at.IsZero() && first.at.Before(made)) {
		made = first.at
	}
	cctx := ctx
	if !made.IsZero() {
		cr.SetCreatedAt(made)
		cctx = tenancy.WithHistory(ctx, made)
	}
	if len(history) == 1 && first.stage.Kind != stage.KindOpen && !closedAt.IsZero() {
		cr.SetClosedAt(closedAt)
	}
	d, err := cr.Save(cctx)
	if err != nil {
		return 0, nil, err
	}
	for i, h := range history[1:] {
		if h.stage.ID == history[i].stage.ID {
			continue
		}
		u := c.Deal.UpdateOneID(d.ID).SetStageID(h.stage.ID)
		if i == len(history)-2 && h.stage.Kind != stage.KindOpen && !closedAt.IsZero() {
			u.SetClosedAt(closedAt)
		}
		mctx := ctx
		if !h.at.IsZero() {
			mctx = tenancy.WithHistory(ctx, h.at)
		}
		if err := u.Exec(mctx); err != nil {
			return 0, nil, err
		}
	}
	im.links.deals.add(d, im.m.Source)
	return created, nil, nil
}
