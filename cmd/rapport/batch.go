package main

import (
	"encoding/json"
	"log/slog"
	"math"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
)

func newBatchCmd(g *globals) *cobra.Command {
	var (
		pf                           pluginFlags
		slug, subject, plugin, point string
		where                        string
		limit                        int
	)
	cmd := &cobra.Command{
		Use:   "batch --workspace SLUG --subject TYPE --plugin NAME[@VERSION] [--point segment] [--where JSON] [--limit N]",
		Short: "Print the batch a plugin gets for a workspace's subjects, as the JSON rapport plugin invoke reads",
		Long: `Builds the batch a run would send the plugin for the matching subjects of
the workspace, in ID order: the attributes its manifest asks for, and the
configuration of the workspace's binding of it to --point (the manifest's
defaults when it is not bound). Pipe it to rapport plugin invoke to see
what the plugin answers, without storing anything:

    rapport plugin batch -w demo --subject contact --plugin valuechain --point segment \
      | rapport plugin invoke plugins/valuechain --point segment`,
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
			ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})
			w, err := whereFor(subject, where)
			if err != nil {
				return errcode.Input("where", "%v", err)
			}
			reg, err := pf.open(ctx, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn})), nil)
			if err != nil {
				return err
			}
			defer reg.Close(ctx)
			b, cfg, err := reg.InputBatch(ctx, st.Client, extension.InputBatchOptions{Plugin: plugin, Point: sdk.Point(point), SubjectType: subject, Where: w, Limit: limit})
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(invokeInputOf(b, cfg))
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
	cmd.Flags().StringVar(&subject, "subject", "contact", "contact, organization, lead or deal")
	cmd.Flags().StringVar(&plugin, "plugin", "", "name or name@version (required)")
	cmd.Flags().StringVar(&point, "point", "score", "the point whose binding configures the plugin: score or segment")
	cmd.Flags().StringVar(&where, "where", "", `filter as JSON, the GraphQL where input`)
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many subjects (0: up to 100,000)")
	_ = cmd.MarkFlagRequired("workspace")
	_ = cmd.MarkFlagRequired("plugin")
	return cmd
}

// invokeInputOf writes a batch and its configuration as invoke's input:
// numeric columns as numbers, categorical ones as strings, null for a
// missing value.
func invokeInputOf(b sdk.Batch, cfg []byte) invokeInput {
	in := invokeInput{SubjectType: b.SubjectType, Columns: map[string][]any{}, IDs: b.IDs}
	for _, c := range b.Columns {
		vals := make([]any, b.Count)
		for i := range vals {
			switch {
			case c.Codes != nil:
				if code := c.Codes[i]; code != sdk.Missing {
					vals[i] = c.Dictionary[code]
				}
			case !math.IsNaN(c.Numbers[i]):
				vals[i] = c.Numbers[i]
			}
		}
		in.Columns[c.Name] = vals
	}
	_ = json.Unmarshal(cfg, &in.Config)
	return in
}
