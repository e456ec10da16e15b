package extension

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/extensionbinding"
	"github.com/rapportcrm/rapport/core/ent/segment"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/ent/segmentrun"
	"github.com/rapportcrm/rapport/core/ent/workrun"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

// Segment events, written in the transaction of the membership change
// they report. Their subject is the subject that entered or left; their
// changes carry the segment's key ("segment"), its ID ("segment_id") and
// the run ("run").
const (
	EventSegmentEntered = "segment.entered"
	EventSegmentLeft    = "segment.left"
)

// SegmentOptions choose what SegmentSubjects segments.
type SegmentOptions struct {
	// SubjectType is "contact", "organization", "lead" or "deal".
	SubjectType string
	// Where filters the subjects: the subject type's *ent.<Type>WhereInput;
	// nil segments all.
	Where any
	// IDs, when set, narrows the run to these subjects (an automation
	// re-segmenting the record that changed).
	IDs []pulid.ID
	// BatchSize is the number of subjects per plugin call (default 1,000).
	BatchSize int
	// Progress, when set, is called after each batch.
	Progress func(done, total int)
	// Now dates the membership changes (default time.Now).
	Now time.Time
	// Plugin names the bound segmenter to run, when several are bound for
	// the subject type; SegmentAll runs them all.
	Plugin string
	// Trigger says what started the run: api (default), cli, demo or
	// automation.
	Trigger string
	// Wait makes a run that finds another run of the same binding in
	// progress wait for it to end (until ctx ends) instead of failing with
	// CONFLICT.
	Wait bool
}

// staleRunAfter is how long a running segmentation run may go without
// storing a batch before another run takes its lock over, deeming the
// process that ran it dead.
var staleRunAfter = 2 * time.Minute

// endingWait is how long a new segmentation run waits for the lock of a
// background run that has ended but not yet released it, before CONFLICT.
const endingWait = 10 * time.Second

// SegmentSubjects runs the segmenter bound to (segment, subject type)
// over the matching subjects of the caller's workspace and stores its
// answer as memberships of the segments the binding keeps. For each batch
// it computes every subject's new set of segments, compares it with the
// open memberships, and applies the difference in one transaction: new
// memberships start, memberships the plugin no longer answers end (kept,
// with when and which run), and a segment.entered or segment.left event
// is written for each. A batch the plugin fails on (a fault, or an answer
// that names an invalid key) changes nothing and is counted in the run.
//
// The run is recorded as a SegmentRun, whose counts are updated in each
// batch's transaction. Two runs of one binding and subject type never
// interleave: the second fails with CONFLICT, or waits with opts.Wait. A
// run whose process died is taken over after staleRunAfter.
//
// The returned run is non-nil once the run has started, also with an
// error; when every batch failed the error is PLUGIN_FAILED. client must
// not be a transaction.
func (r *Registry) SegmentSubjects(ctx context.Context, client *ent.Client, opts SegmentOptions) (*ent.SegmentRun, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Trigger == "" {
		opts.Trigger = "api"
	}
	opts.Now = opts.Now.UTC()
	if v := tenancy.FromContext(ctx); v != nil && !v.Role.CanWrite() {
		return nil, errcode.New(errcode.Forbidden, "role %s cannot change segment memberships", v.Role)
	}
	if _, ok := Attributes[opts.SubjectType]; !ok {
		return nil, errcode.Input("subjectType", "unknown subject type %q", opts.SubjectType)
	}
	bs, err := r.segmentBindings(ctx, client, opts.SubjectType, opts.Plugin)
	if err != nil {
		return nil, err
	}
	if len(bs) > 1 {
		var names []string
		for _, b := range bs {
			names = append(names, b.Plugin)
		}
		return nil, errcode.Input("plugin", "%d segmenters are bound for %s subjects (%s): name one", len(bs), opts.SubjectType, strings.Join(names, ", "))
	}
	binding := bs[0]
	p, err := r.lookup(ctx, client, binding.Plugin, binding.Version)
	if err != nil {
		return nil, err
	}
	m := p.Manifest
	if len(m.Subjects) > 0 && !contains(m.Subjects, opts.SubjectType) {
		return nil, errcode.Input("subjectType", "plugin %s does not segment %s subjects (it takes %s)", m.Ref(), opts.SubjectType, strings.Join(m.Subjects, ", "))
	}
	plan, err := CompileInputs(ctx, client, opts.SubjectType, m.Inputs[opts.SubjectType])
	if err != nil {
		return nil, err
	}
	cfg, err := configFor(m.ConfigSchema, binding.Config)
	if err != nil {
		return nil, err
	}
	where := opts.Where
	if opts.IDs != nil {
		if where, err = idsWhere(opts.SubjectType, opts.IDs); err != nil {
			return nil, err
		}
	}
	next, total, err := subjectPages(ctx, client, opts.SubjectType, where, opts.BatchSize)
	if err != nil {
		return nil, err
	}
	run, err := startSegmentRun(ctx, client, binding, p, opts, total)
	if err != nil {
		return nil, err
	}
	s := &segmentStore{client: client, binding: binding, plugin: p, run: run, opts: opts, segments: map[string]*ent.Segment{}}
	if err := s.adopt(ctx); err != nil {
		return s.run, s.finish(ctx, err)
	}

	// A run over every subject also ends the memberships of subjects it
	// did not see (deleted since the last run).
	full := where == nil || reflect.ValueOf(where).IsNil()
	seen := map[pulid.ID]bool{}
	err = runStaged(ctx, next,
		func(ctx context.Context, ids []pulid.ID) (*sdk.SegmentRequest, error) {
			b, err := plan.Build(ctx, client, ids, opts.Now)
			return &sdk.SegmentRequest{Batch: b, Config: cfg}, err
		},
		func(ctx context.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
			resp, err := r.Segment(ctx, p, req)
			if err == nil {
				err = checkSegmentKeys(p, resp)
			}
			return resp, err
		},
		func(ids []pulid.ID, resp *sdk.SegmentResponse, err error) error {
			if full {
				for _, id := range ids {
					seen[id] = true
				}
			}
			if err == nil {
				err = s.store(ctx, ids, resp)
			}
			if err != nil {
				if errcode.Of(err) != errcode.PluginFailed {
					return err
				}
				if ferr := s.failed(ctx, len(ids), err); ferr != nil {
					return ferr
				}
			}
			if opts.Progress != nil {
				opts.Progress(s.done, total)
			}
			return nil
		})
	if err == nil && full {
		err = s.sweep(ctx, seen)
	}
	err = s.finish(ctx, err)
	return s.run, err
}

// SegmentAll runs every segmenter bound for opts.SubjectType (or the one
// opts.Plugin names) with SegmentSubjects, one after another in plugin
// name order, and returns the runs that started. A run that fails does
// not stop the next; the first error is returned with the runs.
func (r *Registry) SegmentAll(ctx context.Context, client *ent.Client, opts SegmentOptions) ([]*ent.SegmentRun, error) {
	bs, err := r.segmentBindings(ctx, client, opts.SubjectType, opts.Plugin)
	if err != nil {
		return nil, err
	}
	var (
		runs  []*ent.SegmentRun
		first error
	)
	for _, b := range bs {
		o := opts
		o.Plugin = b.Plugin
		run, err := r.SegmentSubjects(ctx, client, o)
		if run != nil {
			runs = append(runs, run)
		}
		if err != nil && first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return runs, first
}

// segmentBindings returns the segmenters bound for subjectType, one per
// plugin (a binding for the type over one for all types), in plugin name
// order, or only plugin's when it is set.
func (r *Registry) segmentBindings(ctx context.Context, client *ent.Client, subjectType, plugin string) ([]*ent.ExtensionBinding, error) {
	if _, ok := Attributes[subjectType]; !ok {
		return nil, errcode.Input("subjectType", "unknown subject type %q", subjectType)
	}
	q := client.ExtensionBinding.Query().
		Where(extensionbinding.PointEQ(extensionbinding.PointSegment),
			extensionbinding.Or(extensionbinding.SubjectTypeEQ(extensionbinding.SubjectType(subjectType)), extensionbinding.SubjectTypeIsNil()))
	if plugin != "" {
		q = q.Where(extensionbinding.PluginEQ(plugin))
	}
	all, err := q.Order(ent.Asc(extensionbinding.FieldPlugin), ent.Asc(extensionbinding.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	var out []*ent.ExtensionBinding
	for _, b := range all {
		if n := len(out); n > 0 && out[n-1].Plugin == b.Plugin {
			if b.SubjectType != nil {
				out[n-1] = b
			}
			continue
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		if plugin != "" {
			return nil, errcode.New(errcode.NotFound, "plugin %s is not bound to segment %s subjects in this workspace", plugin, subjectType)
		}
		return nil, errcode.New(errcode.NotFound, "no plugin is bound to segment for %s subjects in this workspace", subjectType)
	}
	return out, nil
}

// idsWhere is a where input of subjectType that matches the given IDs.
func idsWhere(subjectType string, ids []pulid.ID) (any, error) {
	switch subjectType {
	case "lead":
		return &ent.LeadWhereInput{IDIn: ids}, nil
	case "contact":
		return &ent.ContactWhereInput{IDIn: ids}, nil
	case "organization":
		return &ent.OrganizationWhereInput{IDIn: ids}, nil
	case "deal":
		return &ent.DealWhereInput{IDIn: ids}, nil
	}
	return nil, errcode.Input("subjectType", "unknown subject type %q", subjectType)
}

// checkSegmentKeys refuses an answer whose keys are not segment keys.
func checkSegmentKeys(p *Plugin, resp *sdk.SegmentResponse) error {
	for _, k := range resp.Keys {
		if !manifest.SegmentKey(k) {
			if len(k) > 80 {
				k = k[:80] + "…"
			}
			return &errcode.Error{Code: errcode.PluginFailed, Msg: fmt.Sprintf(
				"plugin %s, point segment: invalid answer: segment key %q: a key is 1 to 64 of a-z, 0-9, _ and -", p.Ref(), k)}
		}
	}
	return nil
}

// lockOf names the lock a run of binding over subjectType holds.
func lockOf(binding *ent.ExtensionBinding, subjectType string) string {
	return string(binding.ID) + ":" + subjectType
}

// holder names this process to other runs: host and process ID.
var holder = func() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}()

// holderGone reports whether h names a process of this host that no
// longer runs (killed, say), so that its lock can be taken over at once.
func holderGone(h string) bool {
	host, pid, ok := strings.Cut(h, ":")
	if !ok || h == holder {
		return false
	}
	if me, _ := os.Hostname(); host != me {
		return false
	}
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	return !processAlive(n)
}

// startSegmentRun records a new run holding the binding's lock. A lock
// held by a run that stopped beating, or by a process of this host that
// is gone, is taken over (that run is marked interrupted); one held by a
// live run fails with CONFLICT, or is waited for with opts.Wait.
func startSegmentRun(ctx context.Context, client *ent.Client, binding *ent.ExtensionBinding, p *Plugin, opts SegmentOptions, total int) (*ent.SegmentRun, error) {
	lock := lockOf(binding, opts.SubjectType)
	wait := 50 * time.Millisecond
	first := time.Now()
	for {
		run, err := client.SegmentRun.Create().
			SetBindingID(binding.ID).
			SetPlugin(p.Ref()).
			SetSubjectType(segmentrun.SubjectType(opts.SubjectType)).
			SetTrigger(opts.Trigger).
			SetSubjects(total).
			SetLock(lock).
			SetHolder(holder).
			SetErrors([]string{}).
			Save(ctx)
		if err == nil || !ent.IsConstraintError(err) {
			return run, err
		}
		other, err := client.SegmentRun.Query().Where(segmentrun.Lock(lock)).Only(ctx)
		switch {
		case ent.IsNotFound(err):
			continue // it just ended
		case err != nil:
			return nil, err
		}
		gone := holderGone(other.Holder)
		if gone || time.Since(other.HeartbeatAt) > staleRunAfter {
			// Its process died: end it, unless it beat meanwhile.
			u := client.SegmentRun.Update().Where(segmentrun.ID(other.ID), segmentrun.Lock(lock))
			if !gone {
				u.Where(segmentrun.HeartbeatAtLT(time.Now().Add(-staleRunAfter)))
			}
			n, err := u.
				ClearLock().SetStatus(segmentrun.StatusInterrupted).SetFinishedAt(time.Now()).
				Save(ctx)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				continue
			}
		}
		ending := false
		if !opts.Wait && other.Holder == BackgroundHolder && time.Since(first) < endingWait {
			// A background run whose work run has ended keeps its lock
			// while the process that ended it sweeps the memberships of
			// deleted subjects: wait for it, a while, rather than refuse
			// a start the caller was right to make.
			if ending, err = client.WorkRun.Query().Where(workrun.SegmentRunID(other.ID), workrun.FinishedAtNotNil()).Exist(ctx); err != nil {
				return nil, err
			}
		}
		if !opts.Wait && !ending {
			return nil, &errcode.Error{Code: errcode.Conflict, Msg: fmt.Sprintf(
				"a segmentation run of %s for %s subjects is in progress (run %s, started %s): try again when it ends",
				other.Plugin, opts.SubjectType, other.ID, other.StartedAt.UTC().Format(time.RFC3339))}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// segmentStore applies a run's batches.
type segmentStore struct {
	client  *ent.Client
	binding *ent.ExtensionBinding
	plugin  *Plugin
	run     *ent.SegmentRun
	opts    SegmentOptions
	// segments are the binding's segments by key, as committed.
	segments map[string]*ent.Segment
	// done counts the subjects of the batches gone through.
	done int
	// within, when set, runs in each batch's transaction before it
	// commits, and the batch is stored only while the run holds its lock
	// (a background run, see SegmentBatch).
	within func(context.Context, *ent.Tx) error
}

// adopt loads the binding's segments and marks them as kept by the
// plugin version that runs now.
func (s *segmentStore) adopt(ctx context.Context) error {
	ctx = schema.Segmentation(ctx)
	if err := s.client.Segment.Update().
		Where(segment.BindingID(s.binding.ID), segment.SourceNEQ(s.plugin.Ref())).
		SetSource(s.plugin.Ref()).Exec(ctx); err != nil {
		return err
	}
	segs, err := s.client.Segment.Query().Where(segment.BindingID(s.binding.ID)).All(ctx)
	if err != nil {
		return err
	}
	for _, sg := range segs {
		s.segments[sg.Key] = sg
	}
	return nil
}

// store applies one batch's answer in a transaction of its own.
func (s *segmentStore) store(ctx context.Context, ids []pulid.ID, resp *sdk.SegmentResponse) (err error) {
	ctx = schema.SubjectsVerified(schema.Segmentation(ctx))
	now := s.opts.Now
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		switch {
		case err != nil:
			err = errors.Join(err, tx.Rollback())
		case !committed:
			_ = tx.Rollback() // a panic of within
		}
	}()
	// The segments this answer names, created on first use.
	created := map[string]*ent.Segment{}
	segOf := func(key string) *ent.Segment {
		if sg := s.segments[key]; sg != nil {
			return sg
		}
		return created[key]
	}
	for _, key := range resp.Keys {
		if segOf(key) != nil {
			continue
		}
		name, desc := segmentName(s.plugin.Manifest, key)
		sg, err := tx.Segment.Create().
			SetKey(key).SetName(name).SetDescription(desc).
			SetSource(s.plugin.Ref()).SetBindingID(s.binding.ID).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("creating segment %s: %w", key, err)
		}
		created[key] = sg
	}
	// What the subjects are members of now.
	open, err := tx.SegmentMembership.Query().
		Where(segmentmembership.HasSegmentWith(segment.BindingID(s.binding.ID)),
			segmentmembership.SubjectTypeEQ(segmentmembership.SubjectType(s.opts.SubjectType)),
			segmentmembership.SubjectIDIn(ids...),
			segmentmembership.EndedAtIsNil()).
		All(ctx)
	if err != nil {
		return fmt.Errorf("reading memberships: %w", err)
	}
	type member struct {
		subject pulid.ID
		segment pulid.ID
	}
	current := make(map[member]*ent.SegmentMembership, len(open))
	for _, m := range open {
		current[member{m.SubjectID, m.SegmentID}] = m
	}
	keyOf := make(map[pulid.ID]string, len(s.segments)+len(created))
	for k, sg := range s.segments {
		keyOf[sg.ID] = k
	}
	for k, sg := range created {
		keyOf[sg.ID] = k
	}
	var (
		enter  []*ent.SegmentMembershipCreate
		events []*ent.EventCreate
		leave  []pulid.ID
		stayed int
	)
	event := func(typ string, subject pulid.ID, sg pulid.ID) {
		events = append(events, schema.NewEvent(ctx, tx.Client(), s.binding.WorkspaceID, typ, s.opts.SubjectType, subject,
			[]crm.Change{{Field: "segment", After: keyOf[sg]}, {Field: "segment_id", After: string(sg)}, {Field: "run", After: string(s.run.ID)}}, now))
	}
	for i, id := range ids {
		lo, hi := resp.Offsets[i], resp.Offsets[i+1]
		for j := lo; j < hi; j++ {
			sg := segOf(resp.Keys[resp.KeyCodes[j]])
			k := member{id, sg.ID}
			var weight *float64
			if len(resp.Weights) > 0 && resp.Weights[j] != 1 {
				w := resp.Weights[j]
				weight = &w
			}
			if m, ok := current[k]; ok {
				if m == nil {
					continue // the answer named the segment twice
				}
				current[k] = nil
				stayed++
				if !sameWeight(m.Weight, weight) {
					u := tx.SegmentMembership.UpdateOneID(m.ID)
					if weight == nil {
						u.ClearWeight()
					} else {
						u.SetWeight(*weight)
					}
					if err := u.Exec(ctx); err != nil {
						return err
					}
				}
				continue
			}
			current[k] = nil
			enter = append(enter, tx.SegmentMembership.Create().
				SetSegmentID(sg.ID).
				SetSubjectType(segmentmembership.SubjectType(s.opts.SubjectType)).
				SetSubjectID(id).
				SetNillableWeight(weight).
				SetStartedAt(now).
				SetRunID(s.run.ID))
			event(EventSegmentEntered, id, sg.ID)
		}
	}
	for k, m := range current {
		if m != nil {
			leave = append(leave, m.ID)
			event(EventSegmentLeft, k.subject, k.segment)
		}
	}
	sort.Slice(leave, func(a, b int) bool { return leave[a] < leave[b] })
	if len(leave) > 0 {
		if err := tx.SegmentMembership.Update().Where(segmentmembership.IDIn(leave...)).
			SetEndedAt(now).SetEndedRunID(s.run.ID).Exec(ctx); err != nil {
			return fmt.Errorf("ending memberships: %w", err)
		}
	}
	for lo := 0; lo < len(enter); lo += 1000 {
		if err := tx.SegmentMembership.CreateBulk(enter[lo:min(lo+1000, len(enter))]...).Exec(ctx); err != nil {
			return fmt.Errorf("storing memberships: %w", err)
		}
	}
	for lo := 0; lo < len(events); lo += 1000 {
		if err := tx.Event.CreateBulk(events[lo:min(lo+1000, len(events))]...).Exec(ctx); err != nil {
			return fmt.Errorf("recording segment events: %w", err)
		}
	}
	u := tx.SegmentRun.UpdateOneID(s.run.ID)
	if s.within != nil {
		u.Where(segmentrun.LockNotNil())
	}
	run, err := u.
		AddBatches(1).AddSegmented(len(ids)).
		AddEntered(len(enter)).AddLeft(len(leave)).AddStayed(stayed).
		SetHeartbeatAt(time.Now()).
		Save(ctx)
	if ent.IsNotFound(err) {
		return errcode.New(errcode.Conflict, "segmentation run %s no longer holds its lock (it was ended or taken over)", s.run.ID)
	}
	if err != nil {
		return err
	}
	if s.within != nil {
		if err := s.within(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	committed = true
	for k, sg := range created {
		s.segments[k] = sg
	}
	s.run = run
	s.done += len(ids)
	return nil
}

func sameWeight(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// sweep ends, in batches with their segment.left events, the open
// memberships of the binding's segments whose subjects are not among
// seen: subjects deleted since they were segmented.
func (s *segmentStore) sweep(ctx context.Context, seen map[pulid.ID]bool) error {
	open, err := s.client.SegmentMembership.Query().
		Where(segmentmembership.HasSegmentWith(segment.BindingID(s.binding.ID)),
			segmentmembership.SubjectTypeEQ(segmentmembership.SubjectType(s.opts.SubjectType)),
			segmentmembership.EndedAtIsNil()).
		Select(segmentmembership.FieldID, segmentmembership.FieldSubjectID, segmentmembership.FieldSegmentID).
		All(ctx)
	if err != nil {
		return err
	}
	var gone []*ent.SegmentMembership
	for _, m := range open {
		if !seen[m.SubjectID] {
			gone = append(gone, m)
		}
	}
	for lo := 0; lo < len(gone); lo += 1000 {
		if err := s.end(ctx, gone[lo:min(lo+1000, len(gone))]); err != nil {
			return err
		}
	}
	return nil
}

// end ends memberships whose subjects are gone, with their events and the
// run's count, in one transaction.
func (s *segmentStore) end(ctx context.Context, ms []*ent.SegmentMembership) (err error) {
	ctx = schema.SubjectsVerified(schema.Segmentation(ctx))
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback())
		}
	}()
	keyOf := map[pulid.ID]string{}
	for k, sg := range s.segments {
		keyOf[sg.ID] = k
	}
	ids := make([]pulid.ID, len(ms))
	events := make([]*ent.EventCreate, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
		events[i] = schema.NewEvent(ctx, tx.Client(), s.binding.WorkspaceID, EventSegmentLeft, s.opts.SubjectType, m.SubjectID,
			[]crm.Change{{Field: "segment", After: keyOf[m.SegmentID]}, {Field: "segment_id", After: string(m.SegmentID)}, {Field: "run", After: string(s.run.ID)}}, s.opts.Now)
	}
	if err := tx.SegmentMembership.Update().Where(segmentmembership.IDIn(ids...)).
		SetEndedAt(s.opts.Now).SetEndedRunID(s.run.ID).Exec(ctx); err != nil {
		return err
	}
	if err := tx.Event.CreateBulk(events...).Exec(ctx); err != nil {
		return err
	}
	run, err := tx.SegmentRun.UpdateOneID(s.run.ID).AddLeft(len(ms)).SetHeartbeatAt(time.Now()).Save(ctx)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.run = run
	return nil
}

// failed records a batch the plugin failed on.
func (s *segmentStore) failed(ctx context.Context, n int, cause error) error {
	errs := s.run.Errors
	if len(errs) < 10 {
		errs = append(errs, cause.Error())
	}
	run, err := s.client.SegmentRun.UpdateOneID(s.run.ID).
		AddBatches(1).AddFailedBatches(1).SetErrors(errs).SetHeartbeatAt(time.Now()).
		Save(ctx)
	if err != nil {
		return err
	}
	s.run = run
	s.done += n
	return nil
}

// finish ends the run: its status, when, and its lock released. err is
// how the batches went; finish returns the run's error.
func (s *segmentStore) finish(ctx context.Context, err error) error {
	status := segmentrun.StatusSucceeded
	switch {
	case err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		status = segmentrun.StatusInterrupted
	case err != nil:
		status = segmentrun.StatusFailed
	case s.run.FailedBatches > 0 && s.run.Segmented == 0:
		status = segmentrun.StatusFailed
		err = &errcode.Error{Code: errcode.PluginFailed, Msg: s.run.Errors[0]}
	case s.run.FailedBatches > 0:
		status = segmentrun.StatusPartial
	}
	// The caller's context may have ended: finish regardless.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	run, uerr := s.client.SegmentRun.UpdateOneID(s.run.ID).
		SetStatus(status).SetFinishedAt(time.Now()).ClearLock().Save(ctx)
	if uerr == nil {
		s.run = run
	}
	return errors.Join(err, uerr)
}

// segmentName names a plugin's segment from its manifest, else from its
// key: at_risk becomes "At risk".
func segmentName(m *manifest.Manifest, key string) (name, description string) {
	if info, ok := m.Segments[key]; ok {
		return info.Name, info.Description
	}
	words := strings.FieldsFunc(key, func(r rune) bool { return r == '_' || r == '-' })
	name = strings.Join(words, " ")
	if name == "" {
		name = key
	}
	return strings.ToUpper(name[:1]) + name[1:], ""
}
