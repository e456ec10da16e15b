package pluginkit

import (
	"fmt"
	"math/rand/v2"

	"google.golang.org/protobuf/encoding/protowire"
)

// unparsable returns requests that no protobuf parser accepts, derived
// from good, a valid non-empty request, and a few that are garbage from
// the first byte.
func unparsable(good []byte) []rawCase {
	cases := []rawCase{{
		// The last field loses its last byte: a varint loses its final
		// byte, a fixed value or a length-delimited one comes up short.
		name: "a request truncated by one byte",
		body: good[:len(good)-1],
	}}
	if f, ok := largestField(good); ok {
		if f.valueStart-f.lengthStart > 1 {
			cases = append(cases, rawCase{
				name: fmt.Sprintf("a request cut inside the length of field %d", f.num),
				body: good[:f.lengthStart+1],
			})
		}
		cases = append(cases, rawCase{
			name: fmt.Sprintf("a request cut in the middle of field %d", f.num),
			body: good[:f.valueStart+(f.valueEnd-f.valueStart)/2],
		})
	}
	noise := make([]byte, 64)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	cases = append(cases,
		rawCase{name: "a tag whose varint runs past 10 bytes", body: []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")},
		rawCase{name: "field number 0", body: []byte("\x00\x00")},
		rawCase{name: "wire type 7, which does not exist", body: []byte("\x0f\x01\x02\x03")},
		rawCase{name: "a field whose length (65535) runs past the end, then noise", body: append([]byte("\x0a\xff\xff\x03"), noise...)},
	)
	for i := range cases {
		cases[i].mustRefuse = true
	}
	return cases
}

// field locates a length-delimited field of a message.
type field struct {
	num         protowire.Number
	lengthStart int // offset of the length varint
	valueStart  int
	valueEnd    int
}

// largestField returns the longest length-delimited top-level field of
// msg of at least 2 bytes, so that cutting in its middle leaves it
// strictly inside.
func largestField(msg []byte) (field, bool) {
	var best field
	found := false
	for off := 0; off < len(msg); {
		num, typ, n := protowire.ConsumeTag(msg[off:])
		if n < 0 {
			break
		}
		if typ == protowire.BytesType {
			size, m := protowire.ConsumeVarint(msg[off+n:])
			if m < 0 {
				break
			}
			f := field{num: num, lengthStart: off + n, valueStart: off + n + m, valueEnd: off + n + m + int(size)}
			if f.valueEnd-f.valueStart >= 2 && (!found || f.valueEnd-f.valueStart > best.valueEnd-best.valueStart) {
				best, found = f, true
			}
		}
		v := protowire.ConsumeFieldValue(num, typ, msg[off+n:])
		if v < 0 {
			break
		}
		off += n + v
	}
	return best, found
}
