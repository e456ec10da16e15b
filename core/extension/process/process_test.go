package process_test

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/extension/process"
	"github.com/rapportcrm/rapport/examples/leadscore"
	"github.com/rapportcrm/rapport/internal/processrpc"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

// leadscoreClient starts the example scorer's process build.
func leadscoreClient(t testing.TB) (*manifest.Manifest, *process.Client) {
	t.Helper()
	dir := filepath.Join(extensiontest.ProcessPlugins(t), "leadscore")
	m, err := manifest.Load(filepath.Join(dir, manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	c := process.New(process.Config{Name: m.Ref(), Plugin: m.Name, Command: []string{filepath.Join(dir, m.Command[0])}, Dir: dir,
		Points: m.Points, Timeout: time.Minute})
	t.Cleanup(func() { c.Close(context.Background()) })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m, c
}

// fake starts the test plugin in mode, with cfg's zero fields defaulted.
func fake(t testing.TB, mode string, cfg process.Config) *process.Client {
	t.Helper()
	cfg.Name, cfg.Command = "fake@"+mode, []string{extensiontest.FakeProcess(t), mode}
	if cfg.Points == nil {
		cfg.Points = []sdk.Point{sdk.PointScore}
	}
	c := process.New(cfg)
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func lead(amounts ...float64) *sdk.ScoreRequest {
	return &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead", Count: len(amounts), Columns: []sdk.Column{{Name: "estimated_value", Numbers: amounts}}}}
}

type hostContext struct{ config []byte }

func (c hostContext) Config() []byte    { return c.config }
func (hostContext) Log(level, m string) {}

func cause(err error) string {
	var f *process.Fault
	if errors.As(err, &f) {
		return f.Cause
	}
	return ""
}

// TestMatchesNative scores leads through the process build and natively:
// the process runs the same Go code, so the answers are bit-identical,
// including a 100,000-lead batch far above gRPC's 4 MiB message limit.
func TestMatchesNative(t *testing.T) {
	_, c := leadscoreClient(t)
	if c.Protocol() != processrpc.ProtocolStream {
		t.Errorf("negotiated protocol %d", c.Protocol())
	}
	for _, n := range []int{0, 1, 1000, 100_000} {
		leads := leadscore.Synthetic(n)
		req := leadscore.NewColumns(max(n, 1)).Fill(leads)
		req.Config = []byte(`{"hot": 60, "warm": 30}`)
		got, err := c.Score(context.Background(), req)
		if err != nil {
			t.Fatalf("%d leads: %v", n, err)
		}
		want, err := leadscore.Score(hostContext{req.Config}, req)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if got.Values[i] != want.Values[i] || got.Label(i) != want.Label(i) {
				t.Fatalf("%d leads, lead %d: %v %q, native %v %q", n, i, got.Values[i], got.Label(i), want.Values[i], want.Label(i))
			}
		}
		for i := range want.Contributions {
			if got.Contributions[i] != want.Contributions[i] {
				t.Fatalf("%d leads: contribution %d differs", n, i)
			}
		}
	}
}

// TestConformance runs the conformance kit on the process build.
func TestConformance(t *testing.T) {
	m, c := leadscoreClient(t)
	pluginkit.Run(t, extension.ProcessTarget(m, c))
}

// TestRefused starts plugins that break the handshake: each is refused
// with an error that says why.
func TestRefused(t *testing.T) {
	for _, tc := range []struct{ mode, want string }{
		{"cookie", "magic cookie"},
		{"protocol", "process protocol version 99"},
		{"abi", "ABI version 7"},
		{"noscore", "does not implement"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			c := fake(t, tc.mode, process.Config{})
			err := c.Start(context.Background())
			if cause(err) != "start" || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "handshake") {
				t.Fatalf("got %v, want a start fault saying %q", err, tc.want)
			}
			// A call fails too, at once, and the plugin is reported.
			if _, err := c.Score(context.Background(), lead(1)); err == nil {
				t.Fatal("call succeeded")
			}
			if h := c.Health(); h == "" {
				t.Error("health is fine")
			}
		})
	}
}

// TestMalformedAnswer: an answer that is not a response fails the call.
func TestMalformedAnswer(t *testing.T) {
	c := fake(t, "garbage", process.Config{})
	_, err := c.Score(context.Background(), lead(1, 2))
	if cause(err) != "malformed" {
		t.Fatalf("got %v", err)
	}
}

// TestOlderPlugin: a plugin that speaks only protocol 1 (unary calls)
// still works against this host.
func TestOlderPlugin(t *testing.T) {
	c := fake(t, "v1", process.Config{})
	resp, err := c.Score(context.Background(), lead(math.E-1, 0))
	if err != nil || resp.Values[0] != 1 || resp.Values[1] != 0 {
		t.Fatalf("%+v %v", resp, err)
	}
	if c.Protocol() != processrpc.ProtocolUnary {
		t.Errorf("negotiated protocol %d", c.Protocol())
	}
}

// TestPlainProtoPlugin: a plugin that serves protocol 2 with the generated
// code and gRPC's defaults (another SDK's, or an older one's) gets and
// answers calls of one and of several frames.
func TestPlainProtoPlugin(t *testing.T) {
	c := fake(t, "v2plain", process.Config{Timeout: time.Minute})
	for _, n := range []int{0, 1, 1000, 300_000} {
		amounts := make([]float64, n)
		for i := range amounts {
			amounts[i] = float64(i % 1000)
		}
		resp, err := c.Score(context.Background(), lead(amounts...))
		if err != nil {
			t.Fatalf("%d leads: %v", n, err)
		}
		for i, v := range amounts {
			if resp.Values[i] != math.Log1p(v) {
				t.Fatalf("%d leads: lead %d scored %v, want %v", n, i, resp.Values[i], math.Log1p(v))
			}
		}
	}
	if c.Protocol() != processrpc.ProtocolStream {
		t.Errorf("negotiated protocol %d", c.Protocol())
	}
}

// TestDeadline: a call that outlives its deadline fails as a timeout, and
// the next call goes through.
func TestDeadline(t *testing.T) {
	c := fake(t, "good", process.Config{Timeout: 500 * time.Millisecond})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	slow := lead(1)
	slow.Config = []byte(`{"sleep_ms": 20000}`)
	start := time.Now()
	_, err := c.Score(context.Background(), slow)
	if cause(err) != "timeout" || time.Since(start) > 10*time.Second {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	if _, err := c.Score(context.Background(), lead(1)); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond every 20 ms for up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gone reports whether process pid no longer exists (or is a zombie).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

// TestKillMidCall kills the process during a call: the call fails at once,
// the process is back within seconds, and the next call succeeds.
func TestKillMidCall(t *testing.T) {
	c := fake(t, "good", process.Config{Timeout: time.Minute})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	pid := c.PID()
	mark := filepath.Join(t.TempDir(), "called")
	slow := lead(1)
	slow.Config = []byte(`{"sleep_ms": 60000, "mark": "` + mark + `"}`)
	errc := make(chan error, 1)
	go func() { _, err := c.Score(context.Background(), slow); errc <- err }()
	waitFor(t, 20*time.Second, "the call reaches the plugin", func() bool { _, err := os.Stat(mark); return err == nil })
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if cause(err) != "crash" {
			t.Fatalf("call in flight: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call in flight hangs after the process died")
	}
	waitFor(t, 20*time.Second, "a new process", func() bool { p := c.PID(); return p != 0 && p != pid })
	if _, err := c.Score(context.Background(), lead(1)); err != nil {
		t.Fatal(err)
	}
	if !gone(pid) {
		t.Error("the killed process lingers")
	}
}

// TestUnhealthy stops the process (SIGSTOP): health checks fail, the
// plugin is reported unhealthy, and a new process takes over.
func TestUnhealthy(t *testing.T) {
	c := fake(t, "good", process.Config{HealthInterval: 100 * time.Millisecond, HealthTimeout: 300 * time.Millisecond, HealthFailures: 3})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	pid := c.PID()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "reported unhealthy", func() bool { return strings.HasPrefix(c.Health(), "unhealthy: ") })
	if c.Up() {
		t.Error("up while unhealthy")
	}
	waitFor(t, 30*time.Second, "a new process", func() bool { p := c.PID(); return p != 0 && p != pid })
	waitFor(t, 10*time.Second, "the stopped process is killed", func() bool { return gone(pid) })
	if _, err := c.Score(context.Background(), lead(1)); err != nil {
		t.Fatal(err)
	}
}

// TestCloseStopsProcess: after Close the process is gone.
func TestCloseStopsProcess(t *testing.T) {
	c := fake(t, "good", process.Config{})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	pid := c.PID()
	if pid == 0 {
		t.Fatal("no pid")
	}
	c.Close(context.Background())
	if !gone(pid) {
		t.Fatal("process still running after Close")
	}
	if _, err := c.Score(context.Background(), lead(1)); cause(err) != "closed" {
		t.Fatalf("call after Close: %v", err)
	}
}

// TestExitsWithParent starts the plugin under a shell that exits soon
// after: the orphaned plugin notices and exits.
func TestExitsWithParent(t *testing.T) {
	cmd := exec.Command("sh", "-c", extensiontest.FakeProcess(t)+" good >/dev/null 2>&1 & echo $!; sleep 2")
	cmd.Env = append(os.Environ(), processrpc.Handshake.MagicCookieKey+"="+processrpc.Handshake.MagicCookieValue, "PLUGIN_PROTOCOL_VERSIONS=2")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the orphaned plugin exits", func() bool { return gone(pid) })
}
