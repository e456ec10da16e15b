// Reports: every installed report plugin, and any one's report rendered
// from runReport alone (headline figures against their targets, tables,
// series as the chart the plugin suggests), so that a new model plugin has
// a page without work here. A plugin with a questionnaire (QCI) gets it as
// a form on its page. Every value a report holds is shown as text.

import { ApiError, Session, gql } from "./api";
import { Child, h, mount } from "./dom";
import { ChartSpec, Unit, chartCard, csv, download, fmt } from "./chart";
import { Page, link, navigate } from "./nav";

interface Plugin {
  name: string;
  version: string;
  points: string[];
  model: string | null;
  description: string | null;
  status: string;
}

interface KPI {
  key: string;
  label: string;
  value: number;
  unit: string;
  target: number | null;
}

interface Table {
  key: string;
  title: string;
  columns: string[];
  rows: string[][];
}

interface Series {
  name: string;
  labels: string[];
  values: number[];
  chart: string;
}

interface Section {
  key: string;
  title: string;
  summary: string;
  kpis: KPI[];
  tables: Table[];
  series: Series[];
}

interface Report {
  plugin: string;
  title: string;
  sections: Section[];
}

interface Questionnaire {
  plugin: string;
  areas: { key: string; title: string }[];
  scale: string[];
  questions: { key: string; area: string; text: string; answer: { answer: number; note: string | null; updatedAt: string } | null }[];
}

const reportQuery = `query RunReport($plugin: String!, $params: Map) {
  runReport(plugin: $plugin, params: $params) {
    plugin title
    sections { key title summary kpis { key label value unit target } tables { key title columns rows } series { name labels values chart } }
  }
}`;

const questionnaireQuery = `query Questionnaire($plugin: String!) {
  questionnaire(plugin: $plugin) { plugin areas { key title } scale questions { key area text answer { answer note updatedAt } } }
}`;

const recordMutation = `mutation RecordAnswers($plugin: String!, $answers: [AssessmentAnswerInput!]!) {
  recordAssessmentAnswers(plugin: $plugin, answers: $answers) { id question answer }
}`;

function newest(ps: Plugin[]): Plugin[] {
  const by = new Map<string, Plugin>();
  const cmp = (a: string, b: string): number => a.localeCompare(b, undefined, { numeric: true });
  for (const p of ps) {
    const o = by.get(p.name);
    if (!o || cmp(p.version, o.version) > 0) by.set(p.name, p);
  }
  return [...by.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Renders /reports (the report plugins) and /reports/<plugin>. */
export const reportsPage: Page = async (main, s, rest, params) => {
  if (rest.length) return reportPage(main, s, rest[0], params);
  document.title = "Reports · Rapport";
  mount(main, h("h1", null, "Reports"), h("p", { class: "muted" }, "Loading…"));
  let plugins: Plugin[];
  try {
    plugins = newest((await gql<{ plugins: Plugin[] }>(`{ plugins { name version points model description status } }`)).plugins.filter((p) => p.points.includes("report")));
  } catch (e) {
    mount(main, h("h1", null, "Reports"), h("p", { class: "error", role: "alert" }, (e as Error).message));
    return;
  }
  mount(main,
    h("div", { class: "board-head" }, h("h1", null, "Reports"), h("span", { class: "muted small" }, "The report plugins this server has loaded.")),
    plugins.length === 0 ? h("p", { class: "muted" }, "No report plugin is installed.") : null,
    h("div", { class: "report-list", id: "report-list" }, plugins.map((p) =>
      h("article", { class: "report-card", "data-plugin": p.name },
        h("h2", null, link("/reports/" + encodeURIComponent(p.name), titleOf(p.name))),
        h("div", { class: "muted small" }, p.name + "@" + p.version + (p.status !== "ready" ? " · " + p.status : "")),
        p.description ? h("p", null, p.description) : null))));
  (main.querySelector("#report-list") as HTMLElement).dataset.loaded = "true";
};

function titleOf(name: string): string {
  return name.replace(/[_-]+/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

// ---- one report

interface RParams {
  from: string;
  to: string;
  period: string;
}

function paramsOf(q: URLSearchParams): RParams {
  const ok = (s: string | null): string => (s && /^\d{4}-\d{2}-\d{2}$/.test(s) ? s : "");
  const p = (q.get("period") ?? "").toLowerCase();
  return { from: ok(q.get("from")), to: ok(q.get("to")), period: ["month", "quarter", "year"].includes(p) ? p : "" };
}

let seq = 0;

async function reportPage(main: HTMLElement, s: Session, plugin: string, q: URLSearchParams): Promise<void> {
  const my = ++seq;
  document.title = titleOf(plugin) + " · Reports · Rapport";
  const rp = paramsOf(q);
  const path = "/reports/" + encodeURIComponent(plugin);
  const go = (p: Partial<RParams>): void => {
    const n = { ...rp, ...p };
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(n)) if (v) u.set(k, v);
    const qs = u.toString();
    navigate(path + (qs ? "?" + qs : ""));
  };
  const heading = h("h1", null, titleOf(plugin));
  const meta = h("span", { class: "muted small", id: "report-plugin" });
  const body = h("div", { class: "report", id: "report", "data-plugin": plugin }, h("p", { class: "muted" }, "Running the report…"));
  const qslot = h("div", { class: "questionnaire-slot" });
  const date = (id: string, label: string, value: string, key: "from" | "to"): HTMLElement =>
    h("label", { class: "filter" }, h("span", null, label), h("input", { id, type: "date", value, onchange: (e: Event) => go({ [key]: (e.target as HTMLInputElement).value }) }));
  mount(main,
    h("p", { class: "crumbs small" }, link("/reports", "Reports"), " / "),
    h("div", { class: "board-head" }, heading, meta),
    h("form", { class: "filters", id: "report-filters", onsubmit: (e: Event) => e.preventDefault() },
      h("label", { class: "filter" }, h("span", null, "Period"),
        h("select", { id: "report-period", onchange: (e: Event) => go({ period: (e.target as HTMLSelectElement).value }) },
          h("option", { value: "" }, "Default"), ["month", "quarter", "year"].map((p) => h("option", { value: p, selected: p === rp.period }, titleOf(p))))),
      date("report-from", "From", rp.from, "from"),
      date("report-to", "To", rp.to, "to"),
      h("a", { href: "#questionnaire-box", class: "small q-jump", hidden: true, id: "questionnaire-jump", onclick: (e: Event) => { e.preventDefault(); document.getElementById("questionnaire-box")?.scrollIntoView(); } }, "Answer the questionnaire ↓")),
    body, qslot);

  const run = async (): Promise<void> => {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(rp)) if (v) params[k] = v;
    try {
      const r = (await gql<{ runReport: Report }>(reportQuery, { plugin, params: Object.keys(params).length ? params : null })).runReport;
      if (my !== seq) return;
      heading.textContent = r.title || titleOf(plugin);
      document.title = heading.textContent + " · Reports · Rapport";
      meta.textContent = r.plugin;
      mount(body, renderReport(r));
      body.dataset.loaded = String(Number(body.dataset.loaded ?? "0") + 1 || 1);
    } catch (e) {
      if (my !== seq) return;
      const nf = e instanceof ApiError && (e.code === "NOT_FOUND" || e.code === "BAD_USER_INPUT");
      mount(body, h("p", { class: "error", role: "alert" }, (nf ? "No report: " : "The report could not be made: ") + (e as Error).message));
      body.dataset.loaded = "error";
    }
  };
  body.dataset.loaded = "0";
  await Promise.all([run(), questionnaire(qslot, s, plugin, run, () => my === seq)]);
}

function unitOf(u: string): Unit {
  switch (u) {
    case "percent":
      return "percent";
    case "money":
      return "money";
    case "count":
      return "count";
    case "days":
      return "days";
    default:
      return "number";
  }
}

/**
 * Whether a KPI meets its target. A report may say so itself in a table
 * row naming the KPI's key (a "status" column: met / not met / no data; or
 * a "direction" column: at most / at least); else a figure of time, cost,
 * churn or loss is better lower, and any other higher.
 */
function verdict(k: KPI, sec: Section): "met" | "not met" | "no data" {
  for (const t of sec.tables) {
    const row = t.rows.find((r) => r[0] === k.key);
    if (!row) continue;
    const st = t.columns.indexOf("status");
    if (st >= 0 && /^(met|not met|no data)$/.test(row[st])) return row[st] as "met" | "not met" | "no data";
    const data = t.columns.indexOf("data");
    if (data >= 0 && row[data] === "no data") return "no data";
    const dir = t.columns.indexOf("direction");
    if (dir >= 0 && /at most|lower/.test(row[dir])) return k.value <= (k.target ?? 0) ? "met" : "not met";
    if (dir >= 0) return k.value >= (k.target ?? 0) ? "met" : "not met";
  }
  const lower = /\b(churn|cost|costs|hours|days|time|lost|lapsed|overdue|delay)\b/i.test(k.label);
  return (lower ? k.value <= k.target! : k.value >= k.target!) ? "met" : "not met";
}

function kpiTile(k: KPI, sec: Section): HTMLElement {
  const u = unitOf(k.unit);
  const v = k.target !== null ? verdict(k, sec) : null;
  return h("div", { class: "kpi" + (v ? " target " + v.replace(" ", "-") : ""), "data-kpi": k.key },
    h("div", { class: "kpi-label" }, k.label),
    h("div", { class: "kpi-value" }, fmt(k.value, u)),
    k.target !== null ? h("div", { class: "kpi-target small" }, "Target " + fmt(k.target, u) + " · ", h("span", { class: "verdict" }, v === "met" ? "✓ met" : v === "not met" ? "✗ not met" : "no data")) : null);
}

const ROWS = 25;

const idRoute: Record<string, string> = { org: "/organizations/", con: "/contacts/" };

function cell(v: string): Child {
  const m = /^([a-z]{3})_[0-9a-z]{26}$/.exec(v);
  if (m && idRoute[m[1]]) return link(idRoute[m[1]] + v, v, "id-link");
  return v;
}

function tableView(t: Table, sec: Section): HTMLElement {
  const numeric = t.columns.map((_, j) => t.rows.length > 0 && t.rows.every((r) => /^[-+]?[\d.,]+%?$|^–$/.test(r[j] ?? "")));
  const body = h("tbody");
  let shown = 0;
  const more = h("button", { type: "button", class: "more", hidden: true });
  const showMore = (n: number): void => {
    const frag = document.createDocumentFragment();
    for (const r of t.rows.slice(shown, shown + n)) frag.appendChild(h("tr", null, t.columns.map((_, j) => h("td", { class: numeric[j] ? "num" : undefined }, cell(r[j] ?? "")))));
    body.appendChild(frag);
    shown = Math.min(t.rows.length, shown + n);
    more.hidden = shown >= t.rows.length;
    more.textContent = "Show " + Math.min(100, t.rows.length - shown) + " more of " + (t.rows.length - shown);
  };
  more.addEventListener("click", () => showMore(100));
  showMore(ROWS);
  const exp = h("button", { type: "button", class: "link small", onclick: () => download(new Blob([csv([t.columns, ...t.rows])], { type: "text/csv" }), `${sec.key}-${t.key}.csv`) }, "CSV");
  return h("div", { class: "report-table", "data-table": t.key },
    h("h3", null, t.title || titleOf(t.key), " ", h("span", { class: "muted small" }, t.rows.length + " rows · "), exp),
    h("div", { class: "table-scroll" },
      h("table", { class: "list" }, h("thead", null, h("tr", null, t.columns.map((c, j) => h("th", { class: numeric[j] ? "num" : undefined }, titleOf(c))))), body)),
    t.rows.length === 0 ? h("p", { class: "muted small" }, "No rows.") : null,
    more);
}

// Series that share a suggested chart and labels are drawn together.
function seriesCharts(sec: Section): HTMLElement[] {
  const groups = new Map<string, Series[]>();
  for (const s of sec.series) {
    const k = (s.chart || "bar") + "\u0000" + s.labels.join("\u0001");
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  let i = 0;
  return [...groups.values()].map((ss) => {
    const chart = ss[0].chart;
    const kind: ChartSpec["kind"] = chart === "line" ? "line" : chart === "area" ? "area" : chart === "heatmap" ? "heatmap" : "bar";
    const labels = ss[0].labels.map(titleOrRaw);
    const spec: ChartSpec = kind === "heatmap"
      ? { id: `${sec.key}-s${i++}`, title: ss.length === 1 ? titleOf(ss[0].name) : sec.title, kind, unit: "number", labels, series: ss.map((s) => ({ name: titleOf(s.name), values: s.values })) }
      : { id: `${sec.key}-s${i++}`, title: ss.map((s) => titleOf(s.name)).join(", "), kind, unit: "number", labels, series: ss.map((s) => ({ name: titleOf(s.name), values: s.values })) };
    return chartCard(spec);
  });
}

// Labels that are keys (snake_case) read better as words; others stay as they are.
function titleOrRaw(l: string): string {
  return /^[a-z0-9]+(_[a-z0-9]+)+$/.test(l) ? l.replace(/_/g, " ") : l;
}

function renderReport(r: Report): Child[] {
  if (!r.sections.length) return [h("p", { class: "muted" }, "The report is empty.")];
  return [
    r.sections.length > 2 ? h("nav", { class: "report-toc small" }, r.sections.map((s) => h("a", { href: "#section-" + s.key, onclick: (e: Event) => { e.preventDefault(); document.getElementById("section-" + s.key)?.scrollIntoView(); } }, s.title))) : null,
    r.sections.map((sec) =>
      h("section", { class: "report-section", id: "section-" + sec.key, "data-section": sec.key },
        h("h2", null, sec.title || titleOf(sec.key)),
        sec.summary ? h("p", { class: "summary" }, sec.summary) : null,
        sec.kpis.length ? h("div", { class: "kpis" }, sec.kpis.map((k) => kpiTile(k, sec))) : null,
        sec.series.length ? h("div", { class: "report-charts" }, seriesCharts(sec)) : null,
        sec.tables.map((t) => tableView(t, sec)))),
  ];
}

// ---- questionnaire

async function questionnaire(slot: HTMLElement, s: Session, plugin: string, rerun: () => Promise<void>, current: () => boolean): Promise<void> {
  let qn: Questionnaire;
  try {
    qn = (await gql<{ questionnaire: Questionnaire }>(questionnaireQuery, { plugin })).questionnaire;
  } catch {
    return; // no questionnaire: nothing to answer
  }
  if (!current() || !qn.questions.length) return;
  const readOnly = s.role === "viewer";
  const status = h("span", { class: "muted small", id: "questionnaire-status", role: "status" });
  const error = h("p", { class: "error", id: "questionnaire-error", role: "alert" });
  const answered = qn.questions.filter((q) => q.answer).length;
  const form = h("form", {
    class: "questionnaire", id: "questionnaire",
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.textContent = "";
      const answers: { question: string; answer: number; note?: string }[] = [];
      for (const q of qn.questions) {
        const sel = form.querySelector(`select[data-question="${CSS.escape(q.key)}"]`) as HTMLSelectElement | null;
        const note = form.querySelector(`input[data-note="${CSS.escape(q.key)}"]`) as HTMLInputElement | null;
        if (!sel || sel.value === "") continue;
        const a = Number(sel.value);
        const n = note?.value.trim() ?? "";
        if (q.answer && q.answer.answer === a && (q.answer.note ?? "") === n) continue;
        answers.push(n ? { question: q.key, answer: a, note: n } : { question: q.key, answer: a });
      }
      if (!answers.length) {
        status.textContent = "Nothing changed.";
        return;
      }
      submit.disabled = true;
      status.textContent = "Saving…";
      try {
        const got = (await gql<{ recordAssessmentAnswers: { question: string; answer: number }[] }>(recordMutation, { plugin, answers })).recordAssessmentAnswers;
        for (const a of answers) {
          const q = qn.questions.find((x) => x.key === a.question)!;
          q.answer = { answer: a.answer, note: a.note ?? null, updatedAt: new Date().toISOString() };
        }
        status.textContent = `Saved ${got.length} answer${got.length === 1 ? "" : "s"}; the report is updated.`;
        await rerun();
      } catch (err) {
        const ae = err as ApiError;
        const m = /^answers\.(\d+)\./.exec(ae.field ?? "");
        error.textContent = (ae.code === "FORBIDDEN" ? "Not saved: your role cannot record answers. " : "Not saved: ") + ae.message + (m ? " (" + answers[Number(m[1])].question + ")" : "");
        status.textContent = "";
      } finally {
        submit.disabled = false;
      }
    },
  });
  const submit = h("button", { type: "submit", class: "primary", id: "questionnaire-save", disabled: readOnly }, "Save answers");
  const areas = qn.areas.length ? qn.areas : [{ key: "", title: "Questions" }];
  for (const area of areas) {
    const qs = qn.questions.filter((q) => !area.key || q.area === area.key);
    if (!qs.length) continue;
    form.appendChild(h("fieldset", { class: "q-area", "data-area": area.key },
      h("legend", null, area.title),
      qs.map((q) => h("div", { class: "q-row", "data-question": q.key },
        h("label", { class: "q-text", for: "q-" + q.key }, q.text),
        h("select", { id: "q-" + q.key, "data-question": q.key, disabled: readOnly },
          h("option", { value: "", selected: !q.answer }, "— not answered —"),
          qn.scale.map((label, i) => h("option", { value: String(i), selected: q.answer?.answer === i }, i + " · " + label))),
        h("input", { type: "text", class: "q-note", "data-note": q.key, placeholder: "Note (optional)", value: q.answer?.note ?? "", disabled: readOnly, "aria-label": "Note" })))));
  }
  form.appendChild(h("div", { class: "q-actions" }, submit, status));
  form.appendChild(error);
  mount(slot, h("details", { class: "questionnaire-box", id: "questionnaire-box", open: true },
    h("summary", null, h("h2", null, "Questionnaire"), " ", h("span", { class: "muted small" }, `${answered} of ${qn.questions.length} answered · ${qn.plugin}` + (readOnly ? " · read only for viewers" : ""))),
    h("p", { class: "muted small" }, "Answer on the scale from 0 (" + qn.scale[0] + ") to " + (qn.scale.length - 1) + " (" + qn.scale[qn.scale.length - 1] + "). Saving records the changed answers and runs the report again."),
    form));
  slot.dataset.loaded = "true";
  const jump = document.getElementById("questionnaire-jump");
  if (jump) jump.hidden = false;
}
