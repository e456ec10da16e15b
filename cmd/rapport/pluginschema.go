package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/sdk/manifest"
)

// newPluginSchemaCmd is `rapport plugin schema`.
func newPluginSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of plugin.json, for editors (see sdk/MANIFEST.md)",
		Long: `Prints the JSON Schema (draft 2020-12) of the plugin manifest. Save it
and map it to plugin.json in an editor's JSON schema settings to have the
editor complete and check manifests:

    rapport plugin schema > plugin.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(manifest.JSONSchema())
			return err
		},
	}
}

// checkManifest checks the plugin.json in dir against the JSON Schema and
// with manifest.Parse, and returns one error naming every problem either
// finds: the schema's by JSON pointer, then Validate's.
func checkManifest(dir string) error {
	path := filepath.Join(dir, manifest.FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var lines []string
	var se *manifest.SchemaError
	if err := manifest.ValidateSchema(b); errors.As(err, &se) {
		lines = append(lines, fmt.Sprintf("%s does not match the manifest's JSON Schema (rapport plugin schema):", path))
		for _, p := range se.Problems {
			lines = append(lines, "  "+p.String())
		}
	} else if err != nil {
		return err
	}
	var me *manifest.Error
	if _, err := manifest.Parse(b); errors.As(err, &me) {
		lines = append(lines, fmt.Sprintf("%s is refused by the host:", path))
		for _, p := range me.Problems {
			lines = append(lines, "  "+p)
		}
	} else if err != nil {
		return err
	}
	if len(lines) > 0 {
		return errors.New(strings.Join(lines, "\n"))
	}
	return nil
}
