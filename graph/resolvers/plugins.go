package resolvers

import (
	"strings"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/graph/model"
)

// pluginModel is a plugin as GraphQL shows it; origin is one of
// extension's Origin values.
func pluginModel(p *extension.Plugin, origin string) *model.Plugin {
	m := p.Manifest
	points := make([]string, len(m.Points))
	for i, pt := range m.Points {
		points[i] = string(pt)
	}
	return &model.Plugin{Name: m.Name, Version: m.Version, Runtime: m.Runtime, Points: points,
		Subjects: append([]string{}, m.Subjects...), Model: nonEmpty(m.Model), Description: nonEmpty(m.Description), Status: p.Status,
		Origin: model.PluginOrigin(strings.ToUpper(origin))}
}
