// Package process runs extension-point plugins as programs of their own
// (manifest runtime "process"), on go-plugin in gRPC mode: the host starts
// the plugin's command, checks a handshake (magic cookie and negotiated
// protocol version, then the plugin's ABI version), and talks to it over a
// local socket with automatic mutual TLS. Requests and answers are the
// encoded messages of sdk/proto/rapport/plugin/v1/plugin.proto, the same
// bytes the WASM runtime passes through guest memory; process.proto only
// carries them, in chunks on long-lived streams, so a batch of any size
// stays within gRPC's message limits and several calls can be in flight at
// once.
//
// A Client supervises one plugin process: it starts it lazily or at once,
// gives every call a deadline, checks the process's health (go-plugin's
// gRPC health service, every HealthInterval), and restarts a process that
// died or failed its health checks HealthFailures times, with exponential
// backoff. A call in flight when the process dies fails at once with a
// *Fault. Health reports what the registry shows as the plugin's status.
//
// Unlike a WASM module, a process plugin is not sandboxed: it runs with the
// server's user and privileges, and the manifest's memory limit does not
// apply. Install only plugins you trust. See sdk/PROCESS.md.
package process

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/rapportcrm/rapport/internal/processrpc"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/pluginpb"
)

// Start says when a plugin's process starts.
type Start string

// When plugin processes start.
const (
	// StartLazy starts a process on its plugin's first call.
	StartLazy Start = "lazy"
	// StartBoot starts it when the plugin is loaded.
	StartBoot Start = "boot"
)

// Config configures a Client. Command is required.
type Config struct {
	// Name labels the plugin in logs and errors, e.g. "leadscore@1.0.0".
	Name string
	// Plugin is the manifest's name, under which RAPPORT_PLUGIN_REATTACH
	// may point at a process already running in debug mode.
	Plugin string
	// Command is the program (an absolute path) and its arguments.
	Command []string
	// Dir is the process's working directory.
	Dir string
	// Points are the extension points the manifest declares; a plugin
	// that does not implement one of them is refused.
	Points []sdk.Point
	// Timeout is each call's deadline (default 10 s).
	Timeout time.Duration
	// StartTimeout bounds starting a process and its handshake
	// (default 30 s).
	StartTimeout time.Duration
	// HealthInterval is the time between health checks (default 5 s);
	// HealthTimeout bounds one (default 5 s); after HealthFailures failed
	// checks in a row (default 3) the process is restarted and the
	// plugin reported unhealthy.
	HealthInterval time.Duration
	HealthTimeout  time.Duration
	HealthFailures int
	// Logger receives the plugin's log lines and the client's messages.
	Logger *slog.Logger
}

// Fault is a failed call. Its Cause is one of "start" (the process could
// not be started or refused the handshake), "unavailable" (it is being
// restarted), "crash" (it died or its connection broke during the call),
// "timeout" (the deadline passed), "malformed" (its answer broke the
// contract), "plugin_error" (it answered with an error of its own) or
// "closed".
type Fault struct {
	Plugin string
	Cause  string
	Err    error
}

func (f *Fault) Error() string { return fmt.Sprintf("plugin %s: %s: %v", f.Plugin, f.Cause, f.Err) }

// Unwrap returns the underlying error.
func (f *Fault) Unwrap() error { return f.Err }

// Client runs one plugin process and calls it. It is safe for concurrent
// use.
type Client struct {
	cfg  Config
	log  *slog.Logger
	done chan struct{}
	kick chan struct{}
	wg   sync.WaitGroup // the supervisor and processes being stopped

	mu       sync.Mutex
	conn     *conn
	starting chan struct{} // closed when the start in progress ends
	started  bool          // a process was asked for at least once
	closed   bool
	failures int       // starts, crashes and health failures since the last proven-good process
	lastErr  error     // why the last process went away or could not start
	next     time.Time // no start before this (backoff)
	pings    int       // failed health checks in a row of the current process
}

// New returns a client that starts its process on the first call, or when
// Start is called.
func New(cfg Config) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 30 * time.Second
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = 5 * time.Second
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = 5 * time.Second
	}
	if cfg.HealthFailures <= 0 {
		cfg.HealthFailures = 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Client{cfg: cfg, log: cfg.Logger.With("plugin", cfg.Name), done: make(chan struct{}), kick: make(chan struct{}, 1)}
	c.wg.Add(1)
	go c.supervise()
	return c
}

// Start starts the process now, if it is not running, and waits until it
// has answered the handshake.
func (c *Client) Start(ctx context.Context) error {
	_, err := c.connect(ctx)
	return err
}

// Close stops the process (politely, then by force) and waits until it
// has exited. Calls in flight fail.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cn := c.conn
	c.conn = nil
	c.mu.Unlock()
	close(c.done)
	if cn != nil {
		c.stop(cn, false)
	}
	c.wg.Wait()
	return nil
}

// Health is "" while the plugin is ready (running and healthy, or not
// started yet), "restarting: REASON" while a failed process is being
// replaced, and "unhealthy: REASON" once it has failed HealthFailures times
// in a row without a process proving itself since.
func (c *Client) Health() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return "closed"
	case c.failures >= c.cfg.HealthFailures && c.lastErr != nil:
		return "unhealthy: " + c.lastErr.Error()
	case c.conn == nil && c.lastErr != nil:
		return "restarting: " + c.lastErr.Error()
	}
	return ""
}

// Up reports whether a process is running and passed its last health check.
func (c *Client) Up() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn != nil && c.pings == 0
}

// PID is the running process's ID, or 0.
func (c *Client) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return 0
	}
	return c.conn.pid
}

// Protocol is the transport version negotiated with the running process,
// or 0.
func (c *Client) Protocol() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return 0
	}
	return c.conn.remote.Version
}

// backoff is the wait before the next start after n failures.
func backoff(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := 100 * time.Millisecond << min(n-1, 9)
	return min(d, 30*time.Second)
}

// connect returns the running process, starting one (or waiting for the
// start in progress) when there is none.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	for {
		if c.closed {
			c.mu.Unlock()
			return nil, &Fault{Plugin: c.cfg.Name, Cause: "closed", Err: errors.New("plugin closed")}
		}
		if c.conn != nil {
			cn := c.conn
			c.mu.Unlock()
			return cn, nil
		}
		c.started = true
		ch := c.starting
		if ch == nil {
			if wait := time.Until(c.next); wait > 0 {
				reason := c.lastErr
				c.mu.Unlock()
				if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
					return nil, &Fault{Plugin: c.cfg.Name, Cause: "unavailable", Err: fmt.Errorf("restarting in %v: %w", wait.Round(time.Millisecond), reason)}
				}
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return nil, &Fault{Plugin: c.cfg.Name, Cause: "unavailable", Err: fmt.Errorf("restarting: %w", reason)}
				}
				c.mu.Lock()
				continue
			}
			ch = c.startLocked()
		}
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, &Fault{Plugin: c.cfg.Name, Cause: "timeout", Err: fmt.Errorf("waiting for the process to start: %w", ctx.Err())}
		}
		c.mu.Lock()
		if c.conn == nil && c.lastErr != nil && !c.closed {
			err := c.lastErr
			c.mu.Unlock()
			return nil, &Fault{Plugin: c.cfg.Name, Cause: "start", Err: err}
		}
	}
}

// startLocked launches a process in the background; the channel closes
// when it is running or has failed. c.mu is held.
func (c *Client) startLocked() chan struct{} {
	ch := make(chan struct{})
	c.starting = ch
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		cn, err := c.launch()
		c.mu.Lock()
		c.starting = nil
		switch {
		case c.closed && cn != nil:
			c.mu.Unlock()
			c.stop(cn, false)
			c.mu.Lock()
		case err != nil:
			c.failures++
			c.lastErr = err
			c.next = time.Now().Add(backoff(c.failures))
			c.log.Warn("plugin process did not start", "err", err, "failures", c.failures)
		default:
			c.conn, c.pings = cn, 0
			c.log.Info("plugin process started", "pid", cn.pid, "protocol", cn.remote.Version)
		}
		c.mu.Unlock()
		close(ch)
	}()
	return ch
}

// drop forgets cn after a failure, schedules a restart and stops it.
func (c *Client) drop(cn *conn, reason error, force bool) {
	c.mu.Lock()
	if c.conn != cn {
		c.mu.Unlock()
		return
	}
	c.conn = nil
	c.failures++
	c.lastErr = reason
	c.next = time.Now().Add(backoff(c.failures))
	c.mu.Unlock()
	c.log.Warn("plugin process failed; restarting", "pid", cn.pid, "err", reason, "failures", c.failures)
	c.stop(cn, force)
}

// stop ends cn's process in the background, tracked by c.wg.
func (c *Client) stop(cn *conn, force bool) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		cn.close(force)
	}()
}

// supervise watches the running process: it notices an exit within a
// quarter second, checks health every HealthInterval (at once after a
// failed call), and restarts a failed process once its backoff passed.
func (c *Client) supervise() {
	defer c.wg.Done()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var lastCheck time.Time
	for {
		urgent := false
		select {
		case <-c.done:
			return
		case <-c.kick:
			urgent = true
		case <-tick.C:
		}
		c.mu.Lock()
		cn, started, starting, next := c.conn, c.started, c.starting != nil, c.next
		c.mu.Unlock()
		switch {
		case cn != nil && cn.pc.Exited():
			c.drop(cn, errors.New("process exited"), false)
		case cn != nil && (urgent || cn.suspect.Load() || time.Since(lastCheck) >= c.cfg.HealthInterval):
			lastCheck = time.Now()
			c.check(cn)
		case cn == nil && started && !starting && !time.Now().Before(next):
			c.mu.Lock()
			if c.conn == nil && c.starting == nil && !c.closed {
				c.startLocked()
			}
			c.mu.Unlock()
		}
	}
}

// check runs one health check of cn.
func (c *Client) check(cn *conn) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.HealthTimeout)
	err := cn.ping(ctx)
	cancel()
	c.mu.Lock()
	if c.conn != cn {
		c.mu.Unlock()
		return
	}
	if err == nil {
		cn.suspect.Store(false)
		c.pings = 0
		if c.failures > 0 && time.Since(cn.since) > 30*time.Second {
			c.failures, c.lastErr = 0, nil // the process proved itself
		}
		c.mu.Unlock()
		return
	}
	c.pings++
	pings := c.pings
	c.mu.Unlock()
	c.log.Warn("plugin health check failed", "err", err, "in_a_row", pings)
	if pings >= c.cfg.HealthFailures {
		c.mu.Lock()
		c.failures = max(c.failures, c.cfg.HealthFailures-1) // drop adds the last
		c.mu.Unlock()
		c.drop(cn, fmt.Errorf("%d health checks failed: %w", pings, err), true)
	}
}

// nudge asks the supervisor to look at the process now.
func (c *Client) nudge() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Call runs point on the encoded request req and hands the encoded
// response to decode, which must not keep it. A failure is a *Fault.
func (c *Client) Call(ctx context.Context, point sdk.Point, req []byte, decode func([]byte) error) error {
	return c.call(ctx, point, func(b []byte) []byte { return append(b, req...) }, decode)
}

// call is Call with the request written by encode, which appends it to
// the buffer it is given: the stream's own, so that the request goes out
// without another copy.
func (c *Client) call(ctx context.Context, point sdk.Point, encode func([]byte) []byte, decode func([]byte) error) error {
	num := processrpc.PointNumber(point)
	if num == 0 {
		return &Fault{Plugin: c.cfg.Name, Cause: "malformed", Err: fmt.Errorf("unknown extension point %q", point)}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	cn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	cause, err := cn.call(ctx, num, encode, decode)
	if err == nil {
		return nil
	}
	if cause == "crash" {
		cn.suspect.Store(true)
		c.nudge()
	}
	return &Fault{Plugin: c.cfg.Name, Cause: cause, Err: err}
}

// launch starts a process and checks its handshake and ABI.
func (c *Client) launch() (*conn, error) {
	reattach, err := processrpc.ReattachFromEnv(c.cfg.Plugin)
	if err != nil {
		return nil, err
	}
	tail := &tailWriter{}
	pcfg := &plugin.ClientConfig{
		HandshakeConfig:  processrpc.Handshake,
		VersionedPlugins: processrpc.Sets(nil),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     c.cfg.StartTimeout,
		Stderr:           tail,
		Logger:           newHCLogger(c.log),
	}
	// go-plugin sets pcfg.TLSConfig when it starts the process; the
	// credentials read it when they connect.
	pcfg.GRPCDialOptions = append(processrpc.DialOptions(),
		grpc.WithTransportCredentials(processrpc.HostCredentials(func() *tls.Config { return pcfg.TLSConfig })))
	if reattach != nil {
		pcfg.Reattach = reattach
		c.log.Info("attaching to a plugin process in debug mode", "pid", reattach.Pid, "addr", reattach.Addr)
	} else {
		if len(c.cfg.Command) == 0 {
			return nil, errors.New("no command to start")
		}
		cmd := exec.Command(c.cfg.Command[0], c.cfg.Command[1:]...)
		cmd.Dir = c.cfg.Dir
		pcfg.Cmd = cmd
		pcfg.AutoMTLS = true
	}
	pc := plugin.NewClient(pcfg)
	cn, err := c.handshake(pc, tail)
	if err != nil {
		pc.Kill()
		return nil, err
	}
	cn.reattached = reattach != nil
	return cn, nil
}

var protocolMismatch = regexp.MustCompile(`Plugin version: (\d+)`)

func (c *Client) handshake(pc *plugin.Client, tail *tailWriter) (*conn, error) {
	proto, err := pc.Client()
	if err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(tail.String(), "This binary is a plugin"):
			return nil, errors.New("handshake refused: the program does not accept this host's magic cookie (is it a Rapport process plugin?)")
		case strings.Contains(msg, "incompatible API version"):
			v := "another"
			if m := protocolMismatch.FindStringSubmatch(msg); m != nil {
				v = m[1]
			}
			return nil, fmt.Errorf("handshake failed: the plugin speaks process protocol version %s, this host speaks %v; rebuild it with this SDK", v, processrpc.Versions)
		}
		if t := tail.String(); t != "" {
			msg += "; its standard error ends: " + t
		}
		return nil, fmt.Errorf("handshake failed: %s", msg)
	}
	raw, err := proto.Dispense(processrpc.Name)
	if err != nil {
		return nil, fmt.Errorf("handshake failed: %w", err)
	}
	remote, ok := raw.(*processrpc.Remote)
	grpcClient, ok2 := proto.(*plugin.GRPCClient)
	if !ok || !ok2 {
		return nil, errors.New("handshake failed: the plugin does not serve gRPC")
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.StartTimeout)
	defer cancel()
	hello, err := remote.Client.Hello(ctx, &pluginpb.HelloRequest{Abi: sdk.ABIVersion})
	if err != nil {
		return nil, fmt.Errorf("handshake failed: hello: %w", err)
	}
	if hello.Abi != sdk.ABIVersion {
		return nil, fmt.Errorf("handshake failed: the plugin speaks ABI version %d, this host speaks ABI version %d", hello.Abi, sdk.ABIVersion)
	}
	for _, pt := range c.cfg.Points {
		if !slices.Contains(hello.Points, string(pt)) {
			return nil, fmt.Errorf("handshake failed: the manifest declares point %s, which the plugin does not implement (it implements %v)", pt, hello.Points)
		}
	}
	cn := &conn{pc: pc, remote: remote, health: grpc_health_v1.NewHealthClient(grpcClient.Conn), since: time.Now(), idle: make(chan *stream, 16)}
	cn.ctx, cn.cancel = context.WithCancel(context.Background())
	if rc := pc.ReattachConfig(); rc != nil {
		cn.pid = rc.Pid
	}
	return cn, nil
}

// conn is one running process.
type conn struct {
	pc         *plugin.Client
	remote     *processrpc.Remote
	health     grpc_health_v1.HealthClient
	pid        int
	since      time.Time
	reattached bool
	suspect    atomic.Bool // a call failed on the transport: check now

	ctx    context.Context // ends the streams
	cancel context.CancelFunc
	idle   chan *stream
}

// close ends the process: politely (go-plugin asks it to shut down and
// kills it after 2 s), or at once when force is set, as for a process that
// stopped answering. An attached debug process is left running.
func (cn *conn) close(force bool) {
	cn.cancel()
	if force && !cn.reattached && cn.pid > 0 {
		if p, err := os.FindProcess(cn.pid); err == nil {
			_ = p.Kill()
		}
	}
	cn.pc.Kill()
}

func (cn *conn) ping(ctx context.Context) error {
	resp, err := cn.health.Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName})
	if err != nil {
		return err
	}
	if resp.Status != grpc_health_v1.HealthCheckResponse_SERVING {
		return fmt.Errorf("health: %s", resp.Status)
	}
	return nil
}

// stream is one long-lived Exchange stream and the buffers its calls
// reuse: out holds the request being sent, encoded after
// processrpc.Headroom bytes so that it is framed where it lies, and in
// the answer being received when it takes several frames. Reusing out for
// the next call is safe: the answer has arrived, so gRPC has written the
// request's frames and holds none.
type stream struct {
	s       pluginpb.Process_ExchangeClient
	cancel  context.CancelFunc
	in, out []byte
}

// maxKept bounds the buffers a stream keeps between calls: one huge call
// does not pin its memory for ever.
const maxKept = 64 << 20

func (cn *conn) getStream() (*stream, error) {
	select {
	case st := <-cn.idle:
		return st, nil
	default:
	}
	ctx, cancel := context.WithCancel(cn.ctx)
	s, err := cn.remote.Client.Exchange(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	return &stream{s: s, cancel: cancel}, nil
}

func (cn *conn) putStream(st *stream) {
	if cap(st.in) > maxKept {
		st.in = nil
	}
	if cap(st.out) > maxKept {
		st.out = nil
	}
	select {
	case cn.idle <- st:
	default:
		st.cancel()
	}
}

// call runs one call and returns the Fault cause with its error.
func (cn *conn) call(ctx context.Context, point uint32, encode func([]byte) []byte, decode func([]byte) error) (string, error) {
	if cn.remote.Version < processrpc.ProtocolStream {
		resp, err := cn.remote.Client.Call(ctx, &pluginpb.CallRequest{Point: point, Request: encode(nil)})
		if err != nil {
			return transportCause(ctx, err)
		}
		return answer(resp.Response, resp.Error, decode)
	}
	st, err := cn.getStream()
	if err != nil {
		return transportCause(ctx, err)
	}
	stop := context.AfterFunc(ctx, st.cancel)
	var (
		answered bool
		cause    string
		bad      error
	)
	isErr, err := st.exchange(point, encode, func(b []byte, isErr bool) {
		answered = true
		cause, bad = answer(b, isErr, decode)
	})
	if !stop() || err != nil {
		// The deadline cut the stream, or the stream broke: it cannot
		// carry another call.
		st.cancel()
		if err != nil {
			return transportCause(ctx, err)
		}
	} else {
		defer cn.putStream(st)
	}
	if answered {
		return cause, bad
	}
	return answer(st.in, isErr, decode)
}

// exchange sends one call on st and reads its answer: an answer of one
// frame goes to use while it is still in gRPC's receive buffer, and a
// longer one is joined in st.in (whether it is an Error message is
// returned), valid until st's next call.
func (st *stream) exchange(point uint32, encode func([]byte) []byte, use func(b []byte, isErr bool)) (bool, error) {
	if cap(st.out) < processrpc.Headroom {
		st.out = make([]byte, processrpc.Headroom, 64<<10)
	}
	st.out = encode(st.out[:processrpc.Headroom])
	req := st.out[processrpc.Headroom:]
	st.in = st.in[:0]
	f := processrpc.Frame{Point: point, Buf: &st.out}
	for {
		n := min(len(req), processrpc.ChunkSize)
		f.Data, f.Last = req[:n], n == len(req)
		if err := st.s.SendMsg(&f); err != nil {
			return false, err
		}
		if f.Last {
			break
		}
		f.Point = 0
		req = req[n:]
	}
	in := processrpc.Frame{Buf: &st.in, Use: use}
	for {
		if err := st.s.RecvMsg(&in); err != nil {
			if err == io.EOF {
				return false, io.ErrUnexpectedEOF
			}
			return false, err
		}
		if in.Last {
			return in.Error, nil
		}
	}
}

// answer hands a response to decode, or reads an Error message.
func answer(b []byte, isErr bool, decode func([]byte) error) (string, error) {
	if isErr {
		msg, err := sdk.DecodeError(b)
		if err != nil {
			return "malformed", fmt.Errorf("error answer: %w", err)
		}
		return "plugin_error", errors.New(msg)
	}
	if err := decode(b); err != nil {
		return "malformed", err
	}
	return "", nil
}

// transportCause classifies a failed RPC: the caller's deadline, or a
// process that died or broke its connection.
func transportCause(ctx context.Context, err error) (string, error) {
	if ctx.Err() != nil {
		return "timeout", fmt.Errorf("no answer: %w", ctx.Err())
	}
	if s, ok := status.FromError(err); ok && s.Code() == codes.ResourceExhausted {
		return "malformed", err
	}
	return "crash", fmt.Errorf("the plugin process failed during the call: %w", err)
}

// tailWriter keeps the last 2 KiB written to it: the end of a plugin's
// standard error, quoted when it fails to start.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2048 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-2048:]...)
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
