// The messages of sdk/proto/rapport/plugin/v1/plugin.proto as AssemblyScript
// classes, with the decoding and encoding the Go SDK does (sdk/sdk.go,
// sdk/wire.go). Columns are typed arrays: a numeric column that arrived as
// one packed run is a view of the request bytes, not a copy.

import { Reader, Writer, VARINT, FIXED64, FIXED32, BYTES } from "./wire";

/** MISSING marks a missing categorical value in Column.codes. */
export const MISSING: u32 = 0xffffffff;

/** maxCount bounds a batch's declared size, as in sdk/wire.go. */
const MAX_COUNT: u64 = 1 << 24;

/** One attribute of every subject of a batch. */
export class Column {
  /** The attribute's name, as in plugin.json's inputs. */
  name: string = "";
  /** A numeric attribute's values (NaN when missing), else null. */
  numbers: Float64Array | null = null;
  /** A categorical attribute's codes into dictionary (MISSING when missing), else null. */
  codes: Uint32Array | null = null;
  /** The distinct values of a categorical attribute. */
  dictionary: string[] = [];

  /** Whether the column holds codes rather than numbers. */
  get categorical(): bool {
    return this.numbers === null && (this.codes !== null || this.dictionary.length > 0);
  }

  /** Subject i's categorical value, or null when missing. */
  text(i: i32): string | null {
    const codes = this.codes;
    if (codes === null || i >= codes.length) return null;
    const c = codes[i];
    if (c == MISSING || c >= <u32>this.dictionary.length) return null;
    return this.dictionary[c];
  }
}

/** A set of subjects of one type, attribute by attribute. */
export class Batch {
  /** "contact", "organization", "lead" or "deal" (or a record type in a report). */
  subjectType: string = "";
  /** The number of subjects. */
  count: i32 = 0;
  columns: Column[] = [];
  /** The subjects' IDs, when the manifest asks for "id". */
  ids: string[] = [];

  /** The first column of that name, or null. */
  column(name: string): Column | null {
    for (let i = 0; i < this.columns.length; i++) {
      const c = unchecked(this.columns[i]);
      if (c.name == name) return c;
    }
    return null;
  }

  /**
   * The named numeric column's values, or count NaNs (missing) when the
   * batch has no such numeric column. Read only: it may be the request's
   * own bytes.
   */
  numbers(name: string): Float64Array {
    const c = this.column(name);
    if (c !== null && c.numbers !== null) return c.numbers!;
    const out = new Float64Array(this.count);
    out.fill(NaN);
    return out;
  }

  /**
   * For the named categorical column, table's value for each entry of its
   * dictionary (otherwise for values table does not list), and for a
   * subject with a missing value or a batch without the column, otherwise:
   * a per-subject lookup without comparing strings per subject.
   */
  lookup(name: string, keys: string[], values: f64[], otherwise: f64): Float64Array {
    const out = new Float64Array(this.count);
    const c = this.column(name);
    const codes = c !== null ? c.codes : null;
    if (c === null || codes === null) {
      out.fill(otherwise);
      return out;
    }
    const dict = c.dictionary;
    const factors = new Float64Array(dict.length);
    for (let d = 0; d < dict.length; d++) {
      let v = otherwise;
      for (let k = 0; k < keys.length; k++) {
        if (unchecked(keys[k]) == unchecked(dict[d])) {
          v = unchecked(values[k]);
          break;
        }
      }
      factors[d] = v;
    }
    for (let i = 0; i < this.count; i++) {
      const code = codes[i];
      out[i] = code == MISSING ? otherwise : factors[code];
    }
    return out;
  }

  /** Checks counts and codes as the Go SDK's Batch.Validate does; null when valid. */
  validate(): string | null {
    if (this.ids.length > 0 && this.ids.length != this.count) {
      return "batch: " + this.ids.length.toString() + " ids for " + this.count.toString() + " subjects";
    }
    for (let i = 0; i < this.columns.length; i++) {
      const c = this.columns[i];
      for (let j = 0; j < i; j++) {
        if (this.columns[j].name == c.name) return "column " + quote(c.name) + " appears twice";
      }
      const numbers = c.numbers;
      const codes = c.codes;
      if (numbers !== null && codes !== null) return "column " + quote(c.name) + ": both numbers and codes";
      if (numbers !== null) {
        if (numbers.length != this.count) {
          return "column " + quote(c.name) + ": " + numbers.length.toString() + " values for " + this.count.toString() + " subjects";
        }
        continue;
      }
      const n = codes === null ? 0 : codes.length;
      if (n != this.count) {
        return "column " + quote(c.name) + ": " + n.toString() + " codes for " + this.count.toString() + " subjects";
      }
      const size = <u32>c.dictionary.length;
      for (let k = 0; k < n; k++) {
        const code = codes![k];
        if (code != MISSING && code >= size) {
          return "column " + quote(c.name) + ": code " + code.toString() + " of subject " + k.toString() + " outside dictionary of " + size.toString();
        }
      }
    }
    return null;
  }
}

/** Go's %q for the plain names of columns. */
function quote(s: string): string {
  return "\"" + s + "\"";
}

/** A binding's configuration: the JSON object of plugin.json's config_schema, defaults applied. */
export class Bytes {
  constructor(public ptr: usize = 0, public length: usize = 0, public buffer: ArrayBuffer | null = null) {}

  /** The bytes as a string (UTF-8). */
  toString(): string {
    return String.UTF8.decodeUnsafe(this.ptr, this.length, false);
  }
}

/** ScoreRequest asks for one score per subject of batch. */
export class ScoreRequest {
  batch: Batch = new Batch();
  /** The binding's configuration as JSON (see Config). */
  config: Bytes = new Bytes();
}

/** SegmentRequest asks which segments each subject of batch belongs to. */
export class SegmentRequest {
  batch: Batch = new Batch();
  config: Bytes = new Bytes();
}

/** ScoreResponse holds one score per subject, in request order. */
export class ScoreResponse {
  /** One value per subject; finite. */
  values: Float64Array;
  /** Per subject, an index into labels (MISSING for none); null when the plugin gives no labels. */
  labelCodes: Uint32Array | null = null;
  labels: string[] = [];
  /** The explanation's factors; contributions holds count × factorNames.length values, subject by subject. */
  factorNames: string[];
  contributions: Float64Array;

  /** A response for n subjects explained by the named factors. */
  constructor(n: i32, factorNames: string[] = []) {
    this.values = new Float64Array(n);
    this.factorNames = factorNames;
    this.contributions = new Float64Array(n * factorNames.length);
  }

  /** Sets factor f's contribution to subject i's score. */
  @inline setContribution(i: i32, f: i32, v: f64): void {
    this.contributions[i * this.factorNames.length + f] = v;
  }

  /** Factor f's contribution to subject i's score. */
  @inline contribution(i: i32, f: i32): f64 {
    return this.contributions[i * this.factorNames.length + f];
  }

  /**
   * Declares the labels up front (every subject without one until
   * setLabelCode): then setLabelCode(i, k) gives subject i labels[k]
   * without comparing strings.
   */
  useLabels(labels: string[]): void {
    this.labels = labels;
    const codes = new Uint32Array(this.values.length);
    codes.fill(MISSING);
    this.labelCodes = codes;
  }

  /** Gives subject i the label of code k (see useLabels). */
  @inline setLabelCode(i: i32, k: u32): void {
    this.labelCodes![i] = k;
  }

  /** Gives subject i a label, adding it to labels if new. */
  setLabel(i: i32, label: string): void {
    if (this.labelCodes === null) this.useLabels([]);
    for (let k = 0; k < this.labels.length; k++) {
      if (unchecked(this.labels[k]) == label) {
        this.labelCodes![i] = <u32>k;
        return;
      }
    }
    this.labels.push(label);
    this.labelCodes![i] = <u32>(this.labels.length - 1);
  }

  /** Subject i's label, or "". */
  label(i: i32): string {
    const codes = this.labelCodes;
    if (codes === null || i >= codes.length) return "";
    const c = codes[i];
    return c == MISSING || c >= <u32>this.labels.length ? "" : this.labels[c];
  }
}

/**
 * SegmentResponse assigns subjects to segments in compressed sparse rows:
 * subject i is in keys[keyCodes[j]] for j in offsets[i]..offsets[i+1], with
 * weight weights[j] when weights is not empty. Build one with Segments.
 */
export class SegmentResponse {
  keys: string[] = [];
  offsets: Uint32Array = new Uint32Array(1);
  keyCodes: Uint32Array = new Uint32Array(0);
  weights: Float64Array = new Float64Array(0);
}

/** Segments builds a SegmentResponse subject by subject. */
export class Segments {
  private keys: string[] = [];
  private subjects: i32[] = [];
  private codes: u32[] = [];
  private weightList: f64[] = [];
  private weighted: bool = false;

  constructor(public count: i32) {}

  /** Puts subject i in segment key with weight (1 when unweighted). */
  assign(i: i32, key: string, weight: f64 = 1): void {
    let code = -1;
    for (let k = 0; k < this.keys.length; k++) {
      if (unchecked(this.keys[k]) == key) {
        code = k;
        break;
      }
    }
    if (code < 0) {
      code = this.keys.length;
      this.keys.push(key);
    }
    if (weight != 1) this.weighted = true;
    this.subjects.push(i);
    this.codes.push(<u32>code);
    this.weightList.push(weight);
  }

  /** The finished response: each subject's segments in the order assigned. */
  response(): SegmentResponse {
    const n = this.count;
    const r = new SegmentResponse();
    r.keys = this.keys;
    const offsets = new Uint32Array(n + 1);
    const m = this.subjects.length;
    for (let j = 0; j < m; j++) offsets[unchecked(this.subjects[j]) + 1]++;
    for (let i = 0; i < n; i++) offsets[i + 1] += offsets[i];
    const at = new Uint32Array(n);
    const codes = new Uint32Array(m);
    const weights = new Float64Array(this.weighted ? m : 0);
    for (let j = 0; j < m; j++) {
      const s = unchecked(this.subjects[j]);
      const k = offsets[s] + at[s]++;
      codes[k] = unchecked(this.codes[j]);
      if (this.weighted) weights[k] = unchecked(this.weightList[j]);
    }
    r.offsets = offsets;
    r.keyCodes = codes;
    r.weights = weights;
    return r;
  }
}

/** A named sequence of labelled points. */
export class Series {
  name: string = "";
  labels: string[] = [];
  values: f64[] = [];
  /** A suggested chart: "line", "bar", "area", "heatmap" or "". */
  chart: string = "";
}

/** ReportRequest gives a report plugin its parameters and data. */
export class ReportRequest {
  params: Bytes = new Bytes();
  config: Bytes = new Bytes();
  metrics: Series[] = [];
  batches: Batch[] = [];

  /** The named metric series, or null. */
  metric(name: string): Series | null {
    for (let i = 0; i < this.metrics.length; i++) if (this.metrics[i].name == name) return this.metrics[i];
    return null;
  }

  /** The first batch of that subject or record type, or null. */
  batch(subjectType: string): Batch | null {
    for (let i = 0; i < this.batches.length; i++) if (this.batches[i].subjectType == subjectType) return this.batches[i];
    return null;
  }
}

/** One headline figure. */
export class KPI {
  key: string = "";
  label: string = "";
  value: f64 = 0;
  /** "", "percent", "money", "count" or "days". */
  unit: string = "";
  /** The figure to reach, when hasTarget. */
  target: f64 = 0;
  hasTarget: bool = false;
}

/** A rectangular result. */
export class Table {
  key: string = "";
  title: string = "";
  columns: string[] = [];
  rows: string[][] = [];
}

/** Part of a report under a heading. */
export class Section {
  key: string = "";
  title: string = "";
  summary: string = "";
  kpis: KPI[] = [];
  tables: Table[] = [];
  series: Series[] = [];
}

/** A typed report: sections of KPIs, tables and series. */
export class Report {
  title: string = "";
  sections: Section[] = [];
}

// ---------------------------------------------------------------------------
// Decoding. source is the ArrayBuffer the bytes lie in: single-run numeric
// columns become views of it.

/** Packed collects the runs of a repeated double or fixed32 field. */
class Packed {
  first: usize = 0;
  bytes: usize = 0;
  runs: i32 = 0;
  copy: Writer | null = null;

  add(ptr: usize, n: usize): void {
    if (n == 0) return;
    if (this.runs == 0) {
      this.first = ptr;
    } else {
      let w = this.copy;
      if (w === null) {
        w = new Writer(<i32>(this.bytes + n) * 2);
        w.raw(this.first, this.bytes);
        this.copy = w;
      }
      w.raw(ptr, n);
    }
    this.runs++;
    this.bytes += n;
  }

  /** The elements' address and the buffer that holds them. */
  where(source: ArrayBuffer): ArrayBuffer {
    return this.copy !== null ? this.copy!.buffer : source;
  }

  ptr(): usize {
    return this.copy !== null ? this.copy!.ptr : this.first;
  }
}

function view<T extends ArrayBufferView>(buffer: ArrayBuffer, ptr: usize, byteLength: usize): T {
  // As TypedArray.wrap, without its alignment check: packed runs start at
  // any byte, and WebAssembly loads need no alignment.
  const out = changetype<T>(__new(offsetof<T>(), idof<T>()));
  store<usize>(changetype<usize>(out), changetype<usize>(buffer), offsetof<T>("buffer"));
  __link(changetype<usize>(out), changetype<usize>(buffer), false);
  store<i32>(changetype<usize>(out), <i32>byteLength, offsetof<T>("byteLength"));
  store<usize>(changetype<usize>(out), ptr, offsetof<T>("dataStart"));
  return out;
}

function doubles(r: Reader, into: Packed): bool {
  if (r.type == FIXED64) {
    into.add(r.start, 8);
    return true;
  }
  if (r.type != BYTES) return r.wrongType("doubles");
  if (r.length % 8 != 0) {
    return r.fail("malformed message: field " + r.number.toString() + ": " + r.length.toString() + " bytes is not a run of doubles");
  }
  into.add(r.start, r.length);
  return true;
}

function fixed32s(r: Reader, into: Packed): bool {
  if (r.type == FIXED32) {
    into.add(r.start, 4);
    return true;
  }
  if (r.type != BYTES) return r.wrongType("fixed32s");
  if (r.length % 4 != 0) {
    return r.fail("malformed message: field " + r.number.toString() + ": " + r.length.toString() + " bytes is not a run of fixed32");
  }
  into.add(r.start, r.length);
  return true;
}

function readString(r: Reader): string | null {
  if (r.type != BYTES) {
    r.wrongType("a string");
    return null;
  }
  return r.string();
}

function floats(source: ArrayBuffer, p: Packed, seen: bool): Float64Array | null {
  if (!seen) return null;
  if (p.bytes == 0) return new Float64Array(0);
  return view<Float64Array>(p.where(source), p.ptr(), p.bytes);
}

function words(source: ArrayBuffer, p: Packed, seen: bool): Uint32Array | null {
  if (!seen) return null;
  if (p.bytes == 0) return new Uint32Array(0);
  return view<Uint32Array>(p.where(source), p.ptr(), p.bytes);
}

function decodeColumn(source: ArrayBuffer, r: Reader, c: Column): void {
  const nums = new Packed();
  const codes = new Packed();
  while (r.next()) {
    switch (r.number) {
      case 1: {
        const s = readString(r);
        if (s !== null) c.name = s;
        break;
      }
      case 2:
        doubles(r, nums);
        break;
      case 3:
        fixed32s(r, codes);
        break;
      case 4: {
        const s = readString(r);
        if (s !== null) c.dictionary.push(s);
        break;
      }
    }
  }
  // As in Go, an empty run leaves the column without numbers or codes.
  c.numbers = floats(source, nums, nums.bytes > 0);
  c.codes = words(source, codes, codes.bytes > 0);
}

/** Reads a Batch from r's message; returns an error or null. */
export function decodeBatch(source: ArrayBuffer, r: Reader, b: Batch): string | null {
  while (r.next()) {
    switch (r.number) {
      case 1: {
        const s = readString(r);
        if (s !== null) b.subjectType = s;
        break;
      }
      case 2:
        if (r.type != VARINT || r.value > MAX_COUNT) {
          r.fail("malformed message: batch count");
          break;
        }
        b.count = <i32>r.value;
        break;
      case 3: {
        if (r.type != BYTES) {
          r.wrongType("a message");
          break;
        }
        const sub = r.sub();
        const c = new Column();
        decodeColumn(source, sub, c);
        if (sub.error !== null) r.fail(sub.error!);
        else b.columns.push(c);
        break;
      }
      case 4: {
        const s = readString(r);
        if (s !== null) b.ids.push(s);
        break;
      }
    }
  }
  if (r.error !== null) return r.error;
  const problem = b.validate();
  return problem === null ? null : "malformed message: " + problem;
}

function readBytes(r: Reader, source: ArrayBuffer): Bytes | null {
  if (r.type != BYTES) {
    r.wrongType("bytes");
    return null;
  }
  return new Bytes(r.start, r.length, source);
}

/** Reads a ScoreRequest or SegmentRequest body into batch and config; returns an error or null. */
function decodeRequest(source: ArrayBuffer, ptr: usize, length: usize, batch: Batch, config: Bytes): string | null {
  const r = new Reader(ptr, ptr + length);
  while (r.next()) {
    if (r.number == 1) {
      if (r.type != BYTES) {
        r.wrongType("a message");
        break;
      }
      const err = decodeBatch(source, r.sub(), batch);
      if (err !== null) return err;
    } else if (r.number == 2) {
      const b = readBytes(r, source);
      if (b !== null) {
        config.ptr = b.ptr;
        config.length = b.length;
        config.buffer = source;
      }
    }
  }
  return r.error;
}

/** The result of decoding: the message, or the error. */
export class Decoded<T> {
  constructor(public value: T | null, public error: string | null) {}
}

/** Reads a ScoreRequest from length bytes at ptr inside source. */
export function decodeScoreRequest(source: ArrayBuffer, ptr: usize, length: usize): Decoded<ScoreRequest> {
  const req = new ScoreRequest();
  const err = decodeRequest(source, ptr, length, req.batch, req.config);
  return err !== null ? new Decoded<ScoreRequest>(null, err) : new Decoded<ScoreRequest>(req, null);
}

/** Reads a SegmentRequest from length bytes at ptr inside source. */
export function decodeSegmentRequest(source: ArrayBuffer, ptr: usize, length: usize): Decoded<SegmentRequest> {
  const req = new SegmentRequest();
  const err = decodeRequest(source, ptr, length, req.batch, req.config);
  return err !== null ? new Decoded<SegmentRequest>(null, err) : new Decoded<SegmentRequest>(req, null);
}

function decodeSeries(r: Reader, s: Series): void {
  const values = new Packed();
  while (r.next()) {
    switch (r.number) {
      case 1: {
        const v = readString(r);
        if (v !== null) s.name = v;
        break;
      }
      case 2: {
        const v = readString(r);
        if (v !== null) s.labels.push(v);
        break;
      }
      case 3:
        doubles(r, values);
        break;
      case 4: {
        const v = readString(r);
        if (v !== null) s.chart = v;
        break;
      }
    }
  }
  const n = <i32>(values.bytes >> 3);
  const out = new Array<f64>(n);
  if (n > 0) memory.copy(out.dataStart, values.ptr(), values.bytes);
  s.values = out;
}

/** Reads a ReportRequest from length bytes at ptr inside source. */
export function decodeReportRequest(source: ArrayBuffer, ptr: usize, length: usize): Decoded<ReportRequest> {
  const req = new ReportRequest();
  const r = new Reader(ptr, ptr + length);
  while (r.next()) {
    switch (r.number) {
      case 1: {
        const b = readBytes(r, source);
        if (b !== null) req.params = b;
        break;
      }
      case 2: {
        const b = readBytes(r, source);
        if (b !== null) req.config = b;
        break;
      }
      case 3: {
        if (r.type != BYTES) {
          r.wrongType("a message");
          break;
        }
        const sub = r.sub();
        const s = new Series();
        decodeSeries(sub, s);
        if (sub.error !== null) r.fail(sub.error!);
        else req.metrics.push(s);
        break;
      }
      case 4: {
        if (r.type != BYTES) {
          r.wrongType("a message");
          break;
        }
        const b = new Batch();
        const err = decodeBatch(source, r.sub(), b);
        if (err !== null) return new Decoded<ReportRequest>(null, err);
        req.batches.push(b);
        break;
      }
    }
  }
  return r.error !== null ? new Decoded<ReportRequest>(null, r.error) : new Decoded<ReportRequest>(req, null);
}

// ---------------------------------------------------------------------------
// Encoding, in sdk/wire.go's order of fields.

function encodeColumn(w: Writer, c: Column): void {
  const m = w.begin(3);
  w.string(1, c.name);
  const numbers = c.numbers;
  if (numbers !== null) w.packedDoubles(2, numbers.dataStart, <usize>numbers.length);
  const codes = c.codes;
  if (codes !== null) w.packedFixed32s(3, codes.dataStart, <usize>codes.length);
  w.strings(4, c.dictionary);
  w.end(m);
}

/** Appends a Batch's fields (not the enclosing tag) to w. */
export function encodeBatch(w: Writer, b: Batch): void {
  w.string(1, b.subjectType);
  w.uint(2, <u64>b.count);
  for (let i = 0; i < b.columns.length; i++) encodeColumn(w, b.columns[i]);
  w.strings(4, b.ids);
}

/** Appends the wire form of a ScoreRequest (or SegmentRequest) to w. */
export function encodeScoreRequest(w: Writer, batch: Batch, config: Bytes): void {
  const m = w.begin(1);
  encodeBatch(w, batch);
  w.end(m);
  w.bytes(2, config.ptr, config.length);
}

function encodeSeries(w: Writer, num: u32, s: Series): void {
  const m = w.begin(num);
  w.string(1, s.name);
  w.strings(2, s.labels);
  w.packedDoubles(3, s.values.dataStart, <usize>s.values.length);
  w.string(4, s.chart);
  w.end(m);
}

/** Appends the wire form of a ReportRequest to w. */
export function encodeReportRequest(w: Writer, r: ReportRequest): void {
  w.bytes(1, r.params.ptr, r.params.length);
  w.bytes(2, r.config.ptr, r.config.length);
  for (let i = 0; i < r.metrics.length; i++) encodeSeries(w, 3, r.metrics[i]);
  for (let i = 0; i < r.batches.length; i++) {
    const m = w.begin(4);
    encodeBatch(w, r.batches[i]);
    w.end(m);
  }
}

/** Appends the wire form of a ScoreResponse to w. */
export function encodeScoreResponse(w: Writer, r: ScoreResponse): void {
  const n = <usize>r.values.length;
  const k = <usize>r.factorNames.length;
  let size: usize = n * (8 + 4) + n * k * 8 + 32;
  for (let i = 0; i < r.labels.length; i++) size += <usize>String.UTF8.byteLength(r.labels[i]) + 6;
  for (let i = 0; i < r.factorNames.length; i++) size += <usize>String.UTF8.byteLength(r.factorNames[i]) + 6;
  w.reserve(size);
  w.packedDoubles(1, r.values.dataStart, n);
  const codes = r.labelCodes;
  if (codes !== null) w.packedFixed32s(2, codes.dataStart, <usize>codes.length);
  w.strings(3, r.labels);
  w.strings(4, r.factorNames);
  w.packedDoubles(5, r.contributions.dataStart, <usize>r.contributions.length);
}

/** Appends the wire form of a SegmentResponse to w. */
export function encodeSegmentResponse(w: Writer, r: SegmentResponse): void {
  w.strings(1, r.keys);
  w.packedFixed32s(2, r.offsets.dataStart, <usize>r.offsets.length);
  w.packedFixed32s(3, r.keyCodes.dataStart, <usize>r.keyCodes.length);
  w.packedDoubles(4, r.weights.dataStart, <usize>r.weights.length);
}

/** Appends the wire form of a Report (a ReportResponse) to w. */
export function encodeReport(w: Writer, r: Report): void {
  w.string(1, r.title);
  for (let i = 0; i < r.sections.length; i++) {
    const s = r.sections[i];
    const m = w.begin(2);
    w.string(1, s.key);
    w.string(2, s.title);
    w.string(3, s.summary);
    for (let j = 0; j < s.kpis.length; j++) {
      const k = s.kpis[j];
      const km = w.begin(4);
      w.string(1, k.key);
      w.string(2, k.label);
      w.double(3, k.value);
      w.string(4, k.unit);
      if (k.hasTarget) w.doubleAlways(5, k.target);
      w.end(km);
    }
    for (let j = 0; j < s.tables.length; j++) {
      const t = s.tables[j];
      const tm = w.begin(5);
      w.string(1, t.key);
      w.string(2, t.title);
      w.strings(3, t.columns);
      for (let row = 0; row < t.rows.length; row++) {
        const rm = w.begin(4);
        w.strings(1, t.rows[row]);
        w.end(rm);
      }
      w.end(tm);
    }
    for (let j = 0; j < s.series.length; j++) encodeSeries(w, 6, s.series[j]);
    w.end(m);
  }
}

/** Appends the wire form of an Error message to w. */
export function encodeError(w: Writer, message: string): void {
  w.string(1, message);
}
