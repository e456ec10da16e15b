package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/privacy"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func newPrivacyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "privacy", Short: "Export or erase the data held about one person"}
	var slug, contactID, as string
	// inWorkspace opens the store and runs f as an admin of the workspace
	// (as the member --as names, when given, so the timeline says who).
	inWorkspace := func(cmd *cobra.Command, f func(ctx context.Context, c *ent.Client, id pulid.ID) error) error {
		id, err := pulid.Parse(contactID)
		if err != nil {
			return errcode.Input("contact", "%v", err)
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
		v := &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin}
		if as != "" {
			m, err := access.MemberByID(tenancy.System(cmd.Context()), st.Client, ws.ID, as)
			if err != nil {
				return err
			}
			v.MemberID = m.ID
		}
		return f(tenancy.NewContext(cmd.Context(), v), st.Client, id)
	}
	export := &cobra.Command{
		Use:   "export --workspace SLUG --contact ID",
		Short: "Print everything held about a contact as one JSON document",
		Long: `Prints everything the workspace holds about the contact as one JSON
document: its fields and custom fields, organization, tags, segment
memberships, scores with their explanations, activities with their
content, deals, orders, linked leads, and the timeline of the contact, its
activities and its leads.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return inWorkspace(cmd, func(ctx context.Context, c *ent.Client, id pulid.ID) error {
				x, err := privacy.ContactExport(ctx, c, id)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(x)
			})
		},
	}
	var yes bool
	erase := &cobra.Command{
		Use:   "erase --workspace SLUG --contact ID [--as MEMBER] [--yes]",
		Short: "Erase a contact's personal data, keeping its activities, deals and orders as anonymous records",
		Long: `Erases a contact's personal data in one transaction: its names become a
placeholder, its email, phone, title and custom fields are cleared, its
activities lose their subjects and bodies (their kinds, directions and
dates stay), its linked leads lose their names and contact details, and
the person's values are scrubbed from the timeline. Orders and deals stay
with their amounts and dates, so revenue and lifetime values do not move.
The erasure is recorded in the contact's timeline, without the erased
values, by the member --as names (an ID or an email) or else by the
workspace. Erasing an erased contact changes nothing. Confirm with --yes, or
by typing the contact's ID when asked. It cannot be undone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !yes {
				fmt.Fprintf(cmd.ErrOrStderr(), "Erasing contact %s cannot be undone. Type its ID to confirm: ", contactID)
				line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if strings.TrimSpace(line) != contactID {
					return errcode.Input("yes", "not confirmed: give --yes, or type the contact's ID when asked")
				}
			}
			return inWorkspace(cmd, func(ctx context.Context, c *ent.Client, id pulid.ID) error {
				res, err := privacy.Erase(ctx, c, id)
				if err != nil {
					return err
				}
				if res.Changed == 0 && !res.Audited {
					fmt.Fprintf(cmd.OutOrStdout(), "contact %s was already erased; nothing changed\n", id)
					return nil
				}
				fmt.Fprintf(cmd.OutOrStdout(), "erased contact %s: %d rows changed\n", id, res.Changed)
				return nil
			})
		},
	}
	erase.Flags().BoolVar(&yes, "yes", false, "erase without asking for confirmation")
	erase.Flags().StringVar(&as, "as", "", "the member (ID or email) the erasure is recorded as done by")
	for _, c := range []*cobra.Command{export, erase} {
		c.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
		c.Flags().StringVar(&contactID, "contact", "", "the contact's ID (required)")
		_ = c.MarkFlagRequired("workspace")
		_ = c.MarkFlagRequired("contact")
	}
	cmd.AddCommand(export, erase)
	return cmd
}
