package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/rapportcrm/rapport/graph"
)

func newSchemaCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "schema", Short: "Inspect the API schema"}
	cmd.AddCommand(&cobra.Command{
		Use:   "print",
		Short: "Print the GraphQL schema (SDL)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := formatter.NewFormatter(cmd.OutOrStdout(), formatter.WithComments())
			f.FormatSchema(graph.Schema(nil, nil).Schema())
			_, err := fmt.Fprintln(cmd.OutOrStdout())
			return err
		},
	})
	return cmd
}
