package resolvers

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/live"
	"github.com/rapportcrm/rapport/graph/model"
)

// typeName is a record or event type as the outbox spells it:
// contact, line_item, deal.stage_changed.
var typeName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}(\.[a-z][a-z0-9_]{0,62})?$`)

// recordKinds maps a record event's suffix to its kind.
var recordKinds = map[string]model.RecordChangeKind{
	"created": model.RecordChangeKindCreated,
	"updated": model.RecordChangeKindUpdated,
	"deleted": model.RecordChangeKindDeleted,
}

// kindOf is the kind of a record event (created, updated, deleted), or
// "" for another event (deal.stage_changed…).
func kindOf(ev *ent.Event) model.RecordChangeKind {
	subject, action, ok := strings.Cut(ev.Type, ".")
	if !ok || subject != ev.SubjectType {
		return ""
	}
	return recordKinds[action]
}

// checkTypes refuses names that are no type of the outbox.
func checkTypes(types []string, record bool) error {
	for i, t := range types {
		if !typeName.MatchString(t) || (record && strings.Contains(t, ".")) {
			return errcode.Input("types."+itoa(i), "%q is not a type name (snake case, e.g. contact or line_item)", t)
		}
	}
	return nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// recordChanges follows the record events of the viewer's workspace.
func (r *Resolver) recordChanges(ctx context.Context, types []string, where *model.RecordChangeFilter, after *string) (<-chan *ent.Event, error) {
	if err := checkTypes(types, true); err != nil {
		return nil, err
	}
	kinds := []model.RecordChangeKind{model.RecordChangeKindCreated, model.RecordChangeKindUpdated, model.RecordChangeKindDeleted}
	if where != nil && where.Kinds != nil {
		kinds = where.Kinds
	}
	var evTypes []string
	for _, t := range types {
		for _, k := range kinds {
			evTypes = append(evTypes, t+"."+strings.ToLower(string(k)))
		}
	}
	keep := func(ev *ent.Event) bool {
		k := kindOf(ev)
		if k == "" || !slices.Contains(kinds, k) {
			return false
		}
		if where == nil {
			return true
		}
		if where.Ids != nil && !slices.Contains(where.Ids, ev.SubjectID) {
			return false
		}
		if where.Fields != nil && !slices.ContainsFunc(ev.Changes, func(c crm.Change) bool {
			return slices.ContainsFunc(where.Fields, func(f string) bool { return f == c.Field || errcode.FieldName(f) == c.Field })
		}) {
			return false
		}
		return true
	}
	return r.follow(ctx, evTypes, after, keep)
}

// events follows the events of the viewer's workspace.
func (r *Resolver) events(ctx context.Context, types []string, after *string) (<-chan *ent.Event, error) {
	if err := checkTypes(types, false); err != nil {
		return nil, err
	}
	return r.follow(ctx, types, after, func(*ent.Event) bool { return true })
}

// follow sends the events of the viewer's workspace after the cursor
// after that keep takes, until the subscription ends. A failure to read
// ends the subscription with an error message.
func (r *Resolver) follow(ctx context.Context, types []string, after *string, keep func(*ent.Event) bool) (<-chan *ent.Event, error) {
	if r.Live == nil {
		return nil, errcode.New(errcode.Unavailable, "live subscriptions are not served here")
	}
	var cursor string
	if after != nil {
		cursor = *after
	}
	seq, err := live.ParseCursor(cursor)
	if err != nil {
		return nil, err
	}
	fl := r.Live.Follow(ctx, seq, types, r.LiveBuffer)
	out := make(chan *ent.Event)
	go func() {
		defer close(out)
		for ev := range fl.C {
			if !keep(ev) {
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
		if err := fl.Err(); err != nil {
			transport.AddSubscriptionError(ctx, &gqlerror.Error{Message: "reading live events failed",
				Extensions: map[string]any{"code": errcode.Internal}})
		}
	}()
	return out, nil
}

// record loads the changed record as the viewer may read it; nil once
// deleted or out of sight.
func (r *Resolver) record(ctx context.Context, ev *ent.Event) (ent.Noder, error) {
	if kindOf(ev) == model.RecordChangeKindDeleted {
		return nil, nil
	}
	n, err := r.Client.Noder(ctx, ev.SubjectID, ent.WithNodeType(ent.IDToType))
	if err != nil {
		if ent.IsNotFound(err) || errcode.Of(err) == errcode.NotFound || errcode.Of(err) == errcode.Forbidden {
			return nil, nil
		}
		return nil, err
	}
	return n, nil
}
