package archive

import (
	"context"
	"fmt"
	"io"
	"strings"

	"entgo.io/ent"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/timelineevent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
)

// Bounds of one bulk insert: rows and bytes of JSON.
const (
	chunkRows  = 500
	chunkBytes = 16 << 20
)

// Restore reads the archive r (of size bytes, compressed; 0 when unknown,
// which loosens the bound on how far it may expand) into the workspace of
// ctx's viewer, who must be an admin of it, and returns the records it
// restored per type. The workspace must hold no record: members and API
// tokens aside, it must be empty, else Restore refuses naming what it
// holds. It is one transaction: on any error (a corrupt or hostile
// archive, a reference to a record the archive lacks) nothing is written.
func Restore(ctx context.Context, client *gen.Client, r io.Reader, size int64) (Counts, error) {
	counts, _, err := restore(ctx, client, r, size)
	return counts, err
}

// restore is Restore, also returning the map of old IDs to new.
func restore(ctx context.Context, client *gen.Client, r io.Reader, size int64) (Counts, *decoder, error) {
	v := tenancy.FromContext(ctx)
	if v == nil || v.WorkspaceID == "" {
		return nil, nil, errcode.New(errcode.Unauthenticated, "restore: no workspace in context")
	}
	if v.Role != tenancy.RoleAdmin {
		return nil, nil, errcode.New(errcode.Forbidden, "restoring a workspace archive needs an admin")
	}
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: v.WorkspaceID, Role: tenancy.RoleAdmin, MemberID: v.MemberID, TokenID: v.TokenID})
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("restore: %w", err)
	}
	counts, d, err := restoreTx(ctx, tx.Client(), r, size)
	if err != nil {
		_ = tx.Rollback()
		return nil, nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("restore: commit: %w", err)
	}
	return counts, d, nil
}

func restoreTx(ctx context.Context, c *gen.Client, r io.Reader, size int64) (Counts, *decoder, error) {
	if err := checkEmpty(schema.IncludeDeleted(ctx), c); err != nil {
		return nil, nil, err
	}
	members, err := c.Member.Query().All(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("restore: members: %w", err)
	}
	byEmail := map[string]pulid.ID{}
	for _, m := range members {
		byEmail[strings.ToLower(m.Email)] = m.ID
	}
	d := newDecoder(byEmail)

	// The restore writes the archived trail, not a new one: no timeline,
	// no events, no stage changes; link checks are done here, against the
	// archive, and the records restored are vouched for.
	wctx, batch := schema.Batched(ctx)
	wctx = tenancy.Untrailed(tenancy.Quiet(schema.Segmentation(schema.SubjectsVerified(wctx))))

	counts := Counts{}
	var (
		cur      *kind
		builders []any
		ids      []pulid.ID
		bytes    int
		required = map[pulid.ID]bool{}
	)
	flush := func() error {
		if len(builders) == 0 {
			return nil
		}
		if err := cur.bulk(wctx, c, builders); err != nil {
			return fmt.Errorf("restore %s: %w", cur.name, err)
		}
		schema.Vouch(wctx, ids...)
		builders, ids, bytes = builders[:0], ids[:0], 0
		return nil
	}
	err = scan(r, size, func(*manifest) error { return nil }, func(k *kind, n int, line []byte) error {
		if k != cur {
			if err := flush(); err != nil {
				return err
			}
			cur = k
		}
		rec, err := d.decode(k, n, line)
		if err != nil {
			return err
		}
		counts[k.name]++
		if rec == nil {
			return nil
		}
		b, m := k.create(c)
		if err := apply(m, rec); err != nil {
			return archiveError("%s line %d: %v", k.file(), n, err)
		}
		if rec.required {
			required[rec.id] = true
		}
		builders = append(builders, b)
		ids = append(ids, rec.id)
		bytes += rec.size
		if len(builders) >= chunkRows || bytes >= chunkBytes {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, nil, err
	}
	// Custom fields were restored optional, so that records written before
	// a field became required pass; now they are as archived.
	for id := range required {
		cf, err := c.CustomField.Get(wctx, id)
		if err != nil {
			return nil, nil, fmt.Errorf("restore custom fields: %w", err)
		}
		if err := c.CustomField.UpdateOne(cf).SetRequired(true).SetUpdatedAt(cf.UpdatedAt).Exec(wctx); err != nil {
			return nil, nil, fmt.Errorf("restore custom fields: %w", err)
		}
	}
	if err := batch.Flush(wctx, c); err != nil {
		return nil, nil, err
	}
	return counts, d, nil
}

// apply sets rec's fields on the create mutation m.
func apply(m ent.Mutation, rec *record) error {
	idm, ok := m.(interface{ SetID(pulid.ID) })
	if !ok {
		return fmt.Errorf("mutation %T has no ID", m)
	}
	idm.SetID(rec.id)
	for _, f := range rec.sets {
		if err := m.SetField(f.name, f.value); err != nil {
			return err
		}
	}
	if len(rec.tags) > 0 {
		tm, ok := m.(interface{ AddTagIDs(...pulid.ID) })
		if !ok {
			return fmt.Errorf("%s has no tags", m.Type())
		}
		tm.AddTagIDs(rec.tags...)
	}
	return nil
}

// checkEmpty refuses a workspace holding records, naming what it holds.
// Members and API tokens, and the timeline entries about them, are not
// records: a workspace needs an admin to be restored into.
func checkEmpty(ctx context.Context, c *gen.Client) error {
	var held []string
	add := func(name string, n int) {
		if n > 0 {
			held = append(held, fmt.Sprintf("%d %s", n, strings.ReplaceAll(name, "_", " ")))
		}
	}
	for _, k := range kinds {
		if k.reference {
			continue
		}
		count := k.count
		if k.name == "timeline_events" {
			// Adding members and tokens leaves a trail of its own.
			count = func(ctx context.Context, c *gen.Client) (int, error) {
				return c.TimelineEvent.Query().Where(timelineevent.SubjectTypeNotIn(gen.TypeMember, gen.TypeAPIToken)).Count(ctx)
			}
		}
		n, err := count(ctx, c)
		if err != nil {
			return fmt.Errorf("restore: count %s: %w", k.name, err)
		}
		add(k.name, n)
	}
	for _, q := range []struct {
		name  string
		count func(context.Context) (int, error)
	}{
		{"events", c.Event.Query().Count},
		{"import_jobs", c.ImportJob.Query().Count},
	} {
		n, err := q.count(ctx)
		if err != nil {
			return fmt.Errorf("restore: count %s: %w", q.name, err)
		}
		add(q.name, n)
	}
	if len(held) > 0 {
		return errcode.Input("workspace", "a workspace archive restores only into an empty workspace; this one holds %s", strings.Join(held, ", "))
	}
	return nil
}
