package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/internal/round"
	"github.com/rapportcrm/rapport/sdk"
)

// workspaceSession opens the store, the workspace by slug (as its
// admin) and the plugins, for the commands that run plugins on a
// workspace's data. close releases them.
func workspaceSession(cmd *cobra.Command, g *globals, pf *pluginFlags, slug string) (context.Context, *store.Store, *extension.Registry, func(), error) {
	ctx := cmd.Context()
	st, err := g.openStore(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ws, err := access.WorkspaceBySlug(ctx, st.Client, slug)
	if err != nil {
		st.Close()
		return nil, nil, nil, nil, err
	}
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	reg, err := pf.open(ctx, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn})), nil)
	if err != nil {
		st.Close()
		return nil, nil, nil, nil, err
	}
	return ctx, st, reg, func() { reg.Close(context.Background()); st.Close() }, nil
}

func newReportCmd(g *globals) *cobra.Command {
	var (
		pf                   pluginFlags
		slug, plugin, params string
		output               string
	)
	cmd := &cobra.Command{
		Use:   "report --plugin NAME --workspace SLUG [--params JSON] [--output table|json|csv]",
		Short: "Run a report plugin on a workspace",
		Long: `Runs a report plugin (NAME or NAME@VERSION) on the workspace's data and prints
its sections: as aligned tables (KPIs, then each table and series), as JSON (the
whole report), or as CSV (one row per KPI, table cell row and series point, with
the section and the part named in the first columns). --params is a JSON object:
from, to (dates), period (month, quarter, year) and acquisition_cost.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, st, reg, done, err := workspaceSession(cmd, g, &pf, slug)
			if err != nil {
				return err
			}
			defer done()
			rep, p, err := reg.RunReport(ctx, st.Client, extension.ReportOptions{Plugin: plugin, Params: json.RawMessage(params)})
			if err != nil {
				return err
			}
			return writeReport(cmd.OutOrStdout(), p.Ref(), rep, output)
		},
	}
	cmd.Flags().StringVar(&slug, "workspace", "", "workspace slug (required)")
	cmd.Flags().StringVar(&plugin, "plugin", "", "report plugin: NAME or NAME@VERSION (required)")
	cmd.Flags().StringVar(&params, "params", "", "report parameters as a JSON object")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	_ = cmd.MarkFlagRequired("workspace")
	_ = cmd.MarkFlagRequired("plugin")
	pf.register(cmd)
	return cmd
}

// writeReport prints a report in the format. Figures are rounded by
// round.Unit (money to the cent, anything else to six significant
// digits); JSON has them as numbers (null for NaN or ±Inf), the report's
// table cells that are plain numbers as numbers and empty ones as null.
func writeReport(w io.Writer, plugin string, r *sdk.Report, format string) error {
	switch format {
	case "json":
		return writeJSON(w, reportJSONOf(plugin, r))
	case "csv":
		t := table{Columns: []string{"section", "part", "key", "label", "value", "unit"}}
		for _, s := range r.Sections {
			for _, k := range s.KPIs {
				t.Rows = append(t.Rows, []any{s.Key, "kpi", k.Key, k.Label, figure(k.Value, k.Unit), optional(k.Unit)})
			}
			for _, tb := range s.Tables {
				for i, row := range tb.Rows {
					for j, cell := range row {
						t.Rows = append(t.Rows, []any{s.Key, "table:" + tb.Key, i, tb.Columns[j], reportCell(cell), nil})
					}
				}
			}
			for _, sr := range s.Series {
				for i, l := range sr.Labels {
					t.Rows = append(t.Rows, []any{s.Key, "series:" + sr.Name, l, nil, figure(sr.Values[i], ""), nil})
				}
			}
		}
		return t.write(w, "csv")
	case "", "table":
		fmt.Fprintf(w, "%s (%s)\n", r.Title, plugin)
		for _, s := range r.Sections {
			fmt.Fprintf(w, "\n== %s ==\n", s.Title)
			if s.Summary != "" {
				fmt.Fprintln(w, s.Summary)
			}
			if len(s.KPIs) > 0 {
				t := table{Columns: []string{"kpi", "value", "unit"}}
				for _, k := range s.KPIs {
					t.Rows = append(t.Rows, []any{k.Label, figure(k.Value, k.Unit), k.Unit})
				}
				fmt.Fprintln(w)
				if err := t.write(w, "table"); err != nil {
					return err
				}
			}
			for _, tb := range s.Tables {
				fmt.Fprintf(w, "\n%s\n", tb.Title)
				t := table{Columns: tb.Columns}
				for _, row := range tb.Rows {
					cells := make([]any, len(row))
					for i, c := range row {
						cells[i] = c
					}
					t.Rows = append(t.Rows, cells)
				}
				if err := t.write(w, "table"); err != nil {
					return err
				}
			}
			for _, sr := range s.Series {
				fmt.Fprintf(w, "\n%s: ", sr.Name)
				parts := make([]string, len(sr.Labels))
				for i, l := range sr.Labels {
					v, _ := textCell(figure(sr.Values[i], ""))
					parts[i] = l + " " + v
				}
				fmt.Fprintln(w, strings.Join(parts, ", "))
			}
		}
		return nil
	}
	return errcode.Input("output", "unknown output format %q: use table, json or csv", format)
}

// figure is a report figure as a cell: rounded by its unit, missing
// when NaN or ±Inf.
func figure(v float64, unit string) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return exact(round.Unit(v, unit))
}

// figurePtr is figure of *p, nil for nil.
func figurePtr(p *float64, unit string) any {
	if p == nil {
		return nil
	}
	return figure(*p, unit)
}

// reportCell is a report table's cell: a number when the plugin wrote a
// plain number (kept as written), missing when empty, else text.
func reportCell(s string) any {
	switch {
	case s == "":
		return nil
	case isJSONNumber(s):
		return json.Number(s)
	}
	return s
}

// reportJSON is a report as `rapport report -o json` prints it.
type reportJSON struct {
	Plugin   string              `json:"plugin"`
	Title    string              `json:"title"`
	Sections []reportSectionJSON `json:"sections"`
}

type reportSectionJSON struct {
	Key     string             `json:"key"`
	Title   string             `json:"title"`
	Summary string             `json:"summary"`
	KPIs    []reportKPIJSON    `json:"kpis"`
	Tables  []reportTableJSON  `json:"tables"`
	Series  []reportSeriesJSON `json:"series"`
}

type reportKPIJSON struct {
	Key    string `json:"key"`
	Label  string `json:"label"`
	Value  any    `json:"value"`
	Unit   string `json:"unit"`
	Target any    `json:"target"`
}

type reportTableJSON struct {
	Key     string   `json:"key"`
	Title   string   `json:"title"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

type reportSeriesJSON struct {
	Name   string   `json:"name"`
	Labels []string `json:"labels"`
	Values []any    `json:"values"`
	Chart  string   `json:"chart"`
}

// reportJSONOf is r in snake_case with its figures rounded and lists
// never null.
func reportJSONOf(plugin string, r *sdk.Report) reportJSON {
	out := reportJSON{Plugin: plugin, Title: r.Title, Sections: []reportSectionJSON{}}
	for _, s := range r.Sections {
		sj := reportSectionJSON{Key: s.Key, Title: s.Title, Summary: s.Summary,
			KPIs: []reportKPIJSON{}, Tables: []reportTableJSON{}, Series: []reportSeriesJSON{}}
		for _, k := range s.KPIs {
			sj.KPIs = append(sj.KPIs, reportKPIJSON{Key: k.Key, Label: k.Label, Value: jsonCell(figure(k.Value, k.Unit)),
				Unit: k.Unit, Target: jsonCell(figurePtr(k.Target, k.Unit))})
		}
		for _, tb := range s.Tables {
			tj := reportTableJSON{Key: tb.Key, Title: tb.Title, Columns: append([]string{}, tb.Columns...), Rows: [][]any{}}
			for _, row := range tb.Rows {
				cells := make([]any, len(row))
				for i, c := range row {
					cells[i] = jsonCell(reportCell(c))
				}
				tj.Rows = append(tj.Rows, cells)
			}
			sj.Tables = append(sj.Tables, tj)
		}
		for _, sr := range s.Series {
			vals := make([]any, len(sr.Values))
			for i, v := range sr.Values {
				vals[i] = jsonCell(figure(v, ""))
			}
			sj.Series = append(sj.Series, reportSeriesJSON{Name: sr.Name, Labels: append([]string{}, sr.Labels...), Values: vals, Chart: sr.Chart})
		}
		out.Sections = append(out.Sections, sj)
	}
	return out
}

func newCompareCmd(g *globals) *cobra.Command {
	var (
		pf                                        pluginFlags
		slug, subject, baseline, candidate, where string
		point, output                             string
	)
	cmd := &cobra.Command{
		Use:   "compare --workspace SLUG --subject TYPE --baseline NAME[@V] --candidate NAME[@V] [--point score|segment] [--where JSON]",
		Short: "Run two plugins over the same subjects, store nothing, and compare them",
		Long: `Runs two score or segment plugins (NAME or NAME@VERSION each) over the same
subjects, storing nothing, and prints how the candidate's answers compare with
the baseline's: rank correlation, mean shift, top-k overlap and the subjects
whose label changed. For --point segment a subject's label is its segment keys
joined with "+" ("(none)" for none), and the output adds the share of subjects
whose segments changed (of all keys, and of the keys both plugins have, so that
a renamed segment is not counted as a change), each segment's size under each
plugin, and the confusion matrix of baseline label against candidate label.
--output table prints aligned tables, json the whole comparison, and csv one
row per figure, segment size, matrix cell and label change (columns part, key,
baseline, candidate, value).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, st, reg, done, err := workspaceSession(cmd, g, &pf, slug)
			if err != nil {
				return err
			}
			defer done()
			w, err := whereFor(subject, where)
			if err != nil {
				return err
			}
			c, err := reg.ShadowScore(ctx, st.Client, extension.ShadowOptions{Point: sdk.Point(point), Baseline: baseline, Candidate: candidate, SubjectType: subject, Where: w})
			if err != nil {
				return err
			}
			return writeComparison(cmd.OutOrStdout(), c, output)
		},
	}
	cmd.Flags().StringVar(&slug, "workspace", "", "workspace slug (required)")
	cmd.Flags().StringVar(&subject, "subject", "lead", "subject type: lead, contact, organization or deal")
	cmd.Flags().StringVar(&baseline, "baseline", "", "the plugin in use: NAME or NAME@VERSION (required)")
	cmd.Flags().StringVar(&candidate, "candidate", "", "the plugin to try: NAME or NAME@VERSION (required)")
	cmd.Flags().StringVar(&point, "point", "score", "score or segment")
	cmd.Flags().StringVar(&where, "where", "", "only subjects matching this filter (JSON of the GraphQL where input)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	_ = cmd.MarkFlagRequired("workspace")
	_ = cmd.MarkFlagRequired("baseline")
	_ = cmd.MarkFlagRequired("candidate")
	pf.register(cmd)
	return cmd
}

// maxGridColumns is the most candidate labels writeComparison prints the
// confusion matrix as a grid for; with more it lists the cells.
const maxGridColumns = 10

// writeComparison prints a shadow comparison in the format: "table" (the
// summary; for segment plugins the shares changed, the segment sizes and
// the confusion matrix; then the label changes), "json" (the whole
// comparison) or "csv" (one row per figure, segment size, matrix cell and
// label change, the part named in the first column).
func writeComparison(w io.Writer, c *extension.ShadowComparison, format string) error {
	switch format {
	case "json":
		v, err := snakeJSON(roundedComparison(nonNullLists(c)))
		if err != nil {
			return err
		}
		return writeJSON(w, v)
	case "csv":
		return comparisonCSV(c).write(w, "csv")
	case "", "table":
		return comparisonTables(w, c)
	}
	return errcode.Input("output", "unknown output format %q: use table, json or csv", format)
}

// nonNullLists is a copy of c whose nil lists are empty, so that its JSON
// has [] where GraphQL's ShadowComparison does, never null.
func nonNullLists(c *extension.ShadowComparison) *extension.ShadowComparison {
	cp := *c
	if cp.LabelChanges == nil {
		cp.LabelChanges = []extension.LabelChange{}
	}
	if c.Segments != nil {
		s := *c.Segments
		for _, l := range []*[]string{&s.BaselineOnly, &s.CandidateOnly, &s.Shared, &s.BaselineLabels, &s.CandidateLabels} {
			if *l == nil {
				*l = []string{}
			}
		}
		if s.Sizes == nil {
			s.Sizes = []extension.SegmentSize{}
		}
		if s.Confusion == nil {
			s.Confusion = []extension.ConfusionCell{}
		}
		cp.Segments = &s
	}
	return &cp
}

// roundedComparison is c with its figures rounded by round.Measure; c is
// not changed.
func roundedComparison(c *extension.ShadowComparison) *extension.ShadowComparison {
	cp := *c
	cp.RankCorrelation = round.Ptr(c.RankCorrelation)
	cp.MeanShift = round.Measure(c.MeanShift)
	cp.TopKOverlap = round.Measure(c.TopKOverlap)
	cp.LabelChanges = make([]extension.LabelChange, len(c.LabelChanges))
	for i, l := range c.LabelChanges {
		l.BaselineValue, l.CandidateValue = round.Measure(l.BaselineValue), round.Measure(l.CandidateValue)
		cp.LabelChanges[i] = l
	}
	if c.Segments != nil {
		s := *c.Segments
		s.ChangedShare = round.Measure(s.ChangedShare)
		s.SharedChangedShare = round.Measure(s.SharedChangedShare)
		cp.Segments = &s
	}
	return &cp
}

// snakeJSON is v as JSON with every object key in snake_case (subjectID
// is subject_id, topKOverlap top_k_overlap): the convention of every
// command's JSON. Numbers are kept as written.
func snakeJSON(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	var rekey func(any) any
	rekey = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(v))
			for k, e := range v {
				m[snakeCase(k)] = rekey(e)
			}
			return m
		case []any:
			for i, e := range v {
				v[i] = rekey(e)
			}
		}
		return v
	}
	return rekey(out), nil
}

// snakeCase spells a camelCase name in snake_case: a word starts at an
// upper-case letter after a lower-case one or a digit, and at the last
// letter of a run of capitals followed by a lower-case one (IDList is
// id_list).
func snakeCase(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prev := r[i-1]
			next := i+1 < len(r) && unicode.IsLower(r[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && next) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// comparisonTables prints a comparison as aligned tables.
func comparisonTables(w io.Writer, c *extension.ShadowComparison) error {
	f4 := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	rho := "n/a"
	if c.RankCorrelation != nil {
		rho = f4(*c.RankCorrelation)
	}
	t := table{Columns: []string{"baseline", "candidate", "subjects", "rank_correlation", "mean_shift", "top_k", "top_k_overlap", "label_changes"},
		Rows: [][]any{{c.Baseline, c.Candidate, fmt.Sprint(c.Subjects), rho, f4(c.MeanShift),
			fmt.Sprint(c.TopK), f4(c.TopKOverlap), fmt.Sprint(c.LabelChangeCount)}}}
	if err := t.write(w, "table"); err != nil {
		return err
	}
	if s := c.Segments; s != nil {
		fmt.Fprintln(w)
		t := table{Columns: []string{"changed_share", "shared_changed_share", "shared_keys", "baseline_only_keys", "candidate_only_keys"},
			Rows: [][]any{{f4(s.ChangedShare), f4(s.SharedChangedShare), keyList(s.Shared), keyList(s.BaselineOnly), keyList(s.CandidateOnly)}}}
		if err := t.write(w, "table"); err != nil {
			return err
		}
		fmt.Fprintln(w, "\nSegment sizes (subjects)")
		sizes := table{Columns: []string{"segment", "baseline", "candidate", "keys"}}
		for _, z := range s.Sizes {
			sizes.Rows = append(sizes.Rows, []any{z.Key, fmt.Sprint(z.Baseline), fmt.Sprint(z.Candidate), strings.ReplaceAll(keySide(s, z.Key), "_", " ")})
		}
		if err := sizes.write(w, "table"); err != nil {
			return err
		}
		if err := confusionTable(w, s); err != nil {
			return err
		}
	}
	if len(c.LabelChanges) > 0 {
		fmt.Fprintln(w)
		lt := table{Columns: []string{"subject", "baseline_label", "candidate_label", "baseline_value", "candidate_value"}}
		for _, l := range c.LabelChanges {
			lt.Rows = append(lt.Rows, []any{l.SubjectID, l.Baseline, l.Candidate,
				strconv.FormatFloat(l.BaselineValue, 'f', 2, 64), strconv.FormatFloat(l.CandidateValue, 'f', 2, 64)})
		}
		return lt.write(w, "table")
	}
	return nil
}

// confusionTable prints the confusion matrix: a grid of baseline labels
// (rows) by candidate labels (columns) with totals, or with more than
// maxGridColumns candidate labels the list of its cells.
func confusionTable(w io.Writer, s *extension.SegmentComparison) error {
	fmt.Fprintln(w, "\nConfusion matrix (subjects; rows baseline, columns candidate)")
	if len(s.Confusion) < s.ConfusionCellCount {
		fmt.Fprintf(w, "the %d largest of %d cells\n", len(s.Confusion), s.ConfusionCellCount)
	}
	if len(s.CandidateLabels) > maxGridColumns {
		t := table{Columns: []string{"baseline", "candidate", "subjects"}}
		for _, cell := range s.Confusion {
			t.Rows = append(t.Rows, []any{cell.Baseline, cell.Candidate, fmt.Sprint(cell.Count)})
		}
		return t.write(w, "table")
	}
	col := make(map[string]int, len(s.CandidateLabels))
	for j, l := range s.CandidateLabels {
		col[l] = j
	}
	row := make(map[string]int, len(s.BaselineLabels))
	counts := make([][]int, len(s.BaselineLabels))
	for i, l := range s.BaselineLabels {
		row[l], counts[i] = i, make([]int, len(s.CandidateLabels))
	}
	for _, cell := range s.Confusion {
		counts[row[cell.Baseline]][col[cell.Candidate]] = cell.Count
	}
	t := table{Columns: append(append([]string{"baseline \\ candidate"}, s.CandidateLabels...), "total")}
	totals := make([]int, len(s.CandidateLabels)+1)
	for i, l := range s.BaselineLabels {
		r, sum := []any{l}, 0
		for j, n := range counts[i] {
			r = append(r, fmt.Sprint(n))
			sum += n
			totals[j] += n
		}
		totals[len(totals)-1] += sum
		t.Rows = append(t.Rows, append(r, fmt.Sprint(sum)))
	}
	r := []any{"total"}
	for _, n := range totals {
		r = append(r, fmt.Sprint(n))
	}
	t.Rows = append(t.Rows, r)
	return t.write(w, "table")
}

// comparisonCSV is a comparison as one table: part, key, baseline,
// candidate, value. Part summary has a row per figure (plugin gives the
// two plugins; the others the value); size a row per segment key (the two
// sizes, and whose key it is: shared, baseline_only or candidate_only);
// confusion a row per matrix cell (the two labels and the count); and
// label_change a row per subject listed (its ID and the two labels; the
// values are in the JSON).
func comparisonCSV(c *extension.ShadowComparison) table {
	t := table{Columns: []string{"part", "key", "baseline", "candidate", "value"}}
	figure := func(key string, value any) { t.Rows = append(t.Rows, []any{"summary", key, nil, nil, value}) }
	t.Rows = append(t.Rows, []any{"summary", "plugin", c.Baseline, c.Candidate, nil})
	figure("subject_type", c.SubjectType)
	figure("subjects", c.Subjects)
	figure("rank_correlation", c.RankCorrelation)
	figure("mean_shift", c.MeanShift)
	figure("top_k", c.TopK)
	figure("top_k_overlap", c.TopKOverlap)
	figure("label_changes", c.LabelChangeCount)
	if s := c.Segments; s != nil {
		figure("changed_share", s.ChangedShare)
		figure("shared_changed_share", s.SharedChangedShare)
		figure("confusion_cells", s.ConfusionCellCount)
		for _, z := range s.Sizes {
			t.Rows = append(t.Rows, []any{"size", z.Key, z.Baseline, z.Candidate, keySide(s, z.Key)})
		}
		for _, cell := range s.Confusion {
			t.Rows = append(t.Rows, []any{"confusion", nil, cell.Baseline, cell.Candidate, cell.Count})
		}
	}
	for _, l := range c.LabelChanges {
		t.Rows = append(t.Rows, []any{"label_change", l.SubjectID, l.Baseline, l.Candidate, nil})
	}
	return t
}

// keySide says whose a segment key is: shared, baseline_only or
// candidate_only.
func keySide(s *extension.SegmentComparison, key string) string {
	switch {
	case slices.Contains(s.Shared, key):
		return "shared"
	case slices.Contains(s.BaselineOnly, key):
		return "baseline_only"
	}
	return "candidate_only"
}

// keyList prints keys comma-separated, "-" for none.
func keyList(keys []string) string {
	if len(keys) == 0 {
		return "-"
	}
	return strings.Join(keys, ",")
}
