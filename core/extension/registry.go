// Package extension is the host side of Rapport's extension points: it
// loads plugins from directories (each a plugin.json beside its module or
// program), keeps them fresh as their files change, binds them to
// workspaces, builds the columnar batches their manifests ask for, and runs
// them — scoring subjects and persisting the scores one transaction per
// batch.
//
// Runtimes live below, chosen by each manifest's "runtime": wasm (wazero,
// in-process and sandboxed) and process (a supervised program of its own,
// over go-plugin gRPC). Both take the same encoded requests and give the
// same answers, so the rest of the package does not care which runs a
// plugin. A plugin failure (a trap, a timeout, a process that died mid-call,
// a malformed answer) is an errcode PLUGIN_FAILED error that names the
// plugin and the cause; the server goes on.
package extension

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension/process"
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
	// ProcessStart says when process plugins start: process.StartLazy (on
	// their first call; the default) or process.StartBoot (when loaded).
	ProcessStart process.Start
	// ProcessStartTimeout bounds starting a process plugin and its
	// handshake (default 30 s).
	ProcessStartTimeout time.Duration
	// ProcessTimeout caps the deadline of a process plugin's call
	// (default 10 s).
	ProcessTimeout time.Duration
	// Background makes NewRegistry return once it has read the manifests,
	// while the plugins load behind it: until a plugin's load ends, List
	// and Get show it with status "loading", and a call to it waits for
	// the load (or the call's context). Wait and Loading tell when all are
	// done. A server that would otherwise wait for every module to compile
	// before it serves anything starts serving at once.
	Background bool
}

// runner is what runs a loaded plugin: a *wasm.Module or a
// *process.Client.
type runner interface {
	Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error)
	Segment(ctx context.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error)
	Report(ctx context.Context, req *sdk.ReportRequest) (*sdk.Report, error)
	Close(ctx context.Context) error
}

// Plugin is one loaded version of a plugin.
type Plugin struct {
	Manifest *manifest.Manifest
	// Dir is where its plugin.json is.
	Dir string
	// Status is "ready", "loading" while it loads in the background (see
	// Config.Background), or "failed: <reason>" when it could not load. For
	// a process plugin it is, as of the List or Get that returned it,
	// "restarting: <reason>" while a failed process is being replaced and
	// "unhealthy: <reason>" after repeated failures (see process.Client).
	Status string

	run      runner
	modTime  time.Time
	size     int64
	manifest [sha256.Size]byte // of the plugin.json it was loaded from
	// failures counts a failed plugin's failed loads in a row, of the
	// same files (modTime, size, manifest); retryAt is when the next may
	// start (see retryDelay).
	failures int
	retryAt  time.Time
	inflight *sync.WaitGroup
	loading  *pending // while it loads in the background
	// origin and questions are set for a workspace plugin (see
	// workspaceplugins.go).
	origin    string
	questions []byte
}

// Ref is "name@version".
func (p *Plugin) Ref() string { return p.Manifest.Ref() }

// Registry holds the loaded plugins. It is safe for concurrent use.
type Registry struct {
	cfg     Config
	metrics *metrics

	mu      sync.RWMutex
	plugins map[string]*Plugin // by ref

	// loadSlots bounds the loads running at once to the processors:
	// compiling or reading the compiled-code cache and instantiating is
	// most of a server's start, and all CPU.
	loadSlots chan struct{}

	now func() time.Time // the clock of retry backoff
	// wsPlugins, when set, lets workspaces install plugins of their own
	// (see workspaceplugins.go).
	wsPlugins atomic.Pointer[workspacePlugins]
	// callSlots, when set, bounds the calls one workspace runs at once
	// (see callcap.go).
	callSlots atomic.Pointer[workspaceSlots]
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
	switch cfg.ProcessStart {
	case "":
		cfg.ProcessStart = process.StartLazy
	case process.StartLazy, process.StartBoot:
	default:
		return nil, fmt.Errorf("process plugins start %q: want lazy or boot", cfg.ProcessStart)
	}
	r := &Registry{cfg: cfg, plugins: map[string]*Plugin{}, loadSlots: make(chan struct{}, runtime.GOMAXPROCS(0)), now: time.Now}
	r.metrics = newMetrics(cfg.Registerer, r)
	if cfg.Background {
		for _, path := range r.manifests() {
			r.scanOne(ctx, path, true)
		}
		return r, nil
	}
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

// Scan loads new plugins and reloads those whose module or plugin.json
// changed. A plugin that failed to load is tried again after 2 s, then
// after twice as long each time up to 5 minutes, or at the first scan
// after its files change. A reloaded version replaces the old one for new calls; calls in
// flight finish on the old module, which is closed after them.
//
// A plugin.json that names a new version over the module another version
// of the plugin was loaded from, unchanged (same modification time and
// size), is refused: that version is listed as failed, and the loaded one
// serves on. A new version must ship a new module.
func (r *Registry) Scan(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, path := range r.manifests() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.scanOne(ctx, path, false)
		}()
	}
	wg.Wait()
	return nil
}

// scanOne loads or reloads the plugin of one manifest, as Scan describes.
// In the background, a plugin not loaded before is listed as loading at
// once and loads in a goroutine of its own; a reload happens in this one,
// as the old version serves meanwhile.
func (r *Registry) scanOne(ctx context.Context, path string, background bool) {
	m, err := manifest.Load(path)
	if err != nil {
		r.cfg.Logger.Warn("plugin not loaded", "manifest", path, "err", err)
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		r.cfg.Logger.Warn("plugin not loaded", "manifest", path, "err", err)
		return
	}
	sum := sha256.Sum256(b)
	dir := filepath.Dir(path)
	modPath := artifact(m, dir)
	st, err := os.Stat(modPath)
	if err != nil {
		r.put(&Plugin{Manifest: m, Dir: dir, Status: "failed: " + err.Error()})
		return
	}
	r.mu.RLock()
	old := r.plugins[m.Ref()]
	r.mu.RUnlock()
	if old != nil && old.run != nil && old.modTime.Equal(st.ModTime()) && old.size == st.Size() && old.manifest == sum {
		return
	}
	if old != nil && old.run == nil && old.failures > 0 && r.now().Before(old.retryAt) &&
		old.modTime.Equal(st.ModTime()) && old.size == st.Size() && old.manifest == sum {
		return // failed to load these very files: retried with backoff
	}
	if old != nil && old.loading != nil {
		// Still loading in the background; a change since is seen by
		// the first scan after the load ends.
		return
	}
	if old == nil || old.run == nil {
		if prev := r.sameModule(m, dir, st); prev != nil {
			r.put(&Plugin{Manifest: m, Dir: dir, Status: fmt.Sprintf("failed: version %s ships the module of version %s unchanged: a new version must ship a new module", m.Version, prev.Manifest.Version)})
			return
		}
	}
	if background && (old == nil || old.run == nil) {
		pend := &pending{done: make(chan struct{})}
		r.put(&Plugin{Manifest: m, Dir: dir, Status: "loading", loading: pend})
		go func() {
			p, err := r.loadSlot(ctx, m, dir, modPath, st)
			if err != nil {
				p = r.failed(m, dir, old, st, sum, err)
			}
			p.manifest = sum
			r.settle(m, pend, p, err)
		}()
		return
	}
	p, err := r.loadSlot(ctx, m, dir, modPath, st)
	if err != nil {
		r.cfg.Logger.Warn("plugin failed to load", "plugin", m.Ref(), "err", err)
		if old == nil || old.run == nil {
			r.put(r.failed(m, dir, old, st, sum, err))
		}
		return
	}
	p.manifest = sum
	r.put(p)
	if old != nil && old.run != nil {
		r.cfg.Logger.Info("plugin reloaded", "plugin", m.Ref())
		go func() {
			old.inflight.Wait()
			old.run.Close(context.Background())
		}()
	} else {
		r.cfg.Logger.Info("plugin loaded", "plugin", m.Ref(), "points", m.Points)
	}
}

// sameModule returns another loaded version of m's plugin, from the same
// directory, whose module is the one at st unchanged.
func (r *Registry) sameModule(m *manifest.Manifest, dir string, st os.FileInfo) *Plugin {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, p := range r.plugins {
		if p.run != nil && p.Manifest.Name == m.Name && p.Manifest.Version != m.Version && p.Dir == dir &&
			p.modTime.Equal(st.ModTime()) && p.size == st.Size() {
			return p
		}
	}
	return nil
}

// loadSlot is load, run when one of the registry's load slots is free.
func (r *Registry) loadSlot(ctx context.Context, m *manifest.Manifest, dir, modPath string, st os.FileInfo) (*Plugin, error) {
	select {
	case r.loadSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.loadSlots }()
	return r.load(ctx, m, dir, modPath, st)
}

// Retries of a plugin that failed to load start retryBase apart and
// double up to retryMax.
const (
	retryBase = 2 * time.Second
	retryMax  = 5 * time.Minute
)

// retryDelay is the wait before the next load of a plugin whose loads
// failed failures times in a row.
func retryDelay(failures int) time.Duration {
	d := retryBase
	for i := 1; i < failures && d < retryMax; i++ {
		d *= 2
	}
	return min(d, retryMax)
}

// failed is the entry of a plugin whose load of the files st and sum
// describe failed with err: after old (its entry before) failed on the
// same files, the wait for the next try doubles.
func (r *Registry) failed(m *manifest.Manifest, dir string, old *Plugin, st os.FileInfo, sum [sha256.Size]byte, err error) *Plugin {
	n := 1
	if old != nil && old.run == nil && old.modTime.Equal(st.ModTime()) && old.size == st.Size() && old.manifest == sum {
		n = old.failures + 1
	}
	return &Plugin{Manifest: m, Dir: dir, Status: "failed: " + err.Error(), modTime: st.ModTime(), size: st.Size(), manifest: sum,
		failures: n, retryAt: r.now().Add(retryDelay(n))}
}

// settle ends a background load: the loaded plugin (or, after err, the
// failed one) replaces the loading entry, and the calls waiting on it go
// on.
func (r *Registry) settle(m *manifest.Manifest, pend *pending, p *Plugin, err error) {
	if err != nil {
		r.cfg.Logger.Warn("plugin failed to load", "plugin", m.Ref(), "err", err)
	} else {
		r.cfg.Logger.Info("plugin loaded", "plugin", m.Ref(), "points", m.Points)
	}
	r.mu.Lock()
	if cur := r.plugins[m.Ref()]; cur != nil && cur.loading == pend {
		r.plugins[m.Ref()] = p
	}
	r.mu.Unlock()
	pend.plugin = p
	close(pend.done)
}

// pending is a plugin's load in the background.
type pending struct {
	done   chan struct{}
	plugin *Plugin // what the load gave, loaded or failed; set before done closes
}

func (p *pending) settled() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ready returns p, or, when p is still loading in the background, what
// its load gives once it ends (or ctx's error first).
func (r *Registry) ready(ctx context.Context, p *Plugin) (*Plugin, error) {
	if p.loading == nil {
		return p, nil
	}
	select {
	case <-p.loading.done:
		return p.loading.plugin.current(), nil
	case <-ctx.Done():
		return nil, errcode.New(errcode.PluginFailed, "plugin %s is still loading: %v", p.Ref(), ctx.Err())
	}
}

// artifact is the file a plugin runs from: its WASM module or its program.
func artifact(m *manifest.Manifest, dir string) string {
	if m.Runtime == "process" && len(m.Command) > 0 {
		if filepath.IsAbs(m.Command[0]) {
			return m.Command[0]
		}
		return filepath.Join(dir, filepath.FromSlash(m.Command[0]))
	}
	return filepath.Join(dir, filepath.FromSlash(m.Module))
}

func (r *Registry) load(ctx context.Context, m *manifest.Manifest, dir, modPath string, st os.FileInfo) (*Plugin, error) {
	loaded := func(run runner) *Plugin {
		return &Plugin{Manifest: m, Dir: dir, Status: "ready", run: run, modTime: st.ModTime(), size: st.Size(), inflight: &sync.WaitGroup{}}
	}
	if m.Runtime == "process" {
		// The process runs in dir: a program path relative to the
		// server's directory (under a relative plugins directory such as
		// ./plugins.d) would be resolved against dir a second time.
		prog, err := filepath.Abs(modPath)
		if err != nil {
			return nil, err
		}
		c := process.New(process.Config{
			Name: m.Ref(), Plugin: m.Name, Command: append([]string{prog}, m.Command[1:]...), Dir: dir, Points: m.Points,
			Timeout: capTimeout(time.Duration(m.Limits.TimeoutMS)*time.Millisecond, r.cfg.ProcessTimeout), Logger: r.cfg.Logger,
			StartTimeout: r.cfg.ProcessStartTimeout,
		})
		if r.cfg.ProcessStart == process.StartBoot {
			if err := c.Start(ctx); err != nil {
				c.Close(ctx)
				return nil, err
			}
		}
		return loaded(c), nil
	}
	limits := wasm.Limits{
		MemoryPages: uint32(m.Limits.MemoryPages),
		Timeout:     time.Duration(m.Limits.TimeoutMS) * time.Millisecond,
	}
	grants := wasm.Grants{
		Clock:  m.Asks("clock") && r.cfg.Grants.Clock,
		Random: m.Asks("random") && r.cfg.Grants.Random,
	}
	mod, err := r.cfg.Engine.LoadFile(ctx, m.Ref(), modPath, limits, grants)
	if err != nil {
		return nil, err
	}
	return loaded(mod), nil
}

// capTimeout is the manifest's deadline within the operator's cap (10 s
// when unset).
func capTimeout(asked, limit time.Duration) time.Duration {
	if limit <= 0 {
		limit = 10 * time.Second
	}
	if asked <= 0 || asked > limit {
		return limit
	}
	return asked
}

// current returns p, or a copy whose Status tells the runtime's trouble
// when a process plugin is not well.
func (p *Plugin) current() *Plugin {
	c, ok := p.run.(*process.Client)
	if !ok {
		return p
	}
	h := c.Health()
	if h == "" {
		return p
	}
	cp := &Plugin{Manifest: p.Manifest, Dir: p.Dir, Status: h, run: p.run, modTime: p.modTime, size: p.size, manifest: p.manifest, inflight: p.inflight}
	return cp
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
		out = append(out, p.current())
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
	return p.current(), nil
}

// Latest returns the newest loaded version of the named plugin, by
// semantic version.
func (r *Registry) Latest(name string) (*Plugin, error) {
	r.mu.RLock()
	var best *Plugin
	for _, p := range r.plugins {
		if p.Manifest.Name == name && (best == nil || newerVersion(p.Manifest.Version, best.Manifest.Version)) {
			best = p
		}
	}
	r.mu.RUnlock()
	if best == nil {
		return nil, errcode.New(errcode.NotFound, "no plugin %s is loaded", name)
	}
	return best.current(), nil
}

// newerVersion reports whether semantic version a is above b (release
// parts compared as numbers; a pre-release is below its release).
func newerVersion(a, b string) bool {
	split := func(v string) ([3]int, string) {
		core, pre, _ := strings.Cut(v, "-")
		var n [3]int
		for i, part := range strings.SplitN(core, ".", 3) {
			n[i], _ = strconv.Atoi(part)
		}
		return n, pre
	}
	na, pa := split(a)
	nb, pb := split(b)
	if na != nb {
		for i := range na {
			if na[i] != nb[i] {
				return na[i] > nb[i]
			}
		}
	}
	switch {
	case pa == pb:
		return false
	case pa == "":
		return true
	case pb == "":
		return false
	}
	return pa > pb
}

// Loading lists the plugins whose background load has not ended, by ref.
func (r *Registry) Loading() []string {
	var out []string
	for _, p := range r.pendingLoads() {
		out = append(out, p.Ref())
	}
	sort.Strings(out)
	return out
}

// Wait returns once no plugin is loading, or with ctx's error.
func (r *Registry) Wait(ctx context.Context) error {
	for {
		loads := r.pendingLoads()
		if len(loads) == 0 {
			return nil
		}
		select {
		case <-loads[0].loading.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (r *Registry) pendingLoads() []*Plugin {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*Plugin
	for _, p := range r.plugins {
		if p.loading != nil && !p.loading.settled() {
			out = append(out, p)
		}
	}
	return out
}

// Close closes every module and stops every plugin process, waiting until
// they have exited (and for loads in the background to end first).
func (r *Registry) Close(ctx context.Context) {
	_ = r.Wait(ctx)
	r.closeWorkspacePlugins(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.plugins {
		if p.run != nil {
			p.run.Close(ctx)
		}
	}
}

// acquire returns the plugin's runner for one call; release must follow.
func (p *Plugin) acquire(point sdk.Point) (runner, error) {
	if p.run == nil {
		return nil, errcode.New(errcode.PluginFailed, "plugin %s is not ready: %s", p.Ref(), p.Status)
	}
	if !p.Manifest.Implements(point) {
		return nil, errcode.Input("point", "plugin %s does not implement %s", p.Ref(), point)
	}
	p.inflight.Add(1)
	return p.run, nil
}

func (p *Plugin) release() { p.inflight.Done() }

// Score runs the plugin's score point on one batch.
func (r *Registry) Score(ctx context.Context, p *Plugin, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	var resp *sdk.ScoreResponse
	err := r.invoke(ctx, p, sdk.PointScore, req.Batch.Count, func(ctx context.Context, mod runner) (err error) {
		resp, err = mod.Score(ctx, req)
		return err
	})
	return resp, err
}

// Segment runs the plugin's segment point on one batch.
func (r *Registry) Segment(ctx context.Context, p *Plugin, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	var resp *sdk.SegmentResponse
	err := r.invoke(ctx, p, sdk.PointSegment, req.Batch.Count, func(ctx context.Context, mod runner) (err error) {
		resp, err = mod.Segment(ctx, req)
		return err
	})
	return resp, err
}

// Report runs the plugin's report point.
func (r *Registry) Report(ctx context.Context, p *Plugin, req *sdk.ReportRequest) (*sdk.Report, error) {
	var resp *sdk.Report
	err := r.invoke(ctx, p, sdk.PointReport, 0, func(ctx context.Context, mod runner) (err error) {
		resp, err = mod.Report(ctx, req)
		return err
	})
	return resp, err
}

// pluginError turns a runtime fault into a PLUGIN_FAILED error that names
// the plugin, the point and the cause.
func pluginError(p *Plugin, point sdk.Point, err error) error {
	if err == nil {
		return nil
	}
	cause := faultCause(err)
	return &errcode.Error{Code: errcode.PluginFailed, Msg: fmt.Sprintf("plugin %s, point %s: %s: %v", p.Ref(), point, cause, errors.Unwrap(err)), Err: err}
}

// faultCause is the cause a runtime gives a failed call, or "failed".
func faultCause(err error) string {
	var wf *wasm.Fault
	if errors.As(err, &wf) {
		return wf.Cause
	}
	var pf *process.Fault
	if errors.As(err, &pf) {
		return pf.Cause
	}
	return "failed"
}
