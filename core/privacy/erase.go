package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/delivery"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/score"
	"github.com/rapportcrm/rapport/core/ent/timelineevent"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
)

// Placeholder replaces an erased contact's last name, an erased
// activity's subject, and the person's values wherever they appear in
// other text (a deal's name, a timeline entry).
const Placeholder = "Erased"

// ErasedField is the field of the timeline change that records an
// erasure: {"field": "erased", "after": true}. It holds no erased value.
const ErasedField = "erased"

// ErasedEvent is the type of the event written when a contact is erased.
const ErasedEvent = "contact.erased"

// Result says what Erase did.
type Result struct {
	// ContactID is the erased contact.
	ContactID pulid.ID `json:"contactId"`
	// Changed counts the rows changed: records anonymised and timeline,
	// event, score and automation rows scrubbed. A repeated erase changes
	// none.
	Changed int `json:"changed"`
	// Audited reports whether this erase wrote the "contact erased"
	// timeline entry; a repeated erase that changed nothing does not.
	Audited bool `json:"audited"`
}

// personalFields are the fields (in the timeline's spelling) whose values
// are the person's, on the contact, its activities and its leads: an
// erase drops their values from the timeline entries of those records.
var personalFields = map[string]bool{
	"firstName": true, "lastName": true, "email": true, "phone": true, "title": true,
	"customFields": true, "subject": true, "body": true,
}

// minScrub is the shortest value searched for in free text: shorter ones
// would match inside unrelated words. Fields holding them are cleared all
// the same.
const minScrub = 3

// Erase anonymises the contact id of the viewer's workspace in one
// transaction (the caller's, when c is a transaction's client):
//
//   - the contact's first name becomes "", its last name Placeholder, and
//     its email, phone, title and custom fields are cleared;
//   - its activities (and those of its leads) keep their kind, direction,
//     dates and links, their subject becomes Placeholder and their body is
//     cleared;
//   - its leads lose their names, email, phone and custom fields;
//   - the person's values are replaced by Placeholder in the names of its
//     deals and leads, in the timeline entries and events of all these
//     records (the personal fields' values are dropped outright), in its
//     scores' labels and explanations, and in the errors and targets of
//     automation runs about them;
//   - orders and deals keep their amounts and dates.
//
// The erasure is recorded as a timeline entry on the contact, by the
// context's actor, whose only change is {"field": "erased", "after": true},
// and as a contact.erased event. Erase is idempotent: erasing an erased
// contact changes nothing and records nothing. It is NOT_FOUND for a
// contact of another workspace.
func Erase(ctx context.Context, c *ent.Client, id pulid.ID) (*Result, error) {
	ctx, v, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	res := &Result{ContactID: id}
	err = inTx(ctx, c, func(tx *ent.Client) error {
		return erase(ctx, tx, v, id, res)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func inTx(ctx context.Context, c *ent.Client, f func(*ent.Client) error) error {
	tx, err := c.Tx(ctx)
	if errors.Is(err, ent.ErrTxStarted) {
		return f(c)
	}
	if err != nil {
		return err
	}
	if err := f(tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func erase(ctx context.Context, tx *ent.Client, v *tenancy.Viewer, id pulid.ID, res *Result) error {
	ct, err := loadContact(ctx, tx, id)
	if err != nil {
		return err
	}
	r, err := loadRelated(ctx, tx, id)
	if err != nil {
		return err
	}
	s := newScrubber(personalValues(ct, r))

	// The records. Bulk updates, not UpdateOne: the timeline then lists the
	// new values only, never the old ones.
	if ct.FirstName != "" || ct.LastName != Placeholder || ct.Email != "" || ct.Phone != "" || ct.Title != "" || len(ct.CustomFields) > 0 {
		if err := tx.Contact.Update().Where(contact.ID(id)).
			SetFirstName("").SetLastName(Placeholder).
			ClearEmail().ClearPhone().ClearTitle().ClearCustomFields().
			Exec(ctx); err != nil {
			return fmt.Errorf("erasing contact: %w", err)
		}
		res.Changed++
	}
	var acts []pulid.ID
	for _, a := range r.activities {
		if a.Subject != Placeholder || a.Body != "" {
			acts = append(acts, a.ID)
		}
	}
	if len(acts) > 0 {
		if err := tx.Activity.Update().Where(activity.IDIn(acts...)).
			SetSubject(Placeholder).ClearBody().Exec(ctx); err != nil {
			return fmt.Errorf("erasing activities: %w", err)
		}
		res.Changed += len(acts)
	}
	for _, l := range r.leads {
		title, company := s.str(l.Title), s.str(l.Company)
		if l.FirstName == "" && l.LastName == "" && l.Email == "" && l.Phone == "" && len(l.CustomFields) == 0 && title == l.Title && company == l.Company {
			continue
		}
		if err := tx.Lead.Update().Where(lead.ID(l.ID)).
			SetTitle(title).SetCompany(company).ClearFirstName().ClearLastName().ClearEmail().ClearPhone().ClearCustomFields().
			Exec(ctx); err != nil {
			return fmt.Errorf("erasing lead %s: %w", l.ID, err)
		}
		res.Changed++
	}
	for _, d := range r.deals {
		name, reason := s.str(d.Name), s.str(d.LostReason)
		if name == d.Name && reason == d.LostReason {
			continue
		}
		if err := tx.Deal.Update().Where(deal.ID(d.ID)).SetName(name).SetLostReason(reason).Exec(ctx); err != nil {
			return fmt.Errorf("erasing deal %s: %w", d.ID, err)
		}
		res.Changed++
	}

	// What was recorded about them, including the entries the updates
	// above just wrote.
	personal := map[pulid.ID]bool{}
	for _, pid := range r.personalSubjects(id) {
		personal[pid] = true
	}
	subjects := r.personalSubjects(id)
	for _, d := range r.deals {
		subjects = append(subjects, d.ID)
	}
	for _, o := range r.orders {
		subjects = append(subjects, o.ID)
	}
	n, err := scrubHistory(ctx, tx, v.WorkspaceID, s, subjects, personal)
	if err != nil {
		return err
	}
	res.Changed += n

	erased, err := alreadyErased(ctx, tx, id)
	if err != nil {
		return err
	}
	if erased && res.Changed == 0 {
		return nil
	}
	now := time.Now()
	changes := []crm.Change{{Field: ErasedField, After: true}}
	if err := tx.TimelineEvent.Create().
		SetWorkspaceID(v.WorkspaceID).
		SetAction(timelineevent.ActionUpdate).
		SetSubjectType(ent.TypeContact).
		SetSubjectID(id).
		SetActor(tenancy.Actor(ctx)).
		SetChanges(changes).
		SetOccurredAt(now).
		Exec(ctx); err != nil {
		return fmt.Errorf("recording the erasure: %w", err)
	}
	if err := schema.NewEvent(ctx, tx, v.WorkspaceID, ErasedEvent, ent.TypeContact, id, changes, now).Exec(ctx); err != nil {
		return fmt.Errorf("recording the erasure event: %w", err)
	}
	res.Audited = true
	return nil
}

// alreadyErased reports whether the contact's timeline records an erasure.
func alreadyErased(ctx context.Context, c *ent.Client, id pulid.ID) (bool, error) {
	evs, err := c.TimelineEvent.Query().
		Where(timelineevent.SubjectID(id), timelineevent.ActionEQ(timelineevent.ActionUpdate)).All(ctx)
	if err != nil {
		return false, err
	}
	for _, e := range evs {
		for _, ch := range e.Changes {
			if ch.Field == ErasedField {
				return true, nil
			}
		}
	}
	return false, nil
}

// personalValues are the person's strings: the contact's and its leads'
// names, email, phone, title and custom field values, and its activities'
// subjects and bodies.
func personalValues(ct *ent.Contact, r *related) []string {
	vals := []string{ct.FirstName, ct.LastName, ct.Email, ct.Phone, ct.Title}
	vals = append(vals, stringsIn(ct.CustomFields)...)
	for _, a := range r.activities {
		vals = append(vals, a.Subject, a.Body)
	}
	for _, l := range r.leads {
		vals = append(vals, l.FirstName, l.LastName, l.Email, l.Phone)
		vals = append(vals, stringsIn(l.CustomFields)...)
	}
	return vals
}

// stringsIn returns the strings held in v, at any depth.
func stringsIn(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case map[string]any:
		for _, e := range x {
			out = append(out, stringsIn(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, stringsIn(e)...)
		}
	case []string:
		out = append(out, x...)
	}
	return out
}

// maxScrub is the longest value searched for in free text: longer ones
// (an email's body) are cleared in their own fields and dropped from the
// timeline's entries of them, and do not recur verbatim elsewhere.
const maxScrub = 1000

// chunkSize bounds the length of the values one of a scrubber's regular
// expressions holds, so that no expression grows past the regexp
// package's limits however many activities a contact has.
const chunkSize = 32 << 10

// scrubber replaces the person's values in text, ignoring case.
type scrubber struct{ res []*regexp.Regexp }

func newScrubber(vals []string) *scrubber {
	seen := map[string]bool{}
	var alts []string
	for _, v := range vals {
		v = strings.TrimSpace(v)
		k := strings.ToLower(v)
		if len(v) < minScrub || len(v) > maxScrub || seen[k] || strings.EqualFold(v, Placeholder) {
			continue
		}
		seen[k] = true
		alts = append(alts, v)
	}
	// Longest first, so that a value containing another goes whole.
	sort.Slice(alts, func(i, j int) bool {
		if len(alts[i]) != len(alts[j]) {
			return len(alts[i]) > len(alts[j])
		}
		return alts[i] < alts[j]
	})
	s := &scrubber{}
	for len(alts) > 0 {
		n, size := 0, 0
		for n < len(alts) && (n == 0 || size+len(alts[n]) <= chunkSize) {
			size += len(alts[n])
			n++
		}
		quoted := make([]string, n)
		for i, a := range alts[:n] {
			quoted[i] = regexp.QuoteMeta(a)
		}
		s.res = append(s.res, regexp.MustCompile("(?i)"+strings.Join(quoted, "|")))
		alts = alts[n:]
	}
	return s
}

func (s *scrubber) str(v string) string {
	if v == "" {
		return v
	}
	for _, re := range s.res {
		v = re.ReplaceAllLiteralString(v, Placeholder)
	}
	return v
}

// value scrubs the strings of a decoded JSON value, at any depth.
func (s *scrubber) value(v any) any {
	switch x := v.(type) {
	case string:
		return s.str(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = s.value(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = s.value(e)
		}
		return out
	}
	return v
}

// scrubJSON returns v's JSON with the person's values scrubbed, and
// whether that differs from v's.
func (s *scrubber) scrubJSON(v any) (string, bool, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", false, err
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return "", false, err
	}
	clean := s.value(generic)
	if reflect.DeepEqual(clean, generic) {
		return string(b), false, nil
	}
	out, err := json.Marshal(clean)
	return string(out), true, err
}

// scrubChanges drops the personal fields' values from changes about a
// personal record, and scrubs the person's values from the rest.
func (s *scrubber) scrubChanges(changes []crm.Change, personal bool) (string, bool, error) {
	dropped := false
	out := make([]crm.Change, len(changes))
	for i, ch := range changes {
		if personal && personalFields[ch.Field] && (ch.Before != nil || ch.After != nil) {
			ch.Before, ch.After = nil, nil
			dropped = true
		}
		out[i] = ch
	}
	js, changed, err := s.scrubJSON(out)
	return js, changed || dropped, err
}

// scrubHistory scrubs the timeline entries, events and automation runs
// about subjects (those about personal subjects lose their personal
// fields' values), and the contact's scores, with raw updates: these rows
// are immutable to the data layer. It returns the rows changed.
func scrubHistory(ctx context.Context, tx *ent.Client, ws pulid.ID, s *scrubber, subjects []pulid.ID, personal map[pulid.ID]bool) (int, error) {
	n := 0
	set := func(table, column string, id pulid.ID, value string) error {
		n++
		_, err := tx.ExecContext(ctx, "UPDATE "+table+" SET "+column+" = $1 WHERE id = $2 AND workspace_id = $3", value, string(id), string(ws))
		if err != nil {
			return fmt.Errorf("scrubbing %s: %w", table, err)
		}
		return nil
	}
	tles, err := tx.TimelineEvent.Query().Where(timelineevent.SubjectIDIn(subjects...)).All(ctx)
	if err != nil {
		return 0, err
	}
	for _, e := range tles {
		js, changed, err := s.scrubChanges(e.Changes, personal[e.SubjectID])
		if err != nil {
			return 0, err
		}
		if changed {
			if err := set(timelineevent.Table, timelineevent.FieldChanges, e.ID, js); err != nil {
				return 0, err
			}
		}
	}
	evs, err := tx.Event.Query().Where(event.SubjectIDIn(subjects...)).All(ctx)
	if err != nil {
		return 0, err
	}
	for _, e := range evs {
		js, changed, err := s.scrubChanges(e.Changes, personal[e.SubjectID])
		if err != nil {
			return 0, err
		}
		if changed {
			if err := set(event.Table, event.FieldChanges, e.ID, js); err != nil {
				return 0, err
			}
		}
	}
	scores, err := tx.Score.Query().Where(score.SubjectIDIn(subjects...)).All(ctx)
	if err != nil {
		return 0, err
	}
	for _, sc := range scores {
		js, changed, err := s.scrubJSON(sc.Explanation)
		if err != nil {
			return 0, err
		}
		if changed && sc.Explanation != nil {
			if err := set(score.Table, score.FieldExplanation, sc.ID, js); err != nil {
				return 0, err
			}
		}
		if label := s.str(sc.Label); label != sc.Label {
			if err := set(score.Table, score.FieldLabel, sc.ID, label); err != nil {
				return 0, err
			}
		}
	}
	runs, err := tx.AutomationRun.Query().Where(automationrun.SubjectIDIn(subjects...)).All(ctx)
	if err != nil {
		return 0, err
	}
	runIDs := make([]pulid.ID, len(runs))
	for i, run := range runs {
		runIDs[i] = run.ID
		if msg := s.str(run.Error); msg != run.Error {
			if err := set(automationrun.Table, automationrun.FieldError, run.ID, msg); err != nil {
				return 0, err
			}
		}
		if run.Steps == nil {
			continue
		}
		js, changed, err := s.scrubJSON(run.Steps)
		if err != nil {
			return 0, err
		}
		if changed {
			if err := set(automationrun.Table, automationrun.FieldSteps, run.ID, js); err != nil {
				return 0, err
			}
		}
	}
	dels, err := tx.Delivery.Query().Where(delivery.RunIDIn(runIDs...)).All(ctx)
	if err != nil {
		return 0, err
	}
	for _, d := range dels {
		if t := s.str(d.Target); t != d.Target {
			if err := set(delivery.Table, delivery.FieldTarget, d.ID, t); err != nil {
				return 0, err
			}
		}
		if msg := s.str(d.LastError); msg != d.LastError {
			if err := set(delivery.Table, delivery.FieldLastError, d.ID, msg); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}
