// Package wasm runs extension-point plugins compiled to WebAssembly, on
// wazero, in-process and sandboxed: a module gets no file system, network,
// real clock or randomness unless the operator grants what its manifest
// asks; every call has a deadline; every module has a memory ceiling; an
// instance that traps, times out or answers garbage is thrown away.
//
// Compiled modules are cached on disk, and so are the modules as rewritten
// for deadlines; module files are mapped rather than read. Instances are
// pooled, one per concurrent call. See sdk/ABI.md for the contract a
// module implements.
package wasm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/rapportcrm/rapport/core/extension/wasm/internal/interrupt"
	"github.com/rapportcrm/rapport/sdk"
)

// ABI point numbers of rapport_call.
const (
	PointScore   uint32 = 1
	PointSegment uint32 = 2
	PointReport  uint32 = 3
)

// Grants are the sandbox capabilities an operator allows modules to have
// when their manifest asks. The zero value grants nothing.
type Grants struct {
	// Clock gives the real wall and monotonic clocks (else a fake clock
	// that starts at zero and ticks 1 ms per reading).
	Clock bool
	// Random gives cryptographic randomness (else a deterministic stream).
	Random bool
}

// Config configures an Engine. The zero value is usable: no disk cache, a
// 64 MiB memory ceiling and 10 s deadline at most per call.
type Config struct {
	// CacheDir, when set, keeps compiled modules on disk across restarts.
	CacheDir string
	// MaxMemoryPages caps every module's memory, in 64 KiB pages
	// (default 1024, 64 MiB).
	MaxMemoryPages uint32
	// MaxTimeout caps every call's deadline (default 10 s).
	MaxTimeout time.Duration
	// Logger receives what modules log; slog.Default() when nil.
	Logger *slog.Logger
}

// Engine compiles and runs modules. It is safe for concurrent use.
type Engine struct {
	cfg   Config
	cache wazero.CompilationCache
}

// NewEngine returns an engine with the config's defaults applied.
func NewEngine(cfg Config) (*Engine, error) {
	if cfg.MaxMemoryPages == 0 {
		cfg.MaxMemoryPages = 1024
	}
	if cfg.MaxTimeout <= 0 {
		cfg.MaxTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Engine{cfg: cfg}
	if cfg.CacheDir != "" {
		if err := os.MkdirAll(cfg.CacheDir, 0o755); err != nil {
			return nil, fmt.Errorf("compilation cache: %w", err)
		}
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("compilation cache: %w", err)
		}
		e.cache = c
	} else {
		e.cache = wazero.NewCompilationCache()
	}
	return e, nil
}

// Close releases the compilation cache.
func (e *Engine) Close(ctx context.Context) error { return e.cache.Close(ctx) }

// Limits bound one module; zero values take the engine's caps.
type Limits struct {
	// MemoryPages is the module's memory ceiling in 64 KiB pages.
	MemoryPages uint32
	// Timeout is each call's deadline.
	Timeout time.Duration
	// Instances is the most concurrent calls (pooled instances); default 4.
	Instances int
	// RecycleAfter discards an instance after this many calls, so that a
	// guest whose garbage collector falls behind cannot grow for ever
	// (default 10,000).
	RecycleAfter int
}

// Module is a compiled plugin module with its instance pool.
type Module struct {
	// Name labels the module in logs and errors, e.g. "leadscore@1.2.0".
	Name string

	engine  *Engine
	runtime wazero.Runtime
	mod     wazero.CompiledModule
	config  wazero.ModuleConfig
	limits  Limits

	inits []string // exported functions to run on a new instance

	pool   chan *instance
	mu     sync.Mutex
	closed bool
}

// maxSleep bounds one sleep of a guest granted the clock.
const maxSleep = 50 * time.Millisecond

// Load compiles code (or takes it from the cache) and checks that it
// implements the ABI. grants are what the operator allows this module,
// already narrowed to what its manifest asks.
//
// The module's ABI version is checked before any of its code runs: the
// version its custom section sdk.ABISection states, read before it is
// compiled; or, without that section, the answer of rapport_abi_version,
// called first and alone on a fresh instance, before the module's start
// function and _initialize. A module of another ABI never runs anything
// else.
func (e *Engine) Load(ctx context.Context, name string, code []byte, limits Limits, grants Grants) (*Module, error) {
	if limits.MemoryPages == 0 || limits.MemoryPages > e.cfg.MaxMemoryPages {
		limits.MemoryPages = e.cfg.MaxMemoryPages
	}
	if limits.Timeout <= 0 || limits.Timeout > e.cfg.MaxTimeout {
		limits.Timeout = e.cfg.MaxTimeout
	}
	if limits.Instances <= 0 {
		limits.Instances = 4
	}
	if limits.RecycleAfter <= 0 {
		limits.RecycleAfter = 10_000
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(e.cache).
		WithMemoryLimitPages(limitPages(limits.MemoryPages)))
	m := &Module{Name: name, engine: e, runtime: rt, limits: limits, pool: make(chan *instance, limits.Instances)}
	fail := func(err error) (*Module, error) {
		rt.Close(ctx)
		return nil, err
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fail(err)
	}
	version, stated, err := statedABI(code)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", name, err))
	}
	if stated && version != sdk.ABIVersion {
		return fail(fmt.Errorf("%s: module speaks ABI %d (its %s section), host speaks %d", name, version, sdk.ABISection, sdk.ABIVersion))
	}
	log := e.cfg.Logger.With("plugin", name)
	_, err = rt.NewHostModuleBuilder("rapport").
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
			level, ptr, size := uint32(stack[0]), uint32(stack[1]), uint32(stack[2])
			if size > 4096 {
				size = 4096
			}
			msg, ok := mod.Memory().Read(ptr, size)
			if !ok {
				return
			}
			log.Log(ctx, slogLevel(level), string(msg))
		}), []api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil).
		Export("log").
		Instantiate(ctx)
	if err != nil {
		return fail(err)
	}
	compiled, err := e.compile(ctx, rt, code)
	if errors.Is(err, interrupt.ErrMalformed) {
		return fail(fmt.Errorf("%s: %w", name, err))
	} else if err != nil {
		return fail(fmt.Errorf("compile %s: %w", name, err))
	}
	m.mod = compiled
	// The runtime's limit is above the ceiling (see ceilingMemory): a
	// memory that starts above the ceiling is refused here.
	mems := compiled.ImportedMemories()
	for _, d := range compiled.ExportedMemories() {
		mems = append(mems, d)
	}
	for _, d := range mems {
		if d.Min() > limits.MemoryPages {
			return fail(fmt.Errorf("%s: its memory starts at %d pages, above the ceiling of %d", name, d.Min(), limits.MemoryPages))
		}
	}
	exports := compiled.ExportedFunctions()
	for _, want := range []string{"rapport_abi_version", "rapport_input", "rapport_call"} {
		if _, ok := exports[want]; !ok {
			return fail(fmt.Errorf("%s: not a Rapport plugin: no export %q (see sdk/ABI.md)", name, want))
		}
	}
	for imp := range importedModules(compiled) {
		if imp != "wasi_snapshot_preview1" && imp != "rapport" {
			return fail(fmt.Errorf("%s: imports module %q; only \"rapport\" and \"wasi_snapshot_preview1\" are provided", name, imp))
		}
	}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStderr(newLogWriter(log, slog.LevelWarn)).
		WithStdout(newLogWriter(log, slog.LevelInfo))
	// The module's start function and _initialize run in newInstance,
	// under the call deadline, not at instantiation where nothing could
	// stop them.
	cfg = cfg.WithStartFunctions()
	for _, f := range []string{interrupt.Start, "_initialize"} {
		if _, ok := exports[f]; ok {
			m.inits = append(m.inits, f)
		}
	}
	if grants.Clock {
		// A sleep returns to the guest at least every maxSleep, so that
		// its interrupt checks run.
		cfg = cfg.WithSysWalltime().WithSysNanotime().WithNanosleep(func(ns int64) {
			time.Sleep(min(time.Duration(ns), maxSleep))
		})
	}
	if grants.Random {
		cfg = cfg.WithRandSource(rand.Reader)
	}
	m.config = cfg
	// A first instance, which then joins the pool. Instantiation runs no
	// guest code: the start function is run by initialize.
	inst, err := m.instantiate(ctx)
	if err != nil {
		return fail(fmt.Errorf("%s: instantiate: %w", name, err))
	}
	probe := func() (uint32, error) {
		stack := inst.stack[:]
		err := inst.guard(ctx, limits.Timeout, func() error { return inst.version.CallWithStack(ctx, stack) })
		return uint32(stack[0]), err
	}
	if !stated {
		// No section: rapport_abi_version is the only guest code to run
		// before the check, on an instance not yet initialised.
		v, err := probe()
		if err != nil {
			inst.mod.Close(ctx)
			return fail(fmt.Errorf("%s: rapport_abi_version, called before the module is initialised since it states no ABI in a %q custom section, failed "+
				"(a Go plugin must be built with rapport plugin build, which adds the section): %w", name, sdk.ABISection, m.withoutTrace("trap", err)))
		}
		if v != sdk.ABIVersion {
			inst.mod.Close(ctx)
			return fail(fmt.Errorf("%s: module speaks ABI %d, host speaks %d", name, v, sdk.ABIVersion))
		}
	}
	if err := m.initialize(ctx, inst); err != nil {
		return fail(fmt.Errorf("%s: instantiate: %w", name, err))
	}
	if stated {
		// The section and the export must agree.
		v, err := probe()
		if err != nil {
			inst.mod.Close(ctx)
			return fail(fmt.Errorf("%s: rapport_abi_version: %w", name, m.withoutTrace("trap", err)))
		}
		if v != version {
			inst.mod.Close(ctx)
			return fail(fmt.Errorf("%s: module states ABI %d in its %s section but rapport_abi_version answers %d", name, version, sdk.ABISection, v))
		}
	}
	m.pool <- inst
	return m, nil
}

// LoadFile is Load of the module in the file at path, which is mapped
// rather than read where the system allows (reading a module into fresh
// heap memory is much of a server's start). A file that another program
// truncates while it is read gives an error, not a crash.
func (e *Engine) LoadFile(ctx context.Context, name, path string, limits Limits, grants Grants) (*Module, error) {
	code, unmap, err := mapFile(path)
	if err != nil {
		return nil, err
	}
	defer unmap()
	return e.Load(ctx, name, code, limits, grants)
}

// compile rewrites code for deadlines (or maps the rewrite kept from an
// earlier start) and compiles it. Deadlines are enforced by the module's
// own interrupt checks (see package interrupt), not by wazero's
// close-on-context-done, which costs a trampoline call at every loop head
// and a goroutine per call.
//
// code and the kept rewrite may be file mappings, which fault when
// another program truncates the file under them: the fault becomes a
// panic in this goroutine (SetPanicOnFault), recovered as an error. Only
// the module's bytes are read while it is armed; wazero copies what it
// keeps of them.
func (e *Engine) compile(ctx context.Context, rt wazero.Runtime, code []byte) (c wazero.CompiledModule, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(interface{ Addr() uintptr }); !ok {
				panic(r)
			}
			c, err = nil, errors.New("the module's file changed while it was read")
		}
	}()
	code, release, err := e.rewritten(code)
	if err != nil {
		return nil, err
	}
	defer release()
	return rt.CompileModule(ctx, code)
}

func importedModules(c wazero.CompiledModule) map[string]bool {
	out := map[string]bool{}
	for _, f := range c.ImportedFunctions() {
		mod, _, _ := f.Import()
		out[mod] = true
	}
	for _, mem := range c.ImportedMemories() {
		mod, _, _ := mem.Import()
		out[mod] = true
	}
	return out
}

// Close discards every instance and the module's runtime. Calls in flight
// fail.
func (m *Module) Close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return m.runtime.Close(ctx)
}

type instance struct {
	mod     api.Module
	stop    api.MutableGlobal
	timer   *time.Timer // sets stop when a call's deadline passes
	inPtr   uint32      // the rapport_input region, once asked for
	inCap   uint32      // its size; 0 before the first request
	version api.Function
	input   api.Function
	call    api.Function
	calls   int
	stack   [2]uint64
	// refused is set when the memory refused to grow past the ceiling;
	// it is cleared before each call.
	refused *atomic.Bool
}

// newInstance instantiates the module and initialises the instance.
func (m *Module) newInstance(ctx context.Context) (*instance, error) {
	inst, err := m.instantiate(ctx)
	if err != nil {
		return nil, err
	}
	if err := m.initialize(ctx, inst); err != nil {
		return nil, err
	}
	return inst, nil
}

// instantiate makes an instance without running any of its code.
func (m *Module) instantiate(ctx context.Context) (*instance, error) {
	refused := new(atomic.Bool)
	ictx := experimental.WithMemoryAllocator(context.WithoutCancel(ctx), allocator(m.limits.MemoryPages, refused))
	mod, err := m.runtime.InstantiateModule(ictx, m.mod, m.config)
	if err != nil {
		return nil, err
	}
	stop, ok := mod.ExportedGlobal(interrupt.Flag).(api.MutableGlobal)
	if !ok {
		mod.Close(ctx)
		return nil, errors.New("instrumented module lacks its interrupt flag")
	}
	inst := &instance{
		mod:     mod,
		stop:    stop,
		timer:   time.AfterFunc(time.Hour, func() { stop.Set(1) }),
		version: mod.ExportedFunction("rapport_abi_version"),
		input:   mod.ExportedFunction("rapport_input"),
		call:    mod.ExportedFunction("rapport_call"),
		refused: refused,
	}
	inst.timer.Stop()
	return inst, nil
}

// initialize runs the instance's start function and _initialize, under
// the call deadline; the instance is closed when they fail.
func (m *Module) initialize(ctx context.Context, inst *instance) error {
	mod := inst.mod
	if len(m.inits) > 0 {
		ictx := context.WithoutCancel(ctx)
		err := inst.guard(ictx, m.limits.Timeout, func() error {
			for _, f := range m.inits {
				if _, err := mod.ExportedFunction(f).Call(ictx); err != nil {
					return fmt.Errorf("%s: %w", strings.TrimPrefix(f, "rapport."), err)
				}
			}
			return nil
		})
		if err != nil {
			mod.Close(ctx)
			if errors.Is(err, errStopped) {
				return fmt.Errorf("initialisation did not finish within %s", m.limits.Timeout)
			}
			return err
		}
	}
	return nil
}

// guard runs fn, stopping the instance through its interrupt flag when
// timeout passes or ctx is done first. It reports errStopped if it had to
// (fn's own error is then the trap that stopped it): such an instance must
// not be reused. The instance's timer is reused from call to call, so a
// call costs no allocation unless ctx can be cancelled.
func (inst *instance) guard(ctx context.Context, timeout time.Duration, fn func() error) error {
	inst.timer.Reset(timeout)
	var stopCtx func() bool
	if ctx.Done() != nil {
		stopCtx = context.AfterFunc(ctx, func() { inst.stop.Set(1) })
	}
	err := fn()
	stopped := !inst.timer.Stop()
	if stopCtx != nil && !stopCtx() {
		stopped = true
	}
	if stopped {
		return errors.Join(errStopped, err)
	}
	return err
}

// errStopped marks a call its deadline or caller stopped.
var errStopped = errors.New("stopped")

// get takes an idle instance, or makes one while fewer than the limit
// exist, or waits for one.
func (m *Module) get(ctx context.Context) (*instance, error) {
	select {
	case inst := <-m.pool:
		return inst, nil
	default:
	}
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return nil, errors.New("module closed")
	}
	return m.newInstance(ctx)
}

// put returns an instance to the pool, or discards it when the pool is full
// or it has served enough calls.
func (m *Module) put(ctx context.Context, inst *instance) {
	inst.calls++
	// Recycle after enough calls, or once the instance's memory passes
	// three quarters of its ceiling: a fresh instance costs milliseconds,
	// an out-of-memory fault costs a batch.
	if inst.calls >= m.limits.RecycleAfter || uint64(inst.mod.Memory().Size()) > uint64(m.limits.MemoryPages)*65536*3/4 {
		inst.mod.Close(ctx)
		return
	}
	select {
	case m.pool <- inst:
	default:
		inst.mod.Close(ctx)
	}
}

// Fault is a failed call. Its Cause is one of "timeout" (the deadline
// passed), "trap" (the module crashed), "memory" (it crashed at its memory
// ceiling), "exit" (it called proc_exit), "malformed" (its answer broke the
// contract) or "plugin_error" (it answered with an error of its own).
type Fault struct {
	Module string
	Cause  string
	Err    error
}

func (f *Fault) Error() string { return fmt.Sprintf("plugin %s: %s: %v", f.Module, f.Cause, f.Err) }

// Unwrap returns the underlying error.
func (f *Fault) Unwrap() error { return f.Err }

// Call runs one extension point on request bytes and hands the response
// bytes to decode, which must not keep them. A failure is a *Fault; the
// instance involved is discarded unless the module itself reported the
// error.
func (m *Module) Call(ctx context.Context, point uint32, req []byte, decode func([]byte) error) error {
	inst, err := m.get(ctx)
	if err != nil {
		return &Fault{Module: m.Name, Cause: "trap", Err: fmt.Errorf("instantiate: %w", err)}
	}
	var cause string
	gerr := inst.guard(ctx, m.limits.Timeout, func() (err error) {
		cause, err = m.call(ctx, inst, point, req, decode)
		return err
	})
	err = gerr
	switch {
	case errors.Is(gerr, errStopped) && cause == "":
		// The answer came just as the deadline passed: keep the answer,
		// not the instance, whose flag may be set.
		inst.mod.Close(context.Background())
		return nil
	case errors.Is(gerr, errStopped):
		cause, err = "timeout", fmt.Errorf("deadline of %s exceeded", m.limits.Timeout)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
	}
	if err == nil || cause == "plugin_error" {
		m.put(ctx, inst)
	} else {
		inst.mod.Close(context.Background())
	}
	if err != nil {
		if cause == "timeout" && ctx.Err() != nil {
			err = fmt.Errorf("%w (caller gave up)", ctx.Err())
		}
		return &Fault{Module: m.Name, Cause: cause, Err: m.withoutTrace(cause, err)}
	}
	return nil
}

func (m *Module) call(ctx context.Context, inst *instance, point uint32, req []byte, decode func([]byte) error) (string, error) {
	inst.refused.Store(false)
	stack := inst.stack[:]
	// The region rapport_input gave stays the guest's input buffer until
	// the host asks again (ABI.md), so the host asks only when a request
	// outgrows it, and then for room to spare.
	if inst.inCap < uint32(len(req)) || inst.inCap == 0 {
		ask := inputSize(len(req))
		stack[0] = uint64(ask)
		if err := inst.input.CallWithStack(ctx, stack); err != nil {
			inst.inCap = 0
			if mem := inst.mod.Memory(); mem != nil && uint64(mem.Size())+uint64(ask) > uint64(m.limits.MemoryPages)*65536*15/16 {
				return "memory", fmt.Errorf("no room for a request of %d bytes under the memory ceiling of %d KiB: %w", len(req), m.limits.MemoryPages*64, err)
			}
			return m.classify(ctx, inst, err)
		}
		inst.inPtr, inst.inCap = uint32(stack[0]), ask
	}
	mem := inst.mod.Memory()
	if !mem.Write(inst.inPtr, req) {
		return "malformed", fmt.Errorf("rapport_input returned %#x, outside memory for %d bytes", inst.inPtr, len(req))
	}
	stack[0], stack[1] = uint64(point), uint64(len(req))
	if err := inst.call.CallWithStack(ctx, stack); err != nil {
		return m.classify(ctx, inst, err)
	}
	res := stack[0]
	ptr, size := uint32(res>>32)&0x7fffffff, uint32(res)
	out, ok := mem.Read(ptr, size)
	if !ok {
		return "malformed", fmt.Errorf("result at %#x+%d is outside memory", ptr, size)
	}
	if res>>63 == 1 {
		msg, err := sdk.DecodeError(out)
		if err != nil {
			return "malformed", fmt.Errorf("error result: %w", err)
		}
		return "plugin_error", errors.New(msg)
	}
	if err := decode(out); err != nil {
		return "malformed", err
	}
	return "", nil
}

// withoutTrace keeps a failed call's error to its first line: a trap's
// error from wazero goes on with the guest's stack trace, which belongs in
// the server's log (where it goes, with the plugin's name), not in the
// errors callers and API clients see. The whole error stays reachable
// with errors.Unwrap.
func (m *Module) withoutTrace(cause string, err error) error {
	msg := err.Error()
	first, _, ok := strings.Cut(msg, "\n")
	if !ok {
		return err
	}
	m.engine.cfg.Logger.Warn("plugin call failed", "plugin", m.Name, "cause", cause, "err", msg)
	return &tracedError{msg: strings.TrimPrefix(first, "wasm error: ") + " (stack trace in the log)", err: err}
}

// tracedError is an error whose message leaves out the stack trace of
// the error it wraps.
type tracedError struct {
	msg string
	err error
}

func (e *tracedError) Error() string { return e.msg }
func (e *tracedError) Unwrap() error { return e.err }

// inputSize is the input region to ask for a request of n bytes: a power
// of two from 4 KiB, so that a run of growing requests asks rarely, or n
// itself past 1 MiB, where one more call is nothing beside the request
// and rounding up could cost a module near its memory ceiling the call.
func inputSize(n int) uint32 {
	if n > 1<<20 {
		return uint32(n)
	}
	size := uint32(4096)
	for int(size) < n {
		size *= 2
	}
	return size
}

// classify names the cause of a failed call. A trap with the memory at its
// ceiling is reported as "memory": the guest ran out of it.
func (m *Module) classify(ctx context.Context, inst *instance, err error) (string, error) {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded, sys.ExitCodeContextCanceled:
			return "timeout", fmt.Errorf("deadline exceeded")
		}
		return "exit", fmt.Errorf("module exited with code %d", exit.ExitCode())
	}
	if ctx.Err() != nil {
		return "timeout", ctx.Err()
	}
	if inst.refused.Load() {
		return "memory", fmt.Errorf("memory ceiling of %d KiB reached (a grow past it was refused): %w", m.limits.MemoryPages*64, err)
	}
	if mem := inst.mod.Memory(); mem != nil && uint64(mem.Size()) >= uint64(m.limits.MemoryPages)*65536*15/16 {
		return "memory", fmt.Errorf("memory ceiling of %d KiB reached: %w", m.limits.MemoryPages*64, err)
	}
	return "trap", err
}

func slogLevel(l uint32) slog.Level {
	switch l {
	case 0:
		return slog.LevelDebug
	case 2:
		return slog.LevelWarn
	case 3:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// logWriter turns a module's stdout and stderr into log lines: it buffers
// partial writes until a newline (or 4 KiB) and logs whole lines.
type logWriter struct {
	log   *slog.Logger
	level slog.Level
	mu    *sync.Mutex
	buf   *[]byte
}

func newLogWriter(log *slog.Logger, level slog.Level) logWriter {
	return logWriter{log: log, level: level, mu: &sync.Mutex{}, buf: new([]byte)}
}

func (w logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range p {
		if c == '\n' || len(*w.buf) >= 4096 {
			if len(*w.buf) > 0 {
				w.log.Log(context.Background(), w.level, string(*w.buf))
			}
			*w.buf = (*w.buf)[:0]
			if c == '\n' {
				continue
			}
		}
		*w.buf = append(*w.buf, c)
	}
	return len(p), nil
}
