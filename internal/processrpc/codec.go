package processrpc

import (
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
// appends the encoded frame to Buf, and Unmarshal appends the frame's data
// to Buf and points Data at it, so a stream that keeps its buffers
// allocates nothing per call. The bytes on the wire are those of
// pluginpb.Frame, and either end may use the generated type instead.
type Frame struct {
	Point       uint32
	Data        []byte
	Last, Error bool
	// Buf is where the codec writes; nil allocates. Marshal appends to it
	// (the frame must not be changed until gRPC has sent it), Unmarshal
	// appends Data to it (gRPC's receive buffer is reused after
	// Unmarshal returns).
	Buf *[]byte
}

// Frame's field numbers and wire types in process.proto.
const (
	framePoint protowire.Number = 1
	frameData  protowire.Number = 2
	frameLast  protowire.Number = 3
	frameError protowire.Number = 4
)

func (f *Frame) marshal() []byte {
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
