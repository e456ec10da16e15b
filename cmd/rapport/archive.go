package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer/archive"
)

// restoreArchive restores the workspace archive at path into the empty
// workspace slug.
func restoreArchive(cmd *cobra.Command, g *globals, slug, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return errcode.Input("workspace-archive", "%v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return errcode.Input("workspace-archive", "%v", err)
	}
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
	start := time.Now()
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	counts, err := archive.Restore(ctx, st.Client, f, fi.Size())
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "restored %d records into %s in %s: %s\n", counts.Total(), slug, time.Since(start).Round(time.Millisecond), counts)
	return nil
}

// writeArchive writes the archive of workspace slug to the file out,
// through a temporary file beside it so that a failure leaves none.
func writeArchive(cmd *cobra.Command, g *globals, slug, out string) error {
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
	tmp, err := os.CreateTemp(filepath.Dir(out), ".rapport-archive-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	start := time.Now()
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})
	counts, err := archive.Write(ctx, st.Client, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "archived %d records of %s to %s in %s: %s\n", counts.Total(), slug, out, time.Since(start).Round(time.Millisecond), counts)
	return nil
}
