// Package extension is the host side of Rapport's extension points: it
// loads plugins from directories (each a plugin.json beside its module),
// keeps them fresh as their files change, binds them to workspaces, builds
// the columnar batches their manifests ask for, and runs them — scoring
// subjects and persisting the scores one transaction per batch.
//
// Runtimes live below: wasm (wazero, in-process and sandboxed). A plugin
// failure is an errcode PLUGIN_FAILED error that names the plugin and the
// cause; the server goes on.
package extension

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

// Config configures a Registry.
type Config struct {
	// Dirs are searched for plugins: each directory holding a plugin.json,
	// directly or one level down, is a plugin.
	Dirs []string
	// Engine runs WASM modules; required.
	Engine *wasm.Engine
	// Grants are the capabilities the operator allows; a plugin gets the
	// ones it asks for in its manifest and the operator grants.
	Grants wasm.Grants
	// Logger receives load and reload messages.
	Logger *slog.Logger
	// Registerer receives the per-plugin metrics; none when nil.
	Registerer prometheus.Registerer
}

// Plugin is one loaded version of a plugin.
type Plugin struct {
	Manifest *manifest.Manifest
	// Dir is where its plugin.json is.
	Dir string
	// Status is "ready", or "failed: <reason>" when it could not load.
	Status string

	module   *wasm.Module
	modTime  time.Time
	size     int64
	inflight sync.WaitGroup
}

// Ref is "name@version".
func (p *Plugin) Ref() string { return p.Manifest.Ref() }

// Registry holds the loaded plugins. It is safe for concurrent use.
type Registry struct {
	cfg     Config
	metrics *metrics

	mu      sync.RWMutex
	plugins map[string]*Plugin // by ref
}

// NewRegistry loads every plugin in cfg.Dirs. A plugin that fails to load
// is kept with a failed status and logged; it does not stop the others.
func NewRegistry(ctx context.Context, cfg Config) (*Registry, error) {
	if cfg.Engine == nil {
		return nil, errors.New("extension registry needs a WASM engine")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Registry{cfg: cfg, plugins: map[string]*Plugin{}, metrics: newMetrics(cfg.Registerer)}
	if err := r.Scan(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// manifests lists the plugin.json files below the configured directories.
func (r *Registry) manifests() []string {
	var out []string
	for _, dir := range r.cfg.Dirs {
		for _, pattern := range []string{manifest.FileName, filepath.Join("*", manifest.FileName)} {
			found, _ := filepath.Glob(filepath.Join(dir, pattern))
			out = append(out, found...)
		}
	}
	sort.Strings(out)
	return out
}

// Scan loads new plugins and reloads those whose module changed. A reloaded
// version replaces the old one for new calls; calls in flight finish on the
// old module, which is closed after them.
func (r *Registry) Scan(ctx context.Context) error {
	for _, path := range r.manifests() {
		m, err := manifest.Load(path)
		if err != nil {
			r.cfg.Logger.Warn("plugin not loaded", "manifest", path, "err", err)
			continue
		}
		dir := filepath.Dir(path)
		if m.Runtime != "wasm" {
			r.put(&Plugin{Manifest: m, Dir: dir, Status: "failed: runtime " + m.Runtime + " is not available in this server"})
			continue
		}
		modPath := filepath.Join(dir, filepath.FromSlash(m.Module))
		st, err := os.Stat(modPath)
		if err != nil {
			r.put(&Plugin{Manifest: m, Dir: dir, Status: "failed: " + err.Error()})
			continue
		}
		r.mu.RLock()
		old := r.plugins[m.Ref()]
		r.mu.RUnlock()
		if old != nil && old.module != nil && old.modTime.Equal(st.ModTime()) && old.size == st.Size() {
			continue
		}
		p, err := r.load(ctx, m, dir, modPath, st)
		if err != nil {
			r.cfg.Logger.Warn("plugin failed to load", "plugin", m.Ref(), "err", err)
			if old == nil || old.module == nil {
				r.put(&Plugin{Manifest: m, Dir: dir, Status: "failed: " + err.Error()})
			}
			continue
		}
		r.put(p)
		if old != nil && old.module != nil {
			r.cfg.Logger.Info("plugin reloaded", "plugin", m.Ref())
			go func() {
				old.inflight.Wait()
				old.module.Close(context.Background())
			}()
		} else {
			r.cfg.Logger.Info("plugin loaded", "plugin", m.Ref(), "points", m.Points)
		}
	}
	return nil
}

func (r *Registry) load(ctx context.Context, m *manifest.Manifest, dir, modPath string, st os.FileInfo) (*Plugin, error) {
	code, err := os.ReadFile(modPath)
	if err != nil {
		return nil, err
	}
	limits := wasm.Limits{
		MemoryPages: uint32(m.Limits.MemoryPages),
		Timeout:     time.Duration(m.Limits.TimeoutMS) * time.Millisecond,
	}
	grants := wasm.Grants{
		Clock:  m.Asks("clock") && r.cfg.Grants.Clock,
		Random: m.Asks("random") && r.cfg.Grants.Random,
	}
	mod, err := r.cfg.Engine.Load(ctx, m.Ref(), code, limits, grants)
	if err != nil {
		return nil, err
	}
	return &Plugin{Manifest: m, Dir: dir, Status: "ready", module: mod, modTime: st.ModTime(), size: st.Size()}, nil
}

func (r *Registry) put(p *Plugin) {
	r.mu.Lock()
	r.plugins[p.Ref()] = p
	r.mu.Unlock()
}

// Watch rescans every interval until ctx ends, so that a plugin whose
// file changed is reloaded without a restart.
func (r *Registry) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Scan(ctx); err != nil {
				r.cfg.Logger.Warn("plugin scan failed", "err", err)
			}
		}
	}
}

// List returns every known plugin, sorted by name and version.
func (r *Registry) List() []*Plugin {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Plugin, 0, len(r.plugins))
	for _, p := range r.plugins {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref() < out[j].Ref() })
	return out
}

// Get returns the plugin name@version, or a NOT_FOUND error.
func (r *Registry) Get(name, version string) (*Plugin, error) {
	r.mu.RLock()
	p := r.plugins[name+"@"+version]
	r.mu.RUnlock()
	if p == nil {
		return nil, errcode.New(errcode.NotFound, "no plugin %s@%s is loaded", name, version)
	}
	return p, nil
}

// Close closes every module.
func (r *Registry) Close(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.plugins {
		if p.module != nil {
			p.module.Close(ctx)
		}
	}
}

// acquire returns the plugin's module for one call; release must follow.
func (p *Plugin) acquire(point sdk.Point) (*wasm.Module, error) {
	if p.module == nil {
		return nil, errcode.New(errcode.PluginFailed, "plugin %s is not ready: %s", p.Ref(), p.Status)
	}
	if !p.Manifest.Implements(point) {
		return nil, errcode.Input("point", "plugin %s does not implement %s", p.Ref(), point)
	}
	p.inflight.Add(1)
	return p.module, nil
}

func (p *Plugin) release() { p.inflight.Done() }

// Score runs the plugin's score point on one batch.
func (r *Registry) Score(ctx context.Context, p *Plugin, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	mod, err := p.acquire(sdk.PointScore)
	if err != nil {
		return nil, err
	}
	defer p.release()
	start := time.Now()
	resp, err := mod.Score(ctx, req)
	r.metrics.observe(p, sdk.PointScore, req.Batch.Count, start, err)
	return resp, pluginError(p, sdk.PointScore, err)
}

// Segment runs the plugin's segment point on one batch.
func (r *Registry) Segment(ctx context.Context, p *Plugin, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	mod, err := p.acquire(sdk.PointSegment)
	if err != nil {
		return nil, err
	}
	defer p.release()
	start := time.Now()
	resp, err := mod.Segment(ctx, req)
	r.metrics.observe(p, sdk.PointSegment, req.Batch.Count, start, err)
	return resp, pluginError(p, sdk.PointSegment, err)
}

// Report runs the plugin's report point.
func (r *Registry) Report(ctx context.Context, p *Plugin, req *sdk.ReportRequest) (*sdk.Report, error) {
	mod, err := p.acquire(sdk.PointReport)
	if err != nil {
		return nil, err
	}
	defer p.release()
	start := time.Now()
	resp, err := mod.Report(ctx, req)
	r.metrics.observe(p, sdk.PointReport, 0, start, err)
	return resp, pluginError(p, sdk.PointReport, err)
}

// pluginError turns a runtime fault into a PLUGIN_FAILED error that names
// the plugin, the point and the cause.
func pluginError(p *Plugin, point sdk.Point, err error) error {
	if err == nil {
		return nil
	}
	cause := "failed"
	var f *wasm.Fault
	if errors.As(err, &f) {
		cause = f.Cause
	}
	return &errcode.Error{Code: errcode.PluginFailed, Msg: fmt.Sprintf("plugin %s, point %s: %s: %v", p.Ref(), point, cause, errors.Unwrap(err)), Err: err}
}
