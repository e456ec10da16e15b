package main

import (
	"fmt"
	"log/slog"
	"strings"

	"entgo.io/ent/dialect/sql"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/segmentrun"
	"github.com/rapportcrm/rapport/core/ent/workrun"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/runjob"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func newSegmentCmd(g *globals) *cobra.Command {
	var (
		pf                         pluginFlags
		slug, subject, plugin, ver string
		where                      string
		output                     string
		wait, background, watch    bool
		rangeSize                  int
	)
	cmd := &cobra.Command{
		Use:   "segment --workspace SLUG --subject TYPE [--plugin NAME --version V] [--where JSON] [--background [--watch]]",
		Short: "Segment a workspace's subjects with its bound segmenters (or bind one first), storing memberships",
		Long: `Runs the segmenters bound to the workspace's segment point for the subject
type (or the one --plugin names) over the matching subjects, and replaces the memberships of the
segments the binding keeps with the plugin's answer, one transaction per
batch: subjects enter and leave segments (each with a segment.entered or
segment.left event); a batch the plugin fails on changes nothing. The run
is recorded: see rapport segment runs.

With --background the subjects are not segmented here: a background run
is recorded (holding the binding's lock until it ends), split into ranges
of --range-size subjects, and queued for the workers of rapport worker and
rapport serve. The command prints the run (watch it with rapport runs
show ID, or here with --watch).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ws, err := access.WorkspaceBySlug(ctx, st.Client, slug)
			if err != nil {
				return err
			}
			ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
			w, err := whereFor(subject, where)
			if err != nil {
				return errcode.Input("where", "%v", err)
			}
			reg, err := pf.open(ctx, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn})), nil)
			if err != nil {
				return err
			}
			defer reg.Close(ctx)
			if plugin != "" && ver != "" {
				if _, err := reg.Bind(ctx, st.Client, extension.BindInput{Point: "segment", SubjectType: subject, Plugin: plugin, Version: ver}); err != nil {
					return err
				}
			}
			if background {
				eng, err := automation.New(ctx, automation.Config{Store: st, Jobs: runjob.Register(st.Client, reg)})
				if err != nil {
					return err
				}
				run, err := runjob.Start(ctx, eng, st.Client, reg, runjob.StartOptions{Kind: workrun.KindSegment, Plugin: plugin,
					SubjectType: subject, Where: w, RangeSize: rangeSize})
				if err != nil {
					return err
				}
				if !watch {
					return writeRun(ctx, cmd.OutOrStdout(), st.Client, run, output)
				}
				return watchRun(ctx, cmd, st.Client, run.ID, output)
			}
			var bar *progressbar.ProgressBar
			runs, err := reg.SegmentAll(ctx, st.Client, extension.SegmentOptions{SubjectType: subject, Plugin: plugin, Where: w, Trigger: "cli", Wait: wait,
				Progress: func(done, total int) {
					if bar == nil || done == 0 {
						bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionSetDescription("segmenting "+subject+"s"), progressbar.OptionShowCount())
					}
					_ = bar.Set(done)
				}})
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			if len(runs) > 0 {
				if werr := segmentRunTable(runs).write(cmd.OutOrStdout(), output); werr != nil {
					return werr
				}
				for _, run := range runs {
					for _, e := range run.Errors {
						fmt.Fprintln(cmd.ErrOrStderr(), "failed batch:", e)
					}
				}
			}
			return err
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
	cmd.Flags().StringVar(&subject, "subject", "contact", "contact, organization, lead or deal")
	cmd.Flags().StringVar(&plugin, "plugin", "", "run only this bound segmenter; with --version, bind it first")
	cmd.Flags().StringVar(&ver, "version", "", "the plugin version to bind")
	cmd.Flags().StringVar(&where, "where", "", `filter as JSON, the GraphQL where input, e.g. {"industry":"Retail"}`)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for a run of the same binding in progress to end, instead of failing")
	cmd.Flags().BoolVar(&background, "background", false, "queue a background run for the workers instead of segmenting here")
	cmd.Flags().BoolVar(&watch, "watch", false, "with --background, show the run's progress until it ends")
	cmd.Flags().IntVar(&rangeSize, "range-size", runjob.DefaultRangeSize, "with --background, subjects per range (one queued job, one transaction)")
	_ = cmd.MarkFlagRequired("workspace")
	cmd.AddCommand(newSegmentRunsCmd(g))
	return cmd
}

func newSegmentRunsCmd(g *globals) *cobra.Command {
	var (
		slug, output, subject, status string
		limit                         int
	)
	cmd := &cobra.Command{
		Use:   "runs --workspace SLUG",
		Short: "List segmentation runs, newest first: plugin, subjects, entered, left, failed batches",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, v, err := g.inWorkspace(cmd, slug)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := tenancy.NewContext(cmd.Context(), v)
			q := st.Client.SegmentRun.Query().Order(segmentrun.ByStartedAt(sql.OrderDesc()), segmentrun.ByID(sql.OrderDesc())).Limit(limit)
			if subject != "" {
				s := segmentrun.SubjectType(subject)
				if err := segmentrun.SubjectTypeValidator(s); err != nil {
					return errcode.Input("subject", "%v", err)
				}
				q.Where(segmentrun.SubjectTypeEQ(s))
			}
			if status != "" {
				s := segmentrun.Status(status)
				if err := segmentrun.StatusValidator(s); err != nil {
					return errcode.Input("status", "%v", err)
				}
				q.Where(segmentrun.StatusEQ(s))
			}
			rs, err := q.All(ctx)
			if err != nil {
				return err
			}
			return segmentRunTable(rs).write(cmd.OutOrStdout(), output)
		},
	}
	cmd.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
	_ = cmd.MarkFlagRequired("workspace")
	cmd.Flags().StringVar(&subject, "subject", "", "only runs over this subject type")
	cmd.Flags().StringVar(&status, "status", "", "only runs in this status: running, succeeded, partial, failed, interrupted")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many runs")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	return cmd
}

// segmentRunTable lays segmentation runs out as a table.
func segmentRunTable(rs []*ent.SegmentRun) table {
	t := table{Columns: []string{"id", "plugin", "subject_type", "trigger", "status", "subjects", "segmented", "entered", "left", "stayed",
		"batches", "failed_batches", "started_at", "finished_at", "errors"}}
	for _, r := range rs {
		t.Rows = append(t.Rows, []any{r.ID, r.Plugin, r.SubjectType, r.Trigger, r.Status,
			r.Subjects, r.Segmented, r.Entered, r.Left, r.Stayed,
			r.Batches, r.FailedBatches, r.StartedAt, r.FinishedAt, optional(strings.Join(r.Errors, "; "))})
	}
	return t
}
