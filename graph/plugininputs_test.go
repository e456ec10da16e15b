package graph_test

import (
	"testing"

	"github.com/rapportcrm/rapport/core/store/storetest"
)

// TestPluginInputsThroughTheAPI: pluginInputs lists the built-ins,
// fields, relations and aggregate forms of a subject type, plus the
// caller's workspace's own custom fields and tags — never another
// workspace's.
func TestPluginInputsThroughTheAPI(t *testing.T) {
	e := newEnv(t, storetest.Dialects[0])
	e.ok("a", `mutation { createCustomField(input: {entity: lead, key: "budget", label: "Budget", type: number}) { id } }`, nil)
	e.ok("b", `mutation { createCustomField(input: {entity: lead, key: "secret", label: "Secret", type: text}) { id } }`, nil)
	listed := func(tok string) map[string]string {
		d := e.ok(tok, `{ pluginInputs(subjectType: "lead") { input kind source description } }`, nil)
		out := map[string]string{}
		for _, x := range get(d, "pluginInputs").([]any) {
			out[str(x, "input")] = str(x, "kind") + "/" + str(x, "source")
		}
		return out
	}
	a := listed("aViewer")
	for in, want := range map[string]string{
		"estimated_value":                "number/builtin",
		"expected_close_date":            "",
		"custom.budget:number":           "number/custom",
		"organization.industry":          "category/relation",
		"contact.organization.employees": "number/relation",
		"count(activities [where FIELD = VALUE [and …]] [within 30d])": "number/aggregate",
		"segment": "category/segment",
	} {
		if a[in] != want {
			t.Errorf("a: %s listed as %q, want %q", in, a[in], want)
		}
	}
	if _, leak := a["custom.secret:category"]; leak {
		t.Error("workspace a sees b's custom field")
	}
	if b := listed("b"); b["custom.secret:category"] != "category/custom" || b["custom.budget:number"] != "" {
		t.Errorf("b lists its own fields wrong: secret %q budget %q", b["custom.secret:category"], b["custom.budget:number"])
	}
	e.fail("a", `{ pluginInputs(subjectType: "ticket") { input } }`, nil, "BAD_USER_INPUT")
}
