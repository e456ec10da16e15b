// The Rapport example lead scorer (examples/leadscore) in AssemblyScript,
// written from sdk/ABI.md and sdk/proto/rapport/plugin/v1/plugin.proto
// alone: a hand-written protobuf reader and writer, the three ABI exports,
// and the scoring formula of examples/leadscore.
//
// It allocates nothing through the AssemblyScript runtime (no strings,
// arrays or objects are created at run time; string literals are static
// data read with charCodeAt). Linear memory is laid out by hand:
//
//   | static data | input region (≥ 64 KiB) | arena: copied columns, dictionary factors, answer |
//
// The input region is what rapport_input returns; it only grows. The arena
// starts afresh after the input region on every rapport_call, so a call
// never leaks memory and the answer stays put until the next
// rapport_input or rapport_call, as ABI.md asks. Error answers are built in
// a small static buffer.

// ---------------------------------------------------------------------------
// Host function (ABI.md, "Host functions"). The only import of the module.

// @ts-ignore: decorator
@external("rapport", "log")
declare function hostLog(level: i32, ptr: usize, len: i32): void;

const LOG_DEBUG: i32 = 0;

// ---------------------------------------------------------------------------
// Memory.

const MIN_INPUT: u64 = 64 << 10;
// Answers are located by a 31-bit pointer (ABI.md: bits 62–32), so nothing
// may live at or beyond 2 GiB.
const MAX_ADDRESS: u64 = 0x80000000;

let inputPtr: usize = 0;
let inputCap: usize = 0;
let top: usize = 0; // the arena's bump pointer during a call

// reserve grows memory so that addresses below end are valid.
function reserve(end: u64): bool {
  const have = (<u64>memory.size()) << 16;
  if (end <= have) return true;
  if (end > MAX_ADDRESS) return false;
  return memory.grow(<i32>((end - have + 0xffff) >> 16)) >= 0;
}

// alloc takes size bytes, 8-aligned, from the arena; 0 (and an error) when
// memory runs out.
function alloc(size: u64): usize {
  const p = top;
  const end = (<u64>p + size + 7) & ~(<u64>7);
  if (!reserve(end)) {
    if (fail("out of memory: the call needs ")) {
      sayNumber(end >> 10);
      say(" KiB of linear memory; raise limits.memory_pages or send smaller batches");
    }
    return 0;
  }
  top = <usize>end;
  return p;
}

// ---------------------------------------------------------------------------
// Error answers: an Error message (field 1, the text) in a static buffer.

const ERR_BUF: usize = memory.data(1024);
const ERR_TEXT: usize = ERR_BUF + 3; // room for the tag and a 2-byte length
const ERR_MAX: usize = 1000;

let failed = false;
let errLen: usize = 0;

// fail records the first error of a call; it returns false when an error
// was already recorded (then the caller adds nothing to the message).
function fail(text: string): bool {
  if (failed) return false;
  failed = true;
  errLen = 0;
  say(text);
  return true;
}

function say(text: string): void {
  for (let i = 0; i < text.length && errLen < ERR_MAX; i++) {
    store<u8>(ERR_TEXT + errLen++, <u8>text.charCodeAt(i));
  }
}

function sayNumber(v: u64): void {
  let digits: u64 = 1;
  while (v / digits >= 10) digits *= 10;
  for (; digits > 0; digits /= 10) {
    if (errLen < ERR_MAX) store<u8>(ERR_TEXT + errLen++, <u8>(0x30 + (v / digits) % 10));
  }
}

function errorAnswer(): i64 {
  hostLog(LOG_DEBUG, ERR_TEXT, <i32>errLen);
  const header: usize = errLen < 128 ? 2 : 3;
  const start = ERR_TEXT - header;
  store<u8>(start, 0x0a); // field 1, wire type 2
  putVarint(start + 1, <u64>errLen);
  return ((<i64>1) << 63) | ((<i64>start) << 32) | <i64>(header + errLen);
}

// ---------------------------------------------------------------------------
// The ABI exports.

export function rapport_abi_version(): i32 {
  return 1;
}

export function rapport_input(size: i32): usize {
  if (inputPtr == 0) inputPtr = (__heap_base + 15) & ~(<usize>15);
  const need = <u64><u32>size;
  if (inputCap == 0 || need > <u64>inputCap) {
    let cap = need > MIN_INPUT ? need : MIN_INPUT;
    cap = (cap + 0xffff) & ~(<u64>0xffff);
    // At the memory ceiling there is no way to answer: trap, and the host
    // reports a memory fault.
    if (!reserve(<u64>inputPtr + cap)) unreachable();
    inputCap = <usize>cap;
  }
  return inputPtr;
}

const POINT_SCORE: i32 = 1;

export function rapport_call(point: i32, size: i32): i64 {
  failed = false;
  if (inputPtr == 0 || <u64><u32>size > <u64>inputCap) {
    fail("rapport_call: the request is larger than the rapport_input region");
    return errorAnswer();
  }
  if (point != POINT_SCORE) {
    if (fail("leadscore-as implements only the score point (1), not point ")) sayNumber(<u64><u32>point);
    return errorAnswer();
  }
  top = inputPtr + inputCap;
  const answer = score(inputPtr, inputPtr + <usize><u32>size);
  return failed ? errorAnswer() : answer;
}

// ---------------------------------------------------------------------------
// Protobuf reading (ABI.md, "Wire format"). nextField reads one field and
// leaves it in the globals below; on malformed input it records an error
// and returns end, so that every loop stops.

let varintValue: u64 = 0;
let fieldNumber: u32 = 0;
let wireType: u32 = 0;
let fieldValue: u64 = 0; // wire type 0
let fieldPtr: usize = 0; // wire types 1, 2 and 5: the value's first byte
let fieldLen: usize = 0; // and its length in bytes

function readVarint(p: usize, end: usize): usize {
  let v: u64 = 0;
  for (let shift: u64 = 0; shift < 64; shift += 7) {
    if (p >= end) break;
    const b = load<u8>(p++);
    v |= (<u64>(b & 0x7f)) << shift;
    if (b < 0x80) {
      varintValue = v;
      return p;
    }
  }
  fail("malformed request: truncated or overlong varint");
  return end;
}

function nextField(p: usize, end: usize): usize {
  p = readVarint(p, end);
  if (failed) return end;
  const key = varintValue;
  fieldNumber = <u32>(key >> 3);
  wireType = <u32>(key & 7);
  if (fieldNumber == 0 || key >> 32 != 0) {
    fail("malformed request: bad field key");
    return end;
  }
  let size: usize = 0;
  switch (wireType) {
    case 0:
      p = readVarint(p, end);
      fieldValue = varintValue;
      fieldPtr = p;
      fieldLen = 0;
      return p;
    case 1:
      size = 8;
      break;
    case 5:
      size = 4;
      break;
    case 2:
      p = readVarint(p, end);
      if (failed) return end;
      if (varintValue > <u64>(end - p)) {
        fail("malformed request: a length-delimited field runs past its message");
        return end;
      }
      size = <usize>varintValue;
      break;
    default:
      if (fail("malformed request: wire type ")) {
        sayNumber(<u64>wireType);
        say(" (ABI 1 uses only 0, 1, 2 and 5)");
      }
      return end;
  }
  if (<u64>size > <u64>(end - p)) {
    fail("malformed request: truncated fixed-size field");
    return end;
  }
  fieldPtr = p;
  fieldLen = size;
  return p + size;
}

function wrongWireType(what: string): void {
  if (fail("malformed request: ")) {
    say(what);
    say(" has wire type ");
    sayNumber(<u64>wireType);
  }
}

// bytesEqual compares UTF-8 bytes with an ASCII string literal.
function bytesEqual(p: usize, n: usize, s: string): bool {
  if (n != <usize>s.length) return false;
  for (let i: usize = 0; i < n; i++) {
    if (<i32>load<u8>(p + i) != s.charCodeAt(<i32>i)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// The request: ScoreRequest { Batch batch = 1; bytes config = 2; }.
//
// The eight attributes are kept in "slots", numbered like the factors.

const SLOTS = 8;
const SLOT_SOURCE = 1;
const SLOT_STATUS = 2;

// Per slot: the first Column of that name (start and end of its bytes, and
// whether one was seen), then the resolved data: a pointer to count
// doubles or codes (0 when missing) and, for source and status, the
// dictionary's factors and size.
const COL_SEEN: usize = memory.data(SLOTS * 4);
const COL_START: usize = memory.data(SLOTS * 4);
const COL_END: usize = memory.data(SLOTS * 4);
const COL_DATA: usize = memory.data(SLOTS * 4);
const COL_DICT: usize = memory.data(SLOTS * 4);
const COL_DICT_LEN: usize = memory.data(SLOTS * 4);

function slotOf(p: usize, n: usize): i32 {
  if (bytesEqual(p, n, "estimated_value")) return 0;
  if (bytesEqual(p, n, "source")) return 1;
  if (bytesEqual(p, n, "status")) return 2;
  if (bytesEqual(p, n, "has_email")) return 3;
  if (bytesEqual(p, n, "has_phone")) return 4;
  if (bytesEqual(p, n, "has_company")) return 5;
  if (bytesEqual(p, n, "activity_count")) return 6;
  if (bytesEqual(p, n, "age_days")) return 7;
  return -1;
}

function attribute(slot: i32): string {
  switch (slot) {
    case 0: return "estimated_value";
    case 1: return "source";
    case 2: return "status";
    case 3: return "has_email";
    case 4: return "has_phone";
    case 5: return "has_company";
    case 6: return "activity_count";
  }
  return "age_days";
}

function factorName(f: i32): string {
  switch (f) {
    case 6: return "activity";
    case 7: return "recency";
  }
  return attribute(f);
}

let count: u64 = 0;
let configPtr: usize = 0;
let configLen: usize = 0;

function parseRequest(p: usize, end: usize): void {
  count = 0;
  configPtr = 0;
  configLen = 0;
  memory.fill(COL_SEEN, 0, SLOTS * 4);
  memory.fill(COL_DATA, 0, SLOTS * 4);
  memory.fill(COL_DICT_LEN, 0, SLOTS * 4);
  while (p < end) {
    p = nextField(p, end);
    if (failed) return;
    if (fieldNumber == 1) {
      // A message field that occurs twice is merged, so batches are read
      // one after the other into the same state.
      if (wireType != 2) return wrongWireType("ScoreRequest.batch");
      parseBatch(fieldPtr, fieldPtr + fieldLen);
      if (failed) return;
    } else if (fieldNumber == 2) {
      if (wireType != 2) return wrongWireType("ScoreRequest.config");
      configPtr = fieldPtr;
      configLen = fieldLen;
    }
  }
}

function parseBatch(p: usize, end: usize): void {
  while (p < end) {
    p = nextField(p, end);
    if (failed) return;
    if (fieldNumber == 2) {
      if (wireType != 0) return wrongWireType("Batch.count");
      count = fieldValue & 0xffffffff; // uint32
    } else if (fieldNumber == 3) {
      if (wireType != 2) return wrongWireType("Batch.columns");
      const start = fieldPtr;
      const stop = fieldPtr + fieldLen;
      const slot = columnSlot(start, stop);
      if (failed) return;
      // Like the Go SDK's Batch.Column, the first column of a name wins.
      if (slot >= 0 && load<u32>(COL_SEEN + (<usize>slot << 2)) == 0) {
        store<u32>(COL_SEEN + (<usize>slot << 2), 1);
        store<u32>(COL_START + (<usize>slot << 2), <u32>start);
        store<u32>(COL_END + (<usize>slot << 2), <u32>stop);
      }
    }
    // subject_type (1), ids (4) and unknown fields are skipped.
  }
}

// columnSlot reads a Column's name (field 1; the last one wins, as for
// any proto3 scalar) and returns its slot, or -1.
function columnSlot(p: usize, end: usize): i32 {
  let name: usize = 0;
  let nameLen: usize = 0;
  while (p < end) {
    p = nextField(p, end);
    if (failed) return -1;
    if (fieldNumber == 1) {
      if (wireType != 2) {
        wrongWireType("Column.name");
        return -1;
      }
      name = fieldPtr;
      nameLen = fieldLen;
    }
  }
  return slotOf(name, nameLen);
}

// gather finds the elements of the repeated field number in a Column: packed
// runs (wire type 2) or single elements (wire type `single`, 8 or 4 bytes
// each). One run is used in place; several are copied, concatenated, into
// the arena. It returns a pointer to n elements, or 0 when the column has
// none (a missing column).
function gather(slot: i32, p: usize, end: usize, number: u32, single: u32, width: usize, n: u64): usize {
  let pieces: u32 = 0;
  let bytes: u64 = 0;
  let first: usize = 0;
  for (let q = p; q < end; ) {
    q = nextField(q, end);
    if (failed) return 0;
    if (fieldNumber != number) continue;
    if (wireType != 2 && wireType != single) {
      wrongWireType(number == 2 ? "Column.numbers" : "Column.codes");
      return 0;
    }
    if (fieldLen % width != 0) {
      if (fail("malformed request: column ")) {
        say(attribute(slot));
        say(": a packed run is not a whole number of elements");
      }
      return 0;
    }
    if (pieces == 0) first = fieldPtr;
    pieces++;
    bytes += <u64>fieldLen;
  }
  if (pieces == 0) return 0;
  if (bytes != n * <u64>width) {
    if (fail("column ")) {
      say(attribute(slot));
      say(" has ");
      sayNumber(bytes / <u64>width);
      say(" entries for ");
      sayNumber(n);
      say(" subjects");
    }
    return 0;
  }
  if (n == 0) return 0;
  if (pieces == 1) return first;
  const out = alloc(bytes);
  if (failed) return 0;
  let at = out;
  for (let q = p; q < end; ) {
    q = nextField(q, end);
    if (fieldNumber != number) continue;
    memory.copy(at, fieldPtr, fieldLen);
    at += fieldLen;
  }
  return out;
}

// resolve fills a slot's data pointer (and, for source and status, its
// dictionary factors) from the Column it was given.
function resolve(slot: i32, n: u64): void {
  const s = <usize>slot << 2;
  if (load<u32>(COL_SEEN + s) == 0) return;
  const p = <usize>load<u32>(COL_START + s);
  const end = <usize>load<u32>(COL_END + s);
  if (slot != SLOT_SOURCE && slot != SLOT_STATUS) {
    // numbers (2): packed doubles, or single doubles (wire type 1)
    store<u32>(COL_DATA + s, <u32>gather(slot, p, end, 2, 1, 8, n));
    return;
  }
  // codes (3): packed fixed32, or single fixed32 (wire type 5)
  const codes = gather(slot, p, end, 3, 5, 4, n);
  if (failed || codes == 0) return;
  // dictionary (4): one factor per entry, looked up once per call
  let entries: u64 = 0;
  for (let q = p; q < end; ) {
    q = nextField(q, end);
    if (fieldNumber == 4) entries++;
  }
  if (entries > 0xffffffff) {
    fail("malformed request: dictionary too large");
    return;
  }
  const factors = alloc(entries << 3);
  if (failed) return;
  let at = factors;
  for (let q = p; q < end; ) {
    q = nextField(q, end);
    if (fieldNumber != 4) continue;
    if (wireType != 2) return wrongWireType("Column.dictionary");
    store<f64>(at, slot == SLOT_SOURCE ? sourceFactor(fieldPtr, fieldLen) : statusFactor(fieldPtr, fieldLen));
    at += 8;
  }
  store<u32>(COL_DATA + s, <u32>codes);
  store<u32>(COL_DICT + s, <u32>factors);
  store<u32>(COL_DICT_LEN + s, <u32>entries);
}

// ---------------------------------------------------------------------------
// The configuration: JSON, of which only the numbers "hot" and "warm"
// matter. Like the Go scorer (encoding/json into a struct): an empty
// config means the defaults; null values and unknown keys leave them;
// anything that is not valid JSON, or a non-number for hot or warm, is an
// error.

let hot: f64 = 70;
let warm: f64 = 40;
let jp: usize = 0;
let jend: usize = 0;

function configError(what: string): void {
  if (fail("config: ")) say(what);
}

function jsonPeek(): i32 {
  return jp < jend ? <i32>load<u8>(jp) : -1;
}

function jsonSpace(): void {
  while (jp < jend) {
    const c = load<u8>(jp);
    if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return;
    jp++;
  }
}

function jsonWord(word: string): bool {
  const n = <usize>word.length;
  if (jend - jp < n || !bytesEqual(jp, n, word)) return false;
  jp += n;
  return true;
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

// jsonString skips a string whose opening quote is at jp.
function jsonString(): bool {
  jp++;
  while (jp < jend) {
    const c = load<u8>(jp);
    if (c == 0x22) {
      jp++;
      return true;
    }
    if (c < 0x20) break;
    jp += c == 0x5c ? 2 : 1; // a backslash escapes the next byte
  }
  configError("unterminated or invalid string");
  return false;
}

function pow10(k: i32): f64 {
  let v: f64 = 1;
  for (let i = 0; i < k; i++) v *= 10; // exact up to 1e22
  return v;
}

// jsonNumber reads a JSON number. Up to 19 significant digits are kept;
// when they fit 53 bits and the power of ten is at most 22, one exact
// multiplication or division gives the correctly rounded double (Clinger's
// fast path, which covers every threshold a person would type); beyond
// that the result may be off by an ulp.
function jsonNumber(): f64 {
  let negative = false;
  if (jsonPeek() == 0x2d) {
    negative = true;
    jp++;
  }
  let mantissa: u64 = 0;
  let significant = 0;
  let exp10: i64 = 0;
  let exact = true;
  let c = jsonPeek();
  if (c == 0x30) {
    jp++;
  } else if (c >= 0x31 && c <= 0x39) {
    while (isDigit(c = jsonPeek())) {
      if (significant < 19) {
        mantissa = mantissa * 10 + <u64>(c - 0x30);
        significant++;
      } else {
        exp10++;
        if (c != 0x30) exact = false;
      }
      jp++;
    }
  } else {
    configError("invalid number");
    return 0;
  }
  if (jsonPeek() == 0x2e) {
    jp++;
    if (!isDigit(jsonPeek())) {
      configError("invalid number");
      return 0;
    }
    while (isDigit(c = jsonPeek())) {
      if (significant < 19) {
        mantissa = mantissa * 10 + <u64>(c - 0x30);
        if (mantissa != 0) significant++;
        exp10--;
      } else if (c != 0x30) {
        exact = false;
      }
      jp++;
    }
  }
  c = jsonPeek();
  if (c == 0x65 || c == 0x45) {
    jp++;
    let sign: i64 = 1;
    c = jsonPeek();
    if (c == 0x2b || c == 0x2d) {
      if (c == 0x2d) sign = -1;
      jp++;
    }
    if (!isDigit(jsonPeek())) {
      configError("invalid number");
      return 0;
    }
    let e: i64 = 0;
    while (isDigit(c = jsonPeek())) {
      if (e < 100000) e = e * 10 + <i64>(c - 0x30);
      jp++;
    }
    exp10 += sign * e;
  }
  let v: f64 = 0;
  if (mantissa != 0) {
    if (exact && mantissa <= (<u64>1 << 53) && exp10 >= -22 && exp10 <= 22) {
      v = exp10 >= 0 ? <f64>mantissa * pow10(<i32>exp10) : <f64>mantissa / pow10(<i32>-exp10);
    } else {
      v = <f64>mantissa * Math.pow(10, <f64>exp10);
    }
  }
  if (!isFinite(v)) {
    configError("number out of range");
    return 0;
  }
  return negative ? -v : v;
}

// jsonValue skips any JSON value.
function jsonValue(depth: i32): bool {
  if (depth > 64) {
    configError("nested too deeply");
    return false;
  }
  const c = jsonPeek();
  if (c == 0x22) return jsonString();
  if (c == 0x2d || isDigit(c)) {
    jsonNumber();
    return !failed;
  }
  if (jsonWord("true") || jsonWord("false") || jsonWord("null")) return true;
  const object = c == 0x7b;
  if (!object && c != 0x5b) {
    configError("invalid JSON");
    return false;
  }
  const close = object ? 0x7d : 0x5d;
  jp++;
  jsonSpace();
  if (jsonPeek() == close) {
    jp++;
    return true;
  }
  while (true) {
    if (object) {
      if (jsonPeek() != 0x22 || !jsonString()) {
        configError("invalid object");
        return false;
      }
      jsonSpace();
      if (jsonPeek() != 0x3a) {
        configError("invalid object");
        return false;
      }
      jp++;
      jsonSpace();
    }
    if (!jsonValue(depth + 1)) return false;
    jsonSpace();
    const d = jsonPeek();
    jp++;
    if (d == close) return true;
    if (d != 0x2c) {
      configError("invalid JSON");
      return false;
    }
    jsonSpace();
  }
  return false;
}

function parseConfig(p: usize, n: usize): void {
  hot = 70;
  warm = 40;
  if (n == 0) return;
  jp = p;
  jend = p + n;
  jsonSpace();
  if (jsonWord("null")) {
    jsonSpace();
    if (jp != jend) configError("trailing data after the JSON value");
    return;
  }
  if (jsonPeek() != 0x7b) {
    configError("want a JSON object");
    return;
  }
  jp++;
  jsonSpace();
  if (jsonPeek() == 0x7d) {
    jp++;
  } else {
    while (true) {
      if (jsonPeek() != 0x22) return configError("want a string key");
      const key = jp + 1;
      if (!jsonString()) return;
      const keyLen = jp - 1 - key;
      const which = bytesEqual(key, keyLen, "hot") ? 1 : bytesEqual(key, keyLen, "warm") ? 2 : 0;
      jsonSpace();
      if (jsonPeek() != 0x3a) return configError("want ':' after a key");
      jp++;
      jsonSpace();
      if (which == 0) {
        if (!jsonValue(0)) return;
      } else if (!jsonWord("null")) {
        const c = jsonPeek();
        if (c != 0x2d && !isDigit(c)) return configError(which == 1 ? "\"hot\" must be a number" : "\"warm\" must be a number");
        const v = jsonNumber();
        if (failed) return;
        if (which == 1) hot = v;
        else warm = v;
      }
      jsonSpace();
      const d = jsonPeek();
      jp++;
      if (d == 0x7d) break;
      if (d != 0x2c) return configError("want ',' or '}' in the object");
      jsonSpace();
    }
  }
  jsonSpace();
  if (jp != jend) configError("trailing data after the JSON value");
}

// ---------------------------------------------------------------------------
// The scorer, exactly as examples/leadscore documents it.
//
//   factor           attribute        transform                                   weight
//   estimated_value  estimated_value  ln(1+max(v,0)) / ln(1+10⁶), capped at 1; missing 0   30
//   source           source           referral 1, partner 0.8, event 0.7, web 0.5,         15
//                                     cold 0.2; other or missing 0.3
//   status           status           qualified 1, converted 1, contacted 0.6, new 0.3,    20
//                                     unqualified 0; other or missing 0.3
//   has_email        has_email        1 when ≥ 0.5, else 0 (missing 0)                      5
//   has_phone        has_phone        same                                                  5
//   has_company      has_company      same                                                  5
//   activity         activity_count   1 − e^(−n/5); missing or negative 0                  10
//   recency          age_days         e^(−max(d,0)/90); missing 0.5                        10
//
// value = c0 + c1 + … + c7, left to right; "hot" at or above config hot,
// "warm" at or above config warm, else "cold".

const MISSING: u32 = 0xffffffff;

function sourceFactor(p: usize, n: usize): f64 {
  if (bytesEqual(p, n, "referral")) return 1;
  if (bytesEqual(p, n, "partner")) return 0.8;
  if (bytesEqual(p, n, "event")) return 0.7;
  if (bytesEqual(p, n, "web")) return 0.5;
  if (bytesEqual(p, n, "cold")) return 0.2;
  return 0.3;
}

function statusFactor(p: usize, n: usize): f64 {
  if (bytesEqual(p, n, "qualified")) return 1;
  if (bytesEqual(p, n, "converted")) return 1;
  if (bytesEqual(p, n, "contacted")) return 0.6;
  if (bytesEqual(p, n, "new")) return 0.3;
  if (bytesEqual(p, n, "unqualified")) return 0;
  return 0.3;
}

// @ts-ignore: decorator
@inline function numberAt(column: usize, i: usize): f64 {
  return column != 0 ? load<f64>(column + (i << 3)) : NaN;
}

// @ts-ignore: decorator
@inline function valueFactor(v: f64, logMax: f64): f64 {
  if (isNaN(v)) return 0;
  return Math.min(Math.log1p(Math.max(v, 0)) / logMax, 1);
}

// @ts-ignore: decorator
@inline function flag(v: f64): f64 {
  return v >= 0.5 ? 1 : 0;
}

// @ts-ignore: decorator
@inline function activityFactor(n: f64): f64 {
  if (isNaN(n) || n < 0) return 0;
  return 1 - Math.exp(-n / 5);
}

// @ts-ignore: decorator
@inline function recencyFactor(d: f64): f64 {
  if (isNaN(d)) return 0.5;
  return Math.exp(-Math.max(d, 0) / 90);
}

function categoryFactor(slot: i32, codes: usize, factors: usize, entries: u32, i: usize): f64 {
  if (codes == 0) return 0.3;
  const code = load<u32>(codes + (i << 2));
  if (code == MISSING) return 0.3;
  if (code >= entries) {
    if (fail("column ")) {
      say(attribute(slot));
      say(": code ");
      sayNumber(<u64>code);
      say(" of subject ");
      sayNumber(<u64>i);
      say(" is outside the dictionary of ");
      sayNumber(<u64>entries);
    }
    return 0;
  }
  return load<f64>(factors + (<usize>code << 3));
}

// ---------------------------------------------------------------------------
// The response: ScoreResponse { values = 1 (packed double); label_codes = 2
// (packed fixed32); labels = 3; factor_names = 4; contributions = 5 (packed
// double, row-major) }. Every size is known up front, so the answer is laid
// out first and the loop writes straight into it.

const FACTORS: u64 = 8;

function putVarint(p: usize, v: u64): usize {
  while (v >= 0x80) {
    store<u8>(p++, <u8>(v | 0x80));
    v >>= 7;
  }
  store<u8>(p++, <u8>v);
  return p;
}

function varintSize(v: u64): u64 {
  let n: u64 = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

function putString(p: usize, tag: u8, s: string): usize {
  store<u8>(p++, tag);
  p = putVarint(p, <u64>s.length);
  for (let i = 0; i < s.length; i++) store<u8>(p++, <u8>s.charCodeAt(i));
  return p;
}

function score(p: usize, end: usize): i64 {
  parseRequest(p, end);
  if (failed) return 0;
  parseConfig(configPtr, configLen);
  if (failed) return 0;
  const n = count;
  for (let slot = 0; slot < SLOTS; slot++) {
    resolve(slot, n);
    if (failed) return 0;
  }

  // Lay the answer out: an upper bound of its size first.
  const bound = n * (8 + 4 + FACTORS * 8) + 256;
  const out = alloc(bound);
  if (failed) return 0;
  let w = out;
  let values: usize = 0;
  let labelCodes: usize = 0;
  let contributions: usize = 0;
  if (n > 0) {
    store<u8>(w++, 0x0a); // values: field 1, wire type 2
    w = putVarint(w, n * 8);
    values = w;
    w += <usize>(n * 8);
    store<u8>(w++, 0x12); // label_codes: field 2, wire type 2
    w = putVarint(w, n * 4);
    labelCodes = w;
    w += <usize>(n * 4);
    w = putString(w, 0x1a, "hot"); // labels: field 3; codes 0, 1, 2
    w = putString(w, 0x1a, "warm");
    w = putString(w, 0x1a, "cold");
  }
  for (let f = 0; f < <i32>FACTORS; f++) w = putString(w, 0x22, factorName(f)); // factor_names: field 4
  if (n > 0) {
    store<u8>(w++, 0x2a); // contributions: field 5, wire type 2
    w = putVarint(w, n * FACTORS * 8);
    contributions = w;
    w += <usize>(n * FACTORS * 8);
  }

  const estimatedValue = <usize>load<u32>(COL_DATA + 0);
  const sources = <usize>load<u32>(COL_DATA + 4);
  const statuses = <usize>load<u32>(COL_DATA + 8);
  const emails = <usize>load<u32>(COL_DATA + 12);
  const phones = <usize>load<u32>(COL_DATA + 16);
  const companies = <usize>load<u32>(COL_DATA + 20);
  const activities = <usize>load<u32>(COL_DATA + 24);
  const ages = <usize>load<u32>(COL_DATA + 28);
  const sourceFactors = <usize>load<u32>(COL_DICT + 4);
  const sourceEntries = load<u32>(COL_DICT_LEN + 4);
  const statusFactors = <usize>load<u32>(COL_DICT + 8);
  const statusEntries = load<u32>(COL_DICT_LEN + 8);
  const logMax = Math.log1p(1e6);
  const hotAt = hot;
  const warmAt = warm;

  for (let i: usize = 0; <u64>i < n; i++) {
    const c0 = 30.0 * valueFactor(numberAt(estimatedValue, i), logMax);
    const c1 = 15.0 * categoryFactor(SLOT_SOURCE, sources, sourceFactors, sourceEntries, i);
    const c2 = 20.0 * categoryFactor(SLOT_STATUS, statuses, statusFactors, statusEntries, i);
    const c3 = 5.0 * flag(numberAt(emails, i));
    const c4 = 5.0 * flag(numberAt(phones, i));
    const c5 = 5.0 * flag(numberAt(companies, i));
    const c6 = 10.0 * activityFactor(numberAt(activities, i));
    const c7 = 10.0 * recencyFactor(numberAt(ages, i));
    const v = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7;
    store<f64>(values + (i << 3), v);
    store<u32>(labelCodes + (i << 2), v >= hotAt ? 0 : v >= warmAt ? 1 : 2);
    const row = contributions + (i << 6);
    store<f64>(row, c0);
    store<f64>(row, c1, 8);
    store<f64>(row, c2, 16);
    store<f64>(row, c3, 24);
    store<f64>(row, c4, 32);
    store<f64>(row, c5, 40);
    store<f64>(row, c6, 48);
    store<f64>(row, c7, 56);
  }
  if (failed) return 0;
  return ((<i64>out) << 32) | <i64>(w - out);
}
