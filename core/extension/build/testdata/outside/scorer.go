// Package scorer is a plugin outside the Rapport module: it has a go.mod
// of its own (written by the test, which points it at this checkout).
package scorer

import "github.com/rapportcrm/rapport/sdk"

// Plugin scores every subject 1.
var Plugin = sdk.Plugin{Score: func(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	values := make([]float64, req.Batch.Count)
	for i := range values {
		values[i] = 1
	}
	return &sdk.ScoreResponse{Values: values}, nil
}}
