package extension

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/extensionbinding"
	"github.com/rapportcrm/rapport/core/ent/predicate"
	"github.com/rapportcrm/rapport/core/ent/workspaceplugin"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginpkg"
)

// Origins of a plugin (Plugin.Origin).
const (
	// OriginBundled: one of the CRM models built into the server.
	OriginBundled = "bundled"
	// OriginServer: from the operator's plugin directories.
	OriginServer = "server"
	// OriginWorkspace: a package the workspace's admin installed.
	OriginWorkspace = "workspace"
)

// Origin says where the plugin comes from: OriginWorkspace for a
// workspace's own, OriginBundled for one the server extracted from its
// bundled models (a directory named bundled-<hash>), OriginServer else.
func (p *Plugin) Origin() string {
	switch {
	case p.origin != "":
		return p.origin
	case p.Dir != "" && strings.HasPrefix(filepath.Base(filepath.Dir(p.Dir)), "bundled-"):
		return OriginBundled
	}
	return OriginServer
}

// WorkspacePluginConfig is the operator's policy for plugins workspaces
// install themselves (see sdk/PACKAGES.md). Zero caps take the defaults.
type WorkspacePluginConfig struct {
	// MaxMemoryPages caps a workspace plugin's memory, in 64 KiB pages
	// (default 512, 32 MiB). A manifest asking for more is refused.
	MaxMemoryPages int
	// MaxTimeout caps a workspace plugin's call deadline (default 5 s). A
	// manifest asking for more is refused.
	MaxTimeout time.Duration
	// MaxCount caps the plugins one workspace holds (default 20).
	MaxCount int
	// MaxPackageSize caps a package's bytes (default 16 MiB).
	MaxPackageSize int64
	// Policy is the trust policy packages are held to.
	Policy pluginpkg.Policy
}

func (c WorkspacePluginConfig) withDefaults() WorkspacePluginConfig {
	if c.MaxMemoryPages <= 0 {
		c.MaxMemoryPages = 512
	}
	if c.MaxTimeout <= 0 {
		c.MaxTimeout = 5 * time.Second
	}
	if c.MaxCount <= 0 {
		c.MaxCount = 20
	}
	if c.MaxPackageSize <= 0 {
		c.MaxPackageSize = pluginpkg.DefaultMaxSize
	}
	return c
}

// workspacePlugins holds the workspace plugins loaded on this server, by
// the SHA-256 of their package: workspaces that installed the same bytes
// share one compiled module.
type workspacePlugins struct {
	cfg    WorkspacePluginConfig
	mu     sync.Mutex
	loaded map[string]*wsLoad
}

// wsLoad is one package's load; done closes when it ends.
type wsLoad struct {
	done   chan struct{}
	plugin *Plugin
	err    error
}

// EnableWorkspacePlugins lets workspace admins install WASM plugin
// packages into their own workspace, under cfg. Call it before serving.
func (r *Registry) EnableWorkspacePlugins(cfg WorkspacePluginConfig) {
	r.wsPlugins.Store(&workspacePlugins{cfg: cfg.withDefaults(), loaded: map[string]*wsLoad{}})
}

// WorkspacePluginsConfig returns the workspace plugin policy, and false
// when workspace plugins are off.
func (r *Registry) WorkspacePluginsConfig() (WorkspacePluginConfig, bool) {
	w := r.wsPlugins.Load()
	if w == nil {
		return WorkspacePluginConfig{}, false
	}
	return w.cfg, true
}

func (r *Registry) closeWorkspacePlugins(ctx context.Context) {
	w := r.wsPlugins.Load()
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.loaded {
		<-l.done
		if l.plugin != nil {
			l.plugin.run.Close(ctx)
		}
	}
}

// lookup is Get, then the caller's workspace plugins: the plugin
// name@version as the caller's workspace sees it.
func (r *Registry) lookup(ctx context.Context, client *ent.Client, name, version string) (*Plugin, error) {
	p, err := r.Get(name, version)
	if err == nil || errcode.Of(err) != errcode.NotFound {
		return p, err
	}
	row, werr := r.workspaceRow(ctx, client, workspaceplugin.NameEQ(name), workspaceplugin.VersionEQ(version))
	if werr != nil || row == nil {
		if werr != nil {
			return nil, werr
		}
		return nil, err
	}
	return r.loadWorkspacePlugin(ctx, client, row)
}

// latest is Latest, then the newest of the caller's workspace plugins of
// that name.
func (r *Registry) latest(ctx context.Context, client *ent.Client, name string) (*Plugin, error) {
	p, err := r.Latest(name)
	if err == nil || errcode.Of(err) != errcode.NotFound {
		return p, err
	}
	rows, werr := r.workspaceRows(ctx, client, workspaceplugin.NameEQ(name))
	if werr != nil {
		return nil, werr
	}
	if len(rows) == 0 {
		return nil, err
	}
	best := rows[0]
	for _, row := range rows[1:] {
		if newerVersion(row.Version, best.Version) {
			best = row
		}
	}
	return r.loadWorkspacePlugin(ctx, client, best)
}

// resolve returns the plugin a "name" or "name@version" reference names,
// as the caller's workspace sees it.
func (r *Registry) resolve(ctx context.Context, client *ent.Client, ref string) (*Plugin, error) {
	name, version, ok := strings.Cut(ref, "@")
	if !ok {
		return r.latest(ctx, client, name)
	}
	return r.lookup(ctx, client, name, version)
}

// workspaceScope is the predicate of the caller's workspace, or false when
// workspace plugins are off or ctx has no workspace. The data layer
// filters by workspace too; this makes the query say it.
func (r *Registry) workspaceScope(ctx context.Context) (*tenancy.Viewer, bool) {
	if r.wsPlugins.Load() == nil {
		return nil, false
	}
	v := tenancy.FromContext(ctx)
	return v, v != nil
}

// rowFields are a WorkspacePlugin's columns but its package.
var rowFields = []string{workspaceplugin.FieldID, workspaceplugin.FieldWorkspaceID, workspaceplugin.FieldName, workspaceplugin.FieldVersion,
	workspaceplugin.FieldSha256, workspaceplugin.FieldSize, workspaceplugin.FieldManifest, workspaceplugin.FieldInstalledBy,
	workspaceplugin.FieldInstalledAt, workspaceplugin.FieldCreatedAt, workspaceplugin.FieldUpdatedAt}

// workspaceRows lists the caller's workspace plugins matching preds,
// without their packages; none when workspace plugins are off.
func (r *Registry) workspaceRows(ctx context.Context, client *ent.Client, preds ...predicate.WorkspacePlugin) ([]*ent.WorkspacePlugin, error) {
	v, ok := r.workspaceScope(ctx)
	if !ok {
		return nil, nil
	}
	return client.WorkspacePlugin.Query().
		Where(append(preds, workspaceplugin.WorkspaceIDEQ(v.WorkspaceID))...).
		Order(ent.Asc(workspaceplugin.FieldName), ent.Asc(workspaceplugin.FieldVersion)).
		Select(rowFields...).All(ctx)
}

func (r *Registry) workspaceRow(ctx context.Context, client *ent.Client, preds ...predicate.WorkspacePlugin) (*ent.WorkspacePlugin, error) {
	rows, err := r.workspaceRows(ctx, client, preds...)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	return rows[0], nil
}

// loadWorkspacePlugin returns the loaded plugin of a workspace's package,
// loading it (its package read from the database) on first use.
func (r *Registry) loadWorkspacePlugin(ctx context.Context, client *ent.Client, row *ent.WorkspacePlugin) (*Plugin, error) {
	return r.loadPackage(ctx, row.Sha256, func() ([]byte, error) {
		got, err := client.WorkspacePlugin.Query().
			Where(workspaceplugin.IDEQ(row.ID), workspaceplugin.WorkspaceIDEQ(row.WorkspaceID)).
			Select(workspaceplugin.FieldArchive).Only(ctx)
		if err != nil {
			return nil, err
		}
		return got.Archive, nil
	})
}

// loadPackage returns the plugin of the package whose SHA-256 is sum,
// loading it from what fetch returns when no load of it has succeeded on
// this server. Concurrent first uses share one load; a failed load is
// tried again on the next use.
func (r *Registry) loadPackage(ctx context.Context, sum string, fetch func() ([]byte, error)) (*Plugin, error) {
	w := r.wsPlugins.Load()
	if w == nil {
		return nil, errcode.New(errcode.NotFound, "workspace plugins are off on this server")
	}
	w.mu.Lock()
	l := w.loaded[sum]
	owner := l == nil
	if owner {
		l = &wsLoad{done: make(chan struct{})}
		w.loaded[sum] = l
	}
	w.mu.Unlock()
	if owner {
		l.plugin, l.err = r.loadArchive(ctx, w.cfg, sum, fetch)
		if l.err != nil {
			w.mu.Lock()
			delete(w.loaded, sum)
			w.mu.Unlock()
		}
		close(l.done)
	}
	select {
	case <-l.done:
	case <-ctx.Done():
		return nil, errcode.New(errcode.PluginFailed, "workspace plugin is still loading: %v", ctx.Err())
	}
	return l.plugin, l.err
}

func (r *Registry) loadArchive(ctx context.Context, cfg WorkspacePluginConfig, sum string, fetch func() ([]byte, error)) (*Plugin, error) {
	data, err := fetch()
	if err != nil {
		return nil, fmt.Errorf("workspace plugin %s: %w", sum[:12], err)
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		return nil, errcode.New(errcode.PluginFailed, "workspace plugin %s: the stored package does not match its SHA-256", sum[:12])
	}
	pkg, err := pluginpkg.Read(data, pluginpkg.Limits{MaxSize: max(cfg.MaxPackageSize, int64(len(data)))})
	if err != nil {
		return nil, errcode.New(errcode.PluginFailed, "workspace plugin %s: %v", sum[:12], err)
	}
	m := pkg.Manifest
	limits := wasm.Limits{MemoryPages: uint32(cfg.MaxMemoryPages), Timeout: cfg.MaxTimeout}
	if m.Limits.MemoryPages > 0 && m.Limits.MemoryPages < cfg.MaxMemoryPages {
		limits.MemoryPages = uint32(m.Limits.MemoryPages)
	}
	if t := time.Duration(m.Limits.TimeoutMS) * time.Millisecond; t > 0 && t < cfg.MaxTimeout {
		limits.Timeout = t
	}
	grants := wasm.Grants{Clock: m.Asks("clock") && r.cfg.Grants.Clock, Random: m.Asks("random") && r.cfg.Grants.Random}
	select {
	case r.loadSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mod, err := r.cfg.Engine.Load(ctx, m.Ref(), pkg.Module(), limits, grants)
	<-r.loadSlots
	if err != nil {
		return nil, errcode.New(errcode.PluginFailed, "workspace plugin %s: %v", m.Ref(), err)
	}
	p := &Plugin{Manifest: m, Status: "ready", run: mod, size: int64(len(data)), inflight: &sync.WaitGroup{}, origin: OriginWorkspace}
	if m.Questions != "" {
		p.questions = pkg.Files[m.Questions]
	}
	return p, nil
}

// ListFor returns the server's plugins and the caller's workspace plugins
// (a workspace plugin not loaded on this server yet has status
// "installed": it loads on first use), sorted by name and version.
func (r *Registry) ListFor(ctx context.Context, client *ent.Client) ([]*Plugin, error) {
	out := r.List()
	rows, err := r.workspaceRows(ctx, client)
	if err != nil {
		return nil, err
	}
	w := r.wsPlugins.Load()
	for _, row := range rows {
		m, err := manifest.Parse(row.Manifest)
		if err != nil {
			continue // checked at install; a later host may read it otherwise
		}
		p := &Plugin{Manifest: m, Status: "installed", origin: OriginWorkspace}
		w.mu.Lock()
		if l := w.loaded[row.Sha256]; l != nil && l.plugin != nil {
			p.Status = l.plugin.Status
		}
		w.mu.Unlock()
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref() < out[j].Ref() })
	return out, nil
}

// Install installs a plugin package into the caller's workspace: only an
// admin may; the package must pass pluginpkg.Read and the trust policy,
// ask for no more memory or time than the operator's caps, not take the
// name of a server plugin, fit the workspace's count, and load. The same
// bytes installed again return the earlier install; other bytes under the
// same name and version are CONFLICT. Audited in the timeline.
func (r *Registry) Install(ctx context.Context, client *ent.Client, data []byte) (*ent.WorkspacePlugin, error) {
	w := r.wsPlugins.Load()
	if w == nil {
		return nil, errcode.New(errcode.Forbidden, "workspace plugins are turned off on this server")
	}
	v := tenancy.FromContext(ctx)
	if v == nil || v.Role != tenancy.RoleAdmin {
		return nil, errcode.New(errcode.Forbidden, "only a workspace admin installs plugins")
	}
	cfg := w.cfg
	if int64(len(data)) > cfg.MaxPackageSize {
		return nil, errcode.Input("package", "the package is %d bytes; this server's cap is %d (workspace-plugin-max-size)", len(data), cfg.MaxPackageSize)
	}
	pkg, err := pluginpkg.Read(data, pluginpkg.Limits{MaxSize: cfg.MaxPackageSize})
	if err != nil {
		return nil, errcode.Input("package", "%v", err)
	}
	if _, err := pluginpkg.Verify(pkg, cfg.Policy); err != nil {
		return nil, errcode.Input("package", "%v", err)
	}
	m := pkg.Manifest
	if m.Limits.MemoryPages > cfg.MaxMemoryPages {
		return nil, errcode.Input("package", "%s asks for %d memory pages (%d MiB); this server's cap for workspace plugins is %d pages (%d MiB, workspace-plugin-max-memory)",
			m.Ref(), m.Limits.MemoryPages, m.Limits.MemoryPages/16, cfg.MaxMemoryPages, cfg.MaxMemoryPages/16)
	}
	if t := time.Duration(m.Limits.TimeoutMS) * time.Millisecond; t > cfg.MaxTimeout {
		return nil, errcode.Input("package", "%s asks for a %v deadline; this server's cap for workspace plugins is %v (workspace-plugin-max-timeout)", m.Ref(), t, cfg.MaxTimeout)
	}
	for _, p := range r.List() {
		if p.Manifest.Name == m.Name {
			return nil, errcode.New(errcode.Conflict, "the server has a plugin named %s: a workspace plugin takes another name", m.Name)
		}
	}
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	existing, err := client.WorkspacePlugin.Query().
		Where(workspaceplugin.WorkspaceIDEQ(v.WorkspaceID), workspaceplugin.NameEQ(m.Name), workspaceplugin.VersionEQ(m.Version)).
		Select(rowFields...).Only(ctx)
	switch {
	case err == nil && existing.Sha256 == hexSum:
		return existing, nil
	case err == nil:
		return nil, errcode.New(errcode.Conflict, "%s is installed in this workspace with other contents (sha256 %s): uninstall it first, or give the new package another version", m.Ref(), existing.Sha256[:12])
	case !ent.IsNotFound(err):
		return nil, err
	}
	n, err := client.WorkspacePlugin.Query().Where(workspaceplugin.WorkspaceIDEQ(v.WorkspaceID)).Count(ctx)
	if err != nil {
		return nil, err
	}
	if n >= cfg.MaxCount {
		return nil, errcode.Input("package", "the workspace holds %d plugins, this server's cap (workspace-plugin-max-count): uninstall one first", n)
	}
	if _, err := r.loadPackage(ctx, hexSum, func() ([]byte, error) { return data, nil }); err != nil {
		return nil, errcode.Input("package", "%s does not load: %v", m.Ref(), err)
	}
	row, err := client.WorkspacePlugin.Create().
		SetName(m.Name).SetVersion(m.Version).SetSha256(hexSum).SetSize(int64(len(data))).
		SetManifest(pkg.Files[manifest.FileName]).SetArchive(data).
		SetInstalledBy(tenancy.Actor(ctx)).SetInstalledAt(time.Now()).
		Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, errcode.New(errcode.Conflict, "%s was installed in this workspace meanwhile", m.Ref())
	}
	if err != nil {
		return nil, err
	}
	row.Archive = nil
	return row, nil
}

// Uninstall removes the plugin name@version from the caller's workspace.
// A plugin still bound is refused (CONFLICT naming the bindings) unless
// force, which removes the bindings first. Only an admin may. Audited in
// the timeline.
func (r *Registry) Uninstall(ctx context.Context, client *ent.Client, name, version string, force bool) error {
	v := tenancy.FromContext(ctx)
	if v == nil || v.Role != tenancy.RoleAdmin {
		return errcode.New(errcode.Forbidden, "only a workspace admin uninstalls plugins")
	}
	row, err := client.WorkspacePlugin.Query().
		Where(workspaceplugin.WorkspaceIDEQ(v.WorkspaceID), workspaceplugin.NameEQ(name), workspaceplugin.VersionEQ(version)).
		Select(workspaceplugin.FieldID).Only(ctx)
	if ent.IsNotFound(err) {
		return errcode.New(errcode.NotFound, "no plugin %s@%s is installed in this workspace", name, version)
	}
	if err != nil {
		return err
	}
	bound := client.ExtensionBinding.Query().Where(extensionbinding.WorkspaceIDEQ(v.WorkspaceID),
		extensionbinding.PluginEQ(name), extensionbinding.VersionEQ(version))
	bs, err := bound.All(ctx)
	if err != nil {
		return err
	}
	if len(bs) > 0 && !force {
		var what []string
		for _, b := range bs {
			t := "all subjects"
			if b.SubjectType != nil {
				t = string(*b.SubjectType)
			}
			what = append(what, fmt.Sprintf("%s (%s)", b.Point, t))
		}
		return errcode.New(errcode.Conflict, "%s@%s is bound to %s: bind another plugin first, or uninstall with force to remove the bindings", name, version, strings.Join(what, ", "))
	}
	for _, b := range bs {
		if err := client.ExtensionBinding.DeleteOne(b).Exec(ctx); err != nil {
			return err
		}
	}
	return client.WorkspacePlugin.DeleteOneID(row.ID).Exec(ctx)
}
