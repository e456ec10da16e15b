// Two scorers (or two segmenters) side by side on a sample of subjects,
// before switching the binding: a scatter plot of one's score against the
// other's and the confusion matrix of their labels (segments), nothing
// stored. /plugins/compare?point=score&subject=contact&a=REF&b=REF&sample=N

import { Session, gql } from "./api";
import { h, mount } from "./dom";
import { navigate } from "./nav";
import { Plugin, SUBJECTS, errorText, loadPlugins, ref, tabs } from "./plugins-common";

interface Answer {
  subjectID: string;
  baselineValue: number;
  baselineLabel: string;
  candidateValue: number;
  candidateLabel: string;
}

interface Sample {
  comparison: { baseline: string; candidate: string; subjects: number; rankCorrelation: number | null; meanShift: number; topK: number; topKOverlap: number; labelChangeCount: number };
  answers: Answer[];
}

const sampleQuery = `query Compare($point: ExtensionBindingPoint!, $a: String!, $b: String!, $t: ExtensionBindingSubjectType!, $n: Int!) {
  shadowSample(point: $point, baseline: $a, candidate: $b, subjectType: $t, sample: $n) {
    comparison { baseline candidate subjects rankCorrelation meanShift topK topKOverlap labelChangeCount }
    answers { subjectID baselineValue baselineLabel candidateValue candidateLabel }
  }
}`;

const SVG = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: (SVGElement | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

function fmt(n: number): string {
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (Math.abs(n) >= 1e4) return Math.round(n / 1e3) + "k";
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

/** The scatter plot of a's value (x) against b's (y), one circle per subject. */
export function scatter(answers: Answer[], a: string, b: string): SVGSVGElement {
  const W = 460, H = 360, L = 56, R = 24, T = 16, B = 44;
  const xs = answers.map((p) => p.baselineValue), ys = answers.map((p) => p.candidateValue);
  const lo = Math.min(0, ...xs, ...ys), hi0 = Math.max(1, ...xs, ...ys);
  const hi = hi0 === lo ? lo + 1 : hi0;
  const sx = (v: number) => L + ((v - lo) / (hi - lo)) * (W - L - R);
  const sy = (v: number) => H - B - ((v - lo) / (hi - lo)) * (H - T - B);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "scatter", id: "scatter", role: "img", "aria-label": a + " against " + b });
  const grid = svg("g", { class: "grid" });
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    grid.appendChild(svg("line", { x1: L, x2: W - R, y1: sy(v), y2: sy(v) }));
    grid.appendChild(svg("line", { y1: T, y2: H - B, x1: sx(v), x2: sx(v) }));
    grid.appendChild(svg("text", { x: L - 6, y: sy(v) + 4, "text-anchor": "end" }, fmt(v)));
    grid.appendChild(svg("text", { x: sx(v), y: H - B + 16, "text-anchor": "middle" }, fmt(v)));
  }
  root.appendChild(grid);
  root.appendChild(svg("line", { class: "diagonal", x1: sx(lo), y1: sy(lo), x2: sx(hi), y2: sy(hi) }));
  const pts = svg("g", { class: "points" });
  for (const p of answers) {
    const same = p.baselineLabel === p.candidateLabel;
    const c = svg("circle", { cx: sx(p.baselineValue).toFixed(1), cy: sy(p.candidateValue).toFixed(1), r: 3.5, class: same ? "same" : "changed", "data-subject": p.subjectID },
      svg("title", {}, `${p.subjectID}: ${fmt(p.baselineValue)} (${p.baselineLabel || "no label"}) → ${fmt(p.candidateValue)} (${p.candidateLabel || "no label"})`));
    pts.appendChild(c);
  }
  root.appendChild(pts);
  root.appendChild(svg("text", { class: "axis", x: (L + W - R) / 2, y: H - 8, "text-anchor": "middle" }, a));
  root.appendChild(svg("text", { class: "axis", x: 14, y: (T + H - B) / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${(T + H - B) / 2})` }, b));
  return root;
}

/** The confusion matrix of a's labels (rows) against b's (columns), with totals and the agreement. */
export function confusion(answers: Answer[], a: string, b: string): HTMLElement {
  const label = (l: string) => l || "(no label)";
  const order = (ls: Set<string>) => [...ls].sort((x, y) => (x === "(none)" ? 1 : y === "(none)" ? -1 : x.localeCompare(y)));
  const rows = order(new Set(answers.map((p) => label(p.baselineLabel))));
  const cols = order(new Set(answers.map((p) => label(p.candidateLabel))));
  const count = new Map<string, number>();
  let agree = 0;
  for (const p of answers) {
    const k = label(p.baselineLabel) + "\u0000" + label(p.candidateLabel);
    count.set(k, (count.get(k) ?? 0) + 1);
    if (label(p.baselineLabel) === label(p.candidateLabel)) agree++;
  }
  const n = answers.length;
  const max = Math.max(1, ...count.values());
  const table = h("table", { class: "confusion", id: "confusion" },
    h("thead", null, h("tr", null, h("th", { class: "corner" }, a + " ↓ / " + b + " →"), cols.map((c) => h("th", null, c)), h("th", { class: "total" }, "Total"))),
    h("tbody", null, rows.map((r) => {
      let total = 0;
      const cells = cols.map((c) => {
        const v = count.get(r + "\u0000" + c) ?? 0;
        total += v;
        const td = h("td", { class: "cell" + (r === c ? " diag" : "") + (v === 0 ? " zero" : ""), "data-count": String(v) }, String(v));
        if (v > 0) td.style.setProperty("--shade", String(0.12 + 0.6 * (v / max)));
        return td;
      });
      return h("tr", null, h("th", null, r), cells, h("td", { class: "total" }, String(total)));
    })),
    h("tfoot", null, h("tr", null, h("th", null, "Total"),
      cols.map((c) => h("td", { class: "total" }, String(answers.filter((p) => label(p.candidateLabel) === c).length))),
      h("td", { class: "total", id: "confusion-total" }, String(n)))));
  const pct = n ? (100 * agree) / n : 0;
  return h("div", { class: "confusion-box" }, table,
    h("p", { class: "agreement", id: "agreement", "data-agree": String(agree) }, "Agreement: " + agree + " of " + n + " subjects (" + pct.toFixed(1) + " %) keep their label."));
}

/** The comparison page. */
export async function comparePage(main: HTMLElement, _s: Session, params: URLSearchParams): Promise<void> {
  document.title = "Compare · Plugins · Rapport";
  mount(main, h("h1", null, "Compare plugins"), tabs("/plugins/compare"), h("p", { class: "muted" }, "Loading…"));
  let plugins: Plugin[];
  try {
    plugins = (await loadPlugins()).plugins;
  } catch (e) {
    mount(main, h("h1", null, "Compare plugins"), tabs("/plugins/compare"), h("p", { class: "error", role: "alert" }, errorText(e)));
    return;
  }
  const point = params.get("point") === "segment" ? "segment" : "score";
  const subject = (SUBJECTS as readonly string[]).includes(params.get("subject") ?? "") ? params.get("subject")! : "contact";
  const n = Math.min(1000, Math.max(1, parseInt(params.get("sample") ?? "", 10) || 200));
  const fit = plugins.filter((p) => p.points.includes(point) && (p.subjects.length === 0 || p.subjects.includes(subject)));
  const a = params.get("a") ?? (fit[0] ? ref(fit[0]) : "");
  const b = params.get("b") ?? (fit[1] ? ref(fit[1]) : fit[0] ? ref(fit[0]) : "");

  const pick = (id: string, value: string) => h("select", { id, name: id }, fit.map((p) => h("option", { value: ref(p), selected: ref(p) === value }, ref(p))),
    value && !fit.some((p) => ref(p) === value) ? h("option", { value, selected: true }, value) : null);
  const pointSel = h("select", { id: "cmp-point", name: "point" }, ["score", "segment"].map((x) => h("option", { value: x, selected: x === point }, x === "score" ? "Scorers" : "Segmenters")));
  const subjectSel = h("select", { id: "cmp-subject", name: "subject" }, SUBJECTS.map((x) => h("option", { value: x, selected: x === subject }, x + "s")));
  const aSel = pick("cmp-a", a), bSel = pick("cmp-b", b);
  const nIn = h("input", { type: "number", id: "cmp-sample", min: "1", max: "1000", value: String(n) });
  const go = () => {
    const q = new URLSearchParams({ point: pointSel.value, subject: subjectSel.value, a: aSel.value, b: bSel.value, sample: nIn.value });
    navigate("/plugins/compare?" + q.toString());
  };
  // Changing the point or the subject type changes which plugins fit: start over with those.
  const restart = () => navigate("/plugins/compare?" + new URLSearchParams({ point: pointSel.value, subject: subjectSel.value, sample: nIn.value }).toString());
  pointSel.addEventListener("change", restart);
  subjectSel.addEventListener("change", restart);
  const result = h("div", { id: "compare-result" });
  mount(main,
    h("div", { class: "board-head" }, h("h1", null, "Compare plugins")),
    tabs("/plugins/compare"),
    h("p", { class: "muted small" }, "Runs both plugins on the first subjects of the type, storing nothing, to see what a switch would change."),
    h("form", { class: "panel compare-form", id: "compare-form", onsubmit: (e: Event) => { e.preventDefault(); go(); } },
      h("label", null, h("span", null, "Point"), pointSel),
      h("label", null, h("span", null, "Subjects"), subjectSel),
      h("label", null, h("span", null, "A (x)"), aSel),
      h("label", null, h("span", null, "B (y)"), bSel),
      h("label", null, h("span", null, "Sample"), nIn),
      h("button", { type: "submit", class: "primary inline", id: "cmp-run" }, "Compare")),
    result);
  if (fit.length === 0) {
    mount(result, h("p", { class: "muted" }, "No loaded plugin implements " + point + " for " + subject + "s."));
    return;
  }
  if (!params.get("a") || !params.get("b")) {
    mount(result, h("p", { class: "muted" }, fit.length < 2 ? "Only one plugin fits: compare it with itself, or install another." : "Pick two plugins and compare."));
    return;
  }
  mount(result, h("p", { class: "muted" }, "Running both plugins on " + n + " " + subject + "s…"));
  let d: Sample;
  try {
    d = (await gql<{ shadowSample: Sample }>(sampleQuery, { point, a, b, t: subject, n })).shadowSample;
  } catch (e) {
    mount(result, h("p", { class: "error banner", id: "compare-error", role: "alert" }, errorText(e)));
    return;
  }
  if (!main.isConnected) return;
  const c = d.comparison;
  const fact = (k: string, v: string, id: string) => h("div", { class: "fact", id }, h("span", { class: "fact-value" }, v), h("span", { class: "fact-label" }, k));
  mount(result,
    h("div", { class: "facts-row" },
      fact("subjects in the sample", String(c.subjects), "cmp-subjects"),
      fact("rank correlation", c.rankCorrelation === null ? "—" : c.rankCorrelation.toFixed(3), "cmp-rho"),
      fact("mean shift (B − A)", fmt(c.meanShift), "cmp-shift"),
      fact("top " + c.topK + " overlap", Math.round(c.topKOverlap * 100) + " %", "cmp-topk"),
      fact("labels changed", String(c.labelChangeCount), "cmp-changed")),
    h("div", { class: "compare-grid" },
      h("section", { class: "panel" }, h("h2", null, point === "score" ? "Scores" : "Segment count"), scatter(d.answers, c.baseline, c.candidate),
        h("p", { class: "muted small" }, "Each dot is a subject; on the diagonal both agree. Orange dots change label.")),
      h("section", { class: "panel" }, h("h2", null, point === "score" ? "Labels" : "Segments"), confusion(d.answers, c.baseline, c.candidate))));
  result.dataset.loaded = "true";
}
