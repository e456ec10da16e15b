package graph_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/graph"
)

// TestSchemaSpellsIDsOneWay checks that every field, argument and input
// field named for an ID spells it Relay-style, as the generated part of
// the schema does (subjectID, organizationIDs), never subjectId.
func TestSchemaSpellsIDsOneWay(t *testing.T) {
	s := graph.Schema(nil, nil).Schema()
	wrong := regexp.MustCompile(`[a-z]Ids?$`)
	var bad []string
	for _, typ := range s.Types {
		if strings.HasPrefix(typ.Name, "__") {
			continue
		}
		for _, f := range typ.Fields {
			if wrong.MatchString(f.Name) {
				bad = append(bad, typ.Name+"."+f.Name)
			}
			for _, a := range f.Arguments {
				if wrong.MatchString(a.Name) {
					bad = append(bad, typ.Name+"."+f.Name+"("+a.Name+")")
				}
			}
		}
	}
	if len(bad) > 0 {
		t.Errorf("spelled Id rather than ID: %s", strings.Join(bad, ", "))
	}
}
