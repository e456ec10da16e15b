package processrpc

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"reflect"
	"sync"
	"unsafe"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// The connection under TLS, on both ends. Two costs of the socket
// dominated a call on the 2-processor virtual machines we measure on,
// where a system call or a thread switch costs microseconds:
//
//   - The number of system calls. crypto/tls writes each record of at
//     most 16 KiB with a write of its own and reads the socket about a
//     record at a time, so a batch of 80 KB took 5 writes on one side and
//     5 reads on the other. Here the records of one gRPC write leave in one
//     write, and reads take whatever the socket holds, up to 256 KiB.
//   - The Go scheduler's reaction to them. A read or write through package
//     net tells the scheduler that a system call started; the scheduler's
//     monitor thread takes the processor away from a thread that stays in
//     one for more than 20 µs and hands it to another thread, and then
//     checks every 20 µs for the next millisecond. Writing a batch takes
//     that long here, so every call woke and switched threads, and the
//     monitor alone used an eighth of a processor in each process. The
//     socket is non-blocking (Go's poller waits when it would block), so
//     where the system allows (rawSocket) its reads and writes are made
//     as plain system calls instead, which the scheduler does not see:
//     a quarter less processor time per lead on each side.

// HostCredentials are the transport credentials a host dials a plugin
// with: TLS with the configuration config returns when the connection is
// made (go-plugin fills in ClientConfig.TLSConfig when it starts a process
// with AutoMTLS, after the dial options are built), or none when it
// returns nil (a process attached in debug mode). They speak the same TLS
// as gRPC's own credentials, over the socket described above.
func HostCredentials(config func() *tls.Config) credentials.TransportCredentials {
	return batchedCredentials{config: config, TransportCredentials: credentials.NewTLS(nil)}
}

type batchedCredentials struct {
	config func() *tls.Config
	// TransportCredentials answers Info and the server side, which a
	// host does not use.
	credentials.TransportCredentials
}

func (h batchedCredentials) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	cfg := h.config()
	if cfg == nil {
		return insecure.NewCredentials().ClientHandshake(ctx, authority, raw)
	}
	bc := newBatchConn(raw)
	conn, info, err := credentials.NewTLS(cfg).ClientHandshake(ctx, authority, bc)
	if err != nil {
		return nil, nil, err
	}
	return &batchedTLS{Conn: conn, raw: bc}, info, nil
}

func (h batchedCredentials) Clone() credentials.TransportCredentials {
	return batchedCredentials{config: h.config, TransportCredentials: h.TransportCredentials.Clone()}
}

// ServerCredentials are TLS server credentials (go-plugin's AutoMTLS, on
// the plugin's side) that do their TLS over the socket described above:
// the handshake and the records are tls's, only the connection under
// them changes.
func ServerCredentials(tlsCreds credentials.TransportCredentials) credentials.TransportCredentials {
	return serverCredentials{tlsCreds}
}

type serverCredentials struct {
	credentials.TransportCredentials
}

func (s serverCredentials) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	bc := newBatchConn(raw)
	conn, info, err := s.TransportCredentials.ServerHandshake(bc)
	if err != nil {
		return nil, nil, err
	}
	return &batchedTLS{Conn: conn, raw: bc}, info, nil
}

func (s serverCredentials) Clone() credentials.TransportCredentials {
	return serverCredentials{s.TransportCredentials.Clone()}
}

// WithServerCredentials returns the gRPC server options go-plugin gives a
// plugin (ServeConfig.GRPCServer) with their transport credentials, the
// AutoMTLS ones, wrapped by ServerCredentials. go-plugin hands those
// credentials over only inside a grpc.Creds option, which gRPC offers no
// way to read, so credsOf looks inside it; should a version of gRPC lay
// the option out otherwise, the options are returned as they are, and
// the plugin serves as before, only slower (TestCredsOf fails then).
func WithServerCredentials(opts []grpc.ServerOption) []grpc.ServerOption {
	out := make([]grpc.ServerOption, len(opts))
	for i, o := range opts {
		if c := credsOf(o); c != nil {
			o = grpc.Creds(ServerCredentials(c))
		}
		out[i] = o
	}
	return out
}

// credsOf returns the credentials that opt carries if it was made by
// grpc.Creds, else nil. Such an option is a pointer to a struct whose one
// field is a closure that stores the credentials in the creds field of
// gRPC's server options: credsOf runs the closure of an option so made on
// options of its own (each of gRPC's closures only sets fields of them)
// and reads that field.
func credsOf(opt grpc.ServerOption) (creds credentials.TransportCredentials) {
	defer func() {
		if recover() != nil {
			creds = nil
		}
	}()
	v := reflect.ValueOf(opt)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct || v.Elem().NumField() != 1 {
		return nil
	}
	f := v.Elem().Field(0)
	t := f.Type()
	if t.Kind() != reflect.Func || t.NumIn() != 1 || t.NumOut() != 0 || t.In(0).Kind() != reflect.Pointer || t.In(0).Elem().Kind() != reflect.Struct {
		return nil
	}
	field, ok := t.In(0).Elem().FieldByName("creds")
	if !ok || field.Type != reflect.TypeFor[credentials.TransportCredentials]() {
		return nil
	}
	f = reflect.NewAt(t, unsafe.Pointer(f.UnsafeAddr())).Elem()
	if f.IsNil() {
		return nil
	}
	o := reflect.New(t.In(0).Elem())
	f.Call([]reflect.Value{o})
	c := o.Elem().FieldByIndex(field.Index)
	creds, _ = reflect.NewAt(c.Type(), unsafe.Pointer(c.UnsafeAddr())).Elem().Interface().(credentials.TransportCredentials)
	return creds
}

// readBuffer is the most read from the socket at once.
const readBuffer = 256 << 10

// batchConn is the socket under TLS: reads are buffered, and writes are
// held while batchedTLS writes, then sent together. Reads and writes of
// the socket go through sock (see rawSocket).
type batchConn struct {
	net.Conn
	sock io.ReadWriter
	r    *bufio.Reader

	mu      sync.Mutex // orders writes: held ones, then the next
	holding bool
	held    []byte
}

func newBatchConn(raw net.Conn) *batchConn {
	sock := rawSocket(raw)
	return &batchConn{Conn: raw, sock: sock, r: bufio.NewReaderSize(sock, readBuffer)}
}

func (c *batchConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holding {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.sock.Write(p)
}

func (c *batchConn) hold() {
	c.mu.Lock()
	c.holding = true
	c.mu.Unlock()
}

// flush writes what was held, in one write.
func (c *batchConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holding = false
	if len(c.held) == 0 {
		return nil
	}
	_, err := c.sock.Write(c.held)
	c.held = c.held[:0]
	if cap(c.held) > 4<<20 {
		c.held = nil
	}
	return err
}

// batchedTLS is the TLS connection gRPC writes to: each of its writes
// (gRPC flushes up to its write buffer at once) reaches the socket as one.
type batchedTLS struct {
	net.Conn
	raw *batchConn
	mu  sync.Mutex // one write at a time holds the socket
}

func (t *batchedTLS) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.raw.hold()
	n, err := t.Conn.Write(p)
	if ferr := t.raw.flush(); err == nil {
		err = ferr
	}
	return n, err
}
