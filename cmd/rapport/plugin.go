package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/rapportcrm/rapport/plugins"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/build"
	"github.com/rapportcrm/rapport/core/extension/process"
	"github.com/rapportcrm/rapport/core/extension/runjob"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

// pluginFlags are the flags of every command that loads plugins.
type pluginFlags struct {
	dirs  []string
	cache string
	// background loads plugins behind the registry's creation (serve).
	background bool
	grants     []string
	timeout    time.Duration
	memoryMB   int
	start      string
	bundled    bool
}

func (f *pluginFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&f.dirs, "plugins", nil, "plugin directories (default ./plugins.d when present) (env RAPPORT_PLUGINS)")
	cmd.Flags().StringVar(&f.cache, "plugin-cache", defaultCacheDir(), "where compiled WASM modules are cached (env RAPPORT_PLUGIN_CACHE)")
	cmd.Flags().StringSliceVar(&f.grants, "plugin-grant", nil, "capabilities plugins may have when their manifest asks: clock, random")
	cmd.Flags().DurationVar(&f.timeout, "plugin-timeout", 10*time.Second, "the longest deadline any plugin call gets")
	cmd.Flags().IntVar(&f.memoryMB, "plugin-memory", 64, "the most memory any WASM plugin instance gets, in MiB")
	cmd.Flags().StringVar(&f.start, "plugin-start", "lazy", "when process plugins start: lazy (on first call) or boot (when loaded)")
	cmd.Flags().BoolVar(&f.bundled, "bundled", true, "load the bundled CRM models (idic, qci, fiveprocess, valuechain) besides --plugins (env RAPPORT_BUNDLED)")
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
	if f.bundled {
		base := f.cache
		if base == "" {
			base = filepath.Join(os.TempDir(), "rapport")
		}
		dir, err := plugins.Extract(base)
		if err != nil {
			return nil, fmt.Errorf("bundled plugins: %w", err)
		}
		dirs = append([]string{dir}, dirs...)
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
	return extension.NewRegistry(ctx, extension.Config{Dirs: dirs, Engine: engine, Grants: grants, Logger: log, Registerer: reg,
		ProcessStart: process.Start(f.start), ProcessTimeout: f.timeout, Background: f.background})
}

// openTarget loads the plugin in dir as the server would, for the
// commands that call one plugin: its manifest, a conformance-kit target,
// facts about its artifact, and what closes it.
func openTarget(ctx context.Context, dir string) (*manifest.Manifest, pluginkit.Target, map[string]any, func(), error) {
	m, err := manifest.Load(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	path := filepath.Join(dir, filepath.FromSlash(m.Module))
	if m.Runtime == "process" {
		path = m.Command[0]
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, filepath.FromSlash(path))
		}
	}
	code, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("%s: %w (build it with rapport plugin build --runtime %s %s)", m.Runtime, err, m.Runtime, dir)
	}
	sum := sha256.Sum256(code)
	info := map[string]any{"bytes": len(code), "sha256": hex.EncodeToString(sum[:])}
	timeout := time.Duration(m.Limits.TimeoutMS) * time.Millisecond
	if m.Runtime == "process" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(abs, path)
		}
		c := process.New(process.Config{Name: m.Ref(), Plugin: m.Name, Command: append([]string{path}, m.Command[1:]...), Dir: abs,
			Points: m.Points, Timeout: timeout, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err := c.Start(ctx); err != nil {
			c.Close(ctx)
			return nil, nil, nil, nil, err
		}
		info["protocol"] = c.Protocol()
		return m, extension.ProcessTarget(m, c), info, func() { c.Close(context.Background()) }, nil
	}
	engine, err := wasm.NewEngine(wasm.Config{CacheDir: defaultCacheDir()})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	mod, err := engine.Load(ctx, m.Ref(), code, wasm.Limits{MemoryPages: uint32(m.Limits.MemoryPages), Timeout: timeout}, wasm.Grants{})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return m, extension.WASMTarget(m, mod), info, func() { mod.Close(context.Background()) }, nil
}

func newPluginCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "plugin", Short: "Build, list and inspect plugins"}

	var runtime string
	buildCmd := &cobra.Command{
		Use:   "build DIR",
		Short: "Compile the plugin in DIR to the module or program its plugin.json names",
		Long: `Compiles the Go plugin in DIR for a runtime: wasm writes the module the
manifest names (plugin.wasm); process writes a native program, the
manifest's command or else plugin-process. One source builds to both; a
manifest with "runtime": "process" and "command": ["plugin-process"] loads
the second.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := build.Build(cmd.Context(), build.Options{Dir: args[0], Runtime: runtime, Log: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), out)
			return nil
		},
	}
	buildCmd.Flags().StringVar(&runtime, "runtime", "", "wasm or process (default: the manifest's runtime)")

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
				t.Rows = append(t.Rows, []any{m.Name, m.Version, m.Runtime, optional(strings.Join(points, ",")), optional(strings.Join(m.Subjects, ",")), optional(m.Model), p.Status})
			}
			return t.write(cmd.OutOrStdout(), output)
		},
	}
	pf.register(list)
	list.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")

	inspect := &cobra.Command{
		Use:   "inspect DIR",
		Short: "Check a plugin's manifest and module or program and print what they declare",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkManifest(args[0]); err != nil {
				return err
			}
			m, _, artifact, closeTarget, err := openTarget(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			closeTarget()
			info := map[string]any{"manifest": m, "schema": "ok", "abi": "ok"}
			if m.Runtime == "process" {
				info["program"] = artifact
			} else {
				info["module"] = artifact
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
			m, target, _, closeTarget, err := openTarget(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer closeTarget()
			results, err := pluginkit.Suite{}.Check(cmd.Context(), target)
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
				t.Rows = append(t.Rows, []any{r.Name, state, optional(strings.Join(r.Problems, "; "))})
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
	cmd.AddCommand(buildCmd, list, inspect, test, newInvokeCmd(), newBatchCmd(g), newCompareCmd(g))
	cmd.AddCommand(newPluginSchemaCmd(), newPluginInputsCmd(g))
	cmd.AddCommand(packageCmds(g)...)
	cmd.AddCommand(newPluginNewCmd())
	return cmd
}

func newScoreCmd(g *globals) *cobra.Command {
	var (
		pf                         pluginFlags
		slug, subject, plugin, ver string
		where                      string
		output                     string
		background, watch          bool
		rangeSize                  int
	)
	cmd := &cobra.Command{
		Use:   "score --workspace SLUG [--subject lead] [--plugin NAME --version V] [--where JSON] [--background [--watch]]",
		Short: "Score a workspace's subjects with its bound plugin (or bind one first)",
		Long: `Scores a workspace's subjects with its bound plugin (or binds one first).

With --background the subjects are not scored here: a background run is
recorded, split into ranges of --range-size subjects, and queued for the
workers of rapport worker and rapport serve, which share the queue. The
command prints the run's ID (watch it with rapport runs show ID, or
here with --watch).`,
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
			if background {
				eng, err := automation.New(ctx, automation.Config{Store: st, Jobs: runjob.Register(st.Client, reg)})
				if err != nil {
					return err
				}
				run, err := runjob.Start(ctx, eng, st.Client, reg, runjob.StartOptions{SubjectType: subject, Where: w, RangeSize: rangeSize})
				if err != nil {
					return err
				}
				if !watch {
					return writeRun(ctx, cmd.OutOrStdout(), st.Client, run, output)
				}
				return watchRun(ctx, cmd, st.Client, run.ID, output)
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
					Rows: [][]any{{run.Plugin, run.SubjectType, run.Subjects, run.Scored, run.Batches, run.FailedBatches}}}
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
	cmd.Flags().BoolVar(&background, "background", false, "queue a background run for the workers instead of scoring here")
	cmd.Flags().BoolVar(&watch, "watch", false, "with --background, show the run's progress until it ends")
	cmd.Flags().IntVar(&rangeSize, "range-size", runjob.DefaultRangeSize, "with --background, subjects per range (one queued job, one transaction)")
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
