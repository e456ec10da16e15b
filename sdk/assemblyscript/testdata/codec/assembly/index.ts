// The test module of sdk/assemblyscript/codec_test.go. codec_echo decodes
// the input region as the request of a point and encodes it again; the
// registered points answer responses derived from their requests by rules
// the Go test repeats with the Go SDK, so that both encodings can be
// compared byte for byte.

import {
  Batch, Bytes, KPI, Report, ReportRequest, ScoreRequest, ScoreResponse, Section, SegmentRequest, SegmentResponse,
  Segments, Series, Table, Writer, decodeReportRequest, decodeScoreRequest, decodeSegmentRequest, encodeReportRequest,
  encodeScoreRequest, registerReporter, registerScorer, registerSegmenter,
} from "rapport-sdk";
import { rapport_input } from "rapport-sdk/exports";
export * from "rapport-sdk/exports";

const echoed = new Writer(1024);

/** Decodes the size bytes of the input region as point's request and encodes it again. */
export function codec_echo(point: i32, size: i32): i64 {
  const source = changetype<ArrayBuffer>(rapport_input(0));
  const ptr = changetype<usize>(source);
  echoed.reset();
  let err: string | null = null;
  if (point == 3) {
    const r = decodeReportRequest(source, ptr, <usize>size);
    if (r.error !== null) err = r.error;
    else encodeReportRequest(echoed, r.value!);
  } else if (point == 2) {
    const r = decodeSegmentRequest(source, ptr, <usize>size);
    if (r.error !== null) err = r.error;
    else encodeScoreRequest(echoed, r.value!.batch, r.value!.config);
  } else {
    const r = decodeScoreRequest(source, ptr, <usize>size);
    if (r.error !== null) err = r.error;
    else encodeScoreRequest(echoed, r.value!.batch, r.value!.config);
  }
  if (err !== null) {
    echoed.reset();
    echoed.string(1, err);
    return (<i64>1 << 63) | (<i64>echoed.ptr << 32) | <i64>echoed.length;
  }
  return (<i64>echoed.ptr << 32) | <i64>echoed.length;
}

// score: values[i] = 1.5·i + x[i] (0 when x is missing), the label is
// column c's text ("none" when missing), contributions values[i]/2 and i.
function score(req: ScoreRequest): ScoreResponse | null {
  const b = req.batch;
  const x = b.numbers("x");
  const c = b.column("c");
  const resp = new ScoreResponse(b.count, ["half", "index"]);
  for (let i = 0; i < b.count; i++) {
    const v = 1.5 * <f64>i + (isNaN(x[i]) ? 0 : x[i]);
    resp.values[i] = v;
    const t = c !== null ? c.text(i) : null;
    resp.setLabel(i, t !== null ? t : "none");
    resp.setContribution(i, 0, v / 2);
    resp.setContribution(i, 1, <f64>i);
  }
  return resp;
}

// segment: subject i is in column c's text (when known), then in "every"
// with weight 1, and every third subject in "third" with weight i + 0.5.
function segment(req: SegmentRequest): SegmentResponse | null {
  const b = req.batch;
  const c = b.column("c");
  const s = new Segments(b.count);
  for (let i = b.count - 1; i >= 0; i--) {
    const t = c !== null ? c.text(i) : null;
    if (t !== null) s.assign(i, t);
  }
  for (let i = 0; i < b.count; i++) {
    s.assign(i, "every");
    if (i % 3 == 0) s.assign(i, "third", <f64>i + 0.5);
  }
  return s.response();
}

// report: the params as title; a section per batch (key its subject type,
// a KPI per numeric column: the sum of its known values, with a target
// on every other one; a table of the texts of the first 20 subjects);
// and a section echoing the metric series.
function report(req: ReportRequest): Report | null {
  const r = new Report();
  r.title = req.params.toString();
  for (let k = 0; k < req.batches.length; k++) {
    const b = req.batches[k];
    const s = new Section();
    s.key = b.subjectType;
    s.title = "batch " + k.toString();
    const t = new Table();
    t.key = "texts";
    for (let j = 0; j < b.columns.length; j++) {
      const col = b.columns[j];
      t.columns.push(col.name);
      const nums = col.numbers;
      if (nums === null) continue;
      const kpi = new KPI();
      kpi.key = col.name;
      kpi.label = "Σ " + col.name;
      for (let i = 0; i < nums.length; i++) if (!isNaN(nums[i])) kpi.value += nums[i];
      kpi.unit = "count";
      if (j % 2 == 0) {
        kpi.hasTarget = true;
        kpi.target = <f64>j;
      }
      s.kpis.push(kpi);
    }
    for (let i = 0; i < b.count && i < 20; i++) {
      const row: string[] = [];
      for (let j = 0; j < b.columns.length; j++) {
        const v = b.columns[j].text(i);
        row.push(v !== null ? v : "");
      }
      t.rows.push(row);
    }
    s.tables.push(t);
    r.sections.push(s);
  }
  const m = new Section();
  m.key = "metrics";
  m.summary = req.config.toString();
  for (let i = 0; i < req.metrics.length; i++) m.series.push(req.metrics[i]);
  r.sections.push(m);
  return r;
}

registerScorer(score);
registerSegmenter(segment);
registerReporter(report);
