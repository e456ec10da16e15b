// Command guest is a test plugin whose behaviour its config selects: a
// well-behaved lead scorer by default, or one of the faults the host must
// survive ("loop", "bomb", "big", "crash", "panic", "error", "wrongcount",
// "nan").
// Its segmenter puts each lead with an estimated value in "known" and in
// "big" (10,000 or more) or "small", or misbehaves as its config's Mode
// says ("error", "loop", "failbig": fail a batch holding a lead of
// Threshold or more, "badkey", "longkey", "emptykey", "wrongcount",
// "garbage").
package main

import (
	"encoding/json"
	"errors"
	"math"
	"runtime/debug"
	"strings"

	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/wasm"
)

func init() { wasm.Register(sdk.Plugin{Score: score, Segment: segment}) }

func main() {}

var sink []byte
var spin uint64

func recurse(n int) int { return recurse(n+1) + 1 }

func score(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	if string(ctx.Config()) == "noop" {
		return sdk.NewScoreResponse(req.Batch.Count), nil
	}
	var cfg struct{ Mode string }
	_ = json.Unmarshal(ctx.Config(), &cfg)
	n := req.Batch.Count
	switch cfg.Mode {
	case "loop":
		for {
			spin++
		}
	case "bomb":
		var keep [][]byte
		for {
			b := make([]byte, 1<<20)
			b[0] = 1
			keep = append(keep, b)
			sink = b
		}
	case "big":
		// One allocation that cannot fit, asked for while the memory is
		// still small: the runtime traps far below the ceiling.
		b := make([]byte, 15<<20)
		b[len(b)-1] = 1
		sink = b
	case "crash":
		debug.SetMaxStack(1 << 16)
		recurse(0)
	case "panic":
		var m map[string]int
		m["x"] = 1
	case "error":
		return nil, errors.New("refusing on purpose")
	case "log":
		ctx.Log("info", "scoring a batch")
	case "wrongcount":
		return sdk.NewScoreResponse(n + 1), nil
	case "nan":
		r := sdk.NewScoreResponse(n)
		for i := range r.Values {
			r.Values[i] = math.NaN()
		}
		return r, nil
	}
	amount := req.Batch.Numbers("amount")
	resp := sdk.NewScoreResponse(n, "amount")
	for i := 0; i < n; i++ {
		a := amount[i]
		if math.IsNaN(a) || a < 0 {
			a = 0 // missing or negative amounts count as none
		}
		v := math.Log1p(a)
		resp.Values[i] = v
		resp.SetContribution(i, 0, v)
		if v > 5 {
			resp.SetLabel(i, "hot")
		}
	}
	return resp, nil
}

func segment(ctx sdk.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	var cfg struct {
		Mode      string
		Threshold float64
	}
	_ = json.Unmarshal(ctx.Config(), &cfg)
	n := req.Batch.Count
	value := req.Batch.Numbers("estimated_value")
	s := sdk.NewSegments(n)
	for i := 0; i < n; i++ {
		v := value[i]
		switch {
		case math.IsNaN(v):
			continue
		case v >= 10000:
			s.Assign(i, "big", 1)
		default:
			s.Assign(i, "small", 1)
		}
		s.Assign(i, "known", 1)
		if cfg.Mode == "failbig" && v >= cfg.Threshold {
			return nil, errors.New("a big lead in this batch")
		}
	}
	switch cfg.Mode {
	case "error":
		return nil, errors.New("refusing on purpose")
	case "loop":
		for {
			spin++
		}
	case "badkey":
		s.Assign(0, "Bad Key!", 1)
	case "longkey":
		s.Assign(0, strings.Repeat("k", 65), 1)
	case "emptykey":
		s.Assign(0, "", 1)
	case "wrongcount":
		return sdk.NewSegments(n + 1).Response(), nil
	case "garbage":
		r := s.Response()
		r.KeyCodes = append(r.KeyCodes, 99)
		r.Offsets[n]++
		return r, nil
	}
	return s.Response(), nil
}
