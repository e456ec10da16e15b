package inputs

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		subject, text string
		name          string
		kind          Kind
		check         func(*Input) bool
	}{
		{"lead", "estimated_value", "estimated_value", Number, func(in *Input) bool { return in.Builtin }},
		{"lead", "id", "id", ID, func(in *Input) bool { return in.Builtin }},
		{"deal", "expected_close_date", "expected_close_date", Time, func(in *Input) bool { return !in.Builtin && in.Field == "expected_close_date" }},
		{"deal", "name", "name", Category, nil},
		{"lead", "custom.budget:number", "custom.budget", Number, func(in *Input) bool { return in.Custom && in.Field == "budget" && in.Entity == "lead" }},
		{"lead", "b = custom.budget : number", "b", Number, nil},
		{"lead", "organization.industry", "organization.industry", Category, func(in *Input) bool { return len(in.Path) == 1 && in.Entity == "organization" }},
		{"deal", "stage.probability", "stage.probability", Number, func(in *Input) bool { return in.Entity == "stage" }},
		{"deal", "contact.organization.employees", "contact.organization.employees", Number, func(in *Input) bool { return len(in.Path) == 2 }},
		{"deal", "contact.organization.custom.tier:category", "contact.organization.custom.tier", Category, func(in *Input) bool { return in.Custom && in.Entity == "organization" }},
		{"deal", "stage.pipeline.name", "stage.pipeline.name", Category, nil},
		{"contact", "tag:vip", "tag:vip", Flag, func(in *Input) bool { return in.Tag == "vip" }},
		{"contact", `tag:"Key account"`, `tag:"Key account"`, Flag, func(in *Input) bool { return in.Tag == "Key account" }},
		{"lead", "segment", "segment", Category, func(in *Input) bool { return in.Segment && in.SegmentKey == "" }},
		{"organization", "segment:at_risk", "segment:at_risk", Flag, func(in *Input) bool { return in.SegmentKey == "at_risk" }},
		{"contact", "count(activities where kind = call within 30d)", "count(activities where kind = call within 30d)", Number,
			func(in *Input) bool {
				a := in.Agg
				return a.Func == "count" && a.Target == "activity" && len(a.Where) == 1 && a.Where[0].Values[0] == "call" && a.Within == 30*24*time.Hour
			}},
		{"contact", "calls = count( activities  where kind='call' within 30d )", "calls", Number, nil},
		{"contact", "sum(orders.amount within 365d)", "sum(orders.amount within 365d)", Number, func(in *Input) bool { return in.Agg.Field == "amount" }},
		{"organization", "sum(orders.margin within 1y)", "sum(orders.margin within 1y)", Number, nil},
		{"contact", "days_since_last(activities where direction = inbound)", "days_since_last(activities where direction = inbound)", Number,
			func(in *Input) bool { return in.Agg.Field == "occurred_at" }},
		{"contact", "max(orders.ordered_at)", "max(orders.ordered_at)", Time, nil},
		{"contact", "mean(deals.amount where status in (won, lost) and amount >= 100)", "mean(deals.amount where status in (won, lost) and amount >= 100)", Number,
			func(in *Input) bool {
				return len(in.Agg.Where) == 2 && in.Agg.Where[0].Op == "in" && len(in.Agg.Where[0].Values) == 2
			}},
		{"deal", "count(stage_changes within 12h)", "count(stage_changes within 12h)", Number, nil},
		{"contact", "organization.owner.name", "organization.owner.name", Category, nil},
	}
	for _, tt := range tests {
		t.Run(tt.subject+"/"+tt.text, func(t *testing.T) {
			in, err := Parse(tt.subject, 0, tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if in.Name != tt.name || in.Kind != tt.kind {
				t.Errorf("name %q kind %s, want %q %s", in.Name, in.Kind, tt.name, tt.kind)
			}
			if tt.check != nil && !tt.check(in) {
				t.Errorf("parsed as %+v (agg %+v)", in, in.Agg)
			}
			// The canonical form parses to the same column.
			again, err := Parse(tt.subject, 0, in.Canonical())
			if err != nil {
				t.Fatalf("canonical %q: %v", in.Canonical(), err)
			}
			if again.Canonical() != in.Canonical() || again.Kind != in.Kind {
				t.Errorf("canonical %q reparsed as %q", in.Canonical(), again.Canonical())
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ subject, text, want string }{
		{"lead", "budgett", `inputs.lead.0: no field "budgett" on lead`},
		{"lead", "titel", "did you mean title?"},
		{"deal", "contact.organization.owner.name", "deeper than 2 relations"},
		{"lead", "count(estimated_value)", "is a field of lead, not a list of records"},
		{"lead", "sum(activities.kind)", "it is a category, not a number"},
		{"contact", "count(activities within 30 days)", "has no unit"},
		{"contact", "count(activities within 30x)", "has no unit"},
		{"contact", "count(activities within 99999d)", "longer than"},
		{"contact", "count(activities within 0d)", "not a duration"},
		{"lead", "custom.budget", "needs its kind"},
		{"lead", "custom.budget:money", "unknown kind"},
		{"lead", "tag:vip", "lead records have no tags"},
		{"contact", "count(activities where kind = cal)", "kind is one of note, call, email, meeting, task"},
		{"contact", "count(activities where kind = cal)", "did you mean call?"},
		{"contact", "count(activities.subject)", "count counts records"},
		{"contact", "sum(orders)", "sum needs a number field"},
		{"contact", "organization", "is a relation: name one of its fields"},
		{"contact", "activities", "is a list of records: aggregate it"},
		{"contact", "median(orders.amount)", "unknown aggregate"},
		{"contact", "estimated_value", `no field "estimated_value" on contact`},
		{"lead", "status = status", "is a built-in input"},
		{"contact", "count(activities where direction > inbound)", "compare it with = , != or in"},
		{"contact", "count(orders where amount = ten)", "amount is a number"},
		{"contact", "Email", "upper case"},
		{"contact", "count(activities where kind = call or kind = email)", "conditions join with and"},
		{"contact", "email:number", "is a category, not a number"},
		{"widget", "id", "unknown subject type"},
		{"contact", strings.Repeat("a", 201), "longer than 200"},
		{"contact", "", "expected a field"},
		{"contact", "segment:Bad", "upper case"},
		{"contact", `count(activities where subject = "unterminated)`, "unterminated string"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := Parse(tt.subject, 0, tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse(%q) = %v, want an error containing %q", tt.text, err, tt.want)
			}
		})
	}
}

func TestParseIn(t *testing.T) {
	ws := &Workspace{Custom: map[string]map[string]string{"lead": {"budget": "number", "tier": "select"}}}
	if _, err := ParseIn(ws, "lead", 3, "budgett"); err == nil || !strings.Contains(err.Error(), "inputs.lead.3: no field \"budgett\" on lead; did you mean custom.budget?") {
		t.Errorf("got %v", err)
	}
	if _, err := ParseIn(ws, "lead", 0, "custom.budget:category"); err == nil || !strings.Contains(err.Error(), "is of type number (sent as number), not category") {
		t.Errorf("got %v", err)
	}
	if _, err := ParseIn(ws, "lead", 0, "custom.tier:category"); err != nil {
		t.Error(err)
	}
	// Not defined yet: it arrives as missing, not an error.
	if _, err := ParseIn(ws, "lead", 0, "custom.later:flag"); err != nil {
		t.Error(err)
	}
}

func TestParseAll(t *testing.T) {
	if _, err := ParseAll(nil, "lead", []string{"status", "status"}); err == nil || !strings.Contains(err.Error(), `inputs.lead.1: column "status" is already input 0`) {
		t.Errorf("duplicate: %v", err)
	}
	many := make([]string, MaxInputs+1)
	for i := range many {
		many[i] = "x" + strings.Repeat("_", i%5) + string(rune('a'+i%26)) + " = count(activities)"
	}
	if _, err := ParseAll(nil, "lead", many); err == nil || !strings.Contains(err.Error(), "at most 64") {
		t.Errorf("too many: %v", err)
	}
	// 26 custom text fields at a worst case of 1,004 bytes each make
	// 26 × 1,004 × 1,000 = 26.1 MB, over the 8 MiB budget.
	var wide []string
	for i := 0; i < 26; i++ {
		wide = append(wide, "custom.t"+string(rune('a'+i))+":category")
	}
	if _, err := ParseAll(nil, "lead", wide); err == nil || !strings.Contains(err.Error(), "over the host's budget of 8388608 bytes (8 MiB)") {
		t.Errorf("budget: %v", err)
	}
	if got := WorstCaseBytes([]*Input{{Kind: Number}, {Kind: Category, Custom: true}}); got != (8+1004)*1000 {
		t.Errorf("WorstCaseBytes = %d", got)
	}
	// Two bad inputs are both named.
	_, err := ParseAll(nil, "lead", []string{"nope", "status", "count(x)"})
	if err == nil || !strings.Contains(err.Error(), "inputs.lead.0") || !strings.Contains(err.Error(), "inputs.lead.2") {
		t.Errorf("every problem: %v", err)
	}
}

func TestParseWindow(t *testing.T) {
	for in, want := range map[string]time.Duration{"12h": 12 * time.Hour, "30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1y": 365 * 24 * time.Hour} {
		if got, err := ParseWindow(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "d", "-3d", "030d", "3", "3m", "1.5d", "+3d"} {
		if _, err := ParseWindow(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Every relation of the catalog leads to an entity in the catalog, and
// every entity's time field is one of its time fields.
func TestCatalogIsClosed(t *testing.T) {
	for _, name := range Entities() {
		e, _ := Lookup(name)
		if f, ok := e.Fields[e.Time]; !ok || f.Kind != Time {
			t.Errorf("%s: time field %q", name, e.Time)
		}
		for rel, r := range e.One {
			if _, ok := Lookup(r.Target); !ok {
				t.Errorf("%s.%s leads to %q", name, rel, r.Target)
			}
			if _, ok := e.Fields[r.Key]; !ok {
				t.Errorf("%s.%s: no key field %q", name, rel, r.Key)
			}
		}
		for rel, r := range e.Many {
			target, ok := Lookup(r.Target)
			if !ok {
				t.Errorf("%s.%s leads to %q", name, rel, r.Target)
			}
			if _, ok := target.Fields[r.Key]; !ok {
				t.Errorf("%s.%s: no key field %q on %s", name, rel, r.Key, r.Target)
			}
		}
	}
	for _, s := range Subjects {
		if _, ok := Lookup(s); !ok {
			t.Errorf("subject %s not in the catalog", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"estimated_value", "custom.budget:number", "organization.industry", "tag:vip", "segment:x",
		"count(activities where kind = call within 30d)", "x = sum(orders.amount where amount > -1.5 within 1y)", `tag:"a\"b"`,
		"mean(deals.amount where status in (won, lost))", "contact.organization.custom.t:time"} {
		f.Add("contact", s)
		f.Add("deal", s)
	}
	f.Fuzz(func(t *testing.T, subject, text string) {
		in, err := Parse(subject, 0, text)
		if err != nil {
			return
		}
		again, err := Parse(subject, 0, in.Canonical())
		if err != nil {
			t.Fatalf("%q parsed, its canonical form %q does not: %v", text, in.Canonical(), err)
		}
		if again.Canonical() != in.Canonical() || again.Kind != in.Kind {
			t.Fatalf("%q: canonical %q reparsed as %q", text, in.Canonical(), again.Canonical())
		}
	})
}

// Every listed input without a placeholder parses as written, against
// the same workspace, to the kind listed.
func TestList(t *testing.T) {
	cat := &Catalog{
		Workspace: Workspace{Custom: map[string]map[string]string{"lead": {"budget": "number"}, "organization": {"tier": "select"}}},
		Tags:      []string{"vip", "Key account"},
		Segments:  []string{"gold"},
	}
	for _, subject := range Subjects {
		list, err := List(subject, cat)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[Source]int{}
		for _, a := range list {
			seen[a.Source]++
			if strings.ContainsAny(a.Input, "ABCDEFGHIJKLMNOPQRSTUVWXYZ[") && !strings.Contains(a.Input, `"`) {
				continue
			}
			in, err := ParseIn(&cat.Workspace, subject, 0, a.Input)
			if err != nil {
				t.Errorf("%s: listed %q does not parse: %v", subject, a.Input, err)
				continue
			}
			if in.Kind != a.Kind {
				t.Errorf("%s: %q listed as %s, parses as %s", subject, a.Input, a.Kind, in.Kind)
			}
		}
		for _, s := range []Source{FromBuiltin, FromField, FromRelation, FromSegment, FromAggregate} {
			if seen[s] == 0 {
				t.Errorf("%s: nothing from %s", subject, s)
			}
		}
	}
	list, _ := List("lead", cat)
	want := map[string]bool{"custom.budget:number": false, "organization.custom.tier:category": false, "contact.organization.employees": false,
		"count(activities [where FIELD = VALUE [and …]] [within 30d])": false}
	for _, a := range list {
		if _, ok := want[a.Input]; ok {
			want[a.Input] = true
		}
	}
	for in, found := range want {
		if !found {
			t.Errorf("lead: %q not listed", in)
		}
	}
	if _, err := List("widget", nil); err == nil {
		t.Error("unknown subject listed")
	}
}
