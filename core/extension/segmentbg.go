package extension

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/segment"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/sdk"
)

// BackgroundHolder is the holder a background segmentation run's
// SegmentRun names: no process, since the run's ranges are worked by
// whichever workers take them.
const BackgroundHolder = "queue"

// BeginSegmentation starts a background segmentation of subjectType's
// subjects with the segmenter bound for them (plugin's, when plugin is
// set): it records a SegmentRun of total subjects holding the binding's
// lock, so that no other run of the binding interleaves with it (CONFLICT
// when one goes on), and marks the binding's segments as kept by the
// plugin version. Its batches are stored with SegmentBatch, and it ends
// with EndSegmentation. Admins and members only.
func (r *Registry) BeginSegmentation(ctx context.Context, client *ent.Client, subjectType, plugin string, total int) (*ent.SegmentRun, error) {
	opts := SegmentOptions{SubjectType: subjectType, Plugin: plugin, Trigger: "background", Now: time.Now().UTC()}
	binding, p, err := r.segmenter(ctx, client, opts)
	if err != nil {
		return nil, err
	}
	run, err := startSegmentRun(ctx, client, binding, p, opts, total)
	if err != nil {
		return nil, err
	}
	if run, err = client.SegmentRun.UpdateOne(run).SetHolder(BackgroundHolder).Save(ctx); err != nil {
		return nil, errors.Join(err, EndSegmentation(ctx, client, run.ID, true, false))
	}
	s := &segmentStore{client: client, binding: binding, plugin: p, run: run, opts: opts, segments: map[string]*ent.Segment{}}
	if err := s.adopt(ctx); err != nil {
		return nil, errors.Join(err, EndSegmentation(ctx, client, run.ID, true, false))
	}
	return run, nil
}

// segmenter is the one segmenter bound for opts.SubjectType (opts.Plugin's
// when set), checked as SegmentSubjects checks it.
func (r *Registry) segmenter(ctx context.Context, client *ent.Client, opts SegmentOptions) (*ent.ExtensionBinding, *Plugin, error) {
	bs, err := r.segmentBindings(ctx, client, opts.SubjectType, opts.Plugin)
	if err != nil {
		return nil, nil, err
	}
	if len(bs) > 1 {
		var names []string
		for _, b := range bs {
			names = append(names, b.Plugin)
		}
		return nil, nil, errcode.Input("plugin", "%d segmenters are bound for %s subjects (%s): name one", len(bs), opts.SubjectType, strings.Join(names, ", "))
	}
	p, err := r.lookup(ctx, client, bs[0].Plugin, bs[0].Version)
	if err != nil {
		return nil, nil, err
	}
	if m := p.Manifest; len(m.Subjects) > 0 && !contains(m.Subjects, opts.SubjectType) {
		return nil, nil, errcode.Input("subjectType", "plugin %s does not segment %s subjects (it takes %s)", m.Ref(), opts.SubjectType, strings.Join(m.Subjects, ", "))
	}
	return bs[0], p, nil
}

// backgroundStore is the store of the background run id, with the
// binding's segments as committed.
func backgroundStore(ctx context.Context, client *ent.Client, id pulid.ID) (*segmentStore, error) {
	run, err := client.SegmentRun.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	binding, err := client.ExtensionBinding.Get(ctx, run.BindingID)
	if ent.IsNotFound(err) {
		return nil, errcode.New(errcode.Conflict, "the binding of segmentation run %s was removed", id)
	}
	if err != nil {
		return nil, err
	}
	s := &segmentStore{client: client, binding: binding, run: run, segments: map[string]*ent.Segment{},
		opts: SegmentOptions{SubjectType: string(run.SubjectType), Trigger: run.Trigger, Now: time.Now().UTC()}}
	segs, err := client.Segment.Query().Where(segment.BindingID(binding.ID)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, sg := range segs {
		s.segments[sg.Key] = sg
	}
	return s, nil
}

// SegmentBatch segments ids for the background segmentation run id (see
// BeginSegmentation) and applies the difference with their open
// memberships, with a segment.entered or segment.left event per change
// and the SegmentRun's counts, in one transaction, as SegmentSubjects
// does for a batch; within, when set, runs in that transaction before it
// commits, and its error (or panic) rolls it all back. The batch is
// stored only while the run holds the binding's lock, and only by the
// plugin version the run started with: CONFLICT otherwise. With no ids
// the plugin is not called and within runs alone.
func (r *Registry) SegmentBatch(ctx context.Context, client *ent.Client, id pulid.ID, ids []pulid.ID, within func(context.Context, *ent.Tx) error) error {
	s, err := backgroundStore(ctx, client, id)
	if err != nil {
		return err
	}
	if s.run.Lock == nil {
		return errcode.New(errcode.Conflict, "segmentation run %s has ended (%s)", id, s.run.Status)
	}
	s.within = within
	if len(ids) == 0 {
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
		if within != nil {
			if err := within(ctx, tx); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		committed = true
		return nil
	}
	p, err := r.lookup(ctx, client, s.binding.Plugin, s.binding.Version)
	if err != nil {
		return err
	}
	if p.Ref() != s.run.Plugin {
		return errcode.New(errcode.Conflict, "%s is bound to segment now, not %s", p.Ref(), s.run.Plugin)
	}
	s.plugin = p
	m := p.Manifest
	plan, err := CompileInputs(ctx, client, s.opts.SubjectType, m.Inputs[s.opts.SubjectType])
	if err != nil {
		return err
	}
	cfg, err := configFor(m.ConfigSchema, s.binding.Config)
	if err != nil {
		return err
	}
	b, err := plan.Build(ctx, client, ids, s.opts.Now)
	if err != nil {
		return err
	}
	resp, err := r.Segment(ctx, p, &sdk.SegmentRequest{Batch: b, Config: cfg})
	if err == nil {
		err = checkSegmentKeys(p, resp)
	}
	if err != nil {
		return err
	}
	err = s.store(ctx, ids, resp)
	for try := 0; try < 3 && ent.IsConstraintError(err); try++ {
		// Another range created a segment this one names: take it up.
		if s, err = backgroundStore(ctx, client, id); err != nil {
			return err
		}
		s.within, s.plugin = within, p
		err = s.store(ctx, ids, resp)
	}
	return err
}

// EndSegmentation ends the background segmentation run id and releases
// the binding's lock: interrupted when canceled, else succeeded, partial
// or failed from its counts. With sweep (a run over every subject) the
// open memberships of subjects that no longer exist end first, with their
// segment.left events. A run already ended is left as it is.
func EndSegmentation(ctx context.Context, client *ent.Client, id pulid.ID, canceled, sweep bool) error {
	s, err := backgroundStore(ctx, client, id)
	if err != nil || s.run.Lock == nil {
		return err
	}
	var cause error
	if canceled {
		cause = context.Canceled
	} else if sweep {
		next, _, err := subjectPages(ctx, client, s.opts.SubjectType, nil, 10000)
		if err != nil {
			return err
		}
		seen := map[pulid.ID]bool{}
		for {
			ids, err := next()
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				break
			}
			for _, id := range ids {
				seen[id] = true
			}
		}
		cause = s.sweep(ctx, seen)
	}
	err = s.finish(ctx, cause)
	if errcode.Of(err) == errcode.PluginFailed || errors.Is(err, context.Canceled) {
		return nil // recorded on the run
	}
	return err
}
