package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/build"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

// pluginFlags are the flags of every command that loads plugins.
type pluginFlags struct {
	dirs     []string
	cache    string
	grants   []string
	timeout  time.Duration
	memoryMB int
}

func (f *pluginFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&f.dirs, "plugins", nil, "plugin directories (default ./plugins.d when present) (env RAPPORT_PLUGINS)")
	cmd.Flags().StringVar(&f.cache, "plugin-cache", defaultCacheDir(), "where compiled WASM modules are cached (env RAPPORT_PLUGIN_CACHE)")
	cmd.Flags().StringSliceVar(&f.grants, "plugin-grant", nil, "capabilities plugins may have when their manifest asks: clock, random")
	cmd.Flags().DurationVar(&f.timeout, "plugin-timeout", 10*time.Second, "the longest deadline any plugin call gets")
	cmd.Flags().IntVar(&f.memoryMB, "plugin-memory", 64, "the most memory any WASM plugin instance gets, in MiB")
}

func defaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "rapport", "wasm")
	}
	return ""
}

// open loads the plugins.
func (f *pluginFlags) open(ctx context.Context, log *slog.Logger, reg prometheus.Registerer) (*extension.Registry, error) {
	dirs := f.dirs
	if len(dirs) == 0 {
		if st, err := os.Stat("plugins.d"); err == nil && st.IsDir() {
			dirs = []string{"plugins.d"}
		}
	}
	var grants wasm.Grants
	for _, g := range f.grants {
		switch g {
		case "clock":
			grants.Clock = true
		case "random":
			grants.Random = true
		default:
			return nil, fmt.Errorf("--plugin-grant: unknown capability %q (clock, random)", g)
		}
	}
	engine, err := wasm.NewEngine(wasm.Config{CacheDir: f.cache, MaxMemoryPages: uint32(f.memoryMB * 16), MaxTimeout: f.timeout, Logger: log})
	if err != nil {
		return nil, err
	}
	return extension.NewRegistry(ctx, extension.Config{Dirs: dirs, Engine: engine, Grants: grants, Logger: log, Registerer: reg})
}

func newPluginCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "plugin", Short: "Build, list and inspect plugins"}

	var runtime string
	buildCmd := &cobra.Command{
		Use:   "build DIR",
		Short: "Compile the plugin in DIR to the module its plugin.json names",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := build.Build(cmd.Context(), build.Options{Dir: args[0], Runtime: runtime, Log: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), out)
			return nil
		},
	}
	buildCmd.Flags().StringVar(&runtime, "runtime", "", "wasm (default: the manifest's runtime)")

	var pf pluginFlags
	var output string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the plugins in the plugin directories",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg, err := pf.open(cmd.Context(), slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn})), nil)
			if err != nil {
				return err
			}
			defer reg.Close(cmd.Context())
			t := table{Columns: []string{"name", "version", "runtime", "points", "subjects", "model", "status"}}
			for _, p := range reg.List() {
				m := p.Manifest
				points := make([]string, len(m.Points))
				for i, pt := range m.Points {
					points[i] = string(pt)
				}
				t.Rows = append(t.Rows, []string{m.Name, m.Version, m.Runtime, strings.Join(points, ","), strings.Join(m.Subjects, ","), m.Model, p.Status})
			}
			return t.write(cmd.OutOrStdout(), output)
		},
	}
	pf.register(list)
	list.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")

	inspect := &cobra.Command{
		Use:   "inspect DIR",
		Short: "Check a plugin's manifest and module and print what they declare",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := manifest.Load(filepath.Join(args[0], manifest.FileName))
			if err != nil {
				return err
			}
			info := map[string]any{"manifest": m}
			if m.Runtime == "wasm" {
				code, err := os.ReadFile(filepath.Join(args[0], filepath.FromSlash(m.Module)))
				if err != nil {
					return fmt.Errorf("module: %w (build it with rapport plugin build %s)", err, args[0])
				}
				sum := sha256.Sum256(code)
				info["module"] = map[string]any{"bytes": len(code), "sha256": hex.EncodeToString(sum[:])}
				engine, err := wasm.NewEngine(wasm.Config{})
				if err != nil {
					return err
				}
				mod, err := engine.Load(cmd.Context(), m.Ref(), code, wasm.Limits{}, wasm.Grants{})
				if err != nil {
					return err
				}
				mod.Close(cmd.Context())
				info["abi"] = "ok"
			}
			for subject, attrs := range m.Inputs {
				if err := extension.CheckInputs(subject, attrs); err != nil {
					return err
				}
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(info)
		},
	}
	var testOutput string
	test := &cobra.Command{
		Use:   "test DIR",
		Short: "Run the conformance kit (sdk/pluginkit) on the plugin in DIR, as the server would load it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := manifest.Load(filepath.Join(args[0], manifest.FileName))
			if err != nil {
				return err
			}
			if m.Runtime != "wasm" {
				return fmt.Errorf("runtime %q: this server tests wasm plugins", m.Runtime)
			}
			code, err := os.ReadFile(filepath.Join(args[0], filepath.FromSlash(m.Module)))
			if err != nil {
				return fmt.Errorf("module: %w (build it with rapport plugin build %s)", err, args[0])
			}
			engine, err := wasm.NewEngine(wasm.Config{CacheDir: defaultCacheDir()})
			if err != nil {
				return err
			}
			mod, err := engine.Load(cmd.Context(), m.Ref(), code, wasm.Limits{
				MemoryPages: uint32(m.Limits.MemoryPages), Timeout: time.Duration(m.Limits.TimeoutMS) * time.Millisecond}, wasm.Grants{})
			if err != nil {
				return err
			}
			defer mod.Close(cmd.Context())
			results, err := pluginkit.Suite{}.Check(cmd.Context(), extension.WASMTarget(m, mod))
			if err != nil {
				return err
			}
			t := table{Columns: []string{"check", "result", "problems"}}
			failed := 0
			for _, r := range results {
				state := "ok"
				if r.Failed() {
					state, failed = "FAIL", failed+1
				}
				t.Rows = append(t.Rows, []string{r.Name, state, strings.Join(r.Problems, "; ")})
			}
			if err := t.write(cmd.OutOrStdout(), testOutput); err != nil {
				return err
			}
			if failed > 0 {
				return fmt.Errorf("%s failed %d of %d checks", m.Ref(), failed, len(results))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s passed all %d checks\n", m.Ref(), len(results))
			return nil
		},
	}
	test.Flags().StringVarP(&testOutput, "output", "o", "table", "table, json or csv")
	cmd.AddCommand(buildCmd, list, inspect, test, newInvokeCmd())
	return cmd
}

func newScoreCmd(g *globals) *cobra.Command {
	var (
		pf                         pluginFlags
		slug, subject, plugin, ver string
		where                      string
		output                     string
	)
	cmd := &cobra.Command{
		Use:   "score --workspace SLUG [--subject lead] [--plugin NAME --version V] [--where JSON]",
		Short: "Score a workspace's subjects with its bound plugin (or bind one first)",
		Args:  cobra.NoArgs,
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
			ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
			reg, err := pf.open(ctx, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn})), nil)
			if err != nil {
				return err
			}
			defer reg.Close(ctx)
			if plugin != "" {
				if _, err := reg.Bind(ctx, st.Client, extension.BindInput{Point: "score", SubjectType: subject, Plugin: plugin, Version: ver}); err != nil {
					return err
				}
			}
			w, err := whereFor(subject, where)
			if err != nil {
				return err
			}
			var bar *progressbar.ProgressBar
			run, err := reg.ScoreSubjects(ctx, st.Client, extension.ScoreOptions{SubjectType: subject, Where: w, Progress: func(done, total int) {
				if bar == nil {
					bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionSetDescription("scoring "+subject+"s"), progressbar.OptionShowCount())
				}
				_ = bar.Set(done)
			}})
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			if run != nil {
				t := table{Columns: []string{"plugin", "subject_type", "subjects", "scored", "batches", "failed_batches"},
					Rows: [][]string{{run.Plugin, run.SubjectType, fmt.Sprint(run.Subjects), fmt.Sprint(run.Scored), fmt.Sprint(run.Batches), fmt.Sprint(run.FailedBatches)}}}
				if werr := t.write(cmd.OutOrStdout(), output); werr != nil {
					return werr
				}
				for _, e := range run.Errors {
					fmt.Fprintln(cmd.ErrOrStderr(), "failed batch:", e)
				}
			}
			return err
		},
	}
	pf.register(cmd)
	cmd.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
	cmd.Flags().StringVar(&subject, "subject", "lead", "contact, organization, lead or deal")
	cmd.Flags().StringVar(&plugin, "plugin", "", "bind this plugin first (with --version)")
	cmd.Flags().StringVar(&ver, "version", "", "the plugin version to bind")
	cmd.Flags().StringVar(&where, "where", "", `filter as JSON, the GraphQL where input, e.g. {"status":"new"}`)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	_ = cmd.MarkFlagRequired("workspace")
	return cmd
}

// whereFor decodes a GraphQL-style where filter for the subject type.
func whereFor(subject, raw string) (any, error) {
	if raw == "" {
		return nil, nil
	}
	var w any
	switch subject {
	case "lead":
		w = &ent.LeadWhereInput{}
	case "contact":
		w = &ent.ContactWhereInput{}
	case "organization":
		w = &ent.OrganizationWhereInput{}
	case "deal":
		w = &ent.DealWhereInput{}
	default:
		return nil, fmt.Errorf("unknown subject type %q", subject)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(w); err != nil {
		return nil, fmt.Errorf("--where: %w", err)
	}
	return w, nil
}
