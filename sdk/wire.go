package sdk

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// The codec below writes and reads the messages of plugin.proto directly,
// with no reflection: numeric columns go out as one packed run of
// little-endian values and, when the buffer is aligned, come back as a slice
// over the buffer itself. Tests check it against the generated code in
// sdk/pluginpb byte for byte.

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed message")

// Field numbers of plugin.proto.
const (
	fColumnName, fColumnNumbers, fColumnCodes, fColumnDict  = 1, 2, 3, 4
	fBatchType, fBatchCount, fBatchColumns, fBatchIDs       = 1, 2, 3, 4
	fReqBatch, fReqConfig                                   = 1, 2
	fScoreValues, fScoreLabelCodes, fScoreLabels            = 1, 2, 3
	fScoreFactorNames, fScoreContributions                  = 4, 5
	fSegKeys, fSegOffsets, fSegKeyCodes, fSegWeights        = 1, 2, 3, 4
	fSeriesName, fSeriesLabels, fSeriesValues, fSeriesChart = 1, 2, 3, 4
	fRepParams, fRepConfig, fRepMetrics, fRepBatches        = 1, 2, 3, 4
	fKpiKey, fKpiLabel, fKpiValue, fKpiUnit, fKpiTarget     = 1, 2, 3, 4, 5
	fTableKey, fTableTitle, fTableColumns, fTableRows       = 1, 2, 3, 4
	fRowCells                                               = 1
	fSecKey, fSecTitle, fSecSummary, fSecKpis               = 1, 2, 3, 4
	fSecTables, fSecSeries                                  = 5, 6
	fReportTitle, fReportSections                           = 1, 2
	fErrorMessage                                           = 1
)

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

func appendDoubles(b []byte, num protowire.Number, v []float64) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(v))*8)
	if littleEndian {
		return append(b, unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*8)...)
	}
	for _, f := range v {
		b = protowire.AppendFixed64(b, math.Float64bits(f))
	}
	return b
}

func appendFixed32s(b []byte, num protowire.Number, v []uint32) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(v))*4)
	if littleEndian {
		return append(b, unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v)*4)...)
	}
	for _, x := range v {
		b = protowire.AppendFixed32(b, x)
	}
	return b
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendStrings(b []byte, num protowire.Number, ss []string) []byte {
	for _, s := range ss {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	return b
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendUint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// appendMessage appends a length-delimited sub-message written by f.
func appendMessage(b []byte, num protowire.Number, f func([]byte) []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	// Reserve one length byte; shift if the message is longer.
	at := len(b)
	b = append(b, 0)
	b = f(b)
	n := len(b) - at - 1
	if n < 128 {
		b[at] = byte(n)
		return b
	}
	size := protowire.SizeVarint(uint64(n))
	b = append(b, make([]byte, size-1)...)
	copy(b[at+size:], b[at+1:at+1+n])
	protowire.AppendVarint(b[at:at], uint64(n))
	return b
}

func appendBatch(b []byte, bt *Batch) []byte {
	b = appendString(b, fBatchType, bt.SubjectType)
	b = appendUint(b, fBatchCount, uint64(bt.Count))
	for i := range bt.Columns {
		c := &bt.Columns[i]
		b = appendMessage(b, fBatchColumns, func(b []byte) []byte {
			b = appendString(b, fColumnName, c.Name)
			b = appendDoubles(b, fColumnNumbers, c.Numbers)
			b = appendFixed32s(b, fColumnCodes, c.Codes)
			return appendStrings(b, fColumnDict, c.Dictionary)
		})
	}
	return appendStrings(b, fBatchIDs, bt.IDs)
}

// AppendScoreRequest appends the wire form of r to b.
func AppendScoreRequest(b []byte, r *ScoreRequest) []byte {
	b = appendMessage(b, fReqBatch, func(b []byte) []byte { return appendBatch(b, &r.Batch) })
	return appendBytes(b, fReqConfig, r.Config)
}

// AppendSegmentRequest appends the wire form of r to b.
func AppendSegmentRequest(b []byte, r *SegmentRequest) []byte {
	b = appendMessage(b, fReqBatch, func(b []byte) []byte { return appendBatch(b, &r.Batch) })
	return appendBytes(b, fReqConfig, r.Config)
}

// AppendScoreResponse appends the wire form of r to b.
func AppendScoreResponse(b []byte, r *ScoreResponse) []byte {
	b = appendDoubles(b, fScoreValues, r.Values)
	b = appendFixed32s(b, fScoreLabelCodes, r.LabelCodes)
	b = appendStrings(b, fScoreLabels, r.Labels)
	b = appendStrings(b, fScoreFactorNames, r.FactorNames)
	return appendDoubles(b, fScoreContributions, r.Contributions)
}

// AppendSegmentResponse appends the wire form of r to b.
func AppendSegmentResponse(b []byte, r *SegmentResponse) []byte {
	b = appendStrings(b, fSegKeys, r.Keys)
	b = appendFixed32s(b, fSegOffsets, r.Offsets)
	b = appendFixed32s(b, fSegKeyCodes, r.KeyCodes)
	return appendDoubles(b, fSegWeights, r.Weights)
}

func appendSeries(b []byte, num protowire.Number, s *Series) []byte {
	return appendMessage(b, num, func(b []byte) []byte {
		b = appendString(b, fSeriesName, s.Name)
		b = appendStrings(b, fSeriesLabels, s.Labels)
		b = appendDoubles(b, fSeriesValues, s.Values)
		return appendString(b, fSeriesChart, s.Chart)
	})
}

// AppendReportRequest appends the wire form of r to b.
func AppendReportRequest(b []byte, r *ReportRequest) []byte {
	b = appendBytes(b, fRepParams, r.Params)
	b = appendBytes(b, fRepConfig, r.Config)
	for i := range r.Metrics {
		b = appendSeries(b, fRepMetrics, &r.Metrics[i])
	}
	for i := range r.Batches {
		bt := &r.Batches[i]
		b = appendMessage(b, fRepBatches, func(b []byte) []byte { return appendBatch(b, bt) })
	}
	return b
}

// AppendReport appends the wire form of r (a ReportResponse) to b.
func AppendReport(b []byte, r *Report) []byte {
	b = appendString(b, fReportTitle, r.Title)
	for i := range r.Sections {
		s := &r.Sections[i]
		b = appendMessage(b, fReportSections, func(b []byte) []byte {
			b = appendString(b, fSecKey, s.Key)
			b = appendString(b, fSecTitle, s.Title)
			b = appendString(b, fSecSummary, s.Summary)
			for j := range s.KPIs {
				k := &s.KPIs[j]
				b = appendMessage(b, fSecKpis, func(b []byte) []byte {
					b = appendString(b, fKpiKey, k.Key)
					b = appendString(b, fKpiLabel, k.Label)
					if k.Value != 0 {
						b = protowire.AppendTag(b, fKpiValue, protowire.Fixed64Type)
						b = protowire.AppendFixed64(b, math.Float64bits(k.Value))
					}
					b = appendString(b, fKpiUnit, k.Unit)
					if k.Target != nil {
						b = protowire.AppendTag(b, fKpiTarget, protowire.Fixed64Type)
						b = protowire.AppendFixed64(b, math.Float64bits(*k.Target))
					}
					return b
				})
			}
			for j := range s.Tables {
				t := &s.Tables[j]
				b = appendMessage(b, fSecTables, func(b []byte) []byte {
					b = appendString(b, fTableKey, t.Key)
					b = appendString(b, fTableTitle, t.Title)
					b = appendStrings(b, fTableColumns, t.Columns)
					for _, row := range t.Rows {
						b = appendMessage(b, fTableRows, func(b []byte) []byte { return appendStrings(b, fRowCells, row) })
					}
					return b
				})
			}
			for j := range s.Series {
				b = appendSeries(b, fSecSeries, &s.Series[j])
			}
			return b
		})
	}
	return b
}

// AppendError appends the wire form of an Error message to b.
func AppendError(b []byte, msg string) []byte { return appendString(b, fErrorMessage, msg) }

// ---- decoding ----

// decoder walks the fields of one message.
type decoder struct {
	b    []byte
	copy bool // copy packed runs instead of aliasing b
}

type field struct {
	num protowire.Number
	typ protowire.Type
	raw []byte // the value bytes of a BytesType field
	u   uint64 // varint or fixed value
}

func (d *decoder) next() (field, bool, error) {
	if len(d.b) == 0 {
		return field{}, false, nil
	}
	num, typ, n := protowire.ConsumeTag(d.b)
	if n < 0 {
		return field{}, false, fmt.Errorf("%w: bad tag", ErrMalformed)
	}
	d.b = d.b[n:]
	f := field{num: num, typ: typ}
	switch typ {
	case protowire.VarintType:
		f.u, n = protowire.ConsumeVarint(d.b)
	case protowire.Fixed64Type:
		f.u, n = protowire.ConsumeFixed64(d.b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(d.b)
		f.u = uint64(v)
	case protowire.BytesType:
		f.raw, n = protowire.ConsumeBytes(d.b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, d.b)
	}
	if n < 0 {
		return field{}, false, fmt.Errorf("%w: field %d truncated", ErrMalformed, num)
	}
	d.b = d.b[n:]
	return f, true, nil
}

// copied returns a copy of raw (not empty) in memory of its own, or nil
// when that memory is not aligned for elements of align bytes (Go aligns
// an allocation whose size is a multiple of 4 or 8 to 4 or 8 bytes, so
// this does not happen). Appending to a nil slice writes the copy into
// fresh memory without clearing it first, as make and slices.Grow do: a
// decoded batch is written once, not twice.
func copied(raw []byte, align uintptr) unsafe.Pointer {
	b := append([]byte(nil), raw...)
	p := unsafe.Pointer(&b[0])
	if uintptr(p)%align != 0 {
		return nil
	}
	return p
}

func (d *decoder) doubles(dst []float64, f field) ([]float64, error) {
	switch f.typ {
	case protowire.Fixed64Type: // unpacked element
		return append(dst, math.Float64frombits(f.u)), nil
	case protowire.BytesType:
	default:
		return nil, fmt.Errorf("%w: field %d: want doubles", ErrMalformed, f.num)
	}
	if len(f.raw)%8 != 0 {
		return nil, fmt.Errorf("%w: field %d: %d bytes is not a run of doubles", ErrMalformed, f.num, len(f.raw))
	}
	n := len(f.raw) / 8
	if n == 0 {
		return dst, nil
	}
	if dst == nil && !d.copy && littleEndian && uintptr(unsafe.Pointer(&f.raw[0]))%8 == 0 {
		return unsafe.Slice((*float64)(unsafe.Pointer(&f.raw[0])), n), nil
	}
	if dst == nil && littleEndian {
		if p := copied(f.raw, 8); p != nil {
			return unsafe.Slice((*float64)(p), n), nil
		}
	}
	dst = slices.Grow(dst, n)
	if littleEndian {
		// The wire's bytes are the values' memory: one copy, no loop.
		start := len(dst)
		dst = dst[:start+n]
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[start])), n*8), f.raw)
		return dst, nil
	}
	for i := 0; i < n; i++ {
		u := uint64(f.raw[i*8]) | uint64(f.raw[i*8+1])<<8 | uint64(f.raw[i*8+2])<<16 | uint64(f.raw[i*8+3])<<24 |
			uint64(f.raw[i*8+4])<<32 | uint64(f.raw[i*8+5])<<40 | uint64(f.raw[i*8+6])<<48 | uint64(f.raw[i*8+7])<<56
		dst = append(dst, math.Float64frombits(u))
	}
	return dst, nil
}

func (d *decoder) fixed32s(dst []uint32, f field) ([]uint32, error) {
	switch f.typ {
	case protowire.Fixed32Type:
		return append(dst, uint32(f.u)), nil
	case protowire.BytesType:
	default:
		return nil, fmt.Errorf("%w: field %d: want fixed32s", ErrMalformed, f.num)
	}
	if len(f.raw)%4 != 0 {
		return nil, fmt.Errorf("%w: field %d: %d bytes is not a run of fixed32", ErrMalformed, f.num, len(f.raw))
	}
	n := len(f.raw) / 4
	if n == 0 {
		return dst, nil
	}
	if dst == nil && !d.copy && littleEndian && uintptr(unsafe.Pointer(&f.raw[0]))%4 == 0 {
		return unsafe.Slice((*uint32)(unsafe.Pointer(&f.raw[0])), n), nil
	}
	if dst == nil && littleEndian {
		if p := copied(f.raw, 4); p != nil {
			return unsafe.Slice((*uint32)(p), n), nil
		}
	}
	dst = slices.Grow(dst, n)
	if littleEndian {
		start := len(dst)
		dst = dst[:start+n]
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&dst[start])), n*4), f.raw)
		return dst, nil
	}
	for i := 0; i < n; i++ {
		dst = append(dst, uint32(f.raw[i*4])|uint32(f.raw[i*4+1])<<8|uint32(f.raw[i*4+2])<<16|uint32(f.raw[i*4+3])<<24)
	}
	return dst, nil
}

func (d *decoder) str(f field) (string, error) {
	if f.typ != protowire.BytesType {
		return "", fmt.Errorf("%w: field %d: want a string", ErrMalformed, f.num)
	}
	return string(f.raw), nil
}

func (d *decoder) bytes(f field) ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, fmt.Errorf("%w: field %d: want bytes", ErrMalformed, f.num)
	}
	if d.copy {
		return append([]byte(nil), f.raw...), nil
	}
	return f.raw, nil
}

func (d *decoder) sub(f field) (*decoder, error) {
	if f.typ != protowire.BytesType {
		return nil, fmt.Errorf("%w: field %d: want a message", ErrMalformed, f.num)
	}
	return &decoder{b: f.raw, copy: d.copy}, nil
}

// each calls fn for every field of the message.
func (d *decoder) each(fn func(f field) error) error {
	for {
		f, ok, err := d.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := fn(f); err != nil {
			return err
		}
	}
}

func (d *decoder) column(c *Column) error {
	return d.each(func(f field) (err error) {
		switch f.num {
		case fColumnName:
			c.Name, err = d.str(f)
		case fColumnNumbers:
			c.Numbers, err = d.doubles(c.Numbers, f)
		case fColumnCodes:
			c.Codes, err = d.fixed32s(c.Codes, f)
		case fColumnDict:
			var s string
			s, err = d.str(f)
			c.Dictionary = append(c.Dictionary, s)
		}
		return err
	})
}

// maxCount bounds a batch's declared size, so that a hostile count cannot
// make a decoder allocate without limit.
const maxCount = 1 << 24

func (d *decoder) batch(bt *Batch) error {
	err := d.each(func(f field) error {
		switch f.num {
		case fBatchType:
			s, err := d.str(f)
			bt.SubjectType = s
			return err
		case fBatchCount:
			if f.typ != protowire.VarintType || f.u > maxCount {
				return fmt.Errorf("%w: batch count", ErrMalformed)
			}
			bt.Count = int(f.u)
		case fBatchColumns:
			sd, err := d.sub(f)
			if err != nil {
				return err
			}
			var c Column
			if err := sd.column(&c); err != nil {
				return err
			}
			bt.Columns = append(bt.Columns, c)
		case fBatchIDs:
			s, err := d.str(f)
			bt.IDs = append(bt.IDs, s)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := bt.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return nil
}

func decodeRequest(b []byte, copy bool, bt *Batch, config *[]byte) error {
	d := &decoder{b: b, copy: copy}
	return d.each(func(f field) error {
		switch f.num {
		case fReqBatch:
			sd, err := d.sub(f)
			if err != nil {
				return err
			}
			return sd.batch(bt)
		case fReqConfig:
			v, err := d.bytes(f)
			*config = v
			return err
		}
		return nil
	})
}

// DecodeScoreRequest reads a ScoreRequest. Unless copy is set, numeric
// columns may alias b: keep b unchanged while the request is in use.
func DecodeScoreRequest(b []byte, copy bool) (*ScoreRequest, error) {
	r := &ScoreRequest{}
	if err := decodeRequest(b, copy, &r.Batch, &r.Config); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeSegmentRequest reads a SegmentRequest (see DecodeScoreRequest).
func DecodeSegmentRequest(b []byte, copy bool) (*SegmentRequest, error) {
	r := &SegmentRequest{}
	if err := decodeRequest(b, copy, &r.Batch, &r.Config); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeScoreResponse reads a ScoreResponse, copying everything out of b.
// It checks the message's structure, not its agreement with a request:
// call Validate for that.
func DecodeScoreResponse(b []byte) (*ScoreResponse, error) {
	d := &decoder{b: b, copy: true}
	r := &ScoreResponse{}
	err := d.each(func(f field) (err error) {
		var s string
		switch f.num {
		case fScoreValues:
			r.Values, err = d.doubles(r.Values, f)
		case fScoreLabelCodes:
			r.LabelCodes, err = d.fixed32s(r.LabelCodes, f)
		case fScoreLabels:
			s, err = d.str(f)
			r.Labels = append(r.Labels, s)
		case fScoreFactorNames:
			s, err = d.str(f)
			r.FactorNames = append(r.FactorNames, s)
		case fScoreContributions:
			r.Contributions, err = d.doubles(r.Contributions, f)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeSegmentResponse reads a SegmentResponse, copying out of b.
func DecodeSegmentResponse(b []byte) (*SegmentResponse, error) {
	d := &decoder{b: b, copy: true}
	r := &SegmentResponse{}
	err := d.each(func(f field) (err error) {
		switch f.num {
		case fSegKeys:
			var s string
			s, err = d.str(f)
			r.Keys = append(r.Keys, s)
		case fSegOffsets:
			r.Offsets, err = d.fixed32s(r.Offsets, f)
		case fSegKeyCodes:
			r.KeyCodes, err = d.fixed32s(r.KeyCodes, f)
		case fSegWeights:
			r.Weights, err = d.doubles(r.Weights, f)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (d *decoder) series(s *Series) error {
	return d.each(func(f field) (err error) {
		var str string
		switch f.num {
		case fSeriesName:
			s.Name, err = d.str(f)
		case fSeriesLabels:
			str, err = d.str(f)
			s.Labels = append(s.Labels, str)
		case fSeriesValues:
			s.Values, err = d.doubles(s.Values, f)
		case fSeriesChart:
			s.Chart, err = d.str(f)
		}
		return err
	})
}

// DecodeReportRequest reads a ReportRequest (see DecodeScoreRequest).
func DecodeReportRequest(b []byte, copy bool) (*ReportRequest, error) {
	d := &decoder{b: b, copy: copy}
	r := &ReportRequest{}
	err := d.each(func(f field) (err error) {
		switch f.num {
		case fRepParams:
			r.Params, err = d.bytes(f)
		case fRepConfig:
			r.Config, err = d.bytes(f)
		case fRepMetrics:
			sd, err := d.sub(f)
			if err != nil {
				return err
			}
			var s Series
			if err := sd.series(&s); err != nil {
				return err
			}
			r.Metrics = append(r.Metrics, s)
		case fRepBatches:
			sd, err := d.sub(f)
			if err != nil {
				return err
			}
			var bt Batch
			if err := sd.batch(&bt); err != nil {
				return err
			}
			r.Batches = append(r.Batches, bt)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeReport reads a ReportResponse, copying out of b.
func DecodeReport(b []byte) (*Report, error) {
	d := &decoder{b: b, copy: true}
	r := &Report{}
	err := d.each(func(f field) (err error) {
		switch f.num {
		case fReportTitle:
			r.Title, err = d.str(f)
		case fReportSections:
			sd, err := d.sub(f)
			if err != nil {
				return err
			}
			var s Section
			if err := sd.section(&s); err != nil {
				return err
			}
			r.Sections = append(r.Sections, s)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (d *decoder) section(s *Section) error {
	return d.each(func(f field) (err error) {
		switch f.num {
		case fSecKey:
			s.Key, err = d.str(f)
		case fSecTitle:
			s.Title, err = d.str(f)
		case fSecSummary:
			s.Summary, err = d.str(f)
		case fSecKpis:
			sd, err := d.sub(f)
			if err != nil {
				return err
			}
			var k KPI
			err = sd.each(func(f field) (err error) {
				switch f.num {
				case fKpiKey:
					k.Key, err = sd.str(f)
				case fKpiLabel:
					k.Label, err = sd.str(f)
				case fKpiValue:
					k.Value = math.Float64frombits(f.u)
				case fKpiUnit:
					k.Unit, err = sd.str(f)
				case fKpiTarget:
					t := math.Float64frombits(f.u)
					k.Target = &t
				}
				return err
			})
			s.KPIs = append(s.KPIs, k)
			return err
		case fSecTables:
			sd, err := d.sub(f)
			if err != nil {
				return err
			}
			var t Table
			err = sd.each(func(f field) (err error) {
				var str string
				switch f.num {
				case fTableKey:
					t.Key, err = sd.str(f)
				case fTableTitle:
					t.Title, err = sd.str(f)
				case fTableColumns:
					str, err = sd.str(f)
					t.Columns = append(t.Columns, str)
				case fTableRows:
					rd, err := sd.sub(f)
					if err != nil {
						return err
					}
					var row []string
					err = rd.each(func(f field) error {
						c, err := rd.str(f)
						row = append(row, c)
						return err
					})
					t.Rows = append(t.Rows, row)
					return err
				}
				return err
			})
			s.Tables = append(s.Tables, t)
			return err
		case fSecSeries:
			sd, err := d.sub(f)
			if err != nil {
				return err
			}
			var sr Series
			err = sd.series(&sr)
			s.Series = append(s.Series, sr)
			return err
		}
		return err
	})
}

// DecodeError reads an Error message and returns its text.
func DecodeError(b []byte) (string, error) {
	d := &decoder{b: b, copy: true}
	var msg string
	err := d.each(func(f field) (err error) {
		if f.num == fErrorMessage {
			msg, err = d.str(f)
		}
		return err
	})
	return msg, err
}
