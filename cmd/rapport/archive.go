package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// restoreArchive restores the workspace archive at path into the empty
// workspace slug.
func restoreArchive(cmd *cobra.Command, g *globals, slug, path string) error {
	return errors.New("restoring a workspace archive is not available in this build")
}
