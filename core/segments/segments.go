// Package segments answers who is in a segment: predicates on the subject
// tables (contacts, organizations, leads, deals) for membership now or on
// a past date, by segment ID or by key. Memberships that ended are kept
// (segmentation runs end them rather than delete them), so a date in the
// past gives the members of that day.
package segments

import (
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/rapportcrm/rapport/core/ent/segment"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/pulid"
)

// MaxKeys bounds the segment keys of one filter.
const MaxKeys = 100

// members selects the subject IDs of subjectType that are members, at
// asOf (now when zero), of the segments of workspace ws that segs
// selects.
func members(ws pulid.ID, subjectType string, asOf time.Time, segs func(*sql.Selector)) *sql.Selector {
	t := sql.Table(segmentmembership.Table)
	q := sql.Select(t.C(segmentmembership.FieldSubjectID)).From(t).Where(sql.And(
		sql.EQ(t.C(segmentmembership.FieldWorkspaceID), ws),
		sql.EQ(t.C(segmentmembership.FieldSubjectType), subjectType),
	))
	OpenAt(asOf)(q)
	s := sql.Table(segment.Table)
	in := sql.Select(s.C(segment.FieldID)).From(s).Where(sql.EQ(s.C(segment.FieldWorkspaceID), ws))
	segs(in)
	q.Where(sql.In(t.C(segmentmembership.FieldSegmentID), in))
	return q
}

// InSegments is a predicate on the table of subjectType: the subject is a
// member, at asOf (now when zero), of one of the segments of workspace ws
// with the given IDs.
func InSegments(ws pulid.ID, subjectType string, ids []pulid.ID, asOf time.Time) func(*sql.Selector) {
	return func(s *sql.Selector) {
		vs := make([]any, len(ids))
		for i, id := range ids {
			vs[i] = id
		}
		s.Where(sql.In(s.C("id"), members(ws, subjectType, asOf, func(q *sql.Selector) {
			q.Where(sql.In(q.C(segment.FieldID), vs...))
		})))
	}
}

// WithKeys is a predicate on the table of subjectType: the subject is a
// member, at asOf (now when zero), of a segment of workspace ws with one
// of the keys, whether a person or a plugin keeps it.
func WithKeys(ws pulid.ID, subjectType string, keys []string, asOf time.Time) func(*sql.Selector) {
	return func(s *sql.Selector) {
		vs := make([]any, len(keys))
		for i, k := range keys {
			vs[i] = k
		}
		s.Where(sql.In(s.C("id"), members(ws, subjectType, asOf, func(q *sql.Selector) {
			q.Where(sql.In(q.C(segment.FieldKey), vs...))
		})))
	}
}

// Of is a predicate on segments: the segments the subject is a member of
// at asOf (now when zero).
func Of(subjectType string, id pulid.ID, asOf time.Time) func(*sql.Selector) {
	return func(s *sql.Selector) {
		t := sql.Table(segmentmembership.Table)
		q := sql.Select(t.C(segmentmembership.FieldSegmentID)).From(t).Where(sql.And(
			sql.EQ(t.C(segmentmembership.FieldSubjectType), subjectType),
			sql.EQ(t.C(segmentmembership.FieldSubjectID), id),
		))
		OpenAt(asOf)(q)
		s.Where(sql.In(s.C(segment.FieldID), q))
	}
}

// OpenAt is a predicate on segment memberships: the membership is open
// at asOf (started then and not yet ended), or now when asOf is zero.
func OpenAt(asOf time.Time) func(*sql.Selector) {
	return func(s *sql.Selector) {
		if asOf.IsZero() {
			s.Where(sql.IsNull(s.C(segmentmembership.FieldEndedAt)))
			return
		}
		s.Where(sql.And(
			sql.LTE(s.C(segmentmembership.FieldStartedAt), asOf),
			sql.Or(sql.IsNull(s.C(segmentmembership.FieldEndedAt)), sql.GT(s.C(segmentmembership.FieldEndedAt), asOf)),
		))
	}
}
