package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/export"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func newExportCmd(g *globals) *cobra.Command {
	var slug, where, format, out, workspaceArchive string
	cmd := &cobra.Command{
		Use:   "export {TYPE | --workspace-archive FILE} --workspace SLUG [--where JSON] [--format csv|jsonl|xlsx] [--out FILE]",
		Short: "Export a workspace's records of one type as CSV, JSON Lines or XLSX",
		Long: `Export a workspace's records of one type: ` + strings.Join(export.Types(), ", ") + `.

The export reads as a viewer of the workspace and streams: memory stays
the same however many records there are. Columns are the type's fields in
schema order, then one custom.KEY column per custom field of the type.
Money is in currency units with two decimals, times RFC 3339 in UTC;
missing values are empty (null in JSON Lines). Text cells of CSV and XLSX
that a spreadsheet could take for a formula get a leading '.

--where narrows the records with the same JSON filter as the GraphQL
XxxWhereInput of the type, e.g. '{"lastNameContains":"a"}' (or @FILE to
read it from a file). The format is --format, else the --out file's
extension, else csv; without --out the export goes to standard output.

--workspace-archive FILE (no TYPE) writes the whole workspace instead: a
gzip'd tar of every record of every type, the timeline, scores, segments,
automations with their runs, extension bindings and plugin packages, which
'rapport import --workspace-archive FILE -w SLUG' restores into an empty
workspace. Members and API tokens are not archived: access is granted in
the target, not copied. The archive holds automation webhook secrets and
plugin configuration: keep it like a database backup.`,
		Example: `  rapport export contacts --workspace acme --out contacts.xlsx
  rapport export deals -w acme --where '{"status":"won","amountGTE":1000}' --format jsonl
  rapport export --workspace-archive acme.tar.gz -w acme`,
		Args: func(cmd *cobra.Command, args []string) error {
			if workspaceArchive != "" {
				if len(args) != 0 || where != "" || format != "" || out != "" {
					return errcode.Input("workspace-archive", "--workspace-archive takes no TYPE, --where, --format or --out")
				}
				return nil
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if workspaceArchive != "" {
				return writeArchive(cmd, g, slug, workspaceArchive)
			}
			opts := export.Options{Type: args[0]}
			if _, err := export.NewWhere(args[0]); err != nil {
				return err
			}
			switch {
			case format != "":
				f, err := export.ParseFormat(format)
				if err != nil {
					return err
				}
				opts.Format = f
			case out != "":
				if f, ok := export.FormatOf(out); ok {
					opts.Format = f
				}
			}
			if opts.Format == export.XLSX && out == "" {
				return errcode.Input("out", "an XLSX export needs --out FILE")
			}
			w, err := readWhere(where)
			if err != nil {
				return err
			}
			opts.Where = w
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
			if out == "" {
				_, err := export.Run(ctx, st.Client, cmd.OutOrStdout(), opts)
				return err
			}
			// Write beside the file and rename, so that a failed export
			// leaves no half-written file.
			tmp, err := os.CreateTemp(filepath.Dir(out), ".rapport-export-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			res, err := export.Run(ctx, st.Client, tmp, opts)
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d %s to %s\n", res.Rows, args[0], out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
	fl.StringVar(&where, "where", "", "JSON filter, as the type's GraphQL where input, or @FILE")
	fl.StringVar(&format, "format", "", "csv, jsonl or xlsx (default: from --out's extension, else csv)")
	fl.StringVarP(&out, "out", "o", "", "write to this file instead of standard output")
	fl.StringVar(&workspaceArchive, "workspace-archive", "", "write the whole workspace to this archive file (.tar.gz) instead")
	_ = cmd.MarkFlagRequired("workspace")
	return cmd
}

// readWhere is the --where filter: the JSON itself, or the contents of
// the file named after an @, read no further than the size limit.
func readWhere(s string) ([]byte, error) {
	name, ok := strings.CutPrefix(s, "@")
	if !ok {
		return []byte(s), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, errcode.Input("where", "%v", err)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, export.MaxWhereSize+1))
}
