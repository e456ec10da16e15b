package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/workrun"
	"github.com/rapportcrm/rapport/core/extension/runjob"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// newRunsCmd is rapport runs: background runs (see rapport score
// --background) and their progress.
func newRunsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "runs", Short: "Show and cancel background runs (rapport score --background)"}
	var (
		slug, output string
		watch        bool
	)
	open := func(cmd *cobra.Command) (context.Context, *ent.Client, func(), error) {
		ctx := cmd.Context()
		st, err := g.openStore(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		ws, err := access.WorkspaceBySlug(ctx, st.Client, slug)
		if err != nil {
			st.Close()
			return nil, nil, nil, err
		}
		ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		return ctx, st.Client, func() { st.Close() }, nil
	}
	show := &cobra.Command{
		Use:   "show ID --workspace SLUG [--watch]",
		Short: "Show a background run's status and progress",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, client, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			if watch {
				return watchRun(ctx, cmd, client, pulid.ID(args[0]), output)
			}
			run, err := client.WorkRun.Get(ctx, pulid.ID(args[0]))
			if err != nil {
				return err
			}
			return writeRun(ctx, cmd.OutOrStdout(), client, run, output)
		},
	}
	show.Flags().BoolVar(&watch, "watch", false, "show the run's progress until it ends")
	list := &cobra.Command{
		Use:   "list --workspace SLUG",
		Short: "List the workspace's background runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, client, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			runs, err := client.WorkRun.Query().Order(ent.Desc(workrun.FieldCreatedAt), ent.Desc(workrun.FieldID)).Limit(100).All(ctx)
			if err != nil {
				return err
			}
			t := table{Columns: []string{"id", "kind", "plugin", "subject_type", "status", "total", "done", "failed_ranges", "created_at"}}
			for _, r := range runs {
				t.Rows = append(t.Rows, []any{string(r.ID), string(r.Kind), r.Plugin, string(r.SubjectType), string(r.Status), r.Total, r.Done, r.FailedBatches, r.CreatedAt.UTC().Format(time.RFC3339)})
			}
			return t.write(cmd.OutOrStdout(), output)
		},
	}
	cancel := &cobra.Command{
		Use:   "cancel ID --workspace SLUG",
		Short: "Cancel a background run: its ranges not yet stored are left undone",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, client, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			run, err := runjob.Cancel(ctx, client, pulid.ID(args[0]))
			if err != nil {
				return err
			}
			return writeRun(ctx, cmd.OutOrStdout(), client, run, output)
		},
	}
	for _, c := range []*cobra.Command{show, list, cancel} {
		c.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
		c.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
		_ = c.MarkFlagRequired("workspace")
		cmd.AddCommand(c)
	}
	return cmd
}

// writeRun writes a run and the counts of its ranges.
func writeRun(ctx context.Context, w io.Writer, client *ent.Client, run *ent.WorkRun, format string) error {
	p, err := runjob.ProgressOf(ctx, client, run.ID)
	if err != nil {
		return err
	}
	t := table{Columns: []string{"id", "kind", "plugin", "subject_type", "status", "total", "done", "failed_ranges", "ranges", "ranges_done", "ranges_pending", "errors"},
		Rows: [][]any{{string(run.ID), string(run.Kind), run.Plugin, string(run.SubjectType), string(run.Status), run.Total, run.Done, run.FailedBatches, p.Total, p.Done, p.Pending, len(p.Errors)}}}
	if err := t.write(w, format); err != nil {
		return err
	}
	return nil
}

// watchRun shows the run's progress on stderr until it ends, then writes
// it as writeRun does, with the errors of its failed ranges on stderr.
func watchRun(ctx context.Context, cmd *cobra.Command, client *ent.Client, id pulid.ID, format string) error {
	var bar *progressbar.ProgressBar
	for {
		run, err := client.WorkRun.Get(ctx, id)
		if err != nil {
			return err
		}
		if bar == nil {
			bar = progressbar.NewOptions(max(run.Total, 1), progressbar.OptionSetWriter(cmd.ErrOrStderr()),
				progressbar.OptionSetDescription(string(run.Kind)+" "+string(run.SubjectType)+"s"), progressbar.OptionShowCount())
		}
		_ = bar.Set(run.Done)
		if run.Status != workrun.StatusQueued && run.Status != workrun.StatusRunning {
			_ = bar.Finish()
			fmt.Fprintln(cmd.ErrOrStderr())
			p, err := runjob.ProgressOf(ctx, client, id)
			if err != nil {
				return err
			}
			for _, e := range p.Errors {
				fmt.Fprintln(cmd.ErrOrStderr(), "failed range:", e)
			}
			return writeRun(ctx, cmd.OutOrStdout(), client, run, format)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
