package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/workspace"
	"github.com/rapportcrm/rapport/core/metrics/rollup"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// newMetricsRollupCmds returns `rapport metrics rebuild` and `rapport
// metrics check`.
func newMetricsRollupCmds(g *globals) []*cobra.Command {
	var (
		slug, output string
	)
	rebuild := &cobra.Command{
		Use:   "rebuild [--workspace SLUG]",
		Short: "Recompute the metrics' rollups from orders, deals and activities (every workspace by default)",
		Long: `The metrics read rollups that every write keeps current in its own
transaction. rebuild recomputes them from the raw rows, one transaction per
workspace (readers see the old rollups until it commits), then refreshes the
database's planner statistics. Run it after writing to the database by other
means than Rapport.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return eachWorkspace(cmd, g, slug, func(st *store.Store, ws *ent.Workspace) (map[string]any, error) {
				start := time.Now()
				tx, err := st.DB.BeginTx(cmd.Context(), nil)
				if err != nil {
					return nil, err
				}
				if err := rollup.Rebuild(cmd.Context(), tx, st.Dialect, ws.ID); err != nil {
					_ = tx.Rollback()
					return nil, fmt.Errorf("workspace %s: %w", ws.Slug, err)
				}
				if err := tx.Commit(); err != nil {
					return nil, err
				}
				return map[string]any{"workspace": ws.Slug, "seconds": exact(time.Since(start).Round(time.Millisecond).Seconds())}, nil
			}, output, true)
		},
	}
	check := &cobra.Command{
		Use:   "check [--workspace SLUG]",
		Short: "Compare the metrics' rollups with a recomputation from the raw rows; fails on any difference",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bad := 0
			err := eachWorkspace(cmd, g, slug, func(st *store.Store, ws *ent.Workspace) (map[string]any, error) {
				mis, err := rollup.Check(cmd.Context(), st.DB, st.Dialect, ws.ID)
				if err != nil {
					return nil, fmt.Errorf("workspace %s: %w", ws.Slug, err)
				}
				bad += len(mis)
				first := ""
				if len(mis) > 0 {
					m := mis[0]
					first = fmt.Sprintf("%s %s: stored %q, computed %q", m.Table, m.Key, m.Stored, m.Computed)
				}
				return map[string]any{"workspace": ws.Slug, "differences": int64(len(mis)), "first": optional(first)}, nil
			}, output, false)
			if err != nil {
				return err
			}
			if bad > 0 {
				return fmt.Errorf("%d rollup rows differ from a recomputation: run rapport metrics rebuild", bad)
			}
			return nil
		},
	}
	for _, c := range []*cobra.Command{rebuild, check} {
		c.Flags().StringVarP(&slug, "workspace", "w", "", "only this workspace (default: every workspace)")
		c.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	}
	return []*cobra.Command{rebuild, check}
}

// eachWorkspace runs f for the workspace slug, or every live workspace,
// and prints a row per workspace. With optimize it refreshes the
// planner's statistics afterwards.
func eachWorkspace(cmd *cobra.Command, g *globals, slug string, f func(*store.Store, *ent.Workspace) (map[string]any, error), output string, optimize bool) error {
	ctx := cmd.Context()
	st, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var all []*ent.Workspace
	if slug != "" {
		ws, err := access.WorkspaceBySlug(ctx, st.Client, slug)
		if err != nil {
			return err
		}
		all = []*ent.Workspace{ws}
	} else if all, err = st.Client.Workspace.Query().Where(workspace.DeletedAtIsNil()).Order(ent.Asc(workspace.FieldSlug)).All(tenancy.System(ctx)); err != nil {
		return err
	}
	var t table
	for _, ws := range all {
		row, err := f(st, ws)
		if err != nil {
			return err
		}
		if t.Columns == nil {
			for _, c := range []string{"workspace", "seconds", "differences", "first"} {
				if _, ok := row[c]; ok {
					t.Columns = append(t.Columns, c)
				}
			}
		}
		var r []any
		for _, c := range t.Columns {
			r = append(r, row[c])
		}
		t.Rows = append(t.Rows, r)
	}
	if optimize {
		if err := st.Optimize(ctx); err != nil {
			return err
		}
	}
	return t.write(cmd.OutOrStdout(), output)
}
