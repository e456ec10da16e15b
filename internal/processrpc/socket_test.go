package processrpc

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// socketPair returns both ends of a unix socket connection.
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	lis, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := lis.Accept()
		accepted <- c
	}()
	a, err := net.Dial("unix", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// TestRawSocket moves more than the socket buffers hold through
// rawSocket, so that writes wait for room and reads for data, and checks
// that deadlines, closing and the end of the stream behave as through
// package net.
func TestRawSocket(t *testing.T) {
	a, b := socketPair(t)
	ra, rb := rawSocket(a), rawSocket(b)
	want := make([]byte, 8<<20)
	for i := range want {
		want[i] = byte(i * 31 / 7)
	}
	done := make(chan error, 1)
	go func() {
		for rest := want; len(rest) > 0; {
			n := min(len(rest), 300_000)
			if m, err := ra.Write(rest[:n]); err != nil || m != n {
				done <- errors.Join(err, io.ErrShortWrite)
				return
			}
			rest = rest[n:]
			time.Sleep(time.Millisecond)
		}
		done <- a.(*net.UnixConn).CloseWrite()
	}()
	var got bytes.Buffer
	buf := make([]byte, 100_000)
	for {
		n, err := rb.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if got.Len() < 1<<20 {
			time.Sleep(2 * time.Millisecond) // let the writer fill the socket
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("read %d bytes, not the %d written", got.Len(), len(want))
	}
	if n, err := rb.Read(nil); n != 0 || err != nil {
		t.Errorf("empty read: %d, %v", n, err)
	}

	c, d := socketPair(t)
	rd := rawSocket(d)
	d.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := rd.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read past the deadline: %v", err)
	}
	d.SetReadDeadline(time.Time{})
	go func() {
		time.Sleep(20 * time.Millisecond)
		d.Close()
	}()
	if _, err := rd.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read while closed: %v", err)
	}
	if _, err := rd.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if _, err := rawSocket(c).Write(make([]byte, 1<<20)); err == nil {
		t.Errorf("write to a closed peer succeeded")
	}
}
