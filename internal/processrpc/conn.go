package processrpc

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"sync"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// HostCredentials are the transport credentials a host dials a plugin
// with: TLS with the configuration config returns when the connection is
// made (go-plugin fills in ClientConfig.TLSConfig when it starts a process
// with AutoMTLS, after the dial options are built), or none when it
// returns nil (a process attached in debug mode).
//
// They speak the same TLS as gRPC's own credentials but use fewer
// system calls, which cost microseconds each on the virtual machines we
// run on: crypto/tls writes each record of at most 16 KiB with a write of
// its own and reads the socket about a record at a time, so a batch of
// 80 KB took 5 writes on one side and 5 reads on the other. Here the
// records of one gRPC write leave in one write, and reads take whatever
// the socket holds, up to 256 KiB.
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

// readBuffer is the most a host reads from a plugin's socket at once.
const readBuffer = 256 << 10

// batchConn is the socket under TLS: reads are buffered, and writes are
// held while batchedTLS writes, then sent together.
type batchConn struct {
	net.Conn
	r *bufio.Reader

	mu      sync.Mutex // orders writes: held ones, then the next
	holding bool
	held    []byte
}

func newBatchConn(raw net.Conn) *batchConn {
	return &batchConn{Conn: raw, r: bufio.NewReaderSize(raw, readBuffer)}
}

func (c *batchConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holding {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
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
	_, err := c.Conn.Write(c.held)
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
