package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/store"
)

func newMigrateCmd(g *globals) *cobra.Command {
	var status bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations (or list them with --status)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := store.Open(ctx, g.db)
			if err != nil {
				return err
			}
			defer st.Close()
			out := cmd.OutOrStdout()
			if status {
				list, err := st.MigrationStatus(ctx)
				if err != nil {
					return err
				}
				for _, m := range list {
					state := "pending"
					if m.Applied {
						state = "applied"
					}
					fmt.Fprintf(out, "%d\t%s\t%s\n", m.Version, state, m.Name)
				}
				return nil
			}
			applied, err := st.Migrate(ctx)
			if err != nil {
				return err
			}
			if err := automation.Migrate(ctx, st); err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(out, "database is up to date")
			}
			for _, v := range applied {
				fmt.Fprintf(out, "applied %d\n", v)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&status, "status", false, "list migrations and whether each is applied")
	return cmd
}
