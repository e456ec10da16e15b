// The plugin a module serves: the functions an author registers, and the
// dispatch of one call to them (the AssemblyScript side of what sdk/wasm
// and sdk/internal/guest do for Go).

import {
  ScoreRequest, ScoreResponse, SegmentRequest, SegmentResponse, ReportRequest, Report,
  decodeScoreRequest, decodeSegmentRequest, decodeReportRequest,
  encodeScoreResponse, encodeSegmentResponse, encodeReport,
} from "./messages";
import { Writer } from "./wire";

/** A scorer: one score per subject of the request's batch, or null after fail(). */
export type Scorer = (req: ScoreRequest) => ScoreResponse | null;
/** A segmenter: the segments of each subject, or null after fail(). */
export type Segmenter = (req: SegmentRequest) => SegmentResponse | null;
/** A reporter: a report, or null after fail(). */
export type Reporter = (req: ReportRequest) => Report | null;

let scorer: Scorer | null = null;
let segmenter: Segmenter | null = null;
let reporter: Reporter | null = null;
let failure: string | null = null;

/** Makes fn the plugin's score point. Call it at the top level of the module. */
export function registerScorer(fn: Scorer): void {
  scorer = fn;
}

/** Makes fn the plugin's segment point. */
export function registerSegmenter(fn: Segmenter): void {
  segmenter = fn;
}

/** Makes fn the plugin's report point. */
export function registerReporter(fn: Reporter): void {
  reporter = fn;
}

/**
 * Records why the current call fails; return null from the point's
 * function after it. The host receives an Error answer with message.
 */
export function fail(message: string): void {
  if (failure === null) failure = message;
}

// @ts-ignore: decorator
@external("rapport", "log")
declare function hostLog(level: i32, ptr: usize, len: i32): void;

/** Writes a message to the host's log: level 0 debug, 1 info, 2 warn, 3 error. */
export function log(level: i32, message: string): void {
  const bytes = String.UTF8.encode(message, false);
  hostLog(level, changetype<usize>(bytes), bytes.byteLength);
}

/** Point numbers, as in sdk/ABI.md. */
export const POINT_SCORE: i32 = 1;
export const POINT_SEGMENT: i32 = 2;
export const POINT_REPORT: i32 = 3;

function notImplemented(name: string): string {
  return "extension point " + name + " not implemented";
}

/**
 * Runs point on the length request bytes at ptr (inside source) and writes
 * the response into out; returns null, or the error to answer with.
 */
export function dispatch(point: i32, source: ArrayBuffer, ptr: usize, length: usize, out: Writer): string | null {
  failure = null;
  switch (point) {
    case POINT_SCORE: {
      if (scorer === null) return notImplemented("score");
      const req = decodeScoreRequest(source, ptr, length);
      if (req.error !== null) return req.error;
      const resp = scorer!(req.value!);
      if (resp === null || failure !== null) return failure !== null ? failure : "score failed";
      encodeScoreResponse(out, resp);
      return null;
    }
    case POINT_SEGMENT: {
      if (segmenter === null) return notImplemented("segment");
      const req = decodeSegmentRequest(source, ptr, length);
      if (req.error !== null) return req.error;
      const resp = segmenter!(req.value!);
      if (resp === null || failure !== null) return failure !== null ? failure : "segment failed";
      encodeSegmentResponse(out, resp);
      return null;
    }
    case POINT_REPORT: {
      if (reporter === null) return notImplemented("report");
      const req = decodeReportRequest(source, ptr, length);
      if (req.error !== null) return req.error;
      const resp = reporter!(req.value!);
      if (resp === null || failure !== null) return failure !== null ? failure : "report failed";
      encodeReport(out, resp);
      return null;
    }
  }
  return notImplemented("point");
}
