package main

import (
	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk/inputs"
)

type inputsAvailable = inputs.Available

// newPluginInputsCmd lists the inputs a plugin may declare.
func newPluginInputsCmd(g *globals) *cobra.Command {
	var subject, slug, output string
	cmd := &cobra.Command{
		Use:   "inputs --subject TYPE [--workspace SLUG]",
		Short: "List every input a plugin may declare for a subject type, with its kind",
		Long: `Lists what a manifest's "inputs" may name for a subject type: the built-in
inputs, the subject's fields, the fields of records it reaches (up to two
relations deep), tags and segments, and the aggregate forms of its lists.
With --workspace, also the workspace's custom fields, tags and segment
keys. Each line is written as a manifest declares it; upper-case words and
parts in brackets are placeholders. The language: sdk/INPUTS.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var list []inputsAvailable
			if slug == "" {
				l, err := extension.AvailableInputs(ctx, nil, subject)
				if err != nil {
					return err
				}
				list = l
			} else {
				st, v, err := g.inWorkspace(cmd, slug)
				if err != nil {
					return err
				}
				defer st.Close()
				l, err := extension.AvailableInputs(tenancy.NewContext(ctx, v), st.Client, subject)
				if err != nil {
					return err
				}
				list = l
			}
			t := table{Columns: []string{"input", "kind", "source", "description"}}
			for _, a := range list {
				t.Rows = append(t.Rows, []any{a.Input, a.Kind, a.Source, optional(a.Description)})
			}
			return t.write(cmd.OutOrStdout(), output)
		},
	}
	cmd.Flags().StringVarP(&subject, "subject", "s", "", "subject type: contact, organization, lead or deal (required)")
	cmd.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug: add its custom fields, tags and segments")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or csv")
	_ = cmd.MarkFlagRequired("subject")
	return cmd
}
