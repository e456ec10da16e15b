package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/tenancy"
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

// writeReport prints a report in the format.
func writeReport(w io.Writer, plugin string, r *sdk.Report, format string) error {
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Plugin string `json:"plugin"`
			*sdk.Report
		}{plugin, r})
	case "csv":
		t := table{Columns: []string{"section", "part", "key", "label", "value", "unit"}}
		for _, s := range r.Sections {
			for _, k := range s.KPIs {
				t.Rows = append(t.Rows, []string{s.Key, "kpi", k.Key, k.Label, num(k.Value), k.Unit})
			}
			for _, tb := range s.Tables {
				for i, row := range tb.Rows {
					for j, cell := range row {
						t.Rows = append(t.Rows, []string{s.Key, "table:" + tb.Key, fmt.Sprintf("%d", i), tb.Columns[j], cell, ""})
					}
				}
			}
			for _, sr := range s.Series {
				for i, l := range sr.Labels {
					t.Rows = append(t.Rows, []string{s.Key, "series:" + sr.Name, l, "", num(sr.Values[i]), ""})
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
					t.Rows = append(t.Rows, []string{k.Label, strconv.FormatFloat(k.Value, 'f', 2, 64), k.Unit})
				}
				fmt.Fprintln(w)
				if err := t.write(w, "table"); err != nil {
					return err
				}
			}
			for _, tb := range s.Tables {
				fmt.Fprintf(w, "\n%s\n", tb.Title)
				if err := (table{Columns: tb.Columns, Rows: tb.Rows}).write(w, "table"); err != nil {
					return err
				}
			}
			for _, sr := range s.Series {
				fmt.Fprintf(w, "\n%s: ", sr.Name)
				parts := make([]string, len(sr.Labels))
				for i, l := range sr.Labels {
					parts[i] = l + " " + strconv.FormatFloat(sr.Values[i], 'f', 2, 64)
				}
				fmt.Fprintln(w, strings.Join(parts, ", "))
			}
		}
		return nil
	}
	return fmt.Errorf("--output %q: want table, json or csv", format)
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
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(nonNullLists(c))
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

// comparisonTables prints a comparison as aligned tables.
func comparisonTables(w io.Writer, c *extension.ShadowComparison) error {
	f4 := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	rho := "n/a"
	if c.RankCorrelation != nil {
		rho = f4(*c.RankCorrelation)
	}
	t := table{Columns: []string{"baseline", "candidate", "subjects", "rank_correlation", "mean_shift", "top_k", "top_k_overlap", "label_changes"},
		Rows: [][]string{{c.Baseline, c.Candidate, fmt.Sprint(c.Subjects), rho, f4(c.MeanShift),
			fmt.Sprint(c.TopK), f4(c.TopKOverlap), fmt.Sprint(c.LabelChangeCount)}}}
	if err := t.write(w, "table"); err != nil {
		return err
	}
	if s := c.Segments; s != nil {
		fmt.Fprintln(w)
		t := table{Columns: []string{"changed_share", "shared_changed_share", "shared_keys", "baseline_only_keys", "candidate_only_keys"},
			Rows: [][]string{{f4(s.ChangedShare), f4(s.SharedChangedShare), keyList(s.Shared), keyList(s.BaselineOnly), keyList(s.CandidateOnly)}}}
		if err := t.write(w, "table"); err != nil {
			return err
		}
		fmt.Fprintln(w, "\nSegment sizes (subjects)")
		sizes := table{Columns: []string{"segment", "baseline", "candidate", "keys"}}
		for _, z := range s.Sizes {
			sizes.Rows = append(sizes.Rows, []string{z.Key, fmt.Sprint(z.Baseline), fmt.Sprint(z.Candidate), strings.ReplaceAll(keySide(s, z.Key), "_", " ")})
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
			lt.Rows = append(lt.Rows, []string{string(l.SubjectID), l.Baseline, l.Candidate,
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
			t.Rows = append(t.Rows, []string{cell.Baseline, cell.Candidate, fmt.Sprint(cell.Count)})
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
		r, sum := []string{l}, 0
		for j, n := range counts[i] {
			r = append(r, fmt.Sprint(n))
			sum += n
			totals[j] += n
		}
		totals[len(totals)-1] += sum
		t.Rows = append(t.Rows, append(r, fmt.Sprint(sum)))
	}
	r := []string{"total"}
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
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	t := table{Columns: []string{"part", "key", "baseline", "candidate", "value"}}
	figure := func(key, value string) { t.Rows = append(t.Rows, []string{"summary", key, "", "", value}) }
	t.Rows = append(t.Rows, []string{"summary", "plugin", c.Baseline, c.Candidate, ""})
	figure("subject_type", c.SubjectType)
	figure("subjects", fmt.Sprint(c.Subjects))
	rho := ""
	if c.RankCorrelation != nil {
		rho = num(*c.RankCorrelation)
	}
	figure("rank_correlation", rho)
	figure("mean_shift", num(c.MeanShift))
	figure("top_k", fmt.Sprint(c.TopK))
	figure("top_k_overlap", num(c.TopKOverlap))
	figure("label_changes", fmt.Sprint(c.LabelChangeCount))
	if s := c.Segments; s != nil {
		figure("changed_share", num(s.ChangedShare))
		figure("shared_changed_share", num(s.SharedChangedShare))
		figure("confusion_cells", fmt.Sprint(s.ConfusionCellCount))
		for _, z := range s.Sizes {
			t.Rows = append(t.Rows, []string{"size", z.Key, fmt.Sprint(z.Baseline), fmt.Sprint(z.Candidate), keySide(s, z.Key)})
		}
		for _, cell := range s.Confusion {
			t.Rows = append(t.Rows, []string{"confusion", "", cell.Baseline, cell.Candidate, fmt.Sprint(cell.Count)})
		}
	}
	for _, l := range c.LabelChanges {
		t.Rows = append(t.Rows, []string{"label_change", string(l.SubjectID), l.Baseline, l.Candidate, ""})
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
