package pluginkit

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/inputs"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginpb"
)

func TestInferShape(t *testing.T) {
	for attr, want := range map[string]shape{
		"has_email": flag, "is_customer": flag,
		"created_at": timestamp, "closed_on": timestamp, "birth_date": timestamp, "call_time": timestamp,
		"activity_count": wholeNumber, "age_days": wholeNumber, "age": wholeNumber, "count": wholeNumber,
		"win_rate": fraction, "probability": fraction, "custom.close_probability": fraction,
		"estimated_value": amount, "amount": amount, "employees": amount, "custom.budget": amount, "deal_size": amount,
		"source": categorical, "status": categorical, "stage": categorical, "industry": categorical,
		"hash": categorical, "custom.region": categorical, "id": categorical,
	} {
		if got := inferShape(attr); got != want {
			t.Errorf("inferShape(%q) = %d, want %d", attr, got, want)
		}
	}
}

func TestDefaultConfig(t *testing.T) {
	for _, c := range []struct{ schema, want, err string }{
		{``, `{}`, ""},
		{`{}`, `{}`, ""},
		{`{"type": "object"}`, `{}`, ""},
		{`{"type": "object", "properties": {"hot": {"type": "number", "default": 70}, "warm": {"default": 40}, "note": {"type": "string"}}}`, `{"hot":70,"warm":40}`, ""},
		{`{"properties": {"labels": {"type": "object", "properties": {"high": {"default": "H"}, "low": {}}}, "empty": {"type": "object"}}}`, `{"labels":{"high":"H"}}`, ""},
		{`{"default": {"a": 1}, "properties": {"b": {"default": 2}}}`, `{"a":1}`, ""},
		{`{"properties": {"hot": {"default": 70}}, "required": ["hot"]}`, `{"hot":70}`, ""},
		{`{"properties": {"key": {"type": "string"}, "nested": {"type": "object", "default": {}, "required": ["x"]}}, "required": ["key"]}`, "", `requires "key", "nested.x" without a default`},
	} {
		m := &manifest.Manifest{ConfigSchema: []byte(c.schema)}
		got, err := DefaultConfig(m)
		switch {
		case c.err != "":
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.err)) {
				t.Errorf("%s: err = %v, want one saying %s", c.schema, err, c.err)
			}
		case err != nil:
			t.Errorf("%s: %v", c.schema, err)
		case string(got) != c.want:
			t.Errorf("%s: %s, want %s", c.schema, got, c.want)
		}
	}
}

// testInputs are declared inputs of every kind, per subject type.
var testInputs = map[string][]string{
	"lead": {"id", "estimated_value", "source", "has_email", "status", "converted_at", "custom.region:category",
		"calls = count(activities where kind = call within 30d)", "custom.budget:number", "days_since_last(activities)", "age_days"},
	"deal": {"amount", "stage = stage.name", "stage.probability", "tag:vip", "segment", "segment:gold", "max(orders.ordered_at)",
		"expected_close_date", "sum(orders.amount within 365d)", "mean(orders.margin)", "days_to_close", "status", "custom.tier:category",
		"won = custom.won:flag", "custom.renewal:time", "stage.kind"},
}

func TestNumberShape(t *testing.T) {
	for text, want := range map[string]shape{
		"estimated_value": amount, "activity_count": wholeNumber, "age_days": wholeNumber, "employees": amount,
		"order_margin": amount, "open_pipeline": amount, "open_probability": fraction, "days_since_last_order": days,
		"count(activities)": wholeNumber, "count(orders within 1y)": wholeNumber,
		"days_since_last(activities)": days, "days_since_first(orders.ordered_at)": days,
		"sum(orders.amount)": amount, "mean(orders.margin)": amount, "min(orders.cost)": amount, "max(deals.probability)": fraction,
		"custom.budget:number": amount, "custom.renewal_rate:number": fraction, "custom.seats:number": amount,
		"custom.visit_count:number": wholeNumber, "x = custom.y:number": amount, "churn_rate = custom.y:number": fraction,
		"organization.employees": amount, "visits = sum(deals.probability)": fraction, "p = organization.employees": amount,
	} {
		subject := "contact"
		if text == "estimated_value" {
			subject = "lead"
		}
		in, err := inputs.Parse(subject, 0, text)
		if err != nil {
			if in, err = inputs.Parse("organization", 0, text); err != nil {
				t.Errorf("%s: %v", text, err)
				continue
			}
		}
		if in.Kind != inputs.Number {
			t.Errorf("%s: declared %s, want a number", text, in.Kind)
			continue
		}
		if got := numberShape(in); got != want {
			t.Errorf("numberShape(%q) = %d, want %d", text, got, want)
		}
	}
}

// checkColumn checks that a column carries its declared kind and values of
// the shape the package documentation promises.
func checkColumn(t *testing.T, what string, in *inputs.Input, c sdk.Column) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: column %q (%s): %s", what, c.Name, in.Text, fmt.Sprintf(format, args...))
	}
	if in.Kind == inputs.Category {
		if c.Numbers != nil || c.Codes == nil {
			fail("a category sent as numbers")
		}
		var enum []string
		if e, ok := inputs.Lookup(in.Entity); ok && in.Agg == nil && !in.Custom && !in.Segment {
			enum = e.Fields[in.Field].Enum
		}
		if len(c.Dictionary) > 0 {
			want := vocabulary
			if enum != nil {
				want = append(slices.Clone(enum), enumExtras...)
			}
			if !slices.Equal(c.Dictionary, want) {
				fail("dictionary %q, want %q", c.Dictionary, want)
			}
		}
		for i, code := range c.Codes {
			if code != sdk.Missing && int(code) >= len(c.Dictionary)-1 {
				fail("subject %d has code %d of a dictionary of %d (the last entry is unused)", i, code, len(c.Dictionary))
			}
		}
		return
	}
	if c.Codes != nil || c.Numbers == nil {
		fail("a %s sent as codes", in.Kind)
	}
	for i, v := range c.Numbers {
		if math.IsNaN(v) {
			continue
		}
		ok := true
		switch in.Kind {
		case inputs.Flag:
			ok = v == 0 || v == 1
		case inputs.Time:
			ok = v >= 1_600_000_000 && v < 1_700_000_000 && v == math.Trunc(v)
			if strings.HasSuffix(in.Field, "_date") {
				ok = ok && math.Mod(v, 86_400) == 0
			}
		default:
			ok = v >= 0 && !math.IsInf(v, 0)
			switch numberShape(in) {
			case wholeNumber:
				ok = ok && v <= 365 && v == math.Trunc(v)
			case days:
				ok = ok && v <= 365
			case fraction:
				ok = ok && v <= 1
			case amount:
				ok = ok && v < 1.3e6 && math.Abs(math.Round(v*100)-v*100) < 1e-6
			}
		}
		if !ok {
			fail("subject %d has %v", i, v)
		}
	}
}

func TestCanonicalBatches(t *testing.T) {
	for _, subject := range []string{"lead", "deal"} {
		texts := testInputs[subject]
		parsed, err := inputs.ParseAll(nil, subject, texts)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]*inputs.Input{}
		var names []string // the columns' names in manifest order
		for _, in := range parsed {
			byName[in.Name] = in
			if in.Kind != inputs.ID {
				names = append(names, in.Name)
			}
		}
		cols := declaredColumns(subject, texts)
		for _, l := range layouts {
			for _, miss := range []missing{noneMissing, someMissing, allMissing} {
				for _, n := range []int{0, 1, 7, 100} {
					s := batchSpec{layout: l, count: n, missing: miss}
					what := subject + ": " + s.String()
					b := canonicalBatch(subject, cols, s)
					if err := b.Validate(); err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					wantIDs := 0
					if subject == "lead" {
						wantIDs = n
					}
					if len(b.Columns) != len(names) || len(b.IDs) != wantIDs {
						t.Fatalf("%s: %d columns, %d ids", what, len(b.Columns), len(b.IDs))
					}
					got := make([]string, len(b.Columns))
					for j, c := range b.Columns {
						got[j] = c.Name
					}
					want := slices.Clone(names)
					if l == reverseOrder {
						slices.Reverse(want)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("%s: columns %q, want %q", what, got, want)
					}
					// Same spec, same batch; through the wire and back, too.
					enc := sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: b})
					again := sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: canonicalBatch(subject, declaredColumns(subject, texts), s)})
					if !bytes.Equal(enc, again) {
						t.Fatalf("%s: two builds differ", what)
					}
					back, err := sdk.DecodeScoreRequest(enc, true)
					if err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					if !bytes.Equal(enc, sdk.AppendScoreRequest(nil, back)) {
						t.Fatalf("%s: does not survive the wire", what)
					}
					twice := reversed(reversed(b))
					if !bytes.Equal(enc, sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: twice})) {
						t.Fatalf("%s: reversed twice is not the batch", what)
					}
					missingOf := func(i int) (count int) {
						for _, c := range b.Columns {
							if (c.Numbers != nil && math.IsNaN(c.Numbers[i])) || (c.Codes != nil && c.Codes[i] == sdk.Missing) {
								count++
							}
						}
						return count
					}
					for i := range n {
						got := missingOf(i)
						switch {
						case miss == noneMissing && got != 0,
							miss == allMissing && got != len(b.Columns),
							miss == someMissing && i == n-1 && got != len(b.Columns),
							miss == someMissing && i < n-1 && (got == 0 || got == len(b.Columns)):
							t.Fatalf("%s: subject %d has %d of %d values missing", what, i, got, len(b.Columns))
						}
					}
					for _, c := range b.Columns {
						checkColumn(t, what, byName[c.Name], c)
						if miss == allMissing && c.Codes != nil && len(c.Dictionary) > 0 {
							t.Fatalf("%s: column %q: every value missing, yet a dictionary", what, c.Name)
						}
					}
				}
			}
		}
	}
	// In the reversed layout the declared order's values stay with their
	// names: only the columns' positions change.
	fwd := canonicalBatch("deal", declaredColumns("deal", testInputs["deal"]), batchSpec{count: 5})
	rev := canonicalBatch("deal", declaredColumns("deal", testInputs["deal"]), batchSpec{layout: reverseOrder, count: 5})
	for j, c := range fwd.Columns {
		r := rev.Columns[len(rev.Columns)-1-j]
		if r.Name != c.Name || !slices.Equal(r.Codes, c.Codes) || fmt.Sprint(r.Numbers) != fmt.Sprint(c.Numbers) {
			t.Errorf("column %q differs between the layouts", c.Name)
		}
	}
}

// TestUndeclaredForms checks what the kit sends for inputs the language
// refuses (by name, as before declarations) and for records.
func TestUndeclaredForms(t *testing.T) {
	cols := declaredColumns("lead", []string{"id", "amount", "stage", "has_email", "estimated_value", "estimated_value"})
	var got []string
	for _, c := range cols {
		got = append(got, fmt.Sprintf("%s:%s", c.name, c.kind))
	}
	want := []string{"id:id", "amount:number", "stage:category", "has_email:flag", "estimated_value:number"}
	if !slices.Equal(got, want) {
		t.Errorf("columns %q, want %q", got, want)
	}
	got = nil
	for _, c := range append(recordColumns(sdk.RecordPurchases, sdk.RecordTypes[sdk.RecordPurchases]), recordColumns(sdk.RecordAssessment, sdk.RecordTypes[sdk.RecordAssessment])...) {
		got = append(got, fmt.Sprintf("%s:%s", c.name, c.kind))
	}
	want = []string{"customer_id:category", "product:category", "quantity:number", "amount:number", "question:category", "answer:number"}
	if !slices.Equal(got, want) {
		t.Errorf("record columns %q, want %q", got, want)
	}
}

// TestUnparsableRequestsAreUnparsable checks that every request the
// malformed-input check insists be refused is refused both by the SDK's
// decoder and by the code protoc generates: it is not a matter of taste.
func TestUnparsableRequestsAreUnparsable(t *testing.T) {
	numbersOnly := map[string][]string{"lead": {"estimated_value"}, "deal": {"amount", "tag:vip"}}
	for _, ins := range []map[string][]string{testInputs, numbersOnly, nil} {
		m := &manifest.Manifest{Points: allPoints, Subjects: []string{"lead", "deal"}, Inputs: ins}
		if ins == nil {
			m.Subjects = nil
		}
		k, err := Suite{}.newKit(Native(m, sdk.Plugin{}))
		if err != nil {
			t.Fatal(err)
		}
		for _, point := range allPoints {
			for _, n := range []int{1, 20, 300} {
				for _, l := range layouts {
					req := k.requests(point, batchSpec{layout: l, count: n})[0]
					good := req.encode()
					var pb proto.Message
					var decode func([]byte) error
					switch point {
					case sdk.PointScore:
						pb, decode = &pluginpb.ScoreRequest{}, func(b []byte) error { _, err := sdk.DecodeScoreRequest(b, true); return err }
					case sdk.PointSegment:
						pb, decode = &pluginpb.SegmentRequest{}, func(b []byte) error { _, err := sdk.DecodeSegmentRequest(b, true); return err }
					default:
						pb, decode = &pluginpb.ReportRequest{}, func(b []byte) error { _, err := sdk.DecodeReportRequest(b, true); return err }
					}
					if err := proto.Unmarshal(good, pb); err != nil {
						t.Fatalf("%s %s: the good request does not parse: %v", point, req.what, err)
					}
					for _, c := range unparsable(good) {
						if !c.mustRefuse {
							t.Fatalf("%s: not marked as to be refused", c.name)
						}
						if err := decode(c.body); err == nil {
							t.Errorf("%s %s: %s: the SDK decodes it", point, req.what, c.name)
						}
						if err := proto.Unmarshal(c.body, pb); err == nil {
							t.Errorf("%s %s: %s: generated code decodes it", point, req.what, c.name)
						}
					}
				}
			}
		}
	}
}
