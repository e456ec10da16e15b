// Package assemblyscript_test checks the AssemblyScript SDK's codec against
// the Go SDK's byte for byte: a test module (testdata/codec) built with npm
// decodes requests the Go SDK encoded and encodes them again, and answers
// responses by rules this file repeats in Go.
package assemblyscript_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rapportcrm/rapport/sdk"
)

var (
	buildOnce sync.Once
	buildCode []byte
	buildErr  error
	buildSkip string
)

// codecModule builds testdata/codec with npm, once. Without npm the tests
// skip, unless RAPPORT_REQUIRE_NODE=1 makes that a failure.
func codecModule(t *testing.T) []byte {
	t.Helper()
	buildOnce.Do(func() {
		npm, err := exec.LookPath("npm")
		if err != nil {
			if os.Getenv("RAPPORT_REQUIRE_NODE") == "1" {
				buildErr = fmt.Errorf("RAPPORT_REQUIRE_NODE=1 but npm is not on PATH: %w", err)
			} else {
				buildSkip = "npm is not on PATH (set RAPPORT_REQUIRE_NODE=1 to fail instead of skipping)"
			}
			return
		}
		dir := filepath.Join("testdata", "codec")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		for _, args := range [][]string{{"ci", "--no-audit", "--no-fund"}, {"run", "build"}} {
			cmd := exec.CommandContext(ctx, npm, args...)
			cmd.Dir = dir
			cmd.WaitDelay = 10 * time.Second
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
				return
			}
		}
		buildCode, buildErr = os.ReadFile(filepath.Join(dir, "build", "codec.wasm"))
	})
	if buildSkip != "" {
		t.Skip(buildSkip)
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildCode
}

// guest is one instance of the test module.
type guest struct {
	mod               api.Module
	input, call, echo api.Function
	logged            []string
}

func newGuest(t *testing.T) *guest {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	g := &guest{}
	_, err := rt.NewHostModuleBuilder("rapport").NewFunctionBuilder().
		WithFunc(func(_ context.Context, m api.Module, level, ptr, n uint32) {
			b, _ := m.Memory().Read(ptr, n)
			g.logged = append(g.logged, string(b))
		}).Export("log").Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g.mod, err = rt.Instantiate(ctx, codecModule(t))
	if err != nil {
		t.Fatal(err)
	}
	g.input, g.call, g.echo = g.mod.ExportedFunction("rapport_input"), g.mod.ExportedFunction("rapport_call"), g.mod.ExportedFunction("codec_echo")
	return g
}

// run writes req into the input region and calls fn (rapport_call or
// codec_echo) on it; it returns the answer and whether it is an error.
func (g *guest) run(t *testing.T, fn api.Function, point uint32, req []byte) ([]byte, bool) {
	t.Helper()
	ctx := context.Background()
	res, err := g.input.Call(ctx, uint64(len(req)))
	if err != nil {
		t.Fatal(err)
	}
	if !g.mod.Memory().Write(uint32(res[0]), req) {
		t.Fatal("input region outside memory")
	}
	res, err = fn.Call(ctx, uint64(point), uint64(len(req)))
	if err != nil {
		t.Fatal(err)
	}
	out, ok := g.mod.Memory().Read(uint32(res[0]>>32)&0x7fffffff, uint32(res[0]))
	if !ok {
		t.Fatal("answer outside memory")
	}
	return bytes.Clone(out), res[0]>>63 == 1
}

// batches are the test's subjects: 300 leads with numbers (NaN every 7th),
// codes into a dictionary with an empty and non-ASCII entries (missing
// every 5th), a flag and ids; an empty batch; a small deal batch.
func batches() []sdk.Batch {
	const n = 300
	lead := sdk.Batch{SubjectType: "lead", Count: n, IDs: make([]string, n), Columns: []sdk.Column{
		{Name: "x", Numbers: make([]float64, n)},
		{Name: "c", Codes: make([]uint32, n), Dictionary: []string{"hot", "wärm", "", "☃ snow"}},
		{Name: "flag", Numbers: make([]float64, n)},
	}}
	for i := range n {
		lead.IDs[i] = fmt.Sprintf("led_%04d", i)
		lead.Columns[0].Numbers[i] = math.Ldexp(float64(i*i%97)-40, i%9-4)
		if i%7 == 0 {
			lead.Columns[0].Numbers[i] = math.NaN()
		}
		lead.Columns[1].Codes[i] = uint32(i % 4)
		if i%5 == 0 {
			lead.Columns[1].Codes[i] = sdk.Missing
		}
		lead.Columns[2].Numbers[i] = float64(i % 2)
	}
	deal := sdk.Batch{SubjectType: "deal", Count: 5, Columns: []sdk.Column{
		{Name: "c", Codes: []uint32{1, 0, 1, sdk.Missing, 0}, Dictionary: []string{"won", "lost"}},
		{Name: "y", Numbers: []float64{1e300, -0.0, 5e-324, 42, math.Inf(1) - math.Inf(1)}},
	}}
	return []sdk.Batch{lead, {SubjectType: "contact"}, deal}
}

func reportRequest() *sdk.ReportRequest {
	return &sdk.ReportRequest{Params: []byte(`{"period":"month"}`), Config: []byte(`{"top": 5}`), Batches: batches(),
		Metrics: []sdk.Series{
			{Name: "churn_rate", Labels: []string{"2026-01", "2026-02", "2026-03"}, Values: []float64{0.1, 0.25, 0}, Chart: "line"},
			{Name: "nothing"},
		}}
}

// TestRequestsRoundTrip: requests the Go SDK encodes, decoded and encoded
// again by the module, are the same bytes.
func TestRequestsRoundTrip(t *testing.T) {
	g := newGuest(t)
	for _, b := range batches() {
		for _, config := range []string{"", `{"hot": 70}`} {
			req := sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: b, Config: []byte(config)})
			for _, point := range []uint32{1, 2} {
				got, isErr := g.run(t, g.echo, point, req)
				if isErr || !bytes.Equal(got, req) {
					t.Errorf("%s, config %q, point %d: the module re-encodes %d bytes as %d (error %v)", b.SubjectType, config, point, len(req), len(got), isErr)
				}
			}
		}
	}
	req := sdk.AppendReportRequest(nil, reportRequest())
	if got, isErr := g.run(t, g.echo, 3, req); isErr || !bytes.Equal(got, req) {
		t.Errorf("report request: %d bytes re-encoded as %d (error %v: %q)", len(req), len(got), isErr, got)
	}
}

// TestNonCanonicalRequests: protobuf allows split runs, unpacked
// elements, any field order and unknown fields; the module reads such a
// request as the Go SDK does, so it re-encodes it as the Go SDK encodes
// what it decoded.
func TestNonCanonicalRequests(t *testing.T) {
	g := newGuest(t)
	lead := batches()[0]
	var col []byte
	col = protowire.AppendTag(col, 9, protowire.VarintType) // unknown
	col = protowire.AppendVarint(col, 1<<40)
	for _, part := range [][]float64{lead.Columns[0].Numbers[:100], lead.Columns[0].Numbers[100:101], lead.Columns[0].Numbers[101:]} {
		var run []byte
		for _, v := range part {
			run = protowire.AppendFixed64(run, math.Float64bits(v))
		}
		col = protowire.AppendTag(col, 2, protowire.BytesType)
		col = protowire.AppendBytes(col, run)
	}
	col = protowire.AppendTag(col, 1, protowire.BytesType)
	col = protowire.AppendString(col, "x")
	var codes []byte
	for i, c := range lead.Columns[1].Codes {
		if i%2 == 0 { // unpacked elements, mixed with a packed run
			codes = protowire.AppendTag(codes, 3, protowire.Fixed32Type)
			codes = protowire.AppendFixed32(codes, c)
			continue
		}
		codes = protowire.AppendTag(codes, 3, protowire.BytesType)
		codes = protowire.AppendBytes(codes, protowire.AppendFixed32(nil, c))
	}
	for _, d := range lead.Columns[1].Dictionary {
		codes = protowire.AppendTag(codes, 4, protowire.BytesType)
		codes = protowire.AppendString(codes, d)
	}
	codes = protowire.AppendTag(codes, 1, protowire.BytesType)
	codes = protowire.AppendString(codes, "c")
	var batch []byte
	batch = protowire.AppendTag(batch, 3, protowire.BytesType)
	batch = protowire.AppendBytes(batch, codes)
	batch = protowire.AppendTag(batch, 3, protowire.BytesType)
	batch = protowire.AppendBytes(batch, col)
	batch = protowire.AppendTag(batch, 2, protowire.VarintType)
	batch = protowire.AppendVarint(batch, uint64(lead.Count))
	batch = protowire.AppendTag(batch, 1, protowire.BytesType)
	batch = protowire.AppendString(batch, "lead")
	var req []byte
	req = protowire.AppendTag(req, 2, protowire.BytesType)
	req = protowire.AppendBytes(req, []byte(`{"ignored": true}`))
	req = protowire.AppendTag(req, 2, protowire.BytesType) // the last one counts
	req = protowire.AppendBytes(req, []byte(`{}`))
	req = protowire.AppendTag(req, 1, protowire.BytesType)
	req = protowire.AppendBytes(req, batch)
	req = protowire.AppendTag(req, 15, protowire.Fixed32Type)
	req = protowire.AppendFixed32(req, 7)

	decoded, err := sdk.DecodeScoreRequest(req, true)
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.AppendScoreRequest(nil, decoded)
	if got, isErr := g.run(t, g.echo, 1, req); isErr || !bytes.Equal(got, want) {
		t.Errorf("non-canonical request re-encoded as %d bytes, the Go SDK's %d (error %v: %q)", len(got), len(want), isErr, got)
	}
}

// TestMalformedRequests: bytes the Go SDK refuses, the module refuses with
// the same message.
func TestMalformedRequests(t *testing.T) {
	g := newGuest(t)
	good := sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: batches()[2]})
	short := batches()[2]
	short.Count = 6
	badCode := batches()[2]
	badCode.Columns[0].Codes = []uint32{1, 0, 2, 0, 0}
	twice := batches()[2]
	twice.Columns = append(twice.Columns, twice.Columns[1])
	for name, req := range map[string][]byte{
		"truncated":         good[:len(good)-3],
		"bad tag":           {0x00, 0x01},
		"overlong varint":   {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"batch as a varint": {0x08, 0x01},
		"group":             {0x0b},
		"odd double run":    protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), protowire.AppendBytes(protowire.AppendTag(nil, 3, protowire.BytesType), protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), []byte{1, 2, 3, 4, 5}))),
		"count too large":   protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 1<<25)),
		"short column":      sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: short}),
		"code outside":      sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: badCode}),
		"column twice":      sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: twice}),
	} {
		_, goErr := sdk.DecodeScoreRequest(req, true)
		got, isErr := g.run(t, g.echo, 1, req)
		if goErr == nil {
			if isErr {
				t.Errorf("%s: the Go SDK accepts it, the module answers %q", name, got)
			}
			continue
		}
		msg, err := sdk.DecodeError(got)
		if !isErr || err != nil || msg != goErr.Error() {
			t.Errorf("%s: the module answers %q (error %v), the Go SDK %q", name, msg, isErr, goErr)
		}
	}
}

// The rules of the test module's points (testdata/codec/assembly/index.ts), in Go.

func score(b *sdk.Batch) *sdk.ScoreResponse {
	x := b.Numbers("x")
	c := b.Column("c")
	resp := sdk.NewScoreResponse(b.Count, "half", "index")
	for i := range b.Count {
		v := 1.5 * float64(i)
		if !math.IsNaN(x[i]) {
			v += x[i]
		}
		resp.Values[i] = v
		label := "none"
		if c != nil {
			if t, ok := c.Text(i); ok {
				label = t
			}
		}
		resp.SetLabel(i, label)
		resp.SetContribution(i, 0, v/2)
		resp.SetContribution(i, 1, float64(i))
	}
	return resp
}

func segment(b *sdk.Batch) *sdk.SegmentResponse {
	c := b.Column("c")
	s := sdk.NewSegments(b.Count)
	for i := b.Count - 1; i >= 0; i-- {
		if c != nil {
			if t, ok := c.Text(i); ok {
				s.Assign(i, t, 1)
			}
		}
	}
	for i := range b.Count {
		s.Assign(i, "every", 1)
		if i%3 == 0 {
			s.Assign(i, "third", float64(i)+0.5)
		}
	}
	return s.Response()
}

func report(req *sdk.ReportRequest) *sdk.Report {
	r := &sdk.Report{Title: string(req.Params)}
	for k, b := range req.Batches {
		s := sdk.Section{Key: b.SubjectType, Title: fmt.Sprintf("batch %d", k)}
		t := sdk.Table{Key: "texts"}
		for j, col := range b.Columns {
			t.Columns = append(t.Columns, col.Name)
			if col.Numbers == nil {
				continue
			}
			kpi := sdk.KPI{Key: col.Name, Label: "Σ " + col.Name, Unit: "count"}
			for _, v := range col.Numbers {
				if !math.IsNaN(v) {
					kpi.Value += v
				}
			}
			if j%2 == 0 {
				target := float64(j)
				kpi.Target = &target
			}
			s.KPIs = append(s.KPIs, kpi)
		}
		for i := 0; i < b.Count && i < 20; i++ {
			var row []string
			for j := range b.Columns {
				v, _ := b.Columns[j].Text(i)
				row = append(row, v)
			}
			t.Rows = append(t.Rows, row)
		}
		s.Tables = append(s.Tables, t)
		r.Sections = append(r.Sections, s)
	}
	r.Sections = append(r.Sections, sdk.Section{Key: "metrics", Summary: string(req.Config), Series: req.Metrics})
	return r
}

// TestResponses: what the module's points answer is, byte for byte, what
// the Go SDK encodes for the same responses: labels added as met, factor
// names, packed values and contributions; segments grouped by subject with
// weights; nested report messages longer than 127 bytes, a KPI target and
// empty cells.
func TestResponses(t *testing.T) {
	g := newGuest(t)
	for _, b := range batches() {
		req := sdk.AppendScoreRequest(nil, &sdk.ScoreRequest{Batch: b})
		want := sdk.AppendScoreResponse(nil, score(&b))
		if got, isErr := g.run(t, g.call, 1, req); isErr || !bytes.Equal(got, want) {
			t.Errorf("score %s: %d bytes, the Go SDK's %d (error %v: %q)", b.SubjectType, len(got), len(want), isErr, got)
		}
		want = sdk.AppendSegmentResponse(nil, segment(&b))
		if got, isErr := g.run(t, g.call, 2, req); isErr || !bytes.Equal(got, want) {
			t.Errorf("segment %s: %d bytes, the Go SDK's %d (error %v: %q)", b.SubjectType, len(got), len(want), isErr, got)
		}
	}
	rr := reportRequest()
	want := sdk.AppendReport(nil, report(rr))
	got, isErr := g.run(t, g.call, 3, sdk.AppendReportRequest(nil, rr))
	if isErr || !bytes.Equal(got, want) {
		t.Errorf("report: %d bytes, the Go SDK's %d (error %v: %q)", len(got), len(want), isErr, got)
	}
	if len(want) < 500 { // the lead section alone is over 127 bytes

		t.Errorf("the report is only %d bytes: lengths past one varint byte are not exercised", len(want))
	}
}
