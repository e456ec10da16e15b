package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
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
		Args:  cobra.NoArgs,
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
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	_ = cmd.MarkFlagRequired("workspace")
	_ = cmd.MarkFlagRequired("baseline")
	_ = cmd.MarkFlagRequired("candidate")
	pf.register(cmd)
	return cmd
}

func writeComparison(w io.Writer, c *extension.ShadowComparison, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	}
	rho := "n/a"
	if c.RankCorrelation != nil {
		rho = strconv.FormatFloat(*c.RankCorrelation, 'f', 4, 64)
	}
	t := table{Columns: []string{"baseline", "candidate", "subjects", "rank_correlation", "mean_shift", "top_k", "top_k_overlap", "label_changes"},
		Rows: [][]string{{c.Baseline, c.Candidate, fmt.Sprint(c.Subjects), rho, strconv.FormatFloat(c.MeanShift, 'f', 4, 64),
			fmt.Sprint(c.TopK), strconv.FormatFloat(c.TopKOverlap, 'f', 4, 64), fmt.Sprint(c.LabelChangeCount)}}}
	if err := t.write(w, "table"); err != nil {
		return err
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
