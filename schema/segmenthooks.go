package schema

import (
	"context"

	"entgo.io/ent"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/hook"
	"github.com/rapportcrm/rapport/core/ent/segment"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
)

type segmentationKey struct{}

// Segmentation returns a context whose writes may change the segments and
// memberships that a segmentation plugin keeps. Only the host's
// segmentation runs use it; never derive it from a request.
func Segmentation(ctx context.Context) context.Context {
	return context.WithValue(ctx, segmentationKey{}, true)
}

func segmentation(ctx context.Context) bool {
	b, _ := ctx.Value(segmentationKey{}).(bool)
	return b
}

// Hooks of the Segment: a segment a plugin keeps (binding_id set) keeps its
// key and is deleted only with its binding's runs; people may rename it
// and describe it.
func (Segment) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.SegmentFunc(func(ctx context.Context, m *gen.SegmentMutation) (ent.Value, error) {
				if segmentation(ctx) {
					return next.Mutate(ctx, m)
				}
				if m.Op().Is(ent.OpCreate) {
					if b, ok := m.BindingID(); ok && b != "" {
						return nil, errcode.Input("bindingID", "only a segmentation run creates a plugin's segment")
					}
					return next.Mutate(ctx, m)
				}
				_, keyChange := m.Key()
				deleting := m.Op().Is(ent.OpDelete | ent.OpDeleteOne)
				if !keyChange && !deleting {
					return next.Mutate(ctx, m)
				}
				ids, err := m.IDs(ctx)
				if err != nil {
					return nil, err
				}
				n, err := m.Client().Segment.Query().Where(segment.IDIn(ids...), segment.BindingIDNEQ("")).Count(ctx)
				if err != nil {
					return nil, err
				}
				if n > 0 {
					if deleting {
						return nil, errcode.Input("id", "this segment is kept by a segmentation plugin: unbind the plugin instead of deleting its segments")
					}
					return nil, errcode.Input("key", "this segment is kept by a segmentation plugin, which names it by its key: change its name instead")
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne),
	}
}

// Hooks of the SegmentMembership: the members of a segment a plugin keeps
// change only by that plugin's runs; a person's change is refused.
func (SegmentMembership) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.SegmentMembershipFunc(func(ctx context.Context, m *gen.SegmentMembershipMutation) (ent.Value, error) {
				if segmentation(ctx) {
					return next.Mutate(ctx, m)
				}
				var segs []pulid.ID
				if id, ok := m.SegmentID(); ok {
					segs = append(segs, id)
				}
				if !m.Op().Is(ent.OpCreate) {
					ids, err := m.IDs(ctx)
					if err != nil {
						return nil, err
					}
					if len(ids) > 0 {
						more, err := m.Client().SegmentMembership.Query().Where(segmentmembership.IDIn(ids...)).
							Unique(true).Select("segment_id").Strings(ctx)
						if err != nil {
							return nil, err
						}
						for _, s := range more {
							segs = append(segs, pulid.ID(s))
						}
					}
				}
				if len(segs) > 0 {
					n, err := m.Client().Segment.Query().Where(segment.IDIn(segs...), segment.BindingIDNEQ("")).Count(ctx)
					if err != nil {
						return nil, err
					}
					if n > 0 {
						return nil, errcode.Input("segmentID", "this segment is kept by a segmentation plugin: its members change only when the plugin runs")
					}
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne|ent.OpDelete|ent.OpDeleteOne),
	}
}
