// Dashboards: the built-in metrics (core/metrics) as charts drawn in the
// browser, from the GraphQL metrics queries. /dashboards is an overview of
// every metric; /dashboards/<metric> shows one in full. The filters
// (period, range, pipeline, owner, segment) live in the URL's query.

import { gql } from "./api";
import { Child, h, mount } from "./dom";
import { ChartSpec, Unit, chartCard, csv, download, fmt } from "./chart";
import { Page, link, navigate } from "./nav";

/* eslint-disable @typescript-eslint/no-explicit-any */
type M = any;

interface Filters {
  period: "MONTH" | "QUARTER" | "YEAR";
  from: string; // YYYY-MM
  to: string; // YYYY-MM, inclusive
  pipeline: string;
  owner: string;
  segment: string;
  /** The range came from the URL: keep it there. */
  explicit: boolean;
}

interface Dash {
  slug: string;
  title: string;
  blurb: string;
  /** The selection inside metrics { … }. */
  fields: string;
  /** Forecasts look ahead: their default range starts this month. */
  ahead?: boolean;
  render: (m: M, f: Filters) => Child[];
  /** The overview's chart. */
  overview: (m: M, f: Filters) => ChartSpec | null;
}

const customerFields = `customers { label start partial customersAtStart customersAtEnd newCustomers reactivated churned retained churnRate retentionRate orders buyers revenue startingRevenue retainedRevenue lostRevenue revenueChurnRate netRevenueRetention }`;
const dealFields = `deals { label start partial created openAtStart won lost wonAmount lostAmount winRate winRateByAmount averageWonAmount averageCycleDays salesVelocity }`;
const cohortFields = `cohorts { period activeWindow cohorts { label partial size cells { offset active rate revenue } } } ${customerFields}`;
const clvFields = `clv(top: 15) { customers historicalRevenue historicalMargin historicalAverage margin retention discountRate acquisitionCost predictive marginMeasured retentionMeasured top { id kind name orders revenue margin } }`;
const conversionFields = `conversion { pipelineID pipeline deals winRate steps { stageID stage position kind entered reached skipped conversion fromFirst } }`;
const forecastFields = `forecast { period periods { label start partial deals amount weighted } overdue { deals amount weighted } later { deals amount weighted } unscheduled { deals amount weighted } total { deals amount weighted } }`;
const engagementFields = `engagement { periods { label start partial contacts activities byKind { kind count perContact } outboundEmails replied replyRate } lastTouch { asOf contacts touched averageDays buckets { label minDays maxDays contacts } } }`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : typeof v === "number" ? v : parseFloat(String(v)));

function periodName(f: Filters): string {
  return f.period === "MONTH" ? "Month" : f.period === "QUARTER" ? "Quarter" : "Year";
}

/** A series chart over the periods of rows. */
function periodChart(id: string, title: string, kind: ChartSpec["kind"], unit: Unit, rows: M[], f: Filters, series: [string, string][], yTitle?: string): ChartSpec {
  return {
    id, title, kind, unit, yTitle,
    xTitle: periodName(f),
    labels: rows.map((r) => r.label),
    partial: rows.map(partialNow),
    series: series.map(([name, key]) => ({ name, values: rows.map((r) => num(r[key])) })),
  };
}

/**
 * Whether a period is in progress: the API marks every period that had
 * not ended partial, which for a forecast includes those to come; only the
 * current one holds figures "so far".
 */
function partialNow(r: M): boolean {
  return !!r.partial && (!r.start || Date.parse(r.start) <= Date.now());
}

function partialNote(rows: M[]): string | undefined {
  const p = rows.filter(partialNow).map((r) => r.label);
  if (!p.length) return undefined;
  return `* Partial: ${p.join(", ")} had not ended when the figures were computed; they are so far, not final (hatched bars, dashed lines, hollow points).`;
}

function kpi(label: string, value: string, note?: string, cls = ""): HTMLElement {
  return h("div", { class: "kpi " + cls }, h("div", { class: "kpi-label" }, label), h("div", { class: "kpi-value" }, value), note ? h("div", { class: "kpi-note muted small" }, note) : null);
}

/** An HTML table of rows with columns [title, key, unit], with a CSV export. */
function dataTable(name: string, rows: M[], cols: [string, string, Unit | "text"][]): HTMLElement {
  const cell = (r: M, key: string, unit: Unit | "text"): string => (unit === "text" ? String(r[key] ?? "") : fmt(num(r[key]), unit));
  const table = h("table", { class: "list data-table" },
    h("thead", null, h("tr", null, cols.map(([t, , u]) => h("th", { class: u === "text" ? undefined : "num" }, t)))),
    h("tbody", null, rows.map((r) => h("tr", { class: r.partial ? "partial" : undefined }, cols.map(([, k, u]) => h("td", { class: u === "text" ? undefined : "num" }, cell(r, k, u) + (k === "label" && r.partial ? " (partial)" : "")))))));
  const exp = h("button", {
    type: "button", class: "link small",
    onclick: () => download(new Blob([csv([cols.map((c) => c[0]), ...rows.map((r) => cols.map(([, k]) => (k === "partial" ? String(!!r.partial) : r[k] ?? null)))])], { type: "text/csv" }), name.toLowerCase().replace(/[^a-z0-9]+/g, "-") + ".csv"),
  }, "Download CSV");
  return h("details", { class: "data" }, h("summary", null, "Data: " + name + " ", exp), table);
}

const dashboards: Dash[] = [
  {
    slug: "churn",
    title: "Churn",
    blurb: "Customers lost per period: churned / customers active in the previous period.",
    fields: customerFields,
    render: (m, f) => {
      const rows = m.customers;
      return [
        chartCard(periodChart("churn-rate", "Churn rate", "line", "rate", rows, f, [["Customer churn", "churnRate"], ["Revenue churn", "revenueChurnRate"]]), partialNote(rows)),
        chartCard(periodChart("churn-customers", "Customers gained and lost", "bar", "count", rows, f, [["New", "newCustomers"], ["Reactivated", "reactivated"], ["Churned", "churned"]]), partialNote(rows)),
        dataTable("Churn", rows, [["Period", "label", "text"], ["Active at start", "customersAtStart", "count"], ["Active", "customersAtEnd", "count"], ["New", "newCustomers", "count"], ["Reactivated", "reactivated", "count"], ["Churned", "churned", "count"], ["Churn rate", "churnRate", "rate"], ["Revenue churn", "revenueChurnRate", "rate"]]),
      ];
    },
    overview: (m, f) => periodChart("ov-churn", "Churn rate", "line", "rate", m.customers, f, [["Customer churn", "churnRate"]]),
  },
  {
    slug: "retention",
    title: "Retention",
    blurb: "Customers kept per period: (active − new − reactivated) / active in the previous period.",
    fields: customerFields,
    render: (m, f) => {
      const rows = m.customers;
      return [
        chartCard(periodChart("retention-rate", "Retention rate", "line", "rate", rows, f, [["Retention rate", "retentionRate"]]), partialNote(rows)),
        chartCard(periodChart("retention-customers", "Active customers", "bar", "count", rows, f, [["Active at start", "customersAtStart"], ["Retained", "retained"], ["Active", "customersAtEnd"]]), partialNote(rows)),
        dataTable("Retention", rows, [["Period", "label", "text"], ["Active at start", "customersAtStart", "count"], ["Retained", "retained", "count"], ["Active", "customersAtEnd", "count"], ["Retention rate", "retentionRate", "rate"], ["Buyers", "buyers", "count"], ["Orders", "orders", "count"]]),
      ];
    },
    overview: (m, f) => periodChart("ov-retention", "Retention rate", "line", "rate", m.customers, f, [["Retention rate", "retentionRate"]]),
  },
  {
    slug: "revenue-retention",
    title: "Revenue retention",
    blurb: "What the previous period's buyers spent again: net revenue retention and revenue churn.",
    fields: customerFields,
    render: (m, f) => {
      const rows = m.customers;
      return [
        chartCard(periodChart("nrr", "Net revenue retention", "line", "rate", rows, f, [["Net revenue retention", "netRevenueRetention"], ["Revenue churn", "revenueChurnRate"]]), partialNote(rows)),
        chartCard(periodChart("revenue-retained", "Revenue kept and lost", "bar", "money", rows, f, [["Starting revenue", "startingRevenue"], ["Retained", "retainedRevenue"], ["Lost", "lostRevenue"]]), partialNote(rows)),
        chartCard(periodChart("revenue", "Revenue", "area", "money", rows, f, [["Revenue", "revenue"]]), partialNote(rows)),
        dataTable("Revenue retention", rows, [["Period", "label", "text"], ["Revenue", "revenue", "money"], ["Starting revenue", "startingRevenue", "money"], ["Retained", "retainedRevenue", "money"], ["Lost", "lostRevenue", "money"], ["NRR", "netRevenueRetention", "rate"], ["Revenue churn", "revenueChurnRate", "rate"]]),
      ];
    },
    overview: (m, f) => periodChart("ov-nrr", "Net revenue retention", "line", "rate", m.customers, f, [["NRR", "netRevenueRetention"]]),
  },
  {
    slug: "cohorts",
    title: "Cohorts",
    blurb: "Customers by period of first order, and the share of them active in each later period.",
    fields: cohortFields,
    render: (m, f) => {
      const spec = cohortSpec(m, f, "cohorts", false);
      return [
        chartCard(spec, spec.cellPartial?.some((r) => r.some(Boolean)) ? "Outlined, hatched cells are in a period that had not ended: so far, not final." : undefined),
        dataTable("Cohort sizes", m.cohorts.cohorts, [["Cohort", "label", "text"], ["Customers", "size", "count"]]),
      ];
    },
    overview: (m, f) => cohortSpec(m, f, "ov-cohorts", true),
  },
  {
    slug: "clv",
    title: "Lifetime value",
    blurb: "Historical value (margin of every order) and predictive CLV = m·r/(1+i−r) − AC.",
    fields: clvFields,
    render: (m) => {
      const c = m.clv;
      return [
        h("div", { class: "kpis" },
          kpi("Customers", fmt(c.customers, "count")),
          kpi("Historical revenue", fmt(num(c.historicalRevenue), "money")),
          kpi("Historical CLV (average margin)", fmt(num(c.historicalAverage), "money")),
          kpi("Predictive CLV", fmt(num(c.predictive), "money"), "m " + fmt(num(c.margin), "money") + (c.marginMeasured ? " (measured)" : "") + " · r " + fmt(num(c.retention), "rate") + (c.retentionMeasured ? " (measured)" : "") + " · i " + fmt(num(c.discountRate), "rate") + " · AC " + fmt(num(c.acquisitionCost), "money"))),
        chartCard(clvSpec(m, "clv-top", false)),
        dataTable("Top customers", c.top, [["Customer", "name", "text"], ["Kind", "kind", "text"], ["Orders", "orders", "count"], ["Revenue", "revenue", "money"], ["Margin", "margin", "money"]]),
      ];
    },
    overview: (m) => clvSpec(m, "ov-clv", true),
  },
  {
    slug: "conversion",
    title: "Conversion funnel",
    blurb: "Stage-to-stage conversion of the deals created in the range, per pipeline.",
    fields: conversionFields,
    render: (m) => {
      const out: Child[] = [];
      for (const fu of m.conversion as M[]) {
        out.push(h("div", { class: "kpis" }, kpi(fu.pipeline, fmt(fu.deals, "count") + " deals"), kpi("Win rate", fmt(num(fu.winRate), "rate"))));
        out.push(chartCard(funnelSpec(fu, "funnel-" + fu.pipelineID, false)));
      }
      if (!out.length) out.push(h("p", { class: "muted" }, "No deals were created in this range."));
      return out;
    },
    overview: (m) => (m.conversion.length ? funnelSpec(m.conversion[0], "ov-funnel", true) : null),
  },
  {
    slug: "win-rate",
    title: "Win rate and velocity",
    blurb: "Deals won / (won + lost) per period, cycle length, and sales velocity = open × average won × win rate / cycle days.",
    fields: dealFields,
    render: (m, f) => {
      const rows = m.deals;
      return [
        chartCard(periodChart("win-rate", "Win rate", "line", "rate", rows, f, [["By count", "winRate"], ["By amount", "winRateByAmount"]]), partialNote(rows)),
        chartCard(periodChart("deals-won-lost", "Deals created, won and lost", "bar", "count", rows, f, [["Created", "created"], ["Won", "won"], ["Lost", "lost"]]), partialNote(rows)),
        chartCard(periodChart("velocity", "Sales velocity (per day)", "bar", "money", rows, f, [["Sales velocity", "salesVelocity"]]), partialNote(rows)),
        chartCard(periodChart("cycle", "Average sales cycle", "line", "days", rows, f, [["Days from creation to won", "averageCycleDays"]]), partialNote(rows)),
        dataTable("Win rate and velocity", rows, [["Period", "label", "text"], ["Created", "created", "count"], ["Open at start", "openAtStart", "count"], ["Won", "won", "count"], ["Lost", "lost", "count"], ["Won amount", "wonAmount", "money"], ["Win rate", "winRate", "rate"], ["Cycle", "averageCycleDays", "days"], ["Velocity", "salesVelocity", "money"]]),
      ];
    },
    overview: (m, f) => periodChart("ov-win", "Win rate", "line", "rate", m.deals, f, [["Win rate", "winRate"]]),
  },
  {
    slug: "forecast",
    title: "Forecast",
    blurb: "Open deals by expected close period: amount, and weighted by probability.",
    fields: forecastFields,
    ahead: true,
    render: (m, f) => {
      const fc = m.forecast;
      const b = (x: M): string => fmt(num(x.weighted), "money") + " weighted";
      const n = (x: M): string => fmt(x.deals, "count") + " deals · " + fmt(num(x.amount), "money");
      return [
        h("div", { class: "kpis" }, kpi("Total open", b(fc.total), n(fc.total)), kpi("Overdue", b(fc.overdue), n(fc.overdue), "warn"), kpi("Later", b(fc.later), n(fc.later)), kpi("Unscheduled", b(fc.unscheduled), n(fc.unscheduled))),
        chartCard(periodChart("forecast", "Pipeline by expected close", "bar", "money", fc.periods, f, [["Amount", "amount"], ["Weighted", "weighted"]]), partialNote(fc.periods)),
        dataTable("Forecast", fc.periods, [["Period", "label", "text"], ["Deals", "deals", "count"], ["Amount", "amount", "money"], ["Weighted", "weighted", "money"]]),
      ];
    },
    overview: (m, f) => periodChart("ov-forecast", "Forecast (weighted)", "bar", "money", m.forecast.periods, f, [["Weighted", "weighted"]]),
  },
  {
    slug: "engagement",
    title: "Engagement",
    blurb: "Activities per period by kind, email reply rate, and days since each contact's last activity.",
    fields: engagementFields,
    render: (m, f) => {
      const e = m.engagement;
      const lt = e.lastTouch;
      return [
        h("div", { class: "kpis" }, kpi("Contacts", fmt(lt.contacts, "count")), kpi("Touched", fmt(lt.touched, "count")), kpi("Average days since last touch", fmt(num(lt.averageDays), "days"))),
        chartCard(engagementSpec(e, f, "engagement-kinds", false), partialNote(e.periods)),
        chartCard(periodChart("reply-rate", "Email reply rate", "line", "rate", e.periods, f, [["Reply rate", "replyRate"]]), partialNote(e.periods)),
        chartCard({ id: "last-touch", title: "Days since last touch", kind: "bar", unit: "count", labels: lt.buckets.map((x: M) => x.label), series: [{ name: "Contacts", values: lt.buckets.map((x: M) => x.contacts) }], xTitle: "Days since the last activity", yTitle: "Contacts" }),
        dataTable("Engagement", e.periods, [["Period", "label", "text"], ["Contacts", "contacts", "count"], ["Activities", "activities", "count"], ["Outbound emails", "outboundEmails", "count"], ["Replied", "replied", "count"], ["Reply rate", "replyRate", "rate"]]),
      ];
    },
    overview: (m, f) => ({ ...engagementSpec(m.engagement, f, "ov-engagement", true), title: "Activities" }),
  },
];

function cohortSpec(m: M, f: Filters, id: string, compact: boolean): ChartSpec {
  const cs: M[] = m.cohorts.cohorts;
  const periods: M[] = m.customers ?? [];
  const at = new Map(periods.map((p, i) => [p.label, i]));
  const width = Math.max(0, ...cs.map((c) => c.cells.length));
  const labels = Array.from({ length: width }, (_, i) => "+" + i);
  return {
    id, compact,
    title: "Cohort retention",
    kind: "heatmap",
    unit: "rate",
    xTitle: periodName(f) + "s since the first order",
    labels,
    series: cs.map((c) => ({ name: `${c.label} (${c.size})`, values: labels.map((_, j) => { const cell = c.cells.find((x: M) => x.offset === j); return cell ? num(cell.rate) : null; }) })),
    notes: cs.map((c) => labels.map((_, j) => { const cell = c.cells.find((x: M) => x.offset === j); return cell ? `${cell.active} of ${c.size} active` : null; })),
    cellPartial: cs.map((c) => labels.map((_, j) => { const i = at.get(c.label); return i !== undefined && !!periods[i + j]?.partial; })),
  };
}

function clvSpec(m: M, id: string, compact: boolean): ChartSpec {
  const top: M[] = compact ? m.clv.top.slice(0, 6) : m.clv.top;
  return { id, compact, title: "Customers of highest historical value (margin)", kind: "hbar", unit: "money", labels: top.map((c) => c.name), series: [{ name: "Margin", values: top.map((c) => num(c.margin)) }], notes: [top.map((c) => `${c.orders} orders`)] };
}

function funnelSpec(fu: M, id: string, compact: boolean): ChartSpec {
  const steps: M[] = fu.steps;
  return {
    id, compact,
    title: "Funnel: " + fu.pipeline,
    kind: "hbar", unit: "count",
    labels: steps.map((s) => s.stage),
    series: [{ name: "Reached", values: steps.map((s) => s.reached) }],
    notes: [steps.map((s, i) => (i === 0 ? "" : fmt(num(s.conversion), "rate") + " of previous"))],
  };
}

function engagementSpec(e: M, f: Filters, id: string, compact: boolean): ChartSpec {
  const kinds = [...new Set((e.periods as M[]).flatMap((p) => p.byKind.map((k: M) => k.kind as string)))].sort();
  return {
    id, compact,
    title: "Activities by kind",
    kind: "stacked", unit: "count",
    xTitle: periodName(f),
    labels: e.periods.map((p: M) => p.label),
    partial: e.periods.map(partialNow),
    series: kinds.map((k) => ({ name: k, values: e.periods.map((p: M) => p.byKind.find((x: M) => x.kind === k)?.count ?? 0) })),
  };
}

// ---- filters

function ym(d: Date): string {
  return d.getUTCFullYear() + "-" + String(d.getUTCMonth() + 1).padStart(2, "0");
}

function addMonths(s: string, n: number): string {
  const [y, m] = s.split("-").map(Number);
  return ym(new Date(Date.UTC(y, m - 1 + n, 1)));
}

function filtersOf(params: URLSearchParams, ahead: boolean): Filters {
  const p = (params.get("period") ?? "month").toUpperCase();
  const period = (p === "QUARTER" || p === "YEAR" ? p : "MONTH") as Filters["period"];
  const now = ym(new Date());
  const valid = (s: string | null): s is string => !!s && /^\d{4}-\d{2}$/.test(s);
  const span = period === "MONTH" ? 11 : period === "QUARTER" ? 23 : 47;
  let from = params.get("from"), to = params.get("to");
  if (!valid(to)) to = ahead ? addMonths(valid(from) ? from : now, period === "MONTH" ? 5 : 11) : now;
  if (!valid(from)) from = ahead ? now : addMonths(to, -span);
  if (from > to) [from, to] = [to, from];
  const explicit = valid(params.get("from")) || valid(params.get("to"));
  return { period, from, to, pipeline: params.get("pipeline") ?? "", owner: params.get("owner") ?? "", segment: params.get("segment") ?? "", explicit };
}

function queryOf(f: Filters, def: Filters): string {
  const q = new URLSearchParams();
  if (f.period !== "MONTH") q.set("period", f.period.toLowerCase());
  if (f.explicit || f.from !== def.from || f.to !== def.to) {
    q.set("from", f.from);
    q.set("to", f.to);
  }
  if (f.pipeline) q.set("pipeline", f.pipeline);
  if (f.owner) q.set("owner", f.owner);
  if (f.segment) q.set("segment", f.segment);
  const s = q.toString();
  return s ? "?" + s : "";
}

/** The GraphQL range of the filters: [first day of from, first day after to). */
function rangeOf(f: Filters): { from: string; to: string } {
  return { from: f.from + "-01T00:00:00Z", to: addMonths(f.to, 1) + "-01T00:00:00Z" };
}

function filterOf(f: Filters): Record<string, string> | null {
  const o: Record<string, string> = {};
  if (f.pipeline) o.pipelineID = f.pipeline;
  if (f.owner) o.ownerID = f.owner;
  if (f.segment) o.segmentID = f.segment;
  return Object.keys(o).length ? o : null;
}

interface Lookups {
  pipelines: { id: string; name: string }[];
  members: { id: string; name: string }[];
  segments: { id: string; name: string }[];
}

let lookups: Promise<Lookups> | null = null;
let lookupsOf = ""; // the workspace whose lookups are cached

function loadLookups(workspace: string): Promise<Lookups> {
  if (lookupsOf !== workspace) {
    lookups = null;
    lookupsOf = workspace;
  }
  if (!lookups) {
    lookups = gql<M>(`query DashboardFilters {
      pipelines(first: 100) { edges { node { id name } } }
      members { id name }
      segments(first: 200) { edges { node { id name } } }
    }`).then((d) => ({
      pipelines: d.pipelines.edges.map((e: M) => e.node),
      members: d.members,
      segments: d.segments.edges.map((e: M) => e.node),
    })).catch((e) => {
      lookups = null;
      throw e;
    });
  }
  return lookups;
}

function filterBar(path: string, f: Filters, def: Filters, lk: Lookups): HTMLElement {
  const go = (g: Partial<Filters>): void => navigate(path + queryOf({ ...f, ...g }, def));
  const sel = (id: string, label: string, all: string, opts: { id: string; name: string }[], value: string, key: keyof Filters): HTMLElement =>
    h("label", { class: "filter" }, h("span", null, label),
      h("select", { id, onchange: (e: Event) => go({ [key]: (e.target as HTMLSelectElement).value }) },
        h("option", { value: "" }, all),
        opts.map((o) => h("option", { value: o.id, selected: o.id === value }, o.name))));
  const month = (id: string, label: string, value: string, key: "from" | "to"): HTMLElement =>
    h("label", { class: "filter" }, h("span", null, label),
      h("input", { id, type: "month", value, onchange: (e: Event) => { const v = (e.target as HTMLInputElement).value; if (/^\d{4}-\d{2}$/.test(v)) go({ [key]: v, explicit: true }); } }));
  return h("form", { class: "filters", id: "dashboard-filters", onsubmit: (e: Event) => e.preventDefault() },
    h("label", { class: "filter" }, h("span", null, "Period"),
      h("select", { id: "filter-period", onchange: (e: Event) => go({ period: (e.target as HTMLSelectElement).value as Filters["period"] }) },
        (["MONTH", "QUARTER", "YEAR"] as const).map((p) => h("option", { value: p, selected: p === f.period }, p[0] + p.slice(1).toLowerCase())))),
    month("filter-from", "From", f.from, "from"),
    month("filter-to", "To", f.to, "to"),
    sel("filter-pipeline", "Pipeline", "All pipelines", lk.pipelines, f.pipeline, "pipeline"),
    sel("filter-owner", "Owner", "All owners", lk.members, f.owner, "owner"),
    sel("filter-segment", "Segment", "All segments", lk.segments, f.segment, "segment"),
    queryOf(f, def) ? h("button", { type: "button", class: "link", id: "filter-reset", onclick: () => navigate(path) }, "Reset") : null);
}

function tabs(current: string): HTMLElement {
  return h("nav", { class: "dash-tabs", "aria-label": "Dashboards" },
    link("/dashboards", "Overview", current === "" ? "active" : ""),
    dashboards.map((d) => link("/dashboards/" + d.slug, d.title, current === d.slug ? "active" : "")));
}

let seq = 0;

/** Renders /dashboards (the overview) and /dashboards/<metric>. */
export const dashboardsPage: Page = async (main, s, rest, params) => {
  const my = ++seq;
  const slug = rest[0] ?? "";
  const dash = dashboards.find((d) => d.slug === slug);
  if (slug && !dash) {
    mount(main, h("h1", null, "Dashboards"), tabs(""), h("p", null, "No dashboard named “" + slug + "”."));
    return;
  }
  document.title = (dash ? dash.title : "Dashboards") + " · Rapport";
  const f = filtersOf(params, !!dash?.ahead);
  const def = filtersOf(new URLSearchParams(), !!dash?.ahead);
  const path = "/dashboards" + (dash ? "/" + dash.slug : "");
  const body = h("div", { class: "dash-body", id: "dashboard", "data-dashboard": slug || "overview" }, h("p", { class: "muted" }, "Loading…"));
  const filterSlot = h("div", { class: "filter-slot" });
  mount(main,
    h("div", { class: "board-head" }, h("h1", null, dash ? dash.title : "Dashboards"), dash ? h("span", { class: "muted small" }, dash.blurb) : h("span", { class: "muted small" }, "Every built-in metric at a glance; open one for its detail.")),
    tabs(slug), filterSlot, body);

  const range = rangeOf(f);
  const ahead = filtersOf(new URLSearchParams(), true);
  const aheadF: Filters = { ...f, from: f.from > ahead.from ? f.from : ahead.from, to: ahead.to };
  const vars: Record<string, unknown> = { range, period: f.period, filter: filterOf(f), ahead: rangeOf(aheadF) };
  const fields = dash ? dash.fields : [customerFields, dealFields, cohortFields.replace(customerFields, ""), clvFields, conversionFields, engagementFields].join("\n");
  const query = `query Dashboard($range: MetricRange!, $period: MetricPeriod, $filter: MetricFilter${dash ? "" : ", $ahead: MetricRange!"}) {
    metrics(range: $range, period: $period, filter: $filter) { period from to ${fields} }
    ${dash ? "" : "ahead: metrics(range: $ahead, period: $period, filter: $filter) { " + forecastFields + " }"}
  }`;
  if (dash) delete vars.ahead;
  body.dataset.from = range.from;
  body.dataset.to = range.to;
  body.dataset.period = f.period;
  let data: M;
  try {
    const [lk, d] = await Promise.all([loadLookups(s.workspace.id).catch(() => ({ pipelines: [], members: [], segments: [] })), gql<M>(query, vars)]);
    if (my !== seq) return;
    mount(filterSlot, filterBar(path, f, def, lk));
    data = d;
  } catch (e) {
    if (my !== seq) return;
    mount(body, h("p", { class: "error", role: "alert" }, "The metrics could not be loaded: " + (e as Error).message));
    body.dataset.loaded = "error";
    return;
  }
  const m = data.metrics;
  if (dash) {
    mount(body, dash.render(m, f));
  } else {
    m.forecast = data.ahead.forecast;
    mount(body, h("div", { class: "overview" }, dashboards.map((d) => {
      let spec: ChartSpec | null = null;
      try {
        spec = d.overview(m, f);
      } catch {
        spec = null;
      }
      return h("section", { class: "overview-card", "data-dashboard": d.slug },
        h("h2", null, link("/dashboards/" + d.slug, d.title)),
        spec ? chartCard({ ...spec, compact: true }) : h("p", { class: "muted" }, "No data in this range."),
        h("p", { class: "muted small" }, d.blurb));
    })));
  }
  body.dataset.loaded = "true";
};
