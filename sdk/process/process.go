// Package process serves an sdk.Plugin as a program of its own, which a
// Rapport host starts and talks to over gRPC on a local socket (the
// "process" runtime; see sdk/PROCESS.md). The author writes the same Go
// functions as for WebAssembly; `rapport plugin build --runtime process DIR`
// generates the main package that calls Serve, so one source builds to
// both runtimes:
//
//	func main() { process.Serve(leadscore.Plugin) }
//
// Requests arrive as the same encoded messages a WASM guest receives and
// are decoded and answered with the same codec (sdk.DecodeScoreRequest,
// sdk.AppendScoreResponse, …), so a plugin behaves identically under both
// runtimes.
//
// The program refuses to run unless started by a host (the host sets a
// handshake cookie in its environment). It negotiates the newest transport
// version both sides speak, serves the go-plugin gRPC health service, uses
// the mutual TLS the host sets up, and exits on its own once the host that
// started it is gone, so that no plugin process outlives its server.
// sdk.Context.Log writes to the host's log. Unless its environment sets
// them, the program runs with GOGC=400 and GOMAXPROCS at half of Go's
// default (see sdk/PROCESS.md, Performance).
//
// # Debugging
//
// Run the program with -debug (or RAPPORT_PLUGIN_DEBUG=1) to serve it
// stand-alone, e.g. under a debugger. It prints a line such as
//
//	RAPPORT_PLUGIN_REATTACH='{"leadscore":{"protocol":"grpc","protocol_version":2,"pid":4242,"test":true,"addr":{"network":"unix","string":"/tmp/plugin123"}}}'
//
// Start the server with that variable set and it attaches to the running
// program instead of starting the plugin's command (without mutual TLS,
// which go-plugin cannot combine with attaching). The plugin is named by
// the plugin.json beside the program, or by the program's file name. The
// program stops on an interrupt; the server never stops it.
package process

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/rapportcrm/rapport/internal/processrpc"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/internal/guest"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginpb"
)

// Serve serves p until the host stops it or goes away, then exits the
// program. Call it from main, and nothing after it.
func Serve(p sdk.Plugin) {
	// Author logs and go-plugin's own go to the real standard error, which
	// the host reads and turns into log lines (go-plugin redirects
	// os.Stderr once serving starts).
	log := hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Debug})
	tuneRuntime()
	srv := &server{plugin: p, log: log}
	cfg := &plugin.ServeConfig{
		HandshakeConfig:  processrpc.Handshake,
		VersionedPlugins: processrpc.Sets(srv),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(processrpc.WithServerCredentials(opts), processrpc.ServerOptions()...))
		},
		Logger: hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: hclog.Warn}),
	}
	if debugMode() {
		serveDebug(cfg, os.Stdout)
		return
	}
	go exitWithParent(os.Getppid(), time.Second)
	plugin.Serve(cfg)
}

func debugMode() bool {
	return os.Getenv(processrpc.DebugEnv) == "1" || slices.Contains(os.Args[1:], "-debug") || slices.Contains(os.Args[1:], "--debug")
}

// serveDebug serves without a host, printing how a host attaches, until
// an interrupt.
func serveDebug(cfg *plugin.ServeConfig, stdout io.Writer) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg.Test = &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}
	go plugin.Serve(cfg)
	select {
	case rc := <-reattach:
		b, _ := json.Marshal(map[string]processrpc.Reattach{pluginName(): processrpc.NewReattach(rc)})
		fmt.Fprintf(stdout, "Serving in debug mode; interrupt to stop. Start the server with:\n\n\t%s='%s'\n\n", processrpc.ReattachEnv, b)
	case <-closed:
		return
	}
	<-closed
}

// pluginName is the name in the manifest beside the program, or the
// program's file name.
func pluginName() string {
	exe, err := os.Executable()
	if err != nil {
		return filepath.Base(os.Args[0])
	}
	if m, err := manifest.Load(filepath.Join(filepath.Dir(exe), manifest.FileName)); err == nil {
		return m.Name
	}
	return filepath.Base(exe)
}

// gcPercent is the plugin program's GOGC unless its environment sets one.
// A plugin's live heap is small and every call leaves a decoded batch and
// its answer behind, so with Go's default of 100 the collector ran every
// few calls and handed the freed memory back to the system, only to fault
// it in again: about a fifth of the program's time at batches of 1,000.
// At 400 the heap grows to five times the live data between collections.
const gcPercent = 400

// tuneRuntime sets the plugin program's GOGC (see gcPercent) and its
// GOMAXPROCS, unless its environment sets them. The host and the plugin
// share the machine and take turns on every call, so the program runs
// Go code on half the processors Go would give it (at least one): with
// all of them, the scheduler's idle threads spin and wake each other on
// every call, and on two processors an empty call took 165 µs instead of
// 130 µs and the plugin's time per lead was a quarter higher, with the
// same throughput at four calls in flight.
func tuneRuntime() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		runtime.GOMAXPROCS(max(1, runtime.GOMAXPROCS(0)/2))
	}
}

// exitWithParent ends the program once its parent process is gone (the
// program is then re-parented), checking every interval.
func exitWithParent(parent int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != parent {
			os.Exit(0)
		}
	}
}

// server is the plugin's side of the Process service.
type server struct {
	pluginpb.UnimplementedProcessServer
	plugin sdk.Plugin
	log    hclog.Logger
}

// callContext is the sdk.Context of one call.
type callContext struct {
	config []byte
	log    hclog.Logger
}

func (c callContext) Config() []byte { return c.config }

func (c callContext) Log(level, msg string) {
	switch level {
	case "debug":
		c.log.Debug(msg)
	case "warn":
		c.log.Warn(msg)
	case "error":
		c.log.Error(msg)
	default:
		c.log.Info(msg)
	}
}

func (s *server) context(config []byte) sdk.Context { return callContext{config, s.log} }

// run answers one call: the encoded response appended to out, or an Error
// message and true.
func (s *server) run(point uint32, in, out []byte) ([]byte, bool) {
	n := len(out)
	res, err := guest.Dispatch(&s.plugin, s.context, point, in, out)
	if err != nil {
		return sdk.AppendError(out[:n], err.Error()), true
	}
	return res, false
}

func (s *server) Hello(_ context.Context, _ *pluginpb.HelloRequest) (*pluginpb.HelloResponse, error) {
	return &pluginpb.HelloResponse{Abi: sdk.ABIVersion, Points: guest.Points(&s.plugin)}, nil
}

func (s *server) Call(_ context.Context, req *pluginpb.CallRequest) (*pluginpb.CallResponse, error) {
	out, isErr := s.run(req.Point, req.Request, nil)
	return &pluginpb.CallResponse{Response: out, Error: isErr}, nil
}

// Exchange answers the calls of one stream in turn. The stream's buffers
// are reused from call to call: in receives a request, and out holds its
// encoded answer after processrpc.Headroom bytes, where the codec frames
// it without a copy. Reusing out is safe once the next request has
// arrived: the host sends it only after the whole answer, so gRPC holds
// none of it any more.
func (s *server) Exchange(stream pluginpb.Process_ExchangeServer) error {
	var in, out []byte
	for {
		point, err := receive(stream, &in)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if cap(out) < processrpc.Headroom {
			out = make([]byte, processrpc.Headroom, 64<<10)
		}
		var isErr bool
		out, isErr = s.run(point, in, out[:processrpc.Headroom])
		if err := send(stream, &out, isErr); err != nil {
			return err
		}
		if cap(in) > maxKept {
			in = nil // do not keep a huge request's buffer for ever
		}
		if cap(out) > maxKept {
			out = nil
		}
	}
}

// maxKept bounds the buffers a stream keeps between calls.
const maxKept = 64 << 20

// receive reads the frames of one call into *buf and returns its point.
func receive(stream grpc.ServerStream, buf *[]byte) (uint32, error) {
	*buf = (*buf)[:0]
	f := processrpc.Frame{Buf: buf}
	var point uint32
	for first := true; ; first = false {
		if err := stream.RecvMsg(&f); err != nil {
			if !first && err == io.EOF {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if first {
			point = f.Point
		}
		if f.Last {
			return point, nil
		}
	}
}

// send writes the answer that follows processrpc.Headroom bytes in *buf as
// frames of at most ChunkSize bytes: an answer of one frame is framed in
// place, the frames of a longer one are encoded after it in *buf.
func send(stream grpc.ServerStream, buf *[]byte, isErr bool) error {
	b := (*buf)[processrpc.Headroom:]
	f := processrpc.Frame{Error: isErr, Buf: buf}
	for {
		n := min(len(b), processrpc.ChunkSize)
		f.Data, f.Last = b[:n], n == len(b)
		if err := stream.SendMsg(&f); err != nil {
			return err
		}
		if f.Last {
			return nil
		}
		b = b[n:]
	}
}
