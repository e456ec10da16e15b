package transfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/importjob"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer/mapping"
	"github.com/rapportcrm/rapport/core/transfer/read"
	"github.com/rapportcrm/rapport/core/transfer/value"
	"github.com/rapportcrm/rapport/internal/clip"
	"github.com/rapportcrm/rapport/schema"
)

// record is one row's cells by target, with the header each came from.
type record struct {
	num    int
	cells  map[string]string
	header map[string]string
	// custom are the row's custom field cells by key.
	custom map[string]any
	// createdAt is the row's created_at, zero when it has none.
	createdAt time.Time
}

// get returns a target's cell, trimmed.
func (r record) get(target string) string { return strings.TrimSpace(r.cells[target]) }

// reject makes a Reject of the row for target's column.
func (r record) reject(target, reason, format string, args ...any) *Reject {
	return &Reject{Row: r.num, Column: r.header[target], Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// importer is one run of a job.
type importer struct {
	o     Options
	m     mapping.Mapping
	loc   *time.Location
	order value.DateOrder
	kind  kind
	links links
	defs  map[string]*ent.CustomField
	res   *Result
	// trail gathers each batch's timeline and events.
	trail *schema.Batch
}

// kind imports the rows of one record type.
type kind interface {
	// load reads what the rows are matched against.
	load(ctx context.Context, c *ent.Client, source string) error
	// apply writes one row through c and says whether it created,
	// updated or left unchanged a record.
	apply(ctx context.Context, c *ent.Client, im *importer, r record) (outcome, *Reject, error)
}

// dated is a kind whose rows date their trail by a field of their own
// (an activity by when it happened) when they have no creation date.
type dated interface {
	when(im *importer, r record) (time.Time, *Reject)
}

type outcome int

const (
	created outcome = iota
	updated
	unchanged
)

// kindOf is the importer of a record type, and which records its rows
// link to: organizations, contacts, deals.
func kindOf(typ string) (k kind, orgs, people, sales bool) {
	switch typ {
	case "organizations":
		return &organizations{}, false, false, false
	case "contacts":
		return &contacts{}, true, true, false
	case "leads":
		return &leads{}, true, true, false
	case "deals":
		return &deals{}, true, true, true
	case "activities":
		return &activities{}, true, true, true
	case "products":
		return &products{}, false, false, false
	case "orders":
		return &orders{}, true, true, true
	}
	return nil, false, false, false
}

// Run runs (or resumes) the import job id in ctx's workspace, calling
// progress after each committed batch. Under AllOrNothing the whole file
// is one transaction, committed only when no row was rejected.
func Run(ctx context.Context, client *ent.Client, id pulid.ID, progress Progress) (*Result, error) {
	return run(ctx, client, id, progress, nil)
}

// Check reads, maps and validates file as an import of o would, linking
// and matching rows as that import would, and writes nothing: its
// Result says what the import would create, update and reject.
func Check(ctx context.Context, client *ent.Client, file []byte, o Options, progress Progress) (*Result, error) {
	tx, err := client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	job, err := newJob(ctx, tx.Client(), file, o)
	if err != nil {
		return nil, err
	}
	res, err := run(ctx, tx.Client(), job.ID, progress, tx)
	if errors.Is(err, errAllOrNothing) {
		err = nil
	}
	return res, err
}

// run runs job id; whole, when not nil, is the one transaction every
// batch writes in, left open for the caller.
func run(ctx context.Context, client *ent.Client, id pulid.ID, progress Progress, whole *ent.Tx) (*Result, error) {
	job, err := client.ImportJob.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	var o Options
	b, _ := json.Marshal(job.Options)
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, fmt.Errorf("import job %s: options: %w", id, err)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	res := &Result{Job: id, FailedByReason: map[string]int{}, Created: job.Created, Updated: job.Updated,
		Unchanged: job.Unchanged, Failed: job.Failed}
	for k, v := range job.FailedByReason {
		res.FailedByReason[k] = v
	}
	dry := whole != nil
	fail := func(err error) (*Result, error) {
		if ctx.Err() != nil || dry {
			// Stopped, not failed: a later run resumes the job.
			return res, err
		}
		_ = client.ImportJob.UpdateOneID(id).SetStatus(importjob.StatusFailed).SetError(clip.String(err.Error(), 2000, "")).
			SetFinishedAt(time.Now()).Exec(context.WithoutCancel(ctx))
		return res, err
	}
	t, err := table(job, o)
	if err != nil {
		return fail(err)
	}
	im := &importer{o: o, res: res}
	if im.m, err = mapping.Map(o.Type, t.Header(), mapping.Options{File: o.Mapping, CreateFields: o.CreateFields, Source: o.Source}); err != nil {
		return fail(err)
	}
	res.Mapping = im.m
	if im.loc, err = location(o); err != nil {
		return fail(err)
	}
	if im.order, err = value.ParseDateOrder(im.m.DateOrder); err != nil {
		return fail(err)
	}
	if im.order == value.Unknown {
		// Tell day-first from month-first by the file's dates: one
		// 25/03 decides the rest. A file that decides both ways, or
		// neither, leaves its ambiguous dates rejected.
		if im.order, err = im.dateOrder(job, o); err != nil {
			return fail(err)
		}
	}
	k, orgs, people, sales := kindOf(o.Type)
	if k == nil {
		return fail(fmt.Errorf("unknown record type %q", o.Type))
	}
	im.kind = k
	if err := client.ImportJob.UpdateOneID(id).SetStatus(importjob.StatusRunning).SetHeartbeatAt(time.Now()).Exec(ctx); err != nil {
		return nil, err
	}
	if o.AllOrNothing && whole == nil {
		// Nothing of an all-or-nothing import is kept until all of it
		// is: a restart begins it again.
		if whole, err = client.Tx(ctx); err != nil {
			return fail(err)
		}
		defer func() { _ = whole.Rollback() }()
		res.Created, res.Updated, res.Unchanged, res.Failed = 0, 0, 0, 0
		res.FailedByReason = map[string]int{}
		if _, err := whole.Client().ImportJob.Update().Where(importjob.ID(id)).SetNextRow(0).
			SetCreated(0).SetUpdated(0).SetUnchanged(0).SetFailed(0).Save(ctx); err != nil {
			return fail(err)
		}
		job.NextRow = 0
	}
	rc := client
	if whole != nil {
		rc = whole.Client()
	}
	wctx := ctx
	if !o.FireAutomations {
		wctx = tenancy.Quiet(wctx)
	}
	wctx, im.trail = schema.Batched(wctx)
	// Skip what earlier runs committed.
	done := job.NextRow
	if done > 0 {
		if _, _, _, err := rowsOf(t, done); err != nil {
			return fail(err)
		}
	}
	if err := im.loadFields(ctx, rc); err != nil {
		return fail(err)
	}
	// What rows link to is read through the workspace's scope: the
	// batches' writes link to it unchecked (schema.Vouch).
	if err := im.links.load(wctx, rc, im.m.Source, orgs, people, sales); err != nil {
		return fail(err)
	}
	if err := im.kind.load(wctx, rc, im.m.Source); err != nil {
		return fail(err)
	}
	for {
		rows, rejects, eof, err := rowsOf(t, o.BatchSize)
		if err != nil {
			return fail(err)
		}
		n := len(rows) + len(rejects)
		if n > 0 {
			if whole != nil {
				err = im.batch(wctx, rc, id, rows, rejects, n)
			} else {
				err = im.committed(wctx, client, id, rows, rejects, n)
			}
			if err != nil {
				return fail(err)
			}
			done += n
			if progress != nil {
				progress(done)
			}
		}
		if eof {
			break
		}
	}
	res.Rows = done
	if whole != nil {
		if dry {
			if res.Failed > 0 && o.AllOrNothing {
				return res, errAllOrNothing
			}
			return res, nil
		}
		if res.Failed > 0 {
			// Refuse the whole file: keep only the rejects and the
			// job's failure.
			_ = whole.Rollback()
			return im.refuse(ctx, client, id, done)
		}
		if err := whole.Client().ImportJob.UpdateOneID(id).SetStatus(importjob.StatusDone).SetTotalRows(done).
			SetFinishedAt(time.Now()).Exec(ctx); err != nil {
			return fail(err)
		}
		return res, whole.Commit()
	}
	err = client.ImportJob.UpdateOneID(id).SetStatus(importjob.StatusDone).SetTotalRows(done).SetFinishedAt(time.Now()).Exec(ctx)
	return res, err
}

// refuse records an all-or-nothing job that rejected rows: failed, with
// its rejects, and nothing else written.
func (im *importer) refuse(ctx context.Context, client *ent.Client, id pulid.ID, rows int) (*Result, error) {
	res := im.res
	err := withTx(ctx, client, func(c *ent.Client) error {
		if err := c.ImportJob.UpdateOneID(id).SetStatus(importjob.StatusFailed).SetTotalRows(rows).SetNextRow(rows).
			SetCreated(0).SetUpdated(0).SetUnchanged(0).SetFailed(res.Failed).SetFailedByReason(res.FailedByReason).
			SetError(fmt.Sprintf("%d rows were rejected and the import is all or nothing: nothing was imported", res.Failed)).
			SetFinishedAt(time.Now()).Exec(ctx); err != nil {
			return err
		}
		return storeRejects(ctx, c, id, res.Rejects)
	})
	res.Rows = rows
	res.Created, res.Updated, res.Unchanged = 0, 0, 0
	if err != nil {
		return res, err
	}
	return res, errAllOrNothing
}

func withTx(ctx context.Context, client *ent.Client, f func(*ent.Client) error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	if err := f(tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// committed writes a batch in a transaction of its own.
func (im *importer) committed(ctx context.Context, client *ent.Client, id pulid.ID, rows []readRow, rejects []Reject, n int) error {
	return withTx(ctx, client, func(c *ent.Client) error { return im.batch(ctx, c, id, rows, rejects, n) })
}

// batch writes rows through c with the job's progress.
func (im *importer) batch(ctx context.Context, c *ent.Client, id pulid.ID, rows []readRow, rejects []Reject, n int) error {
	var delta Result
	all := append([]Reject(nil), rejects...)
	for _, row := range rows {
		r := im.record(row)
		// The source's creation date dates the record and its trail.
		at, rej := im.date(r, "created_at")
		if rej != nil {
			all = append(all, *rej)
			continue
		}
		r.createdAt = at
		if d, ok := im.kind.(dated); ok && at.IsZero() {
			if at, rej = d.when(im, r); rej != nil {
				all = append(all, *rej)
				continue
			}
		}
		rctx := ctx
		if !at.IsZero() {
			rctx = tenancy.WithHistory(ctx, at)
		}
		out, rej, err := im.kind.apply(rctx, c, im, r)
		if err != nil {
			var ee *errcode.Error
			if errors.As(err, &ee) && ee.Field != "" {
				rej = &Reject{Row: r.num, Column: im.headerOfField(r, ee.Field), Reason: "invalid", Message: ee.Error()}
			} else if ent.IsValidationError(err) {
				rej = &Reject{Row: r.num, Reason: "invalid", Message: err.Error()}
			} else {
				return fmt.Errorf("row %d: %w", r.num, err)
			}
		}
		if rej != nil {
			all = append(all, *rej)
			continue
		}
		switch out {
		case created:
			delta.Created++
		case updated:
			delta.Updated++
		default:
			delta.Unchanged++
		}
	}
	// The batch's timeline and events are written together at its end.
	if err := im.trail.Flush(ctx, c); err != nil {
		return err
	}
	by := maps.Clone(im.res.FailedByReason)
	for _, rj := range all {
		by[rj.Reason]++
	}
	if err := c.ImportJob.UpdateOneID(id).AddNextRow(n).AddCreated(delta.Created).AddUpdated(delta.Updated).
		AddUnchanged(delta.Unchanged).AddFailed(len(all)).SetFailedByReason(by).SetHeartbeatAt(time.Now()).Exec(ctx); err != nil {
		return err
	}
	if err := storeRejects(ctx, c, id, all); err != nil {
		return err
	}
	im.res.Created += delta.Created
	im.res.Updated += delta.Updated
	im.res.Unchanged += delta.Unchanged
	im.res.Failed += len(all)
	im.res.FailedByReason = by
	im.res.Rejects = append(im.res.Rejects, all...)
	return nil
}

// storeRejects writes rejects as the job's ImportReject rows.
func storeRejects(ctx context.Context, c *ent.Client, id pulid.ID, all []Reject) error {
	for len(all) > 0 {
		chunk := all[:min(len(all), 500)]
		all = all[len(chunk):]
		bs := make([]*ent.ImportRejectCreate, len(chunk))
		for i, rj := range chunk {
			bs[i] = c.ImportReject.Create().SetJobID(id).SetRow(rj.Row).SetColumn(clip.String(rj.Column, 255, "")).
				SetReason(clip.String(rj.Reason, 64, "")).SetMessage(clip.String(rj.Message, 1000, ""))
		}
		if err := c.ImportReject.CreateBulk(bs...).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}

// headerOfField names the column a schema field came from.
func (im *importer) headerOfField(r record, field string) string {
	for target, h := range r.header {
		if errcode.FieldName(target) == field || target == field {
			return h
		}
	}
	return ""
}

// dateOrder reads the date columns of job's file and tells their order
// by value.OrderOf: Unknown when nothing decides or the file decides
// both ways.
func (im *importer) dateOrder(job *ent.ImportJob, o Options) (value.DateOrder, error) {
	var cols []int
	for _, c := range im.m.Columns {
		if t, ok := mapping.TargetOf(im.m.Kind, c.Target); ok && t.Type == mapping.Date {
			cols = append(cols, c.Index)
		}
	}
	if len(cols) == 0 {
		return value.Unknown, nil
	}
	t, err := table(job, o)
	if err != nil {
		return value.Unknown, err
	}
	var vals []string
	for {
		r, err := t.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *read.Error
			if errors.As(err, &re) {
				continue
			}
			return value.Unknown, err
		}
		for _, i := range cols {
			if i < len(r.Cells) && strings.ContainsAny(r.Cells[i], "/.") {
				vals = append(vals, r.Cells[i])
			}
		}
	}
	order, err := value.OrderOf(vals)
	if err != nil {
		return value.Unknown, nil
	}
	return order, nil
}
