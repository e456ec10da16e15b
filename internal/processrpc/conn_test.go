package processrpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/rapportcrm/rapport/internal/testcert"
	"github.com/rapportcrm/rapport/sdk/pluginpb"
)

// echo answers every call of an Exchange stream with its request
// reversed, through the generated code and gRPC's own TLS, as a plugin
// built with another SDK would.
type echo struct {
	pluginpb.UnimplementedProcessServer
}

func (echo) Exchange(s pluginpb.Process_ExchangeServer) error {
	var req []byte
	for {
		f, err := s.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		req = append(req, f.Data...)
		if !f.Last {
			continue
		}
		out := bytes.Clone(req)
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		req = req[:0]
		for first := true; first || len(out) > 0; first = false {
			n := min(len(out), ChunkSize)
			if err := s.Send(&pluginpb.Frame{Data: out[:n], Last: n == len(out)}); err != nil {
				return err
			}
			out = out[n:]
		}
	}
}

func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	der, key := testcert.New(t)
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestHostCredentials calls a plugin served with gRPC's TLS credentials
// (mutual, as go-plugin's AutoMTLS), as they are or wrapped as the SDK's
// plugins wrap them (WithServerCredentials), through HostCredentials,
// with calls of many records in flight on several streams at once: every
// answer comes back intact. Requests are sent as a host sends them (framed
// in place, or copied) and answers read as it reads them (handed to Use,
// or joined in the buffer).
func TestHostCredentials(t *testing.T) {
	for _, wrapped := range []bool{false, true} {
		for _, inPlace := range []bool{false, true} {
			t.Run(fmt.Sprintf("wrapped=%v,inPlace=%v", wrapped, inPlace), func(t *testing.T) { testHostCredentials(t, wrapped, inPlace) })
		}
	}
}

func testHostCredentials(t *testing.T, wrapped, inPlace bool) {
	serverCert, serverPool := testCert(t)
	clientCert, clientPool := testCert(t)
	sock := filepath.Join(t.TempDir(), "plugin")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	opts := []grpc.ServerOption{grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientPool, MinVersion: tls.VersionTLS12,
	}))}
	if wrapped {
		opts = WithServerCredentials(opts)
	}
	srv := grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(MaxMessage))...)
	pluginpb.RegisterProcessServer(srv, echo{})
	go srv.Serve(lis)
	defer srv.Stop()

	var cfg *tls.Config // set after the options are built, as go-plugin does
	dial := append(DialOptions(),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}),
		grpc.WithTransportCredentials(HostCredentials(func() *tls.Config { return cfg })))
	cfg = &tls.Config{Certificates: []tls.Certificate{clientCert}, RootCAs: serverPool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	cc, err := grpc.Dial("plugin", dial...)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := pluginpb.NewProcessClient(cc)

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := client.Exchange(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			var out, in []byte
			for i, size := range []int{0, 1, 16 << 10, 80_000, ChunkSize, 3*ChunkSize + 77, 5} {
				req := make([]byte, size)
				for j := range req {
					req[j] = byte(j*7 + w + i)
				}
				out, in = out[:0], in[:0]
				rest := req
				if inPlace {
					out = append(append(out, make([]byte, Headroom)...), req...)
					rest = out[Headroom:]
				}
				for first := true; first || len(rest) > 0; first = false {
					n := min(len(rest), ChunkSize)
					if err := s.SendMsg(&Frame{Point: 1, Data: rest[:n], Last: n == len(rest), Buf: &out}); err != nil {
						t.Error(err)
						return
					}
					rest = rest[n:]
				}
				var used bool
				f := Frame{Buf: &in}
				if inPlace {
					f.Use = func(b []byte, isErr bool) { used, in = true, append(in, b...) }
				}
				for !f.Last {
					if err := s.RecvMsg(&f); err != nil {
						t.Error(err)
						return
					}
				}
				if inPlace && used != (size <= ChunkSize) {
					t.Errorf("stream %d, call %d: an answer of %d bytes went to Use: %v", w, i, size, used)
				}
				if len(in) != size {
					t.Errorf("stream %d, call %d: %d bytes back, want %d", w, i, len(in), size)
					return
				}
				for j := range in {
					if in[j] != req[size-1-j] {
						t.Errorf("stream %d, call %d: byte %d differs", w, i, j)
						return
					}
				}
			}
			s.CloseSend()
		}()
	}
	wg.Wait()
}

// TestCredsOf: the credentials of a grpc.Creds option can be read back
// (with the gRPC of go.mod; a gRPC that lays its options out otherwise
// fails here, and plugins keep gRPC's own TLS connection), and no other
// option has any.
func TestCredsOf(t *testing.T) {
	c := credentials.NewTLS(&tls.Config{})
	if got := credsOf(grpc.Creds(c)); got != c {
		t.Fatalf("credsOf(grpc.Creds(c)) = %v, want c", got)
	}
	for _, o := range []grpc.ServerOption{grpc.MaxRecvMsgSize(1), grpc.WriteBufferSize(1), grpc.ForceServerCodec(Codec), grpc.EmptyServerOption{}, nil} {
		if got := credsOf(o); got != nil {
			t.Errorf("credsOf(%T) = %v, want nil", o, got)
		}
	}
	opts := WithServerCredentials([]grpc.ServerOption{grpc.MaxRecvMsgSize(1), grpc.Creds(c)})
	if got, ok := credsOf(opts[1]).(serverCredentials); !ok || got.TransportCredentials != c {
		t.Errorf("WithServerCredentials left %v", credsOf(opts[1]))
	}
	if credsOf(opts[0]) != nil {
		t.Errorf("WithServerCredentials changed another option")
	}
}
