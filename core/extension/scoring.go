package extension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/extensionbinding"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/ent/score"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/schema"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

// BindInput binds a workspace's extension point to a plugin version.
type BindInput struct {
	Point sdk.Point
	// SubjectType narrows the binding to one subject type; "" serves all.
	SubjectType string
	Plugin      string
	Version     string
	Config      map[string]any
}

// Bind creates or replaces the binding of (point, subject type) in the
// caller's workspace (for the segment point, of (segment, subject type,
// plugin): several segmenters can be bound side by side), after checking that the plugin is loaded, implements
// the point, accepts the subject type, and asks only for attributes the
// host provides. The change is audited in the timeline.
func (r *Registry) Bind(ctx context.Context, client *ent.Client, in BindInput) (*ent.ExtensionBinding, error) {
	p, err := r.lookup(ctx, client, in.Plugin, in.Version)
	if err == nil {
		p, err = r.ready(ctx, p)
	}
	if err != nil {
		return nil, err
	}
	m := p.Manifest
	if p.run == nil {
		return nil, errcode.Input("plugin", "plugin %s is not ready: %s", m.Ref(), p.Status)
	}
	if !m.Implements(in.Point) {
		return nil, errcode.Input("point", "plugin %s does not implement %s", m.Ref(), in.Point)
	}
	types := []string{in.SubjectType}
	if in.SubjectType == "" {
		types = m.Subjects
	} else if len(m.Subjects) > 0 && !contains(m.Subjects, in.SubjectType) {
		return nil, errcode.Input("subjectType", "plugin %s does not take %s subjects", m.Ref(), in.SubjectType)
	}
	for _, t := range types {
		if _, err := CompileInputs(ctx, client, t, m.Inputs[t]); err != nil {
			return nil, err
		}
	}
	if _, err := configFor(m.ConfigSchema, in.Config); err != nil {
		return nil, err
	}
	q := client.ExtensionBinding.Query().Where(extensionbinding.PointEQ(extensionbinding.Point(in.Point)))
	if in.Point == sdk.PointSegment {
		// Segmenters sit side by side (a lifecycle stage, a value tier…),
		// each keeping its own segments: binding one replaces only an
		// earlier binding of the same plugin.
		q = q.Where(extensionbinding.PluginEQ(in.Plugin))
	}
	if in.SubjectType == "" {
		q = q.Where(extensionbinding.SubjectTypeIsNil())
	} else {
		q = q.Where(extensionbinding.SubjectTypeEQ(extensionbinding.SubjectType(in.SubjectType)))
	}
	existing, err := q.First(ctx)
	switch {
	case ent.IsNotFound(err):
		c := client.ExtensionBinding.Create().
			SetPoint(extensionbinding.Point(in.Point)).
			SetPlugin(in.Plugin).SetVersion(in.Version).SetConfig(in.Config)
		if in.SubjectType != "" {
			c.SetSubjectType(extensionbinding.SubjectType(in.SubjectType))
		}
		return c.Save(ctx)
	case err != nil:
		return nil, err
	}
	return existing.Update().SetPlugin(in.Plugin).SetVersion(in.Version).SetConfig(in.Config).Save(ctx)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ConfigFor is the configuration a call of the plugin of m receives for a
// binding's config: the manifest's config_schema defaults applied and the
// result checked against the schema, as Bind and every run do. A refused
// configuration is BAD_USER_INPUT naming config.<path>.
func ConfigFor(m *manifest.Manifest, config map[string]any) ([]byte, error) {
	return configFor(m.ConfigSchema, config)
}

// configFor applies the schema's top-level property defaults to a binding's
// configuration, checks the result against the whole schema (JSON Schema:
// types, ranges, enums, nested objects, additionalProperties…) and returns
// it as JSON. A refused configuration is BAD_USER_INPUT naming
// config.<path> of the offending value.
func configFor(schema json.RawMessage, cfg map[string]any) ([]byte, error) {
	out := map[string]any{}
	if len(schema) > 0 {
		var s struct {
			Properties map[string]struct {
				Default any `json:"default"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(schema, &s); err != nil {
			return nil, errcode.Input("config", "plugin config schema: %v", err)
		}
		for k, p := range s.Properties {
			if p.Default != nil {
				out[k] = p.Default
			}
		}
	}
	for k, v := range cfg {
		out[k] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, errcode.Input("config", "%v", err)
	}
	if err := manifest.ValidateConfig(schema, b); err != nil {
		var ce *manifest.ConfigError
		if errors.As(err, &ce) {
			field := "config"
			if ce.Field != "" {
				field += "." + ce.Field
			}
			return nil, errcode.Input(field, "%s", ce.Reason)
		}
		return nil, errcode.Input("config", "plugin config schema: %v", err)
	}
	return b, nil
}

// Binding returns the plugin bound to (point, subject type) in the
// caller's workspace: a binding for that subject type, else one for all.
func (r *Registry) Binding(ctx context.Context, client *ent.Client, point sdk.Point, subjectType string) (*ent.ExtensionBinding, *Plugin, error) {
	bs, err := client.ExtensionBinding.Query().
		Where(extensionbinding.PointEQ(extensionbinding.Point(point)),
			extensionbinding.Or(extensionbinding.SubjectTypeEQ(extensionbinding.SubjectType(subjectType)), extensionbinding.SubjectTypeIsNil())).
		All(ctx)
	if err != nil {
		return nil, nil, err
	}
	var b *ent.ExtensionBinding
	for _, x := range bs {
		if b == nil || (x.SubjectType != nil && b.SubjectType == nil) {
			b = x
		}
	}
	if b == nil {
		return nil, nil, errcode.New(errcode.NotFound, "no plugin is bound to %s for %s subjects in this workspace", point, subjectType)
	}
	p, err := r.lookup(ctx, client, b.Plugin, b.Version)
	if err != nil {
		return nil, nil, err
	}
	return b, p, nil
}

// ScoreOptions choose what ScoreSubjects scores.
type ScoreOptions struct {
	// SubjectType is "contact", "organization", "lead" or "deal".
	SubjectType string
	// Where filters the subjects: a *ent.LeadWhereInput, *ent.ContactWhereInput,
	// *ent.OrganizationWhereInput or *ent.DealWhereInput; nil scores all.
	Where any
	// BatchSize is the number of subjects per plugin call (default 1,000).
	BatchSize int
	// Progress, when set, is called after each batch.
	Progress func(done, total int)
	// Now dates the scores (default time.Now).
	Now time.Time
}

// ScoreRun summarises a scoring run.
type ScoreRun struct {
	Plugin        string
	SubjectType   string
	Subjects      int
	Scored        int
	Batches       int
	FailedBatches int
	// Errors describe the failed batches (at most 10).
	Errors []string
}

// ScoreSubjects scores the matching subjects of the caller's workspace
// with the bound plugin, in batches, and stores a Score per subject, one
// transaction per batch: a batch the plugin fails on leaves nothing behind,
// and the run goes on with the next. client must not be a transaction.
//
// Batches go through three stages at once: while the plugin scores one,
// the next is read from the database and the one before is stored, so
// the plugin's time and the database's overlap instead of adding up.
// Batches are stored, and Progress called, in order, from the caller's
// goroutine.
func (r *Registry) ScoreSubjects(ctx context.Context, client *ent.Client, opts ScoreOptions) (*ScoreRun, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	binding, p, err := r.Binding(ctx, client, sdk.PointScore, opts.SubjectType)
	if err != nil {
		return nil, err
	}
	cfg, err := configFor(p.Manifest.ConfigSchema, binding.Config)
	if err != nil {
		return nil, err
	}
	next, total, err := subjectPages(ctx, client, opts.SubjectType, opts.Where, opts.BatchSize)
	if err != nil {
		return nil, err
	}
	run := &ScoreRun{Plugin: p.Ref(), SubjectType: opts.SubjectType, Subjects: total}
	plan, err := CompileInputs(ctx, client, opts.SubjectType, p.Manifest.Inputs[opts.SubjectType])
	if err != nil {
		return nil, err
	}
	err = runStaged(ctx, next,
		func(ctx context.Context, ids []pulid.ID) (*sdk.ScoreRequest, error) {
			b, err := plan.Build(ctx, client, ids, opts.Now)
			return &sdk.ScoreRequest{Batch: b, Config: cfg}, err
		},
		func(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
			return r.Score(ctx, p, req)
		},
		func(ids []pulid.ID, resp *sdk.ScoreResponse, err error) error {
			run.Batches++
			if err == nil {
				err = r.storeScores(ctx, client, p, opts, ids, resp)
			}
			if err != nil {
				if errcode.Of(err) != errcode.PluginFailed {
					return err
				}
				run.FailedBatches++
				if len(run.Errors) < 10 {
					run.Errors = append(run.Errors, err.Error())
				}
			} else {
				run.Scored += len(ids)
			}
			if opts.Progress != nil {
				opts.Progress(run.Scored+run.FailedBatches*opts.BatchSize, total)
			}
			return nil
		})
	if err != nil {
		return run, err
	}
	if run.FailedBatches > 0 && run.Scored == 0 {
		return run, &errcode.Error{Code: errcode.PluginFailed, Msg: run.Errors[0]}
	}
	return run, nil
}

// storeScores stores a batch's scores in a transaction of their own.
func (r *Registry) storeScores(ctx context.Context, client *ent.Client, p *Plugin, opts ScoreOptions, ids []pulid.ID, resp *sdk.ScoreResponse) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := tx.Score.CreateBulk(scoreBuilders(tx, p, opts, ids, resp)...).Exec(schema.SubjectsVerified(ctx)); err != nil {
		return errors.Join(fmt.Errorf("storing scores: %w", err), tx.Rollback())
	}
	return tx.Commit()
}

// scoreBuilders are the Score creates of a batch's scores.
func scoreBuilders(tx *ent.Tx, p *Plugin, opts ScoreOptions, ids []pulid.ID, resp *sdk.ScoreResponse) []*ent.ScoreCreate {
	builders := make([]*ent.ScoreCreate, len(ids))
	for i, id := range ids {
		var factors []crm.Factor
		for f, name := range resp.FactorNames {
			factors = append(factors, crm.Factor{Name: name, Contribution: resp.Contribution(i, f)})
		}
		b := tx.Score.Create().
			SetSubjectType(score.SubjectType(opts.SubjectType)).
			SetSubjectID(id).
			SetPoint(string(sdk.PointScore)).
			SetPlugin(p.Manifest.Name).
			SetPluginVersion(p.Manifest.Version).
			SetValue(resp.Values[i]).
			SetExplanation(factors).
			SetComputedAt(opts.Now)
		if l := resp.Label(i); l != "" {
			b.SetLabel(l)
		}
		builders[i] = b
	}
	return builders
}

// subjectPages returns an iterator over the IDs of the matching subjects,
// in ID order, a page at a time, and their total.
func subjectPages(ctx context.Context, client *ent.Client, subjectType string, where any, size int) (func() ([]pulid.ID, error), int, error) {
	var (
		total int
		page  func(after pulid.ID) ([]pulid.ID, error)
		err   error
	)
	switch subjectType {
	case "lead":
		q := client.Lead.Query()
		if w, ok := where.(*ent.LeadWhereInput); ok && w != nil {
			if q, err = w.Filter(q); err != nil {
				return nil, 0, err
			}
		}
		total, err = q.Clone().Count(ctx)
		page = func(after pulid.ID) ([]pulid.ID, error) {
			return q.Clone().Where(lead.IDGT(after)).Order(ent.Asc(lead.FieldID)).Limit(size).IDs(ctx)
		}
	case "contact":
		q := client.Contact.Query()
		if w, ok := where.(*ent.ContactWhereInput); ok && w != nil {
			if q, err = w.Filter(q); err != nil {
				return nil, 0, err
			}
		}
		total, err = q.Clone().Count(ctx)
		page = func(after pulid.ID) ([]pulid.ID, error) {
			return q.Clone().Where(contact.IDGT(after)).Order(ent.Asc(contact.FieldID)).Limit(size).IDs(ctx)
		}
	case "organization":
		q := client.Organization.Query()
		if w, ok := where.(*ent.OrganizationWhereInput); ok && w != nil {
			if q, err = w.Filter(q); err != nil {
				return nil, 0, err
			}
		}
		total, err = q.Clone().Count(ctx)
		page = func(after pulid.ID) ([]pulid.ID, error) {
			return q.Clone().Where(organization.IDGT(after)).Order(ent.Asc(organization.FieldID)).Limit(size).IDs(ctx)
		}
	case "deal":
		q := client.Deal.Query()
		if w, ok := where.(*ent.DealWhereInput); ok && w != nil {
			if q, err = w.Filter(q); err != nil {
				return nil, 0, err
			}
		}
		total, err = q.Clone().Count(ctx)
		page = func(after pulid.ID) ([]pulid.ID, error) {
			return q.Clone().Where(deal.IDGT(after)).Order(ent.Asc(deal.FieldID)).Limit(size).IDs(ctx)
		}
	default:
		return nil, 0, errcode.Input("subjectType", "unknown subject type %q", subjectType)
	}
	if err != nil {
		return nil, 0, err
	}
	var last pulid.ID
	return func() ([]pulid.ID, error) {
		ids, err := page(last)
		if len(ids) > 0 {
			last = ids[len(ids)-1]
		}
		return ids, err
	}, total, nil
}
