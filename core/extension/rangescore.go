package extension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/schema"
	"github.com/rapportcrm/rapport/sdk"
)

// IDRange is a run of consecutive subject IDs, both ends included, and how
// many subjects it held when it was computed.
type IDRange struct {
	First, Last pulid.ID
	Count       int
}

// SplitSubjects pages through the IDs of the subjects of subjectType that
// match where (nil: all), in ID order, and cuts them into ranges of size
// subjects (the last may hold fewer). It returns the ranges and their
// total.
func SplitSubjects(ctx context.Context, client *ent.Client, subjectType string, where any, size int) ([]IDRange, int, error) {
	if size <= 0 {
		return nil, 0, fmt.Errorf("a range size of %d", size)
	}
	next, _, err := subjectPages(ctx, client, subjectType, where, size)
	if err != nil {
		return nil, 0, err
	}
	var (
		out   []IDRange
		total int
	)
	for {
		ids, err := next()
		if err != nil {
			return nil, 0, err
		}
		if len(ids) == 0 {
			return out, total, nil
		}
		out = append(out, IDRange{First: ids[0], Last: ids[len(ids)-1], Count: len(ids)})
		total += len(ids)
	}
}

// RangeSubjects returns, in order, the IDs in r of the subjects of
// subjectType that match where (nil: all).
func RangeSubjects(ctx context.Context, client *ent.Client, subjectType string, where any, r IDRange) ([]pulid.ID, error) {
	first, last := r.First, r.Last
	var w any
	switch subjectType {
	case "lead":
		x := &ent.LeadWhereInput{IDGTE: &first, IDLTE: &last}
		if in, ok := where.(*ent.LeadWhereInput); ok && in != nil {
			x = &ent.LeadWhereInput{And: []*ent.LeadWhereInput{in, x}}
		}
		w = x
	case "contact":
		x := &ent.ContactWhereInput{IDGTE: &first, IDLTE: &last}
		if in, ok := where.(*ent.ContactWhereInput); ok && in != nil {
			x = &ent.ContactWhereInput{And: []*ent.ContactWhereInput{in, x}}
		}
		w = x
	case "organization":
		x := &ent.OrganizationWhereInput{IDGTE: &first, IDLTE: &last}
		if in, ok := where.(*ent.OrganizationWhereInput); ok && in != nil {
			x = &ent.OrganizationWhereInput{And: []*ent.OrganizationWhereInput{in, x}}
		}
		w = x
	case "deal":
		x := &ent.DealWhereInput{IDGTE: &first, IDLTE: &last}
		if in, ok := where.(*ent.DealWhereInput); ok && in != nil {
			x = &ent.DealWhereInput{And: []*ent.DealWhereInput{in, x}}
		}
		w = x
	default:
		return nil, errcode.Input("subjectType", "unknown subject type %q", subjectType)
	}
	next, _, err := subjectPages(ctx, client, subjectType, w, max(r.Count, 1000))
	if err != nil {
		return nil, err
	}
	var out []pulid.ID
	for {
		ids, err := next()
		if err != nil || len(ids) == 0 {
			return out, err
		}
		out = append(out, ids...)
	}
}

// ParseWhere reads a where filter stored as JSON (see WhereJSON) back
// into the where input of subjectType; empty JSON is no filter (nil).
func ParseWhere(subjectType string, raw json.RawMessage) (any, error) {
	var w any
	switch subjectType {
	case "lead":
		w = new(ent.LeadWhereInput)
	case "contact":
		w = new(ent.ContactWhereInput)
	case "organization":
		w = new(ent.OrganizationWhereInput)
	case "deal":
		w = new(ent.DealWhereInput)
	default:
		return nil, errcode.Input("subjectType", "unknown subject type %q", subjectType)
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if err := json.Unmarshal(raw, w); err != nil {
		return nil, fmt.Errorf("reading a stored filter: %w", err)
	}
	return w, nil
}

// ScoreBatch scores ids with the plugin bound to (score,
// opts.SubjectType) and stores a Score per subject in one transaction.
// When plugin (plugin@version) is not empty, the bound plugin must be
// that one, or the call fails with CONFLICT. within, when set, runs in
// the transaction after the scores are written and before it commits;
// its error (or panic) rolls everything back and is returned. With no
// ids the plugin is not called and the transaction holds only within's
// writes. client must not be a transaction.
func (r *Registry) ScoreBatch(ctx context.Context, client *ent.Client, opts ScoreOptions, plugin string, ids []pulid.ID, within func(context.Context, *ent.Tx) error) error {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	var (
		p    *Plugin
		resp *sdk.ScoreResponse
	)
	if len(ids) > 0 {
		binding, bound, err := r.Binding(ctx, client, sdk.PointScore, opts.SubjectType)
		if err != nil {
			return err
		}
		if plugin != "" && bound.Ref() != plugin {
			return errcode.New(errcode.Conflict, "%s is bound to score %s subjects now, not %s", bound.Ref(), opts.SubjectType, plugin)
		}
		p = bound
		cfg, err := configFor(p.Manifest.ConfigSchema, binding.Config)
		if err != nil {
			return err
		}
		plan, err := CompileInputs(ctx, client, opts.SubjectType, p.Manifest.Inputs[opts.SubjectType])
		if err != nil {
			return err
		}
		b, err := plan.Build(ctx, client, ids, opts.Now)
		if err != nil {
			return err
		}
		if resp, err = r.Score(ctx, p, &sdk.ScoreRequest{Batch: b, Config: cfg}); err != nil {
			return err
		}
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	if len(ids) > 0 {
		if err := tx.Score.CreateBulk(scoreBuilders(tx, p, opts, ids, resp)...).Exec(schema.SubjectsVerified(ctx)); err != nil {
			return fmt.Errorf("storing scores: %w", err)
		}
	}
	if within != nil {
		if err := within(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return errors.Join(errors.New("storing scores"), err)
	}
	committed = true
	return nil
}
