package processrpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/encoding/protowire"

	// The proto codec this one falls back to.
	_ "google.golang.org/grpc/encoding/proto"
)

// Frame is the Frame message of process.proto as Codec writes and reads it,
// without the copies and allocations of the generated code: Marshal
// appends the encoded frame to Buf (or, when Data already ends Buf, writes
// the frame around it), and Unmarshal appends the frame's data to Buf and
// points Data at it (or hands it to Use), so a stream that keeps its
// buffers allocates nothing per call. The bytes on the wire are those of
// pluginpb.Frame, and either end may use the generated type instead.
type Frame struct {
	Point       uint32
	Data        []byte
	Last, Error bool
	// Buf is where the codec writes; nil allocates. Marshal appends to it
	// (the frame must not be changed until gRPC has sent it), Unmarshal
	// appends Data to it (gRPC's receive buffer is reused after
	// Unmarshal returns).
	//
	// When Data is the end of Buf with at least Headroom bytes before it
	// (the sender encoded its message there), Marshal writes the fields
	// before the data into that room and appends the rest, instead of
	// copying the data: a batch crosses the codec without a copy.
	Buf *[]byte
	// Use, when set, takes a message that arrives in one frame: Unmarshal
	// of a frame with Last set hands its data, still in gRPC's receive
	// buffer and valid only during the call, to Use and leaves Data nil,
	// instead of copying the data to Buf first. A frame without Last
	// clears Use, so the frames of a longer message are joined in Buf.
	Use func(data []byte, isErr bool)
}

// Headroom is the room before a message in Buf that lets Marshal frame it
// in place: the largest point and data length fields.
const Headroom = 2 * (1 + binary.MaxVarintLen32)

// Frame's field numbers and wire types in process.proto.
const (
	framePoint protowire.Number = 1
	frameData  protowire.Number = 2
	frameLast  protowire.Number = 3
	frameError protowire.Number = 4
)

func (f *Frame) marshal() []byte {
	if b := f.inPlace(); b != nil {
		return b
	}
	var b []byte
	if f.Buf != nil {
		b = *f.Buf
	}
	start := len(b)
	b = f.appendTo(b)
	if f.Buf != nil {
		*f.Buf = b
	}
	return b[start:len(b):len(b)]
}

// inPlace encodes f around its data when Data ends *Buf with room for the
// leading fields before it (see Buf), and returns the encoding; else nil.
func (f *Frame) inPlace() []byte {
	if f.Buf == nil || len(f.Data) == 0 {
		return nil
	}
	b := *f.Buf
	at := len(b) - len(f.Data)
	if at < Headroom || &b[at] != &f.Data[0] {
		return nil
	}
	var head [Headroom]byte
	h := head[:0]
	if f.Point != 0 {
		h = protowire.AppendTag(h, framePoint, protowire.VarintType)
		h = protowire.AppendVarint(h, uint64(f.Point))
	}
	h = protowire.AppendTag(h, frameData, protowire.BytesType)
	h = protowire.AppendVarint(h, uint64(len(f.Data)))
	start := at - len(h)
	copy(b[start:], h)
	b = f.appendTail(b)
	*f.Buf = b
	return b[start:len(b):len(b)]
}

// appendTo appends f's encoding to b, fields in order as proto.Marshal
// writes them.
func (f *Frame) appendTo(b []byte) []byte {
	if f.Point != 0 {
		b = protowire.AppendTag(b, framePoint, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(f.Point))
	}
	if len(f.Data) > 0 {
		b = protowire.AppendTag(b, frameData, protowire.BytesType)
		b = protowire.AppendBytes(b, f.Data)
	}
	return f.appendTail(b)
}

// appendTail appends the fields that follow the data.
func (f *Frame) appendTail(b []byte) []byte {
	if f.Last {
		b = protowire.AppendTag(b, frameLast, protowire.VarintType)
		b = append(b, 1)
	}
	if f.Error {
		b = protowire.AppendTag(b, frameError, protowire.VarintType)
		b = append(b, 1)
	}
	return b
}

// unmarshal reads a Frame as proto.Unmarshal would: fields in any order,
// the last occurrence of a field wins, unknown fields are skipped.
func (f *Frame) unmarshal(b []byte) error {
	var data []byte
	f.Point, f.Last, f.Error = 0, false, false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if !num.IsValid() {
			return fmt.Errorf("invalid field number %d", num)
		}
		b = b[n:]
		switch {
		case num == frameData && typ == protowire.BytesType:
			data, n = protowire.ConsumeBytes(b)
		case (num == framePoint || num == frameLast || num == frameError) && typ == protowire.VarintType:
			var v uint64
			v, n = protowire.ConsumeVarint(b)
			switch num {
			case framePoint:
				f.Point = uint32(v)
			case frameLast:
				f.Last = v != 0
			case frameError:
				f.Error = v != 0
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	if f.Use != nil {
		if f.Last {
			f.Data = nil
			f.Use(data, f.Error)
			return nil
		}
		f.Use = nil
	}
	if f.Buf == nil {
		f.Data = append([]byte(nil), data...)
		return nil
	}
	start := len(*f.Buf)
	*f.Buf = append(*f.Buf, data...)
	f.Data = (*f.Buf)[start:]
	return nil
}

// Codec is the gRPC codec both ends of the transport use: it reads and
// writes *Frame itself and hands every other message to gRPC's proto
// codec. Its name is "proto": it speaks protobuf, byte for byte, so the
// other end need not use it.
var Codec encoding.Codec = codec{}

type codec struct{}

func (codec) Name() string { return "proto" }

func (codec) Marshal(v any) ([]byte, error) {
	if f, ok := v.(*Frame); ok {
		return f.marshal(), nil
	}
	return protoCodec().Marshal(v)
}

func (codec) Unmarshal(data []byte, v any) error {
	if f, ok := v.(*Frame); ok {
		if err := f.unmarshal(data); err != nil {
			return fmt.Errorf("frame: %w", err)
		}
		return nil
	}
	return protoCodec().Unmarshal(data, v)
}

var protoCodec = sync.OnceValue(func() encoding.Codec {
	c := encoding.GetCodec("proto")
	if c == nil {
		panic(errors.New("processrpc: gRPC's proto codec is not registered"))
	}
	return c
})

// buffers is gRPC's pool of receive buffers on both ends: a message is
// read into a buffer from here, decoded (Codec copies a Frame's data out)
// and the buffer comes back, instead of a new one per message.
var buffers grpc.SharedBufferPool = &bufferPool{}

// bufferPool keeps buffers of 4 KiB to 2 MiB in power-of-two classes;
// larger messages (a whole request of protocol 1) are not pooled.
type bufferPool struct {
	classes [10]sync.Pool // 4 KiB << i
}

const (
	minPooled = 4 << 10
	maxPooled = minPooled << 9 // 2 MiB: a Frame of ChunkSize and its fields
)

func class(n int) int {
	if n <= minPooled {
		return 0
	}
	return bits.Len(uint(n-1)) - bits.Len(uint(minPooled-1))
}

func (p *bufferPool) Get(n int) []byte {
	if n > maxPooled {
		return make([]byte, n)
	}
	c := class(n)
	if b, ok := p.classes[c].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, minPooled<<c)
}

func (p *bufferPool) Put(b *[]byte) {
	c := cap(*b)
	if c < minPooled || c > maxPooled || c&(c-1) != 0 {
		return
	}
	p.classes[class(c)].Put(b)
}
