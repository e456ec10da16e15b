package main

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/apitoken"
	"github.com/rapportcrm/rapport/core/ent/workspace"
	"github.com/rapportcrm/rapport/core/errcode"
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
	var (
		output  string
		deleted bool
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List workspaces (deleted ones only with --deleted)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			q := st.Client.Workspace.Query().Order(ent.Asc("slug"))
			if deleted {
				q.Where(workspace.DeletedAtNotNil())
			} else {
				q.Where(workspace.DeletedAtIsNil())
			}
			all, err := q.All(tenancy.System(cmd.Context()))
			if err != nil {
				return err
			}
			t := table{Columns: []string{"slug", "name", "id", "created_at"}}
			if deleted {
				t.Columns = append(t.Columns, "deleted_at")
			}
			for _, w := range all {
				row := []any{w.Slug, w.Name, w.ID, w.CreatedAt}
				if deleted {
					row = append(row, w.DeletedAt)
				}
				t.Rows = append(t.Rows, row)
			}
			return t.write(cmd.OutOrStdout(), output)
		},
	}
	list.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	list.Flags().BoolVar(&deleted, "deleted", false, "list the deleted (archived) workspaces instead")

	var confirm string
	del := &cobra.Command{
		Use:   "delete SLUG [--confirm SLUG]",
		Short: "Delete a workspace: archive it, revoke every token and disable its automations",
		Long: `Delete a workspace. It is archived: every token of it is revoked (and a
token of a deleted workspace never authenticates), its automations are
disabled, its records stay in the database but no token reaches them, and
it leaves workspace list. Its slug stays reserved: no new workspace can
take it. Confirm with --confirm SLUG, or by typing the slug when asked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			slug := args[0]
			if !cmd.Flags().Changed("confirm") {
				fmt.Fprintf(cmd.ErrOrStderr(), "Deleting workspace %s revokes every token of it. Type its slug to confirm: ", slug)
				line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				confirm = strings.TrimSpace(line)
			}
			if confirm != slug {
				return errcode.Input("confirm", "not confirmed: give --confirm %s, or type the slug when asked", slug)
			}
			st, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			ws, err := access.WorkspaceBySlug(cmd.Context(), st.Client, slug)
			if err != nil {
				return err
			}
			n, err := access.DeleteWorkspace(cmd.Context(), st.Client, ws)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted workspace %s (%s); %d tokens revoked\n", ws.Slug, ws.ID, n)
			return nil
		},
	}
	del.Flags().StringVar(&confirm, "confirm", "", "the workspace's slug again, to confirm")
	cmd.AddCommand(create, list, del)
	return cmd
}

func newMemberCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "member", Short: "Manage a workspace's members"}
	var slug, output string
	// withWorkspace opens the store and finds the workspace for f.
	withWorkspace := func(cmd *cobra.Command, f func(ctx context.Context, c *ent.Client, ws *ent.Workspace) error) error {
		st, err := g.openStore(cmd.Context())
		if err != nil {
			return err
		}
		defer st.Close()
		ws, err := access.WorkspaceBySlug(cmd.Context(), st.Client, slug)
		if err != nil {
			return err
		}
		return f(tenancy.System(cmd.Context()), st.Client, ws)
	}
	list := &cobra.Command{
		Use:   "list --workspace SLUG",
		Short: "List a workspace's members",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withWorkspace(cmd, func(ctx context.Context, c *ent.Client, ws *ent.Workspace) error {
				ms, err := access.Members(ctx, c, ws.ID)
				if err != nil {
					return err
				}
				t := table{Columns: []string{"id", "name", "email", "role", "created_at"}}
				for _, m := range ms {
					t.Rows = append(t.Rows, []any{m.ID, m.Name, m.Email, m.Role, m.CreatedAt})
				}
				return t.write(cmd.OutOrStdout(), output)
			})
		},
	}
	list.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	role := &cobra.Command{
		Use:   "role --workspace SLUG MEMBER ROLE",
		Short: "Change a member's role (MEMBER is an ID or an email); the last admin cannot be demoted",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withWorkspace(cmd, func(ctx context.Context, c *ent.Client, ws *ent.Workspace) error {
				m, err := access.MemberByID(ctx, c, ws.ID, args[0])
				if err != nil {
					return err
				}
				if m, err = access.SetMemberRole(ctx, c, ws.ID, m.ID, tenancy.Role(args[1])); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s (%s) is now %s\n", m.Email, m.ID, m.Role)
				return nil
			})
		},
	}
	remove := &cobra.Command{
		Use:   "remove --workspace SLUG MEMBER",
		Short: "Remove a member (MEMBER is an ID or an email) and revoke its tokens; the last admin cannot be removed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withWorkspace(cmd, func(ctx context.Context, c *ent.Client, ws *ent.Workspace) error {
				m, err := access.MemberByID(ctx, c, ws.ID, args[0])
				if err != nil {
					return err
				}
				if err := access.RemoveMember(ctx, c, ws.ID, m.ID); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s (%s)\n", m.Email, m.ID)
				return nil
			})
		},
	}
	var name, email, newRole string
	add := &cobra.Command{
		Use:   "add --workspace SLUG --email EMAIL [--name NAME] [--role ROLE]",
		Short: "Add a member to a workspace",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withWorkspace(cmd, func(ctx context.Context, c *ent.Client, ws *ent.Workspace) error {
				m, err := access.AddMember(ctx, c, ws.ID, name, email, tenancy.Role(newRole))
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "added %s (%s) as %s\n", m.Email, m.ID, m.Role)
				return nil
			})
		},
	}
	add.Flags().StringVar(&email, "email", "", "the member's email (required)")
	add.Flags().StringVar(&name, "name", "", "the member's name (default: the email)")
	add.Flags().StringVar(&newRole, "role", "member", "admin, member or viewer")
	_ = add.MarkFlagRequired("email")
	var (
		baseURL string
		ttl     time.Duration
	)
	invite := &cobra.Command{
		Use:   "invite --workspace SLUG --email EMAIL [--role ROLE] [--name NAME] [--base-url URL] [--ttl 72h]",
		Short: "Add a member (unless there is one with the email) and print a one-time sign-up link for them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withWorkspace(cmd, func(ctx context.Context, c *ent.Client, ws *ent.Workspace) error {
				secret, m, err := access.Invite(ctx, c, ws, email, name, tenancy.Role(newRole), ttl)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "invited %s (%s) to %s as %s; the link works once, for %s:\n", m.Email, m.ID, ws.Slug, newRole, ttlOr(ttl, access.DefaultInviteTTL))
				fmt.Fprintln(cmd.OutOrStdout(), linkURL(baseURL, "signup", secret))
				return nil
			})
		},
	}
	invite.Flags().StringVar(&email, "email", "", "the person's email (required)")
	invite.Flags().StringVar(&name, "name", "", "the member's name, if they are added (default: the email)")
	invite.Flags().StringVar(&newRole, "role", "member", "admin, member or viewer")
	invite.Flags().DurationVar(&ttl, "ttl", access.DefaultInviteTTL, "how long the link works")
	_ = invite.MarkFlagRequired("email")
	resetLink := &cobra.Command{
		Use:   "reset-link --email EMAIL [--base-url URL] [--ttl 1h]",
		Short: "Print a one-time link to set a new password for the account of an email",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			secret, err := access.ResetLink(cmd.Context(), st.Client, email, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "password reset link for %s; it works once, for %s:\n", access.NormalizeEmail(email), ttlOr(ttl, access.DefaultResetTTL))
			fmt.Fprintln(cmd.OutOrStdout(), linkURL(baseURL, "reset", secret))
			return nil
		},
	}
	resetLink.Flags().StringVar(&email, "email", "", "the account's email (required)")
	resetLink.Flags().DurationVar(&ttl, "ttl", access.DefaultResetTTL, "how long the link works")
	_ = resetLink.MarkFlagRequired("email")
	for _, c := range []*cobra.Command{invite, resetLink} {
		c.Flags().StringVar(&baseURL, "base-url", defaultBaseURL, "the web app's address the link points to (env RAPPORT_BASE_URL)")
	}
	for _, c := range []*cobra.Command{add, list, role, remove, invite} {
		c.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
		_ = c.MarkFlagRequired("workspace")
	}
	cmd.AddCommand(add, list, role, remove, invite, resetLink)
	return cmd
}

// defaultBaseURL is where links point unless --base-url says otherwise.
const defaultBaseURL = "http://localhost:8080"

// linkURL is the web app's page for a one-time link: base/page?token=secret.
func linkURL(base, page, secret string) string {
	return strings.TrimRight(base, "/") + "/" + page + "?token=" + url.QueryEscape(secret)
}

func ttlOr(ttl, def time.Duration) time.Duration {
	if ttl <= 0 {
		return def
	}
	return ttl
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
				t.Rows = append(t.Rows, []any{k.ID, optional(k.Name), k.Role, k.Hint + "…", k.CreatedAt, state})
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
