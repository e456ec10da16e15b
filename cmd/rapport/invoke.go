package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

// invokeInput is the JSON `rapport plugin invoke` reads: a batch given
// column by column. A column of numbers (null = missing) is numeric; a
// column of strings (null = missing) is categorical.
type invokeInput struct {
	SubjectType string           `json:"subject_type"`
	Columns     map[string][]any `json:"columns"`
	IDs         []string         `json:"ids,omitempty"`
	Config      map[string]any   `json:"config,omitempty"`
}

func (in *invokeInput) batch() (sdk.Batch, error) {
	b := sdk.Batch{SubjectType: in.SubjectType, Count: -1, IDs: in.IDs}
	names := make([]string, 0, len(in.Columns))
	for name := range in.Columns {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		vals := in.Columns[name]
		if b.Count == -1 {
			b.Count = len(vals)
		}
		col := sdk.Column{Name: name}
		text := false
		for _, v := range vals {
			if _, ok := v.(string); ok {
				text = true
			}
		}
		codes := map[string]uint32{}
		for i, v := range vals {
			switch x := v.(type) {
			case nil:
				if text {
					col.Codes = append(col.Codes, sdk.Missing)
				} else {
					col.Numbers = append(col.Numbers, math.NaN())
				}
			case float64:
				if text {
					return b, fmt.Errorf("column %q, row %d: a number among strings", name, i)
				}
				col.Numbers = append(col.Numbers, x)
			case bool:
				if text {
					return b, fmt.Errorf("column %q, row %d: a boolean among strings", name, i)
				}
				col.Numbers = append(col.Numbers, map[bool]float64{false: 0, true: 1}[x])
			case string:
				c, ok := codes[x]
				if !ok {
					c = uint32(len(col.Dictionary))
					codes[x] = c
					col.Dictionary = append(col.Dictionary, x)
				}
				col.Codes = append(col.Codes, c)
			default:
				return b, fmt.Errorf("column %q, row %d: want a number, string, boolean or null", name, i)
			}
		}
		b.Columns = append(b.Columns, col)
	}
	if b.Count == -1 {
		b.Count = len(in.IDs)
	}
	return b, b.Validate()
}

func newInvokeCmd() *cobra.Command {
	var (
		point, input string
	)
	cmd := &cobra.Command{
		Use:   "invoke DIR --point score --input FILE",
		Short: "Call a plugin on a batch given as JSON (- for standard input) and print its answer as JSON",
		Long: `Input: {"subject_type": "lead", "columns": {"estimated_value": [1200, null], "source": ["web", "referral"]}, "config": {}}
Numbers (or booleans) make a numeric column and strings a categorical one; null is a missing value.
As the server does, the config gets the manifest's config_schema defaults and is checked against
it, and a point or subject type the manifest does not declare is refused, before the plugin runs.
Works for WASM and process plugins alike.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := manifest.Load(filepath.Join(args[0], manifest.FileName))
			if err != nil {
				return err
			}
			switch pt := sdk.Point(point); {
			case pt != sdk.PointScore && pt != sdk.PointSegment:
				return errcode.Input("point", "--point %q: invoke takes score or segment", point)
			case !m.Implements(pt):
				return errcode.Input("point", "plugin %s does not implement %s (its manifest's points: %v)", m.Ref(), pt, m.Points)
			}
			var r io.Reader = cmd.InOrStdin()
			if input != "-" {
				f, err := os.Open(input)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			var in invokeInput
			dec := json.NewDecoder(r)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				return fmt.Errorf("input: %w", err)
			}
			b, err := in.batch()
			if err != nil {
				return fmt.Errorf("input: %w", err)
			}
			if len(m.Subjects) > 0 && !slices.Contains(m.Subjects, in.SubjectType) {
				return errcode.Input("subject_type", "plugin %s does not take %s subjects (its manifest's subjects: %v)", m.Ref(), in.SubjectType, m.Subjects)
			}
			cfg, err := extension.ConfigFor(m, in.Config)
			if err != nil {
				return err
			}
			_, mod, _, closeTarget, err := openTarget(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer closeTarget()
			var out any
			switch sdk.Point(point) {
			case sdk.PointScore:
				resp, err := mod.Score(cmd.Context(), &sdk.ScoreRequest{Batch: b, Config: cfg})
				if err != nil {
					return err
				}
				type factor struct {
					Name         string  `json:"name"`
					Contribution float64 `json:"contribution"`
				}
				type scored struct {
					Value       float64  `json:"value"`
					Label       string   `json:"label,omitempty"`
					Explanation []factor `json:"explanation,omitempty"`
				}
				list := make([]scored, len(resp.Values))
				for i, v := range resp.Values {
					list[i] = scored{Value: v, Label: resp.Label(i)}
					for f, name := range resp.FactorNames {
						list[i].Explanation = append(list[i].Explanation, factor{name, resp.Contribution(i, f)})
					}
				}
				out = list
			case sdk.PointSegment:
				resp, err := mod.Segment(cmd.Context(), &sdk.SegmentRequest{Batch: b, Config: cfg})
				if err != nil {
					return err
				}
				list := make([][]string, b.Count)
				for i := range list {
					list[i] = resp.Of(i)
				}
				out = list
			default:
				return fmt.Errorf("--point %q: invoke takes score or segment", point)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	cmd.Flags().StringVar(&point, "point", "score", "score or segment")
	cmd.Flags().StringVar(&input, "input", "-", "the batch as JSON, or - for standard input")
	return cmd
}
