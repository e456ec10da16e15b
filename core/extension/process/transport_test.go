package process_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/rapportcrm/rapport/internal/processrpc"
	"github.com/rapportcrm/rapport/internal/testcert"
)

// The transport's floor: BenchmarkTransport measures round trips between
// this test binary and a copy of it serving an echo, with nothing of a
// plugin in between, to show what a process call cannot go below on the
// machine at hand.

// echoEnv, set in the environment of the test binary, makes it serve the
// echo on the unix socket it names instead of running tests.
const echoEnv = "RAPPORT_TRANSPORT_ECHO"

func TestMain(m *testing.M) {
	if sock := os.Getenv(echoEnv); sock != "" {
		if err := serveEcho(sock); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// echoService answers a Frame with a Frame of the same data, as a unary
// call or on a stream, through processrpc.Codec.
var echoService = grpc.ServiceDesc{
	ServiceName: "rapport.test.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{MethodName: "Call", Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		var buf []byte
		f := &processrpc.Frame{Buf: &buf}
		if err := dec(f); err != nil {
			return nil, err
		}
		return &processrpc.Frame{Data: f.Data, Last: true}, nil
	}}},
	Streams: []grpc.StreamDesc{{StreamName: "Exchange", ServerStreams: true, ClientStreams: true, Handler: func(_ any, s grpc.ServerStream) error {
		var in, out []byte
		for {
			in = in[:0]
			f := processrpc.Frame{Buf: &in}
			if err := s.RecvMsg(&f); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
			out = out[:0]
			if err := s.SendMsg(&processrpc.Frame{Data: f.Data, Last: true, Buf: &out}); err != nil {
				return err
			}
		}
	}}},
}

// serveEcho serves echoService with the plugin's gRPC options and mutual
// TLS (certificates from the environment, the credentials wrapped as
// sdk/process wraps go-plugin's), and raw bytes on sock+".raw", until
// standard input closes.
func serveEcho(sock string) error {
	cfg, err := echoTLS("server", os.Getenv)
	if err != nil {
		return err
	}
	lis, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	raw, err := net.Listen("unix", sock+".raw")
	if err != nil {
		return err
	}
	go func() {
		for {
			c, err := raw.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	opts := processrpc.WithServerCredentials([]grpc.ServerOption{grpc.Creds(credentials.NewTLS(cfg))})
	srv := grpc.NewServer(append(opts, processrpc.ServerOptions()...)...)
	srv.RegisterService(&echoService, nil)
	go srv.Serve(lis)
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// echoTLS is the side's mutual TLS configuration, as go-plugin's AutoMTLS
// sets up: each side trusts the other's one certificate only. getenv
// looks up the variables of certEnv.
func echoTLS(side string, getenv func(string) string) (*tls.Config, error) {
	load := func(name string) (tls.Certificate, *x509.CertPool, error) {
		cert, err := tls.X509KeyPair([]byte(getenv(echoEnv+"_"+name+"_CERT")), []byte(getenv(echoEnv+"_"+name+"_KEY")))
		if err != nil {
			return cert, nil, err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(getenv(echoEnv + "_" + name + "_CERT")))
		return cert, pool, nil
	}
	server, serverPool, err := load("SERVER")
	if err != nil {
		return nil, err
	}
	client, clientPool, err := load("CLIENT")
	if err != nil {
		return nil, err
	}
	if side == "server" {
		return &tls.Config{Certificates: []tls.Certificate{server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientPool, MinVersion: tls.VersionTLS12}, nil
	}
	return &tls.Config{Certificates: []tls.Certificate{client}, RootCAs: serverPool, ServerName: "localhost", MinVersion: tls.VersionTLS12}, nil
}

// certEnv generates a certificate and key for name, as environment
// variables for echoTLS.
func certEnv(tb testing.TB, name string) []string {
	der, key := testcert.New(tb)
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return []string{
		echoEnv + "_" + name + "_CERT=" + string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		echoEnv + "_" + name + "_KEY=" + string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})),
	}
}

// startEcho starts the echo process with extra environment and returns
// its socket.
func startEcho(b *testing.B, env ...string) string {
	sock := filepath.Join(b.TempDir(), "echo")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), echoEnv+"="+sock), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); cmd.Wait() })
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
		b.Fatalf("echo process: %q %v", line, err)
	}
	return sock
}

// BenchmarkTransport is the round trip of a 16-byte message between two
// processes on this machine: over a bare unix socket ("socket"), and
// over gRPC with the process runtime's options, codec and mutual TLS, as
// a unary call ("unary") and on a stream ("stream", as the runtime calls).
// The serving process runs with Go's default GOMAXPROCS, or with 1
// ("server-procs-1").
func BenchmarkTransport(b *testing.B) {
	certs := append(certEnv(b, "SERVER"), certEnv(b, "CLIENT")...)
	getenv := func(k string) string {
		for _, e := range certs {
			if v, ok := strings.CutPrefix(e, k+"="); ok {
				return v
			}
		}
		return ""
	}
	cfg, err := echoTLS("client", getenv)
	if err != nil {
		b.Fatal(err)
	}
	for _, procs := range []string{"", "1"} {
		env, suffix := certs, ""
		if procs != "" {
			env, suffix = append(env[:len(env):len(env)], "GOMAXPROCS="+procs), "/server-procs-"+procs
		}
		sock := startEcho(b, env...)
		b.Run("socket"+suffix, func(b *testing.B) { benchSocket(b, sock+".raw") })
		cc, err := grpc.Dial("echo", append(processrpc.DialOptions(),
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", sock)
			}),
			grpc.WithTransportCredentials(processrpc.HostCredentials(func() *tls.Config { return cfg })))...)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("unary"+suffix, func(b *testing.B) { benchUnary(b, cc) })
		b.Run("stream"+suffix, func(b *testing.B) { benchStream(b, cc) })
		cc.Close()
	}
}

var echoMsg = make([]byte, 16)

func benchSocket(b *testing.B, sock string) {
	c, err := net.Dial("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, len(echoMsg))
	for b.Loop() {
		if _, err := c.Write(echoMsg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func benchUnary(b *testing.B, cc *grpc.ClientConn) {
	var out, in []byte
	for b.Loop() {
		out, in = out[:0], in[:0]
		if err := cc.Invoke(context.Background(), "/rapport.test.Echo/Call", &processrpc.Frame{Point: 1, Data: echoMsg, Last: true, Buf: &out}, &processrpc.Frame{Buf: &in}); err != nil {
			b.Fatal(err)
		}
	}
}

func benchStream(b *testing.B, cc *grpc.ClientConn) {
	s, err := cc.NewStream(context.Background(), &echoService.Streams[0], "/rapport.test.Echo/Exchange")
	if err != nil {
		b.Fatal(err)
	}
	defer s.CloseSend()
	var out, in []byte
	for b.Loop() {
		out, in = out[:0], in[:0]
		if err := s.SendMsg(&processrpc.Frame{Point: 1, Data: echoMsg, Last: true, Buf: &out}); err != nil {
			b.Fatal(err)
		}
		if err := s.RecvMsg(&processrpc.Frame{Buf: &in}); err != nil {
			b.Fatal(err)
		}
	}
}
