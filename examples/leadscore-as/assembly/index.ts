// The Rapport example lead scorer (examples/leadscore) in AssemblyScript, on
// the AssemblyScript SDK (sdk/assemblyscript): the SDK decodes the request,
// encodes the answer and provides the ABI exports; this file is the scorer.
//
//   factor           input            transform                                           weight
//   estimated_value  estimated_value  ln(1+max(v,0)) / ln(1+10⁶), capped at 1; missing 0   20
//   source           source           referral 1, partner 0.8, event 0.7, web 0.5,         15
//                                     cold 0.2; other or missing 0.3
//   status           status           qualified 1, converted 1, contacted 0.6, new 0.3,    20
//                                     unqualified 0; other or missing 0.3
//   has_email        has_email        1 when ≥ 0.5, else 0 (missing 0)                      5
//   has_phone        has_phone        same                                                  5
//   has_company      has_company      same                                                  5
//   activity         activity_count   1 − e^(−n/5); missing or negative 0                   5
//   recency          age_days         e^(−max(d,0)/90); missing 0.5                        10
//   budget           budget           as estimated_value; missing 0                        10
//   calls            calls            1 − e^(−n/2); missing or negative 0                   5
//
// budget and calls are declared inputs (plugin.json, sdk/INPUTS.md):
// "budget = custom.budget:number", the workspace's custom lead field
// (missing, NaN, for a lead without one or while the field is not
// defined), and "calls = count(activities where kind = call within 30d)".
//
// value = c0 + c1 + … + c9, left to right, as the Go scorer sums them;
// "hot" at or above config hot (default 70), "warm" at or above config warm
// (default 40), else "cold".

import { Config, ScoreRequest, ScoreResponse, fail, registerScorer } from "rapport-sdk";
export * from "rapport-sdk/exports";

const FACTORS = ["estimated_value", "source", "status", "has_email", "has_phone", "has_company", "activity", "recency", "budget", "calls"];
const LABELS = ["hot", "warm", "cold"];
const SOURCES = ["referral", "partner", "event", "web", "cold"];
const SOURCE_FACTORS: f64[] = [1, 0.8, 0.7, 0.5, 0.2];
const STATUSES = ["qualified", "converted", "contacted", "new", "unqualified"];
const STATUS_FACTORS: f64[] = [1, 1, 0.6, 0.3, 0];

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
@inline function callsFactor(n: f64): f64 {
  if (isNaN(n) || n < 0) return 0;
  return 1 - Math.exp(-n / 2);
}

// @ts-ignore: decorator
@inline function recencyFactor(d: f64): f64 {
  if (isNaN(d)) return 0.5;
  return Math.exp(-Math.max(d, 0) / 90);
}

function score(req: ScoreRequest): ScoreResponse | null {
  const config = Config.parse(req.config);
  const hot = config.number("hot", 70);
  const warm = config.number("warm", 40);
  if (config.error !== null) {
    fail("config: " + config.error!);
    return null;
  }
  const b = req.batch;
  const n = b.count;
  const value = b.numbers("estimated_value");
  const emails = b.numbers("has_email");
  const phones = b.numbers("has_phone");
  const companies = b.numbers("has_company");
  const activities = b.numbers("activity_count");
  const ages = b.numbers("age_days");
  const budgets = b.numbers("budget");
  const calls = b.numbers("calls");
  // Each dictionary is resolved once, not each lead.
  const sources = b.lookup("source", SOURCES, SOURCE_FACTORS, 0.3);
  const statuses = b.lookup("status", STATUSES, STATUS_FACTORS, 0.3);
  const logMax = Math.log1p(1e6);

  const resp = new ScoreResponse(n, FACTORS);
  resp.useLabels(LABELS);
  const values = resp.values;
  const codes = resp.labelCodes!;
  const c = resp.contributions;
  for (let i = 0; i < n; i++) {
    const c0 = 20.0 * valueFactor(unchecked(value[i]), logMax);
    const c1 = 15.0 * unchecked(sources[i]);
    const c2 = 20.0 * unchecked(statuses[i]);
    const c3 = 5.0 * flag(unchecked(emails[i]));
    const c4 = 5.0 * flag(unchecked(phones[i]));
    const c5 = 5.0 * flag(unchecked(companies[i]));
    const c6 = 5.0 * activityFactor(unchecked(activities[i]));
    const c7 = 10.0 * recencyFactor(unchecked(ages[i]));
    const c8 = 10.0 * valueFactor(unchecked(budgets[i]), logMax);
    const c9 = 5.0 * callsFactor(unchecked(calls[i]));
    const v = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9;
    unchecked((values[i] = v));
    unchecked((codes[i] = v >= hot ? 0 : v >= warm ? 1 : 2));
    const row = i * 10;
    unchecked((c[row] = c0));
    unchecked((c[row + 1] = c1));
    unchecked((c[row + 2] = c2));
    unchecked((c[row + 3] = c3));
    unchecked((c[row + 4] = c4));
    unchecked((c[row + 5] = c5));
    unchecked((c[row + 6] = c6));
    unchecked((c[row + 7] = c7));
    unchecked((c[row + 8] = c8));
    unchecked((c[row + 9] = c9));
  }
  return resp;
}

registerScorer(score);
