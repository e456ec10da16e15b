// Package job runs import jobs (core/transfer) on the job queue the
// automations use (core/automation), so an import started from the API
// is worked by whichever process runs workers: Register adds the worker
// to the queue, Enqueue queues an ImportJob.
//
// The worker loads the ImportJob, acts in its workspace as an admin with
// the job's actor (the member or token that started it), and runs it with
// transfer.Run, which commits batch by batch and resumes after the last
// committed batch. A worker that dies leaves the queue's job running; the
// queue's rescue hands it to another worker after its rescue delay, which
// resumes the import. A worker that finds the import still proving alive
// (a heartbeat younger than Busy, as when another process runs it) tries
// again later instead of running it twice.
package job

import (
	"context"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/importjob"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer"
)

// Busy is how recent an import's heartbeat must be for the worker to
// take it as being run elsewhere: each committed batch beats it.
const Busy = time.Minute

// Args are the queued job's arguments: the ImportJob to run.
type Args struct {
	// ImportJob is the ImportJob's ID.
	ImportJob pulid.ID `json:"import_job"`
}

// Kind implements river.JobArgs.
func (Args) Kind() string { return "import" }

// InsertOpts implements river.JobArgsWithInsertOpts: one queued job per
// ImportJob, tried a few times (an import resumes where it stopped).
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Worker runs queued imports.
type Worker struct {
	river.WorkerDefaults[Args]
	// Client is the store's ent client.
	Client *ent.Client
}

// Timeout implements river.Worker: an import runs as long as its file
// takes; a worker that dies is noticed by the queue's rescue.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return -1 }

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, j *river.Job[Args]) error {
	return Run(ctx, w.Client, j.Args.ImportJob)
}

// Register adds the import worker over client to workers; it is what
// automation.Config.Jobs takes.
func Register(client *ent.Client) func(*river.Workers) error {
	return func(ws *river.Workers) error {
		return river.AddWorkerSafely(ws, &Worker{Client: client})
	}
}

// Inserter queues jobs: the automation engine (automation.Engine.Insert).
type Inserter interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Enqueue queues the import job for a worker. When the queue refuses it,
// the job is marked failed, so that it is not left queued for nobody.
func Enqueue(ctx context.Context, q Inserter, client *ent.Client, job *ent.ImportJob) error {
	if _, err := q.Insert(ctx, Args{ImportJob: job.ID}, nil); err != nil {
		_ = client.ImportJob.UpdateOneID(job.ID).Where(importjob.StatusEQ(importjob.StatusQueued)).
			SetStatus(importjob.StatusFailed).SetError("the import could not be queued: " + err.Error()).
			SetFinishedAt(time.Now()).Exec(tenancy.System(context.WithoutCancel(ctx)))
		return err
	}
	return nil
}

// Run runs (or resumes) the import job id as its worker does: in the
// job's workspace, as an admin with the job's actor. A job already done
// or failed is left as it is.
func Run(ctx context.Context, client *ent.Client, id pulid.ID) error {
	job, err := client.ImportJob.Get(tenancy.System(ctx), id)
	if ent.IsNotFound(err) {
		// The job (or its workspace) was deleted: nothing to run.
		return nil
	}
	if err != nil {
		return err
	}
	switch job.Status {
	case importjob.StatusDone, importjob.StatusFailed:
		return nil
	case importjob.StatusRunning:
		if job.HeartbeatAt != nil {
			if age := time.Since(*job.HeartbeatAt); age < Busy {
				return river.JobSnooze(Busy - age + time.Second)
			}
		}
	}
	wctx := tenancy.NewContext(ctx, Viewer(job))
	if _, err := transfer.Run(wctx, client, job.ID, nil); err != nil {
		if ctx.Err() != nil {
			// Stopped (the worker is shutting down), not failed: the
			// job resumes when a worker next takes it, without using
			// up an attempt.
			return river.JobSnooze(0)
		}
		// transfer.Run recorded the failure on the ImportJob: another
		// attempt would change nothing.
		return river.JobCancel(err)
	}
	return nil
}

// Viewer is who a job acts as: an admin of its workspace, as the member
// or token its actor names.
func Viewer(job *ent.ImportJob) *tenancy.Viewer {
	v := &tenancy.Viewer{WorkspaceID: job.WorkspaceID, Role: tenancy.RoleAdmin}
	if id, ok := strings.CutPrefix(job.Actor, "member:"); ok {
		v.MemberID = pulid.ID(id)
	} else if id, ok := strings.CutPrefix(job.Actor, "token:"); ok {
		v.TokenID = pulid.ID(id)
	}
	return v
}
