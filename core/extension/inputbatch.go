package extension

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/extensionbinding"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/sdk"
)

// MaxInputBatch bounds the subjects InputBatch gathers.
const MaxInputBatch = 100_000

// InputBatchOptions choose the batch InputBatch builds.
type InputBatchOptions struct {
	// Plugin is "name" (the newest loaded) or "name@version".
	Plugin string
	// Point is the extension point whose binding configures the plugin
	// (score or segment); the manifest's defaults when the workspace has
	// no such binding of it.
	Point       sdk.Point
	SubjectType string
	// Where is the subject type's *ent.<Type>WhereInput, or nil for all.
	Where any
	// Limit bounds the subjects (in ID order); 0 means MaxInputBatch.
	Limit int
	Now   time.Time
}

// InputBatch builds the batch a plugin would get for the matching subjects
// of the caller's workspace (the attributes its manifest asks for, in ID
// order) and the configuration it would run with: what a run sends it,
// for calling the plugin by hand (rapport plugin batch | rapport plugin
// invoke).
func (r *Registry) InputBatch(ctx context.Context, client *ent.Client, opts InputBatchOptions) (sdk.Batch, []byte, error) {
	if opts.Limit <= 0 || opts.Limit > MaxInputBatch {
		opts.Limit = MaxInputBatch
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	p, err := r.resolve(ctx, client, opts.Plugin)
	if err != nil {
		return sdk.Batch{}, nil, errcode.Input("plugin", "%v", err)
	}
	m := p.Manifest
	if len(m.Subjects) > 0 && !contains(m.Subjects, opts.SubjectType) {
		return sdk.Batch{}, nil, errcode.Input("subjectType", "plugin %s does not take %s subjects", m.Ref(), opts.SubjectType)
	}
	bs, err := client.ExtensionBinding.Query().Where(
		extensionbinding.PointEQ(extensionbinding.Point(opts.Point)), extensionbinding.PluginEQ(m.Name), extensionbinding.VersionEQ(m.Version),
		extensionbinding.Or(extensionbinding.SubjectTypeEQ(extensionbinding.SubjectType(opts.SubjectType)), extensionbinding.SubjectTypeIsNil())).
		All(ctx)
	if err != nil {
		return sdk.Batch{}, nil, err
	}
	var bound map[string]any
	for _, b := range bs {
		if bound == nil || b.SubjectType != nil { // the subject type's binding over one for all
			bound = b.Config
			if bound == nil {
				bound = map[string]any{}
			}
		}
	}
	cfg, err := configFor(m.ConfigSchema, bound)
	if err != nil {
		return sdk.Batch{}, nil, err
	}
	next, _, err := subjectPages(ctx, client, opts.SubjectType, opts.Where, min(opts.Limit, 1000))
	if err != nil {
		return sdk.Batch{}, nil, err
	}
	var ids []pulid.ID
	for len(ids) < opts.Limit {
		page, err := next()
		if err != nil {
			return sdk.Batch{}, nil, err
		}
		if len(page) == 0 {
			break
		}
		ids = append(ids, page[:min(len(page), opts.Limit-len(ids))]...)
	}
	batch, err := BuildBatch(ctx, client, opts.SubjectType, ids, m.Inputs[opts.SubjectType], opts.Now)
	return batch, cfg, err
}
