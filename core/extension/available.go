package extension

import (
	"context"
	"fmt"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/ent/segment"
	"github.com/rapportcrm/rapport/core/ent/tag"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/sdk/inputs"
)

// maxListed bounds the tags and segment keys AvailableInputs names.
const maxListed = 200

// AvailableInputs lists every input a plugin may declare for
// subjectType: built-ins, fields, fields of related records, aggregate
// forms, and — when client is not nil — the custom fields, tags (up to
// 200) and segment keys (up to 200) of the caller's workspace.
func AvailableInputs(ctx context.Context, client *ent.Client, subjectType string) ([]inputs.Available, error) {
	if _, ok := inputs.Builtins[subjectType]; !ok {
		return nil, errcode.Input("subjectType", "unknown subject type %q (want contact, organization, lead or deal)", subjectType)
	}
	cat := &inputs.Catalog{Workspace: inputs.Workspace{Custom: map[string]map[string]string{}}}
	if client != nil {
		defs, err := client.CustomField.Query().Order(ent.Asc(customfield.FieldKey)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("loading custom fields: %w", err)
		}
		for _, d := range defs {
			e := string(d.Entity)
			if cat.Custom[e] == nil {
				cat.Custom[e] = map[string]string{}
			}
			cat.Custom[e][d.Key] = string(d.Type)
		}
		if cat.Tags, err = client.Tag.Query().Order(ent.Asc(tag.FieldName)).Limit(maxListed).Select(tag.FieldName).Strings(ctx); err != nil {
			return nil, err
		}
		keys, err := client.Segment.Query().Order(ent.Asc(segment.FieldKey)).Limit(maxListed).Select(segment.FieldKey).Strings(ctx)
		if err != nil {
			return nil, err
		}
		for i, k := range keys {
			if i == 0 || k != keys[i-1] {
				cat.Segments = append(cat.Segments, k)
			}
		}
	}
	return inputs.List(subjectType, cat)
}
