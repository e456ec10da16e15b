package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/store"
)

// globals are the flags every command shares.
type globals struct {
	db string
	// dbOpts are options of the store commands open (serve sets its pool size).
	dbOpts []store.Option
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "rapport",
		Short:         "Rapport: a CRM whose business logic is swappable plugins",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return flagsFromEnv(cmd)
		},
	}
	root.PersistentFlags().StringVar(&g.db, "db", store.DefaultURL, "database URL: sqlite:PATH or postgres://… (env RAPPORT_DB)")
	root.AddCommand(
		newServeCmd(g),
		newMigrateCmd(g),
		newWorkspaceCmd(g),
		newTokenCmd(g),
		newMemberCmd(g),
		newSchemaCmd(),
		newPluginCmd(g),
		newScoreCmd(g),
		newRunsCmd(g),
		newSegmentCmd(g),
		newReportCmd(g),
		newExportCmd(g),
		newImportCmd(g),
		newBenchCmd(),
		newMetricsCmd(g),
		newAutomationCmd(g),
		newWorkerCmd(g),
		newPrivacyCmd(g),
	)
	return root
}

// flagsFromEnv fills every flag the user did not set from RAPPORT_<FLAG>
// (upper case, dashes as underscores), so env vars mirror flags.
func flagsFromEnv(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		key := "RAPPORT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(key); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", key, e)
			}
		}
	})
	return err
}

// openStore opens and migrates the database named by --db: the store's
// migrations, then the job queue's.
func (g *globals) openStore(ctx context.Context, opts ...store.Option) (*store.Store, error) {
	st, err := store.Open(ctx, g.db, append(append([]store.Option(nil), g.dbOpts...), opts...)...)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := automation.Migrate(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}
