package main

import (
	"context"
	"fmt"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
)

// demoModels puts the bundled CRM models to work in the demo workspace:
// IDIC scores organizations and contacts (actual and potential value) and
// segments organizations by value tier (differentiate), and the value
// chain segments organizations and contacts by lifecycle stage. On the
// first start (fresh) it also records a QCI self-assessment, scores
// everyone and runs the segmenters, so that the reports, scores and
// segments have something to show: the demo's segments are the plugins'
// output. Plugins that are not
// loaded are skipped; it returns what it did, for the log.
func demoModels(ctx context.Context, client *ent.Client, reg *extension.Registry, ws *ent.Workspace, fresh bool) ([]string, error) {
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	var did []string
	bind := func(point sdk.Point, subject, plugin string) error {
		p, err := reg.Latest(plugin)
		if err != nil {
			return nil // not loaded: nothing to bind
		}
		if _, err := reg.Bind(ctx, client, extension.BindInput{Point: point, SubjectType: subject, Plugin: plugin, Version: p.Manifest.Version}); err != nil {
			return fmt.Errorf("binding %s %s to %s: %w", point, subject, p.Ref(), err)
		}
		did = append(did, fmt.Sprintf("bound %s %s to %s", point, subject, p.Ref()))
		return nil
	}
	for _, subject := range []string{"organization", "contact"} {
		if err := bind(sdk.PointScore, subject, "idic"); err != nil {
			return did, err
		}
		if err := bind(sdk.PointSegment, subject, "valuechain"); err != nil {
			return did, err
		}
	}
	if err := bind(sdk.PointSegment, "organization", "idic"); err != nil {
		return did, err
	}
	if !fresh {
		return did, nil
	}
	if p, err := reg.Latest("qci"); err == nil {
		qs, err := p.QuestionSet()
		if err != nil {
			return did, err
		}
		answers := make([]extension.Answer, len(qs.Questions))
		for i, q := range qs.Questions {
			// A company that is fair at most things and strong at a few:
			// answers cycle 2, 3, 1, 2, 4, … so every area has a spread.
			answers[i] = extension.Answer{Question: q.Key, Answer: []int{2, 3, 1, 2, 4, 1, 3}[i%7] % len(qs.Scale)}
		}
		if _, err := reg.RecordAnswers(ctx, client, "qci", answers); err != nil {
			return did, err
		}
		did = append(did, fmt.Sprintf("recorded %d answers to the %s questionnaire", len(answers), p.Ref()))
	}
	for _, subject := range []string{"organization", "contact"} {
		if _, err := reg.Latest("idic"); err != nil {
			break
		}
		run, err := reg.ScoreSubjects(ctx, client, extension.ScoreOptions{SubjectType: subject})
		if err != nil {
			return did, err
		}
		did = append(did, fmt.Sprintf("scored %d %ss with %s", run.Scored, subject, run.Plugin))
	}
	for _, subject := range []string{"organization", "contact"} {
		runs, err := reg.SegmentAll(ctx, client, extension.SegmentOptions{SubjectType: subject, Trigger: "demo"})
		if errcode.Of(err) == errcode.NotFound {
			continue // no segmenter loaded
		}
		if err != nil {
			return did, err
		}
		for _, run := range runs {
			did = append(did, fmt.Sprintf("segmented %d %ss with %s: %d memberships", run.Segmented, subject, run.Plugin, run.Entered))
		}
	}
	return did, nil
}
