package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/apitoken"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func newWorkspaceCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "workspace", Short: "Manage workspaces"}
	var name string
	create := &cobra.Command{
		Use:   "create SLUG",
		Short: "Create a workspace",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			ws, err := access.CreateWorkspace(cmd.Context(), st.Client, args[0], name)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created workspace %s (%s)\n", ws.Slug, ws.ID)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "display name (default: the slug)")
	var output string
	list := &cobra.Command{
		Use:   "list",
		Short: "List workspaces",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			all, err := st.Client.Workspace.Query().Order(ent.Asc("slug")).All(tenancy.System(cmd.Context()))
			if err != nil {
				return err
			}
			t := table{Columns: []string{"slug", "name", "id", "created_at"}}
			for _, w := range all {
				t.Rows = append(t.Rows, []string{w.Slug, w.Name, string(w.ID), w.CreatedAt.Format(time.RFC3339)})
			}
			return t.write(cmd.OutOrStdout(), output)
		},
	}
	list.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	cmd.AddCommand(create, list)
	return cmd
}

func newTokenCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var (
		slug, role, name string
		ttl              time.Duration
	)
	create := &cobra.Command{
		Use:   "create --workspace SLUG --role ROLE",
		Short: "Create an API token and print it (only the token, once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			ws, err := access.WorkspaceBySlug(cmd.Context(), st.Client, slug)
			if err != nil {
				return err
			}
			secret, _, err := access.CreateToken(cmd.Context(), st.Client, ws, access.TokenOptions{Role: tenancy.Role(role), Name: name, TTL: ttl})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			return nil
		},
	}
	create.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
	create.Flags().StringVar(&role, "role", "member", "admin, member or viewer")
	create.Flags().StringVar(&name, "name", "", "a label for the token")
	create.Flags().DurationVar(&ttl, "ttl", 0, "expire the token after this long (default: never)")
	_ = create.MarkFlagRequired("workspace")

	var output string
	list := &cobra.Command{
		Use:   "list --workspace SLUG",
		Short: "List a workspace's tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			ws, err := access.WorkspaceBySlug(cmd.Context(), st.Client, slug)
			if err != nil {
				return err
			}
			toks, err := st.Client.APIToken.Query().Where(apitoken.WorkspaceID(ws.ID)).
				Order(ent.Asc(apitoken.FieldCreatedAt)).All(tenancy.System(cmd.Context()))
			if err != nil {
				return err
			}
			t := table{Columns: []string{"id", "name", "role", "hint", "created_at", "state"}}
			for _, k := range toks {
				state := "active"
				switch {
				case k.RevokedAt != nil:
					state = "revoked"
				case k.ExpiresAt != nil && time.Now().After(*k.ExpiresAt):
					state = "expired"
				}
				t.Rows = append(t.Rows, []string{string(k.ID), k.Name, string(k.Role), k.Hint + "…", k.CreatedAt.Format(time.RFC3339), state})
			}
			return t.write(cmd.OutOrStdout(), output)
		},
	}
	list.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
	list.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	_ = list.MarkFlagRequired("workspace")

	revoke := &cobra.Command{
		Use:   "revoke --workspace SLUG TOKEN_ID",
		Short: "Revoke a token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			ws, err := access.WorkspaceBySlug(cmd.Context(), st.Client, slug)
			if err != nil {
				return err
			}
			if err := access.RevokeToken(cmd.Context(), st.Client, ws, args[0]); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "revoked", args[0])
			return nil
		},
	}
	revoke.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
	_ = revoke.MarkFlagRequired("workspace")
	cmd.AddCommand(create, list, revoke)
	return cmd
}
