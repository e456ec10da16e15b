// The protobuf wire format (sdk/ABI.md, "Wire format"): a Reader over bytes
// in linear memory and a growable Writer. Both follow sdk/wire.go, so that
// what this package writes is byte for byte what the Go SDK writes.

/** Wire types. */
export const VARINT: u32 = 0;
export const FIXED64: u32 = 1;
export const BYTES: u32 = 2;
export const FIXED32: u32 = 5;

const MAX_FIELD: u64 = (1 << 29) - 1;

/**
 * Reader walks the fields of one message in [ptr, end). After next()
 * returns true, number, type and the value (value for varints and fixed
 * values, start and length for length-delimited ones) describe the field.
 * A malformed message sets error (with the Go SDK's wording) and stops.
 */
export class Reader {
  number: u32 = 0;
  type: u32 = 0;
  value: u64 = 0;
  start: usize = 0;
  length: usize = 0;
  error: string | null = null;
  private badVarint: bool = false;

  constructor(public ptr: usize, public end: usize) {}

  /** Reads the next field; false at the end of the message or on error. */
  next(): bool {
    if (this.ptr >= this.end || this.error !== null) return false;
    const key = this.varint();
    if (this.badVarint) return this.fail("malformed message: bad tag");
    const num = key >> 3;
    if (num < 1 || num > MAX_FIELD) return this.fail("malformed message: bad tag");
    this.number = <u32>num;
    this.type = <u32>(key & 7);
    const left = this.end - this.ptr;
    switch (this.type) {
      case VARINT: {
        const v = this.varint();
        if (this.badVarint) return this.truncated();
        this.value = v;
        return true;
      }
      case FIXED64: {
        if (left < 8) return this.truncated();
        this.value = load<u64>(this.ptr);
        this.start = this.ptr;
        this.length = 8;
        this.ptr += 8;
        return true;
      }
      case FIXED32: {
        if (left < 4) return this.truncated();
        this.value = <u64>load<u32>(this.ptr);
        this.start = this.ptr;
        this.length = 4;
        this.ptr += 4;
        return true;
      }
      case BYTES: {
        const n = this.varint();
        if (this.badVarint || n > <u64>(this.end - this.ptr)) return this.truncated();
        this.start = this.ptr;
        this.length = <usize>n;
        this.ptr += <usize>n;
        return true;
      }
    }
    // Groups (3, 4) are not part of plugin.proto; 6 and 7 do not exist.
    return this.truncated();
  }

  /** Records a wrongly typed field of the current message. */
  wrongType(what: string): bool {
    return this.fail("malformed message: field " + this.number.toString() + ": want " + what);
  }

  /** A sub-reader over the current length-delimited field. */
  sub(): Reader {
    return new Reader(this.start, this.start + this.length);
  }

  /** The current length-delimited field as a string (UTF-8). */
  string(): string {
    return String.UTF8.decodeUnsafe(this.start, this.length, false);
  }

  fail(message: string): bool {
    if (this.error === null) this.error = message;
    this.ptr = this.end;
    return false;
  }

  private truncated(): bool {
    return this.fail("malformed message: field " + this.number.toString() + " truncated");
  }

  private varint(): u64 {
    this.badVarint = false;
    let v: u64 = 0;
    for (let shift: u64 = 0; shift < 70; shift += 7) {
      if (this.ptr >= this.end) break;
      const b = <u64>load<u8>(this.ptr++);
      if (shift == 63 && b > 1) break; // overflows 64 bits
      v |= (b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    this.badVarint = true;
    return 0;
  }
}

/** Writer appends protobuf fields to a growable buffer. */
export class Writer {
  buffer: ArrayBuffer;
  length: usize = 0;

  constructor(capacity: i32 = 256) {
    this.buffer = new ArrayBuffer(capacity > 16 ? capacity : 16);
  }

  /** The address of the first byte written. */
  @inline get ptr(): usize {
    return changetype<usize>(this.buffer);
  }

  /** Empties the writer, keeping its buffer. */
  reset(): void {
    this.length = 0;
  }

  /** Makes room for n more bytes and returns the address they go to. */
  reserve(n: usize): usize {
    const need = this.length + n;
    const have = <usize>this.buffer.byteLength;
    if (need > have) {
      let cap = have * 2;
      if (cap < need) cap = need;
      const next = new ArrayBuffer(<i32>cap);
      memory.copy(changetype<usize>(next), changetype<usize>(this.buffer), this.length);
      this.buffer = next;
    }
    return changetype<usize>(this.buffer) + this.length;
  }

  byte(b: u8): void {
    store<u8>(this.reserve(1), b);
    this.length++;
  }

  varint(v: u64): void {
    let p = this.reserve(10);
    const start = p;
    while (v >= 0x80) {
      store<u8>(p++, <u8>(v | 0x80));
      v >>= 7;
    }
    store<u8>(p++, <u8>v);
    this.length += p - start;
  }

  tag(num: u32, type: u32): void {
    this.varint((<u64>num << 3) | <u64>type);
  }

  raw(ptr: usize, n: usize): void {
    const p = this.reserve(n);
    memory.copy(p, ptr, n);
    this.length += n;
  }

  /** A string field, even when empty (a repeated string's element). */
  stringAlways(num: u32, s: string): void {
    const n = <usize>String.UTF8.byteLength(s, false);
    this.tag(num, BYTES);
    this.varint(<u64>n);
    const p = this.reserve(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p, false);
    this.length += n;
  }

  /** A string field, left out when empty (proto3 scalars). */
  string(num: u32, s: string): void {
    if (s.length > 0) this.stringAlways(num, s);
  }

  strings(num: u32, ss: string[]): void {
    for (let i = 0; i < ss.length; i++) this.stringAlways(num, unchecked(ss[i]));
  }

  /** A bytes field from memory, left out when empty. */
  bytes(num: u32, ptr: usize, n: usize): void {
    if (n == 0) return;
    this.tag(num, BYTES);
    this.varint(<u64>n);
    this.raw(ptr, n);
  }

  /** A uint field, left out when 0. */
  uint(num: u32, v: u64): void {
    if (v == 0) return;
    this.tag(num, VARINT);
    this.varint(v);
  }

  /** A double field (not repeated), left out when 0. */
  double(num: u32, v: f64): void {
    if (v == 0) return;
    this.doubleAlways(num, v);
  }

  doubleAlways(num: u32, v: f64): void {
    this.tag(num, FIXED64);
    store<f64>(this.reserve(8), v);
    this.length += 8;
  }

  /** A packed run of n doubles at ptr, left out when n is 0. */
  packedDoubles(num: u32, ptr: usize, n: usize): void {
    if (n == 0) return;
    this.tag(num, BYTES);
    this.varint(<u64>n << 3);
    this.raw(ptr, n << 3);
  }

  /** A packed run of n fixed32 values at ptr, left out when n is 0. */
  packedFixed32s(num: u32, ptr: usize, n: usize): void {
    if (n == 0) return;
    this.tag(num, BYTES);
    this.varint(<u64>n << 2);
    this.raw(ptr, n << 2);
  }

  /**
   * Starts a length-delimited sub-message: returns a mark for end(). As in
   * sdk/wire.go, one byte of length is reserved and the body shifted when
   * it turns out longer than 127 bytes.
   */
  begin(num: u32): usize {
    this.tag(num, BYTES);
    this.byte(0);
    return this.length;
  }

  end(mark: usize): void {
    const n = this.length - mark;
    if (n < 128) {
      store<u8>(changetype<usize>(this.buffer) + mark - 1, <u8>n);
      return;
    }
    let size: usize = 1;
    for (let v = n; v >= 0x80; v >>= 7) size++;
    this.reserve(size - 1);
    const base = changetype<usize>(this.buffer);
    memory.copy(base + mark - 1 + size, base + mark, n);
    let p = base + mark - 1;
    let v = <u64>n;
    while (v >= 0x80) {
      store<u8>(p++, <u8>(v | 0x80));
      v >>= 7;
    }
    store<u8>(p, <u8>v);
    this.length += size - 1;
  }
}
