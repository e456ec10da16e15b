// rapport-sdk: what the Go package github.com/rapportcrm/rapport/sdk gives
// Go authors, for AssemblyScript. A plugin registers the functions of its
// extension points and re-exports the ABI:
//
//   import { ScoreRequest, ScoreResponse, registerScorer } from "rapport-sdk";
//   export * from "rapport-sdk/exports";
//
//   function score(req: ScoreRequest): ScoreResponse | null {
//     const amount = req.batch.numbers("estimated_value");
//     const resp = new ScoreResponse(req.batch.count, ["amount"]);
//     for (let i = 0; i < req.batch.count; i++) {
//       const v = Math.log1p(Math.max(amount[i], 0));
//       resp.values[i] = isNaN(v) ? 0 : v;
//       resp.setContribution(i, 0, resp.values[i]);
//     }
//     return resp;
//   }
//   registerScorer(score);
//
// See README.md.

export {
  MISSING, Column, Batch, Bytes, ScoreRequest, ScoreResponse, SegmentRequest, SegmentResponse, Segments,
  Series, ReportRequest, Report, Section, KPI, Table, Decoded,
  decodeBatch, decodeScoreRequest, decodeSegmentRequest, decodeReportRequest,
  encodeBatch, encodeScoreRequest, encodeReportRequest, encodeScoreResponse, encodeSegmentResponse, encodeReport, encodeError,
} from "./assembly/messages";
export { Config } from "./assembly/config";
export { Scorer, Segmenter, Reporter, registerScorer, registerSegmenter, registerReporter, fail, log, dispatch, POINT_SCORE, POINT_SEGMENT, POINT_REPORT } from "./assembly/plugin";
export { Reader, Writer } from "./assembly/wire";
