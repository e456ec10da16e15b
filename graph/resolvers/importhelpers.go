package resolvers

import (
	"context"
	"sort"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/transfer"
	importjob "github.com/rapportcrm/rapport/core/transfer/job"
	"github.com/rapportcrm/rapport/graph/model"
)

// maxRejects is the most rejects one answer lists.
const maxRejects = 1000

// importInput is importRecords' arguments as a job.Input, and whether
// they ask for a dry run.
func importInput(typ, fileName string, o *model.ImportOptionsInput) (importjob.Input, bool) {
	in := importjob.Input{Type: typ, FileName: fileName}
	if o == nil {
		return in, false
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	on := func(p *bool) bool { return p != nil && *p }
	in.Format, in.Encoding, in.Delimiter, in.Sheet = str(o.Format), str(o.Encoding), str(o.Delimiter), str(o.Sheet)
	in.TimeZone, in.Source = str(o.TimeZone), str(o.Source)
	if o.Mapping != nil {
		in.Mapping = []byte(*o.Mapping)
	}
	in.CreateFields, in.CreateMissing, in.Merge = on(o.CreateFields), on(o.CreateMissing), on(o.Merge)
	in.AllOrNothing, in.FireAutomations = on(o.AllOrNothing), on(o.FireAutomations)
	if o.BatchSize != nil {
		in.BatchSize = *o.BatchSize
	}
	return in, on(o.DryRun)
}

// fileError is err of reading or checking an import's file: a coded
// error as it is, else BAD_USER_INPUT on the file (the file could not be
// read or mapped), unless the request ended.
func fileError(ctx context.Context, err error) error {
	if ctx.Err() != nil || errcode.Of(err) != errcode.Internal || ent.IsNotFound(err) {
		return err
	}
	return errcode.Input("file", "%v", err)
}

// reasonCounts lists counts by reason, most first, then by reason.
func reasonCounts(by map[string]int) []*model.ImportReasonCount {
	out := make([]*model.ImportReasonCount, 0, len(by))
	for reason, n := range by {
		out = append(out, &model.ImportReasonCount{Reason: reason, Count: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// checkModel is a dry run's result as GraphQL answers it.
func checkModel(res *transfer.Result) *model.ImportCheck {
	m := &model.ImportCheck{Rows: res.Rows, Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged,
		Failed: res.Failed, FailedByReason: reasonCounts(res.FailedByReason), Rejects: []*ent.ImportReject{}}
	for _, rj := range res.Rejects[:min(len(res.Rejects), maxRejects)] {
		m.Rejects = append(m.Rejects, &ent.ImportReject{Row: rj.Row, Column: rj.Column, Reason: rj.Reason, Message: rj.Message})
	}
	return m
}
