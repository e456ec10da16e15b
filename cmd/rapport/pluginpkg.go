package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk/pluginpkg"
)

// packageCmds are the plugin package commands: pack, keygen, sign, verify
// (see sdk/PACKAGES.md).
func packageCmds(g *globals) []*cobra.Command {
	var outDir string
	var noGzip bool
	pack := &cobra.Command{
		Use:   "pack DIR",
		Short: "Pack the built WASM plugin in DIR into one file, NAME-VERSION.rpk",
		Long: `Writes NAME-VERSION.rpk: a gzip-compressed tar of plugin.json, the module
and the question set the manifest names, with SHA256SUMS. The same files
always give the same bytes. Sign it with rapport plugin sign; a workspace
admin installs it with the installPlugin mutation or rapport plugin install.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, m, err := pluginpkg.PackDir(args[0], pluginpkg.PackOptions{NoGzip: noGzip})
			if err != nil {
				return err
			}
			path := filepath.Join(outDir, pluginpkg.FileName(m))
			if err := writeFileAtomic(path, b, 0o644); err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			fmt.Fprintf(cmd.OutOrStdout(), "%s  %s (%d bytes)\n", hex.EncodeToString(sum[:]), path, len(b))
			return nil
		},
	}
	pack.Flags().StringVar(&outDir, "dir", ".", "where to write the package")
	pack.Flags().BoolVar(&noGzip, "no-gzip", false, "write a plain tar archive")

	var keyOut, comment string
	keygen := &cobra.Command{
		Use:   "keygen",
		Short: "Make an Ed25519 key pair for signing plugin packages",
		Long: `Writes the private key to NAME.key (mode 0600; keep it secret) and the
public key, one line "rapport-ed25519 <base64> <comment>", to NAME.pub and
standard output. Servers trust a key by a line of it in their
--plugin-trust file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := pluginpkg.GenerateKey(comment)
			if err != nil {
				return err
			}
			priv, _ := key.MarshalText()
			f, err := os.OpenFile(keyOut+".key", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return fmt.Errorf("private key: %w (an existing key is never overwritten)", err)
			}
			if _, err := f.Write(priv); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			pub := key.Public().String() + "\n"
			if err := os.WriteFile(keyOut+".pub", []byte(pub), 0o644); err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), pub)
			fmt.Fprintf(cmd.ErrOrStderr(), "private key in %s.key, public key in %s.pub\n", keyOut, keyOut)
			return nil
		},
	}
	keygen.Flags().StringVar(&keyOut, "out", "rapport-plugin", "the key files' name, without .key or .pub")
	keygen.Flags().StringVar(&comment, "comment", "", "who the key belongs to, e.g. an e-mail address")

	var keyFile string
	sign := &cobra.Command{
		Use:   "sign FILE --key KEY",
		Short: "Sign a plugin package: adds a signature over its SHA256SUMS to the package itself",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kb, err := os.ReadFile(keyFile)
			if err != nil {
				return err
			}
			key, err := pluginpkg.ParsePrivateKey(kb)
			if err != nil {
				return fmt.Errorf("%s: %w", keyFile, err)
			}
			data, err := readPackageFile(args[0])
			if err != nil {
				return err
			}
			signed, err := pluginpkg.Sign(data, key, pluginpkg.Limits{})
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if err := writeFileAtomic(args[0], signed, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s signed by key %s\n", args[0], key.Public().Fingerprint())
			return nil
		},
	}
	sign.Flags().StringVar(&keyFile, "key", "", "the private key file (from rapport plugin keygen)")
	_ = sign.MarkFlagRequired("key")

	var tf trustFlags
	var output string
	verify := &cobra.Command{
		Use:   "verify FILE [--trust keys.txt]",
		Short: "Check a plugin package: its archive, checksums, module imports and signatures",
		Long: `Reads the package as a server does and checks every signature it carries.
With --trust, a signature by one of those keys is required (as a server
with --require-signed requires it).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pol, err := tf.policy(tf.trust != "")
			if err != nil {
				return err
			}
			data, err := readPackageFile(args[0])
			if err != nil {
				return err
			}
			p, err := pluginpkg.Read(data, pluginpkg.Limits{})
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			signer, err := pluginpkg.Verify(p, pol)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			sum := sha256.Sum256(data)
			var sigs []string
			for _, s := range p.Signatures {
				sigs = append(sigs, s.Fingerprint())
			}
			var trusted any // missing: no trusted signer
			if signer != nil {
				trusted = strings.TrimSpace(signer.Fingerprint() + " " + signer.Comment)
			}
			t := table{Columns: []string{"plugin", "sha256", "bytes", "signatures", "trusted_signer"},
				Rows: [][]any{{p.Manifest.Ref(), hex.EncodeToString(sum[:]), len(data), optional(strings.Join(sigs, ",")), trusted}}}
			return t.write(cmd.OutOrStdout(), output)
		},
	}
	tf.register(verify, false)
	verify.Flags().StringVarP(&output, "output", "o", "table", "table, json or csv")
	return []*cobra.Command{pack, keygen, sign, verify, newInstallCmd(g), newUninstallCmd(g)}
}

// workspacePluginFlags are the operator's caps on workspace plugins
// (serve, plugin install).
type workspacePluginFlags struct {
	enabled     bool
	maxMemoryMB int
	maxTimeout  time.Duration
	maxCount    int
	maxSizeMB   int
	trust       trustFlags
}

func (f *workspacePluginFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.enabled, "workspace-plugins", true, "let workspace admins install WASM plugin packages into their own workspace (env RAPPORT_WORKSPACE_PLUGINS)")
	cmd.Flags().IntVar(&f.maxMemoryMB, "workspace-plugin-max-memory", 32, "the most memory a workspace plugin may ask for, in MiB")
	cmd.Flags().DurationVar(&f.maxTimeout, "workspace-plugin-max-timeout", 5*time.Second, "the longest call deadline a workspace plugin may ask for")
	cmd.Flags().IntVar(&f.maxCount, "workspace-plugin-max-count", 20, "the most plugins one workspace may install")
	cmd.Flags().IntVar(&f.maxSizeMB, "workspace-plugin-max-size", 16, "the largest plugin package a workspace may install, in MiB")
	f.trust.register(cmd, true)
}

// apply turns workspace plugins on in reg, as the flags say, and returns
// the upload cap for the GraphQL handler (0 when off).
func (f *workspacePluginFlags) apply(reg *extension.Registry) (int64, error) {
	pol, err := f.trust.policy(false)
	if err != nil {
		return 0, err
	}
	if !f.enabled {
		return 0, nil
	}
	if f.maxMemoryMB <= 0 || f.maxCount <= 0 || f.maxSizeMB <= 0 || f.maxTimeout <= 0 {
		return 0, errors.New("--workspace-plugin-max-memory, -max-timeout, -max-count and -max-size must be above 0")
	}
	size := int64(f.maxSizeMB) << 20
	reg.EnableWorkspacePlugins(extension.WorkspacePluginConfig{MaxMemoryPages: f.maxMemoryMB * 16, MaxTimeout: f.maxTimeout,
		MaxCount: f.maxCount, MaxPackageSize: size, Policy: pol})
	return size, nil
}

func newInstallCmd(g *globals) *cobra.Command {
	var (
		slug string
		pf   pluginFlags
		wf   workspacePluginFlags
	)
	cmd := &cobra.Command{
		Use:   "install FILE --workspace SLUG",
		Short: "Install a plugin package into one workspace, as its admin would with installPlugin",
		Long: `Checks the package as the server does (its archive, checksums, module imports,
the trust policy of --plugin-trust and --require-signed, and the workspace
plugin caps) and stores it in the workspace, where only that workspace sees
it. The same package installed again changes nothing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			data, err := readPackageFile(args[0])
			if err != nil {
				return err
			}
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
			wf.enabled = true
			if _, err := wf.apply(reg); err != nil {
				return err
			}
			row, err := reg.Install(ctx, st.Client, data)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "installed %s@%s in %s (sha256 %s)\n", row.Name, row.Version, ws.Slug, row.Sha256)
			return nil
		},
	}
	cmd.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
	_ = cmd.MarkFlagRequired("workspace")
	pf.register(cmd)
	wf.register(cmd)
	_ = cmd.Flags().MarkHidden("workspace-plugins")
	return cmd
}

func newUninstallCmd(g *globals) *cobra.Command {
	var (
		slug  string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "uninstall NAME@VERSION --workspace SLUG [--force]",
		Short: "Remove a plugin a workspace installed, as its admin would with uninstallPlugin",
		Long: `Removes the package from the workspace. A plugin still bound is refused,
naming its bindings, unless --force, which removes the bindings first. The
server's own plugins are not touched. Audited in the workspace's timeline.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name, version, ok := strings.Cut(args[0], "@")
			if !ok || name == "" || version == "" {
				return fmt.Errorf("name the plugin as NAME@VERSION, e.g. leadscore@1.0.0, not %q", args[0])
			}
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
			// Uninstalling reads and writes rows only: no plugin is loaded.
			engine, err := wasm.NewEngine(wasm.Config{})
			if err != nil {
				return err
			}
			reg, err := extension.NewRegistry(ctx, extension.Config{Engine: engine})
			if err != nil {
				return err
			}
			defer reg.Close(ctx)
			if err := reg.Uninstall(ctx, st.Client, name, version, force); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "uninstalled %s@%s from %s\n", name, version, ws.Slug)
			return nil
		},
	}
	cmd.Flags().StringVarP(&slug, "workspace", "w", "", "workspace slug (required)")
	_ = cmd.MarkFlagRequired("workspace")
	cmd.Flags().BoolVar(&force, "force", false, "remove the plugin's bindings first")
	return cmd
}

// trustFlags are the trust policy's flags (serve, plugin install, verify).
type trustFlags struct {
	trust         string
	requireSigned bool
}

func (f *trustFlags) register(cmd *cobra.Command, withRequire bool) {
	if !withRequire {
		cmd.Flags().StringVar(&f.trust, "trust", "", "file of trusted public keys, one per line; a signature by one is required")
		return
	}
	cmd.Flags().StringVar(&f.trust, "plugin-trust", "", "file of trusted public keys, one per line, # comments (env RAPPORT_PLUGIN_TRUST)")
	{
		cmd.Flags().BoolVar(&f.requireSigned, "require-signed", false, "accept only packages signed by a key of --plugin-trust (env RAPPORT_REQUIRE_SIGNED)")
	}
}

// policy reads the trust file; require is --require-signed or what the
// command implies.
func (f *trustFlags) policy(require bool) (pluginpkg.Policy, error) {
	pol := pluginpkg.Policy{RequireSigned: require || f.requireSigned}
	if f.trust != "" {
		b, err := os.ReadFile(f.trust)
		if err != nil {
			return pol, err
		}
		if pol.Trusted, err = pluginpkg.ParseTrust(b); err != nil {
			return pol, fmt.Errorf("%s: %w", f.trust, err)
		}
	}
	if pol.RequireSigned && len(pol.Trusted) == 0 {
		return pol, errors.New("--require-signed needs --plugin-trust: a file naming at least one trusted key")
	}
	return pol, nil
}

// readPackageFile reads a package file, refusing one over the default cap
// without reading it.
func readPackageFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, pluginpkg.DefaultMaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > pluginpkg.DefaultMaxSize {
		return nil, fmt.Errorf("%s: over %d bytes, more than any plugin package may be", path, pluginpkg.DefaultMaxSize)
	}
	return data, nil
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory, so that a reader never sees half a package.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rpk-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
