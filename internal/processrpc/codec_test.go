package processrpc

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/rapportcrm/rapport/sdk/pluginpb"
)

var frames = []*pluginpb.Frame{
	{},
	{Point: 1},
	{Point: 3, Data: []byte("request"), Last: true},
	{Data: bytes.Repeat([]byte{0xab}, 300), Error: true},
	{Point: 1 << 31, Data: []byte{0}, Last: true, Error: true},
}

// TestFrameMatchesGenerated: Codec writes a Frame byte for byte as the
// generated code does, and reads what it writes.
func TestFrameMatchesGenerated(t *testing.T) {
	for _, want := range frames {
		wire, err := proto.MarshalOptions{Deterministic: true}.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		buf := []byte("kept")
		got, err := Codec.Marshal(&Frame{Point: want.Point, Data: want.Data, Last: want.Last, Error: want.Error, Buf: &buf})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, wire) {
			t.Errorf("%v: codec wrote %x, generated code %x", want, got, wire)
		}
		if !bytes.HasPrefix(buf, []byte("kept")) || !bytes.Equal(buf[4:], wire) {
			t.Errorf("%v: buffer holds %x", want, buf)
		}
		in := []byte("joined:")
		f := Frame{Buf: &in}
		if err := Codec.Unmarshal(wire, &f); err != nil {
			t.Fatal(err)
		}
		if f.Point != want.Point || f.Last != want.Last || f.Error != want.Error || !bytes.Equal(f.Data, want.Data) || string(in) != "joined:"+string(want.Data) {
			t.Errorf("%v: read %+v, buffer %q", want, f, in)
		}
	}
}

// TestCodecFallsBack: other messages go through the proto codec.
func TestCodecFallsBack(t *testing.T) {
	b, err := Codec.Marshal(&pluginpb.HelloResponse{Abi: 1, Points: []string{"score"}})
	if err != nil {
		t.Fatal(err)
	}
	var h pluginpb.HelloResponse
	if err := Codec.Unmarshal(b, &h); err != nil || h.Abi != 1 || len(h.Points) != 1 {
		t.Fatalf("%v %v", &h, err)
	}
	if Codec.Name() != "proto" {
		t.Errorf("name %q", Codec.Name())
	}
}

// FuzzFrame reads arbitrary bytes as a Frame: Codec accepts what the
// generated code accepts, with the same result, and refuses the rest.
func FuzzFrame(f *testing.F) {
	for _, fr := range frames {
		b, _ := proto.Marshal(fr)
		f.Add(b)
	}
	f.Add([]byte{0x12, 0x05, 1, 2})             // truncated data
	f.Add([]byte{0x08, 0x80, 0x80, 0x80, 0x80}) // truncated varint
	f.Add([]byte{0x2a, 0x01, 0x00, 0x12, 0x00}) // unknown field, empty data
	f.Add([]byte{0x12, 0x01, 0x07, 0x12, 0x01, 0x09})
	f.Fuzz(func(t *testing.T, b []byte) {
		var want pluginpb.Frame
		werr := proto.Unmarshal(b, &want)
		var buf []byte
		got := Frame{Buf: &buf}
		gerr := Codec.Unmarshal(b, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%x: generated code says %v, codec %v", b, werr, gerr)
		}
		if werr != nil {
			return
		}
		if got.Point != want.Point || got.Last != want.Last || got.Error != want.Error || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("%x: generated code reads %v, codec %+v", b, &want, got)
		}
		// Read with Use, a frame with Last goes to Use (and nowhere
		// else), any other to the buffer.
		buf = buf[:0]
		var used []byte
		var usedErr, called bool
		got = Frame{Buf: &buf, Use: func(d []byte, isErr bool) { called, used, usedErr = true, bytes.Clone(d), isErr }}
		if err := Codec.Unmarshal(b, &got); err != nil {
			t.Fatalf("%x: with Use: %v", b, err)
		}
		switch {
		case called != want.Last:
			t.Fatalf("%x: last %v, Use called %v", b, want.Last, called)
		case called && (!bytes.Equal(used, want.Data) || usedErr != want.Error || len(buf) != 0 || got.Data != nil):
			t.Fatalf("%x: Use got %x (error %v), buffer %x, Data %x; want %v", b, used, usedErr, buf, got.Data, &want)
		case !called && (!bytes.Equal(got.Data, want.Data) || got.Use != nil):
			t.Fatalf("%x: without Last, read %+v", b, got)
		}
	})
}

// TestFrameInPlace: a frame whose data ends its buffer, with Headroom
// before it, is written around the data, byte for byte as the generated
// code writes it; without the room, or when the data is elsewhere, it is
// copied as usual.
func TestFrameInPlace(t *testing.T) {
	for _, want := range frames {
		wire, err := proto.MarshalOptions{Deterministic: true}.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		for _, room := range []int{0, Headroom - 1, Headroom, Headroom + 9} {
			buf := append(bytes.Repeat([]byte{0xee}, room), want.Data...)
			data := buf[room:]
			got, err := Codec.Marshal(&Frame{Point: want.Point, Data: data, Last: want.Last, Error: want.Error, Buf: &buf})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, wire) {
				t.Errorf("%v, room %d: codec wrote %x, generated code %x", want, room, got, wire)
			}
			// In place, only the fields after the data are appended.
			tail, grown := 0, len(buf)-room-len(want.Data)
			if want.Last {
				tail += 2
			}
			if want.Error {
				tail += 2
			}
			if inPlace := room >= Headroom && len(want.Data) > 0; inPlace && grown != tail || !inPlace && grown != len(wire) {
				t.Errorf("%v, room %d: buffer grew by %d bytes (in place: %v)", want, room, grown, inPlace)
			}
		}
		// Data that does not end the buffer is copied.
		buf := append(append([]byte(nil), make([]byte, Headroom)...), want.Data...)
		buf = append(buf, 0xff)
		got, err := Codec.Marshal(&Frame{Point: want.Point, Data: buf[Headroom : len(buf)-1], Last: want.Last, Error: want.Error, Buf: &buf})
		if err != nil || !bytes.Equal(got, wire) {
			t.Errorf("%v, data inside the buffer: codec wrote %x (%v), generated code %x", want, got, err, wire)
		}
	}
}

func TestBufferPool(t *testing.T) {
	p := &bufferPool{}
	for _, n := range []int{1, 4 << 10, 4<<10 + 1, 60_000, 1 << 20, 1<<20 + 20, 2 << 20, 2<<20 + 1, 300 << 20 >> 4} {
		b := p.Get(n)
		if len(b) != n {
			t.Fatalf("Get(%d) has length %d", n, len(b))
		}
		if n <= maxPooled && (cap(b) < n || cap(b)&(cap(b)-1) != 0) {
			t.Fatalf("Get(%d) has capacity %d", n, cap(b))
		}
		p.Put(&b)
		if c := p.Get(n); len(c) != n {
			t.Fatalf("Get(%d) after Put has length %d", n, len(c))
		}
	}
}
