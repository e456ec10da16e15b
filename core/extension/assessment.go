package extension

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/assessmentanswer"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
)

// QuestionSet reads the plugin's questionnaire (its manifest's
// "questions"), or returns nil when it has none.
func (p *Plugin) QuestionSet() (*sdk.QuestionSet, error) {
	if p.Manifest.Questions == "" {
		return nil, nil
	}
	b, err := p.questions, error(nil)
	if b == nil {
		b, err = os.ReadFile(filepath.Join(p.Dir, p.Manifest.Questions))
	}
	if err != nil {
		return nil, fmt.Errorf("plugin %s: %w", p.Ref(), err)
	}
	var q sdk.QuestionSet
	if err := json.Unmarshal(b, &q); err != nil {
		return nil, fmt.Errorf("plugin %s: %s: %w", p.Ref(), p.Manifest.Questions, err)
	}
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("plugin %s: %w", p.Ref(), err)
	}
	return &q, nil
}

// Answer is one answer to record.
type Answer struct {
	Question string
	Answer   int
	Note     string
}

// RecordAnswers records a workspace's answers to the named plugin's
// questionnaire, all or none: each question must be in the plugin's
// question set and each answer on its scale (errors name the answer's
// index and field). An answer recorded again replaces the earlier one.
func (r *Registry) RecordAnswers(ctx context.Context, client *ent.Client, plugin string, answers []Answer) ([]*ent.AssessmentAnswer, error) {
	p, err := r.latest(ctx, client, plugin)
	if err != nil {
		return nil, errcode.Input("plugin", "%v", err)
	}
	qs, err := p.QuestionSet()
	if err != nil {
		return nil, err
	}
	if qs == nil {
		return nil, errcode.Input("plugin", "plugin %s has no questionnaire", p.Ref())
	}
	known := map[string]bool{}
	for _, q := range qs.Questions {
		known[q.Key] = true
	}
	for i, a := range answers {
		if !known[a.Question] {
			return nil, errcode.AtIndex("answers", i, errcode.Input("question", "plugin %s has no question %q", p.Ref(), a.Question))
		}
		if a.Answer < 0 || a.Answer >= len(qs.Scale) {
			return nil, errcode.AtIndex("answers", i, errcode.Input("answer", "answers run from 0 to %d", len(qs.Scale)-1))
		}
	}
	actor := tenancy.Actor(ctx)
	out := make([]*ent.AssessmentAnswer, 0, len(answers))
	for _, a := range answers {
		existing, err := client.AssessmentAnswer.Query().
			Where(assessmentanswer.PluginEQ(p.Manifest.Name), assessmentanswer.QuestionEQ(a.Question)).First(ctx)
		var saved *ent.AssessmentAnswer
		switch {
		case ent.IsNotFound(err):
			saved, err = client.AssessmentAnswer.Create().SetPlugin(p.Manifest.Name).SetQuestion(a.Question).
				SetAnswer(a.Answer).SetNote(a.Note).SetAnsweredBy(actor).Save(ctx)
		case err == nil:
			saved, err = existing.Update().SetAnswer(a.Answer).SetNote(a.Note).SetAnsweredBy(actor).Save(ctx)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, saved)
	}
	return out, nil
}

// assessmentRow is one recorded answer as a report reads it.
type assessmentRow struct {
	Question string
	Answer   float64
}

// assessmentAnswers returns the workspace's answers to the plugin's
// questionnaire, by question.
func assessmentAnswers(ctx context.Context, client *ent.Client, plugin string) ([]assessmentRow, error) {
	as, err := client.AssessmentAnswer.Query().Where(assessmentanswer.PluginEQ(plugin)).All(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(as, func(i, j int) bool { return as[i].Question < as[j].Question })
	out := make([]assessmentRow, len(as))
	for i, a := range as {
		out[i] = assessmentRow{Question: a.Question, Answer: float64(a.Answer)}
	}
	return out, nil
}
