// Package demo seeds a realistic demo workspace: a small software company's
// CRM with two years of history — organizations and their people, leads,
// deals moving through three pipelines with complete stage histories,
// activities, products and line items, and orders from customers who buy
// at a regular cadence until some of them churn.
//
// The data is generated from a fixed random seed, so every run produces
// the same records (only IDs differ), dated relative to Options.Now. Every
// name, domain (*.example) and phone number (555-01xx) is invented.
//
// Seeding goes through the ent client, so the schema's hooks and privacy
// rules apply as for any other write: workspace scoping, link checks,
// custom field validation, line item amounts and the timeline.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/workspace"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
)

// The demo workspace.
const (
	// Slug identifies the demo workspace; Seed does nothing when a
	// workspace with this slug exists.
	Slug = "demo"
	// Name is the demo workspace's display name.
	Name = "Demo Company"
	// AdminEmail is the email of the demo's admin member, "Demo Admin".
	AdminEmail = "admin@demo.example"
)

// Options tune Seed. The zero value is ready to use.
type Options struct {
	// Now is the end of the demo's history: records are dated in the 24
	// months before it (open tasks and expected close dates may lie after
	// it). Zero means time.Now(). It is used to the second, in UTC.
	Now time.Time
}

// Result tells what Seed found or made.
type Result struct {
	// Workspace is the demo workspace.
	Workspace *ent.Workspace
	// Created is true when this call seeded the workspace, false when it
	// already existed and was left untouched.
	Created bool
	// Counts are the workspace's records as stored after the call.
	Counts Counts
}

// Counts are numbers of records in a workspace (soft-deleted ones not
// included).
type Counts struct {
	Members            int
	CustomFields       int
	Tags               int
	Products           int
	Pipelines          int
	Stages             int
	Organizations      int
	Contacts           int
	Leads              int
	Deals              int
	StageChanges       int
	LineItems          int
	Activities         int
	Orders             int
	Segments           int
	SegmentMemberships int
}

// Seed creates the demo workspace (slug "demo") and all its records, in
// one transaction: either the whole demo is stored or nothing is. If the
// workspace already exists — seeded earlier, or made by someone else —
// Seed returns it unchanged with Created false; so Seed is safe to call on
// every start, and concurrent calls create the workspace once.
//
// Seed acts as the operator (tenancy.System), whatever identity ctx
// carries. It takes a few seconds (about 15,000 records).
func Seed(ctx context.Context, client *ent.Client, opts Options) (*Result, error) {
	// A nil viewer hides any identity ctx carries: only a system context
	// without a viewer may create workspaces.
	sys := tenancy.System(tenancy.NewContext(ctx, nil))
	if ws, err := find(sys, client); err != nil || ws != nil {
		return existing(ctx, client, ws, err)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	p := newPlan(now)

	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("seed demo: %w", err)
	}
	ws, err := tx.Workspace.Create().
		SetName(Name).
		SetSlug(Slug).
		SetCreatedAt(p.setup).
		SetUpdatedAt(p.setup).
		Save(sys)
	if err != nil {
		_ = tx.Rollback()
		if ent.IsConstraintError(err) {
			// Someone else seeded it meanwhile.
			ws, err := find(sys, client)
			if err == nil && ws == nil {
				err = errors.New("workspace vanished")
			}
			return existing(ctx, client, ws, err)
		}
		return nil, fmt.Errorf("seed demo: create workspace: %w", err)
	}
	// The writes gather their timeline entries and events in a batch,
	// written in a few bulk statements before the commit, and look each
	// linked record up once.
	wctx, batch := schema.Batched(tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin}))
	w := &writer{ctx: wctx, c: tx.Client(), p: p}
	if err := w.write(); err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("seed demo: %w", err)
	}
	if err := batch.Flush(wctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("seed demo: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("seed demo: commit: %w", err)
	}
	counts, err := count(ctx, client, ws)
	if err != nil {
		return nil, err
	}
	return &Result{Workspace: ws, Created: true, Counts: counts}, nil
}

func find(sys context.Context, client *ent.Client) (*ent.Workspace, error) {
	ws, err := client.Workspace.Query().Where(workspace.Slug(Slug)).Only(sys)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seed demo: find workspace: %w", err)
	}
	return ws, nil
}

func existing(ctx context.Context, client *ent.Client, ws *ent.Workspace, err error) (*Result, error) {
	if err != nil {
		return nil, err
	}
	counts, err := count(ctx, client, ws)
	if err != nil {
		return nil, err
	}
	return &Result{Workspace: ws, Counts: counts}, nil
}

// count counts the records of workspace ws; the privacy rules limit
// every query to it.
func count(ctx context.Context, client *ent.Client, ws *ent.Workspace) (Counts, error) {
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})
	var c Counts
	for _, q := range []struct {
		n     *int
		count func(context.Context) (int, error)
	}{
		{&c.Members, client.Member.Query().Count},
		{&c.CustomFields, client.CustomField.Query().Count},
		{&c.Tags, client.Tag.Query().Count},
		{&c.Products, client.Product.Query().Count},
		{&c.Pipelines, client.Pipeline.Query().Count},
		{&c.Stages, client.Stage.Query().Count},
		{&c.Organizations, client.Organization.Query().Count},
		{&c.Contacts, client.Contact.Query().Count},
		{&c.Leads, client.Lead.Query().Count},
		{&c.Deals, client.Deal.Query().Count},
		{&c.StageChanges, client.StageChange.Query().Count},
		{&c.LineItems, client.LineItem.Query().Count},
		{&c.Activities, client.Activity.Query().Count},
		{&c.Orders, client.Order.Query().Count},
		{&c.Segments, client.Segment.Query().Count},
		{&c.SegmentMemberships, client.SegmentMembership.Query().Count},
	} {
		n, err := q.count(ctx)
		if err != nil {
			return Counts{}, fmt.Errorf("seed demo: count records: %w", err)
		}
		*q.n = n
	}
	return c, nil
}
