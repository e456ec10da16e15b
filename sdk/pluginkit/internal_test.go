package pluginkit

import (
	"bytes"
	"math"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/rapportcrm/rapport/sdk"
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

var testInputs = []string{"id", "estimated_value", "source", "has_email", "created_at", "custom.region"}

func TestCanonicalBatches(t *testing.T) {
	for _, l := range layouts {
		for _, miss := range []missing{noneMissing, someMissing, allMissing} {
			for _, n := range []int{0, 1, 7, 100} {
				s := batchSpec{layout: l, count: n, missing: miss}
				b := canonicalBatch("lead", testInputs, s)
				if err := b.Validate(); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
				if len(b.Columns) != len(testInputs)-1 || len(b.IDs) != n {
					t.Fatalf("%s: %d columns, %d ids", s, len(b.Columns), len(b.IDs))
				}
				// Same spec, same batch; through the wire and back, too.
				enc := sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: b})
				again := sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: canonicalBatch("lead", testInputs, s)})
				if !bytes.Equal(enc, again) {
					t.Fatalf("%s: two builds differ", s)
				}
				back, err := sdk.DecodeScoreRequest(enc, true)
				if err != nil {
					t.Fatalf("%s: %v", s, err)
				}
				if !bytes.Equal(enc, sdk.AppendScoreRequest(nil, back)) {
					t.Fatalf("%s: does not survive the wire", s)
				}
				twice := reversed(reversed(b))
				if !bytes.Equal(enc, sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: twice})) {
					t.Fatalf("%s: reversed twice is not the batch", s)
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
						t.Fatalf("%s: subject %d has %d of %d values missing", s, i, got, len(b.Columns))
					}
				}
				for _, c := range b.Columns {
					wantCodes := l == allCodes || (l == inferred && inferShape(c.Name) == categorical)
					if c.Categorical() != wantCodes && !(n == 0 && !c.Categorical()) {
						t.Fatalf("%s: column %q categorical=%v", s, c.Name, c.Categorical())
					}
					for i := range n {
						if c.Codes != nil && c.Codes[i] != sdk.Missing && c.Dictionary[c.Codes[i]] == "unused" {
							t.Fatalf("%s: column %q uses the unused entry", s, c.Name)
						}
					}
				}
			}
		}
	}
	if b := canonicalBatch("lead", testInputs, batchSpec{layout: allCodes, count: 3}); b.Columns[0].Name != "custom.region" {
		t.Errorf("codes layout: first column %q, want the manifest's last", b.Columns[0].Name)
	}
}

// TestUnparsableRequestsAreUnparsable checks that every request the
// malformed-input check insists be refused is refused both by the SDK's
// decoder and by the code protoc generates: it is not a matter of taste.
func TestUnparsableRequestsAreUnparsable(t *testing.T) {
	for _, inputs := range [][]string{testInputs, {"amount"}, nil} {
		m := &manifest.Manifest{Points: allPoints, Subjects: []string{"lead", "deal"}, Inputs: map[string][]string{}}
		if inputs != nil {
			m.Inputs["lead"], m.Inputs["deal"] = inputs, inputs
		} else {
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
