// Package runjob runs long plugin work (scoring or segmenting a
// workspace's subjects) in the background, on the job queue the
// automations and imports use (core/automation), spread over every
// process that runs workers.
//
// Start checks the caller may write, records a WorkRun, splits the
// matching subjects into WorkRanges of consecutive IDs (RangeSize each, in
// ID order, as they are when the run starts) and queues one job per range,
// unique per range, so that a second enqueue of the same range never
// doubles it. A range's worker scores the subjects of its range that still
// match the run's filter and stores their scores, the range's done status
// and the run's progress in one transaction: a worker that dies mid-range
// leaves nothing of it, and the retry (the queue's rescue hands a job whose
// worker died to another worker after the engine's RescueAfter) redoes the
// whole range, exactly once, since a range already done is skipped in the
// same transaction that would store it again. When no range is left
// pending the run becomes succeeded, or failed when every range failed.
package runjob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/segmentrun"
	"github.com/rapportcrm/rapport/core/ent/workrange"
	"github.com/rapportcrm/rapport/core/ent/workrun"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
)

// DefaultRangeSize is how many subjects one range (one queue job, one
// transaction) holds unless StartOptions says otherwise.
const DefaultRangeSize = 1000

// MaxAttempts is how many times the queue tries a range before the range
// is recorded as failed.
const MaxAttempts = 5

// MaxErrors bounds the errors a run reports (those of its first failed
// ranges).
const MaxErrors = 10

// Args are the queued job's arguments: the WorkRange to work.
type Args struct {
	// Range is the WorkRange's ID.
	Range pulid.ID `json:"range"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "work_range" }

// InsertOpts implements river.JobArgsWithInsertOpts: one queued job per
// range, whoever queues it and however often.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: MaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Inserter queues jobs: the automation engine (automation.Engine.Insert).
type Inserter interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Worker works queued ranges.
type Worker struct {
	river.WorkerDefaults[Args]
	// Client is the store's ent client.
	Client *ent.Client
	// Plugins runs the plugins; a worker without them leaves its ranges
	// to be retried (by a worker that has them).
	Plugins *extension.Registry
	// Fault, when set, runs inside a range's transaction once its scores
	// are written, just before it commits; an error or a panic from it
	// rolls the whole range back, as a worker dying there would. Tests
	// set it; it is nil otherwise.
	Fault func(rangeID pulid.ID, attempt int) error
}

// Timeout implements river.Worker: a range (one plugin call and one
// transaction) is bounded by the engine's JobTimeout, and a worker that
// dies is noticed by the queue's rescue after the engine's RescueAfter.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return 0 }

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, j *river.Job[Args]) error {
	return RunRange(ctx, w.Client, w.Plugins, j.Args.Range, RangeOptions{
		Attempt: j.Attempt, LastAttempt: j.Attempt >= j.MaxAttempts, Fault: w.Fault,
	})
}

// Register adds the range worker over client and plugins to workers, as
// automation.Config.Jobs takes it.
func Register(client *ent.Client, plugins *extension.Registry) func(*river.Workers) error {
	return func(ws *river.Workers) error {
		return river.AddWorkerSafely(ws, &Worker{Client: client, Plugins: plugins})
	}
}

// StartOptions choose what Start runs.
type StartOptions struct {
	// Kind is score (the default) or segment.
	Kind workrun.Kind
	// Plugin names the segmenter when several are bound for the
	// subject type (segment only).
	Plugin string
	// SubjectType is "contact", "organization", "lead" or "deal".
	SubjectType string
	// Where filters the subjects: a *ent.LeadWhereInput,
	// *ent.ContactWhereInput, *ent.OrganizationWhereInput or
	// *ent.DealWhereInput; nil runs over all.
	Where any
	// RangeSize is how many subjects a range holds (DefaultRangeSize
	// when 0).
	RangeSize int
}

// Start starts a background scoring or segmentation run in the caller's
// workspace: it checks the caller is an admin or a member (FORBIDDEN
// otherwise, before anything else is looked at), that a plugin is bound
// for the kind and subject type, records the run and its ranges, and
// queues a job per range on q. A segmentation run holds its binding's lock
// (a SegmentRun, see extension.BeginSegmentation) from here to its end:
// CONFLICT while another run of the binding goes on. A run over no
// subject is succeeded at once. client must not be a transaction: the run
// is committed before its jobs are queued.
func Start(ctx context.Context, q Inserter, client *ent.Client, plugins *extension.Registry, opts StartOptions) (*ent.WorkRun, error) {
	v := tenancy.FromContext(ctx)
	if v == nil || v.WorkspaceID == "" {
		return nil, errcode.New(errcode.Unauthenticated, "no token")
	}
	if !v.Role.CanWrite() {
		return nil, errcode.New(errcode.Forbidden, "only an admin or a member may start a run")
	}
	if q == nil || plugins == nil {
		return nil, errcode.New(errcode.Unavailable, "this server runs no job queue or no plugins for background runs")
	}
	if opts.RangeSize <= 0 {
		opts.RangeSize = DefaultRangeSize
	}
	if opts.Kind == "" {
		opts.Kind = workrun.KindScore
	}
	if err := workrun.KindValidator(opts.Kind); err != nil {
		return nil, errcode.Input("kind", "unknown kind %q: want score or segment", opts.Kind)
	}
	if _, err := extension.ParseWhere(opts.SubjectType, nil); err != nil {
		return nil, err
	}
	var ref string
	if opts.Kind == workrun.KindScore {
		_, p, err := plugins.Binding(ctx, client, sdk.PointScore, opts.SubjectType)
		if err != nil {
			return nil, err
		}
		ref = p.Ref()
	}
	var (
		match json.RawMessage
		err   error
	)
	if opts.Where != nil {
		if match, err = json.Marshal(opts.Where); err != nil {
			return nil, fmt.Errorf("storing the filter: %w", err)
		}
	}
	ranges, total, err := extension.SplitSubjects(ctx, client, opts.SubjectType, opts.Where, opts.RangeSize)
	if err != nil {
		return nil, err
	}
	var seg *ent.SegmentRun
	if opts.Kind == workrun.KindSegment {
		if err := releaseStaleIn(ctx, client); err != nil {
			return nil, err
		}
		if seg, err = plugins.BeginSegmentation(ctx, client, opts.SubjectType, opts.Plugin, total); err != nil {
			return nil, err
		}
		ref = seg.Plugin
	}
	// abort releases the segmentation lock of a run that did not start.
	abort := func(err error) (*ent.WorkRun, error) {
		if seg != nil {
			err = errors.Join(err, extension.EndSegmentation(context.WithoutCancel(ctx), client, seg.ID, true, false))
		}
		return nil, err
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return abort(err)
	}
	c := tx.WorkRun.Create().SetKind(opts.Kind).SetPlugin(ref).
		SetSubjectType(workrun.SubjectType(opts.SubjectType)).SetTotal(total).SetActor(actorOf(v))
	if match != nil {
		c.SetMatch(match)
	}
	if seg != nil {
		c.SetSegmentRunID(seg.ID)
	}
	if len(ranges) == 0 {
		now := time.Now()
		c.SetStatus(workrun.StatusSucceeded).SetStartedAt(now).SetFinishedAt(now)
	}
	run, err := c.Save(ctx)
	if err != nil {
		return abort(errors.Join(err, tx.Rollback()))
	}
	var ids []pulid.ID
	for part := range slices.Chunk(ranges, 500) {
		bs := make([]*ent.WorkRangeCreate, len(part))
		for i, r := range part {
			bs[i] = tx.WorkRange.Create().SetRunID(run.ID).SetFirstID(r.First).SetLastID(r.Last).SetCount(r.Count)
		}
		made, err := tx.WorkRange.CreateBulk(bs...).Save(ctx)
		if err != nil {
			return abort(errors.Join(err, tx.Rollback()))
		}
		for _, m := range made {
			ids = append(ids, m.ID)
		}
	}
	if err := tx.Commit(); err != nil {
		return abort(err)
	}
	if seg != nil && len(ranges) == 0 {
		if err := extension.EndSegmentation(ctx, client, seg.ID, false, match == nil); err != nil {
			return nil, err
		}
	}
	if err := Enqueue(ctx, q, client, run.ID, ids); err != nil {
		return nil, err
	}
	return run, nil
}

// Enqueue queues a job for each of the ranges ids of run. When the queue
// refuses one, the ranges not queued are marked failed, so that the run
// still ends, and the error is returned. Queueing a range again is
// harmless: its job is unique.
func Enqueue(ctx context.Context, q Inserter, client *ent.Client, run pulid.ID, ids []pulid.ID) error {
	for i, id := range ids {
		if _, err := q.Insert(ctx, Args{Range: id}, nil); err != nil {
			sys := tenancy.System(context.WithoutCancel(ctx))
			_, _ = client.WorkRange.Update().Where(workrange.IDIn(ids[i:]...), workrange.StatusEQ(workrange.StatusPending)).
				SetStatus(workrange.StatusFailed).SetError(bounded("the range could not be queued: " + err.Error())).Save(sys)
			_ = client.WorkRun.UpdateOneID(run).AddFailedBatches(len(ids) - i).Exec(sys)
			if r, err := client.WorkRun.Get(sys, run); err == nil {
				_ = Finish(sys, client, r)
			}
			return err
		}
	}
	return nil
}

// RangeOptions tell RunRange about the attempt it makes.
type RangeOptions struct {
	// Attempt is the queue's attempt number, from 1.
	Attempt int
	// LastAttempt is set on the queue's last attempt: a range that fails
	// then is recorded as failed.
	LastAttempt bool
	// Fault is Worker.Fault.
	Fault func(rangeID pulid.ID, attempt int) error
}

// errDone is how a range's transaction stops when the range was done by
// another attempt meanwhile.
var errDone = errors.New("the range is done already")

// RunRange works the range id as its worker does: a range no longer
// pending (or whose run was canceled) is left as it is; otherwise its
// subjects that still match the run's filter are scored, in the run's
// workspace, as an admin with the run's actor, and stored with the
// range's status and the run's progress in one transaction. A plugin
// failure, or any failure on the last attempt, records the range as
// failed; another error is returned for the queue to retry the range.
func RunRange(ctx context.Context, client *ent.Client, plugins *extension.Registry, id pulid.ID, o RangeOptions) error {
	sys := tenancy.System(ctx)
	rg, err := client.WorkRange.Get(sys, id)
	if ent.IsNotFound(err) {
		return nil // the run (or its workspace) was deleted
	}
	if err != nil {
		return err
	}
	run, err := client.WorkRun.Get(sys, rg.RunID)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if rg.Status != workrange.StatusPending || run.Status == workrun.StatusCanceled {
		return Finish(sys, client, run)
	}
	if plugins == nil {
		return errors.New("this worker runs no plugins")
	}
	if err := client.WorkRange.UpdateOneID(id).AddAttempts(1).Exec(sys); err != nil {
		return err
	}
	if err := client.WorkRun.Update().Where(workrun.ID(run.ID), workrun.StatusEQ(workrun.StatusQueued)).
		SetStatus(workrun.StatusRunning).SetStartedAt(time.Now()).Exec(sys); err != nil {
		return err
	}
	err = work(tenancy.NewContext(ctx, Viewer(run)), client, plugins, run, rg, o)
	switch {
	case err == nil || errors.Is(err, errDone):
	case ctx.Err() != nil:
		// Stopped (the worker is shutting down, or the attempt timed
		// out): nothing of the range was stored; the queue tries again.
		return err
	case permanent(err) || o.LastAttempt:
		if err := fail(sys, client, run.ID, id, err); err != nil {
			return err
		}
	default:
		return err
	}
	return Finish(sys, client, run)
}

// work scores the range's subjects and stores them with its status.
func work(ctx context.Context, client *ent.Client, plugins *extension.Registry, run *ent.WorkRun, rg *ent.WorkRange, o RangeOptions) error {
	st := string(run.SubjectType)
	where, err := extension.ParseWhere(st, run.Match)
	if err != nil {
		return err
	}
	ids, err := extension.RangeSubjects(ctx, client, st, where, extension.IDRange{First: rg.FirstID, Last: rg.LastID, Count: rg.Count})
	if err != nil {
		return err
	}
	within := func(ctx context.Context, tx *ent.Tx) error {
		sys := tenancy.System(ctx)
		n, err := tx.WorkRange.Update().Where(workrange.ID(rg.ID), workrange.StatusEQ(workrange.StatusPending)).
			SetStatus(workrange.StatusDone).SetDone(len(ids)).Save(sys)
		if err != nil {
			return err
		}
		if n == 0 {
			return errDone
		}
		if err := tx.WorkRun.UpdateOneID(run.ID).AddDone(len(ids)).Exec(sys); err != nil {
			return err
		}
		if o.Fault != nil {
			return o.Fault(rg.ID, o.Attempt)
		}
		return nil
	}
	if run.Kind == workrun.KindSegment {
		if run.SegmentRunID == nil {
			return errcode.New(errcode.Conflict, "segmentation run %s has no SegmentRun", run.ID)
		}
		return plugins.SegmentBatch(ctx, client, *run.SegmentRunID, ids, within)
	}
	return plugins.ScoreBatch(ctx, client, extension.ScoreOptions{SubjectType: st}, run.Plugin, ids, within)
}

// permanent tells the failures another attempt would not change: the
// plugin's, a binding changed or removed, a filter that no longer reads.
func permanent(err error) bool {
	if ent.IsConstraintError(err) {
		// A race with another range (a segment both create): the
		// next attempt sees what the other committed.
		return false
	}
	switch errcode.Of(err) {
	case errcode.PluginFailed, errcode.Conflict, errcode.NotFound, errcode.BadUserInput:
		return true
	}
	return false
}

// fail records the range as failed, with why, unless it is no longer
// pending.
func fail(ctx context.Context, client *ent.Client, run, id pulid.ID, cause error) error {
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	n, err := tx.WorkRange.Update().Where(workrange.ID(id), workrange.StatusEQ(workrange.StatusPending)).
		SetStatus(workrange.StatusFailed).SetError(bounded(cause.Error())).Save(ctx)
	if err == nil && n > 0 {
		err = tx.WorkRun.UpdateOneID(run).AddFailedBatches(1).Exec(ctx)
	}
	if err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// Finish ends run when none of its ranges is pending: succeeded, or failed
// when every range failed. A run already ended is left as it is, so that
// any number of workers may call it. Of run, as the caller read it, only
// its ID and kind are relied on.
func Finish(ctx context.Context, client *ent.Client, run *ent.WorkRun) error {
	ctx = tenancy.System(ctx)
	pending, err := client.WorkRange.Query().Where(workrange.RunID(run.ID), workrange.StatusEQ(workrange.StatusPending)).Exist(ctx)
	if err != nil {
		return err
	}
	if pending {
		// Still going, or canceled with ranges left undone.
		return releaseStale(ctx, client, run)
	}
	done, err := client.WorkRange.Query().Where(workrange.RunID(run.ID), workrange.StatusEQ(workrange.StatusDone)).Exist(ctx)
	if err != nil {
		return err
	}
	status := workrun.StatusSucceeded
	if !done {
		status = workrun.StatusFailed
	}
	n, err := client.WorkRun.Update().Where(workrun.ID(run.ID), workrun.StatusIn(workrun.StatusQueued, workrun.StatusRunning)).
		SetStatus(status).SetFinishedAt(time.Now()).Save(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return releaseStale(ctx, client, run)
	}
	return endSegmentation(ctx, client, run.ID, false)
}

// StaleAfter is how long after a segmentation run ended its binding's lock
// may still be held by the process that ended it, releasing it.
const StaleAfter = time.Minute

// releaseStaleIn releases the locks of the caller's workspace's
// segmentation runs that ended and still hold one (see releaseStale), so
// that a lock left by a process that died as it canceled a run never
// keeps the binding from running again.
func releaseStaleIn(ctx context.Context, client *ent.Client) error {
	held, err := client.SegmentRun.Query().Where(segmentrun.LockNotNil(), segmentrun.Holder(extension.BackgroundHolder)).IDs(ctx)
	if err != nil || len(held) == 0 {
		return err
	}
	runs, err := client.WorkRun.Query().Where(workrun.SegmentRunIDIn(held...), workrun.FinishedAtNotNil()).All(ctx)
	if err != nil {
		return err
	}
	for _, run := range runs {
		if err := releaseStale(tenancy.System(ctx), client, run); err != nil {
			return err
		}
	}
	return nil
}

// releaseStale releases the binding's lock of a segmentation run that
// ended more than StaleAfter ago and still holds it: the process that
// ended the run (Finish or Cancel) died before it released the lock. The
// queue hands that process's job on after its RescueAfter, and the job's
// Finish comes here; so does the next start of a segmentation run.
// Within StaleAfter the process ending the run may still be releasing
// the lock (sweeping the memberships of deleted subjects first), and is
// left to it. A scoring run holds no lock and costs no statement; a
// segmentation run is read afresh, as the caller's copy may predate its
// end.
func releaseStale(ctx context.Context, client *ent.Client, run *ent.WorkRun) error {
	if run.Kind != workrun.KindSegment {
		return nil
	}
	run, err := client.WorkRun.Get(ctx, run.ID)
	if err != nil || run.SegmentRunID == nil || run.FinishedAt == nil || time.Since(*run.FinishedAt) < StaleAfter {
		return err
	}
	held, err := client.SegmentRun.Query().Where(segmentrun.ID(*run.SegmentRunID), segmentrun.LockNotNil()).Exist(ctx)
	if err != nil || !held {
		return err
	}
	return endSegmentation(ctx, client, run.ID, run.Status == workrun.StatusCanceled)
}

// endSegmentation ends the SegmentRun of run, when it is a segmentation
// run, releasing its binding's lock; a run over every subject first ends
// the memberships of subjects deleted since.
func endSegmentation(ctx context.Context, client *ent.Client, id pulid.ID, canceled bool) error {
	run, err := client.WorkRun.Get(tenancy.System(ctx), id)
	if err != nil || run.Kind != workrun.KindSegment || run.SegmentRunID == nil {
		return err
	}
	full := len(run.Match) == 0 || string(run.Match) == "null"
	return extension.EndSegmentation(tenancy.NewContext(ctx, Viewer(run)), client, *run.SegmentRunID, canceled, full)
}

// Cancel cancels the run id of the caller's workspace: its ranges not yet
// done are left undone (a range being stored as it is canceled may still
// complete). A run already ended is returned as it is. Admins and members
// only.
func Cancel(ctx context.Context, client *ent.Client, id pulid.ID) (*ent.WorkRun, error) {
	v := tenancy.FromContext(ctx)
	if v == nil || !v.Role.CanWrite() {
		return nil, errcode.New(errcode.Forbidden, "only an admin or a member may cancel a run")
	}
	if _, err := client.WorkRun.Get(ctx, id); err != nil {
		return nil, err
	}
	n, err := client.WorkRun.Update().Where(workrun.ID(id), workrun.StatusIn(workrun.StatusQueued, workrun.StatusRunning)).
		SetStatus(workrun.StatusCanceled).SetFinishedAt(time.Now()).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		if err := endSegmentation(ctx, client, id, true); err != nil {
			return nil, err
		}
	}
	return client.WorkRun.Get(ctx, id)
}

// Progress counts a run's ranges by status.
type Progress struct {
	Total, Pending, Done, Failed int
	// Errors are those of the first failed ranges, at most MaxErrors.
	Errors []string
}

// ProgressOf counts the ranges of run, a run the caller may read.
func ProgressOf(ctx context.Context, client *ent.Client, run pulid.ID) (Progress, error) {
	var rows []struct {
		Status workrange.Status `json:"status"`
		Count  int              `json:"count"`
	}
	var p Progress
	if err := client.WorkRange.Query().Where(workrange.RunID(run)).GroupBy(workrange.FieldStatus).
		Aggregate(ent.Count()).Scan(ctx, &rows); err != nil {
		return p, err
	}
	for _, r := range rows {
		p.Total += r.Count
		switch r.Status {
		case workrange.StatusPending:
			p.Pending = r.Count
		case workrange.StatusDone:
			p.Done = r.Count
		case workrange.StatusFailed:
			p.Failed = r.Count
		}
	}
	p.Errors = []string{}
	if p.Failed > 0 {
		errs, err := client.WorkRange.Query().Where(workrange.RunID(run), workrange.StatusEQ(workrange.StatusFailed)).
			Order(ent.Asc(workrange.FieldFirstID)).Limit(MaxErrors).Select(workrange.FieldError).Strings(ctx)
		if err != nil {
			return p, err
		}
		p.Errors = errs
	}
	return p, nil
}

// Viewer is who a run's workers act as: an admin of its workspace, as the
// member or token its actor names.
func Viewer(run *ent.WorkRun) *tenancy.Viewer {
	v := &tenancy.Viewer{WorkspaceID: run.WorkspaceID, Role: tenancy.RoleAdmin}
	if id, ok := strings.CutPrefix(run.Actor, "member:"); ok {
		v.MemberID = pulid.ID(id)
	} else if id, ok := strings.CutPrefix(run.Actor, "token:"); ok {
		v.TokenID = pulid.ID(id)
	}
	return v
}

// actorOf names the member or token v acts as.
func actorOf(v *tenancy.Viewer) string {
	switch {
	case v.MemberID != "":
		return "member:" + string(v.MemberID)
	case v.TokenID != "":
		return "token:" + string(v.TokenID)
	}
	return ""
}

// bounded cuts s to what a range's error holds.
func bounded(s string) string {
	if len(s) > 2000 {
		s = s[:1997] + "..."
	}
	return strings.ToValidUTF8(s, "")
}
