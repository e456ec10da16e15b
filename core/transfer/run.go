package transfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/importjob"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer/mapping"
	"github.com/rapportcrm/rapport/core/transfer/value"
	"github.com/rapportcrm/rapport/internal/clip"
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
	o       Options
	m       mapping.Mapping
	loc     *time.Location
	order   value.DateOrder
	kind    kind
	res     *Result
	pending []Reject
}

// kind imports the rows of one record type.
type kind interface {
	// load reads what the rows link to and are matched against.
	load(ctx context.Context, c *ent.Client, source string) error
	// apply writes one row through c and says whether it created,
	// updated or left unchanged a record.
	apply(ctx context.Context, c *ent.Client, im *importer, r record) (outcome, *Reject, error)
}

type outcome int

const (
	created outcome = iota
	updated
	unchanged
)

// Run runs (or resumes) the import job id in ctx's workspace, calling
// progress after each committed batch.
func Run(ctx context.Context, client *ent.Client, id pulid.ID, progress Progress) (*Result, error) {
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
	fail := func(err error) (*Result, error) {
		if ctx.Err() != nil {
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
	if err := client.ImportJob.UpdateOneID(id).SetStatus(importjob.StatusRunning).SetHeartbeatAt(time.Now()).Exec(ctx); err != nil {
		return nil, err
	}
	switch o.Type {
	case "organizations":
		im.kind = &organizations{}
	case "contacts":
		im.kind = &contacts{}
	default:
		return fail(fmt.Errorf("importing %s is not supported yet", o.Type))
	}
	wctx := ctx
	if !o.FireAutomations {
		wctx = tenancy.Quiet(wctx)
	}
	// Skip what earlier runs committed.
	done := job.NextRow
	if done > 0 {
		if _, _, _, err := rowsOf(t, done); err != nil {
			return fail(err)
		}
	}
	if err := im.kind.load(ctx, client, im.m.Source); err != nil {
		return fail(err)
	}
	for {
		rows, rejects, eof, err := rowsOf(t, o.BatchSize)
		if err != nil {
			return fail(err)
		}
		n := len(rows) + len(rejects)
		if n > 0 {
			if err := im.batch(wctx, client, id, rows, rejects, n); err != nil {
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
	err = client.ImportJob.UpdateOneID(id).SetStatus(importjob.StatusDone).SetTotalRows(done).SetFinishedAt(time.Now()).Exec(ctx)
	return res, err
}

// batch writes rows in one transaction with the job's progress.
func (im *importer) batch(ctx context.Context, client *ent.Client, id pulid.ID, rows []readRow, rejects []Reject, n int) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	c := tx.Client()
	var delta Result
	delta.FailedByReason = map[string]int{}
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
				_ = tx.Rollback()
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
	if len(all) > 0 && im.o.AllOrNothing {
		_ = tx.Rollback()
		im.res.Rejects = append(im.res.Rejects, all...)
		return errAllOrNothing
	}
	up := c.ImportJob.UpdateOneID(id).AddNextRow(n).AddCreated(delta.Created).AddUpdated(delta.Updated).
		AddUnchanged(delta.Unchanged).AddFailed(len(all)).SetHeartbeatAt(time.Now())
	by := map[string]int{}
	for k, v := range im.res.FailedByReason {
		by[k] = v
	}
	for _, rj := range all {
		by[rj.Reason]++
	}
	up.SetFailedByReason(by)
	if err := up.Exec(ctx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if len(all) > 0 {
		bs := make([]*ent.ImportRejectCreate, len(all))
		for i, rj := range all {
			bs[i] = c.ImportReject.Create().SetJobID(id).SetRow(rj.Row).SetColumn(clip.String(rj.Column, 255, "")).
				SetReason(clip.String(rj.Reason, 64, "")).SetMessage(clip.String(rj.Message, 1000, ""))
		}
		if err := c.ImportReject.CreateBulk(bs...).Exec(ctx); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
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

// headerOfField names the column a schema field came from.
func (im *importer) headerOfField(r record, field string) string {
	for target, h := range r.header {
		if errcode.FieldName(target) == field || target == field {
			return h
		}
	}
	return ""
}
