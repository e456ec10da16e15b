// Charts drawn in the browser as SVG, with DOM calls only (every label is
// a text node, so a name that is markup shows as text), and their export
// as SVG, PNG and CSV. Styling is in presentation attributes, not in
// style attributes or a <style> element: the page's CSP allows neither,
// and an exported SVG keeps its look on its own.

import { h } from "./dom";

const NS = "http://www.w3.org/2000/svg";

/** How values are shown: rate is a fraction shown as a percentage. */
export type Unit = "count" | "rate" | "percent" | "money" | "days" | "number";

/** One named sequence of values, one per label; null is no value. */
export interface ChartSeries {
  name: string;
  values: (number | null)[];
}

/** What a chart shows. */
export interface ChartSpec {
  /** Unique in the page: element IDs and file names derive from it. */
  id: string;
  title: string;
  /** bar: grouped bars; stacked: stacked bars; line, area; hbar: horizontal bars (one series); heatmap: rows × columns. */
  kind: "bar" | "stacked" | "line" | "area" | "hbar" | "heatmap";
  labels: string[];
  /** Per label: the period had not ended, its figures are so far. */
  partial?: boolean[];
  series: ChartSeries[];
  unit: Unit;
  currency?: string;
  /** The x axis' title (e.g. "Month"). */
  xTitle?: string;
  /** The y axis' title. */
  yTitle?: string;
  /** heatmap: text per cell under the value (e.g. counts), by series then label. */
  notes?: (string | null)[][];
  /** heatmap: per series (row) and label (column), the cell's period is partial. */
  cellPartial?: boolean[][];
  /** Smaller, for overview grids. */
  compact?: boolean;
}

const palette = ["#2f5bd3", "#e07b39", "#2a9d6f", "#b23a8a", "#7a5cc7", "#c9a227", "#4a9fc4", "#8c564b", "#d0455e", "#5d6b7d"];

/** The colour of series i. */
export function color(i: number): string {
  return palette[i % palette.length];
}

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...kids: (Node | string)[]): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const k of kids) e.appendChild(typeof k === "string" ? document.createTextNode(k) : k);
  return e;
}

function tip(text: string): SVGTitleElement {
  return el("title", {}, text);
}

const nf = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

/** Formats v in unit, in full (tooltips, tables). */
export function fmt(v: number | null | undefined, unit: Unit, currency = "USD"): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  switch (unit) {
    case "rate":
      return nf.format(v * 100) + "%";
    case "percent":
      return nf.format(v) + "%";
    case "money":
      try {
        return new Intl.NumberFormat("en-US", { style: "currency", currency, maximumFractionDigits: Math.abs(v) < 100 ? 2 : 0 }).format(v);
      } catch {
        return nf2.format(v);
      }
    case "days":
      return nf.format(v) + " d";
    case "count":
      return Number.isInteger(v) ? v.toLocaleString("en-US") : nf.format(v);
    default:
      return nf2.format(v);
  }
}

/** Formats v in unit, short (axis ticks, value labels): 1.2k, 3.4M. */
export function short(v: number | null | undefined, unit: Unit, currency = "USD"): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (unit === "rate" || unit === "percent") return fmt(v, unit);
  const a = Math.abs(v);
  let s: string;
  if (a >= 1e9) s = nf.format(v / 1e9) + "B";
  else if (a >= 1e6) s = nf.format(v / 1e6) + "M";
  else if (a >= 1e4) s = nf.format(v / 1e3) + "k";
  else s = (unit === "count" && Number.isInteger(v)) || unit === "money" ? Math.round(v).toLocaleString("en-US") : nf.format(v);
  if (unit === "money") {
    const sym = currency === "USD" ? "$" : currency === "EUR" ? "€" : currency === "GBP" ? "£" : "";
    return (v < 0 ? "-" : "") + sym + s.replace(/^-/, "") + (sym ? "" : " " + currency);
  }
  if (unit === "days") return s + " d";
  return s;
}

// A rough width of text at a font size: charts size labels without
// measuring (the SVG may not be in the document yet).
function textWidth(s: string, size: number): number {
  return s.length * size * 0.58;
}

/** Round tick values from 0 (or min) to at least max. */
function ticks(min: number, max: number, n = 5): number[] {
  if (max === min) max = min + 1;
  const span = max - min;
  const raw = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= n) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.floor(min / step) * step; v < max + step * 0.999; v += step) out.push(Math.round(v / step) * step);
  return out;
}

/** Draws spec as an SVG element. */
export function drawChart(spec: ChartSpec): SVGSVGElement {
  if (spec.kind === "heatmap") return heatmap(spec);
  if (spec.kind === "hbar") return hbar(spec);
  return xy(spec);
}

function root(spec: ChartSpec, w: number, hgt: number): SVGSVGElement {
  const svg = el("svg", {
    xmlns: NS,
    viewBox: `0 0 ${w} ${hgt}`,
    width: w,
    height: hgt,
    role: "img",
    "font-family": "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif",
    "font-size": 12,
    class: "chart-svg",
    "data-chart": spec.id,
  });
  svg.appendChild(el("title", {}, spec.title));
  svg.appendChild(el("rect", { x: 0, y: 0, width: w, height: hgt, fill: "#ffffff" }));
  return svg;
}

// The hatch of partial periods, in the chart's own defs.
function hatch(svg: SVGSVGElement, id: string, c: string): string {
  let defs = svg.querySelector("defs");
  if (!defs) {
    defs = el("defs");
    svg.insertBefore(defs, svg.children[1] ?? null);
  }
  const pid = `${id}-hatch-${c.replace("#", "")}`;
  if (!defs.querySelector("#" + CSS.escape(pid))) {
    defs.appendChild(el("pattern", { id: pid, patternUnits: "userSpaceOnUse", width: 6, height: 6, patternTransform: "rotate(45)" },
      el("rect", { width: 6, height: 6, fill: c, "fill-opacity": 0.18 }),
      el("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: c, "stroke-width": c === "#ffffff" ? 1.5 : 3, "stroke-opacity": c === "#ffffff" ? 0.6 : 1 })));
  }
  return `url(#${pid})`;
}

// The legend: a row of swatches (wrapping), and "partial period" when
// some period is partial. Returns its height.
function legend(svg: SVGSVGElement, spec: ChartSpec, x0: number, y0: number, w: number, items: { name: string; color: string; line?: boolean }[], partial: boolean): number {
  const g = el("g", { class: "legend" });
  let x = x0, y = y0;
  const all = [...items.map((i) => ({ ...i, hatched: false })), ...(partial ? [{ name: "partial period (so far)", color: "#677085", line: false, hatched: true }] : [])];
  if (all.length <= 1 && !partial) return 0;
  for (const it of all) {
    const iw = 18 + textWidth(it.name, 12) + 14;
    if (x + iw > x0 + w && x > x0) {
      x = x0;
      y += 18;
    }
    if (it.line) g.appendChild(el("line", { x1: x, y1: y - 4, x2: x + 14, y2: y - 4, stroke: it.color, "stroke-width": 2.5 }));
    else g.appendChild(el("rect", { x, y: y - 10, width: 12, height: 12, fill: it.hatched ? hatch(svg, spec.id, it.color) : it.color, stroke: it.hatched ? it.color : "none", rx: 2 }));
    g.appendChild(el("text", { x: x + 18, y, fill: "#1d2330" }, it.name));
    x += iw;
  }
  svg.appendChild(g);
  return y - y0 + 20;
}

// Which x labels to write, and whether rotated, so that none overlap.
function xLabelLayout(labels: string[], band: number): { every: number; rotate: boolean } {
  const longest = Math.max(1, ...labels.map((l) => textWidth(l, 11)));
  if (longest + 6 <= band) return { every: 1, rotate: false };
  // Rotated by 45°, labels need about 15px across each.
  const every = Math.max(1, Math.ceil(16 / band));
  return { every, rotate: true };
}

function xy(spec: ChartSpec): SVGSVGElement {
  const n = spec.labels.length;
  const W = spec.compact ? 460 : Math.max(640, Math.min(1100, 80 + n * 56));
  const plotH = spec.compact ? 170 : 260;
  const partial = spec.partial ?? [];
  const anyPartial = partial.some(Boolean);
  const bars = spec.kind === "bar" || spec.kind === "stacked";
  // Vertical extent.
  let min = 0, max = 0;
  if (spec.kind === "stacked") {
    for (let i = 0; i < n; i++) {
      let pos = 0, neg = 0;
      for (const s of spec.series) {
        const v = s.values[i] ?? 0;
        if (v >= 0) pos += v;
        else neg += v;
      }
      max = Math.max(max, pos);
      min = Math.min(min, neg);
    }
  } else {
    for (const s of spec.series) for (const v of s.values) if (v !== null && !Number.isNaN(v)) { max = Math.max(max, v); min = Math.min(min, v); }
  }
  if (spec.unit === "rate" && max <= 1 && max > 0.5) max = 1;
  const ts = ticks(min, max);
  const lo = ts[0], hi = ts[ts.length - 1];
  const tickLabels = ts.map((t) => short(t, spec.unit, spec.currency));
  const left = 16 + Math.max(...tickLabels.map((l) => textWidth(l, 11))) + (spec.yTitle ? 16 : 0);
  const right = 16;
  const plotW = W - left - right;
  const band = n > 0 ? plotW / n : plotW;
  const xl = xLabelLayout(spec.labels, band);
  const xLabelH = xl.rotate ? Math.min(100, 10 + Math.max(...spec.labels.map((l) => textWidth(l.slice(0, 25), 11))) * 0.72) : 18;

  // Legend first: its height moves the plot down.
  const items = spec.series.map((s, i) => ({ name: s.name, color: color(i), line: !bars }));
  const top0 = 14;
  // The legend's height, computed as legend() lays it out.
  let lx = 10, rows = 1;
  const legendItems = [...items.map((i) => i.name), ...(anyPartial ? ["partial period (so far)"] : [])];
  const hasLegend = legendItems.length > 1 || anyPartial;
  for (const name of legendItems) {
    const iw = 18 + textWidth(name, 12) + 14;
    if (lx + iw > W - 10 && lx > 10) {
      lx = 10;
      rows++;
    }
    lx += iw;
  }
  const legendHeight = hasLegend ? rows * 18 + 8 : 0;
  const top = top0 + legendHeight + 10;
  const H = top + plotH + xLabelH + (spec.xTitle ? 20 : 6) + 6;
  const svg = root(spec, W, H);
  if (hasLegend) legend(svg, spec, 10, top0 + 4, W - 20, items, anyPartial);

  const y = (v: number): number => top + plotH - ((v - lo) / (hi - lo || 1)) * plotH;
  const xc = (i: number): number => left + band * (i + 0.5);

  // Partial periods: a shaded band labelled "partial".
  for (let i = 0; i < n; i++) {
    if (!partial[i]) continue;
    const g = el("g", { class: "partial-band", "data-label": spec.labels[i] });
    g.appendChild(el("rect", { x: left + band * i, y: top, width: band, height: plotH, fill: "#677085", "fill-opacity": 0.07 }));
    g.appendChild(el("text", { x: xc(i), y: top + 11, "text-anchor": "middle", "font-size": 10, fill: "#677085", "font-style": "italic", class: "partial-label" }, "partial"));
    g.appendChild(tip(spec.labels[i] + ": this period has not ended; its figures are so far"));
    svg.appendChild(g);
  }

  // Grid and y axis.
  const axis = el("g", { class: "axis y" });
  ts.forEach((t, k) => {
    axis.appendChild(el("line", { x1: left, x2: left + plotW, y1: y(t), y2: y(t), stroke: t === 0 ? "#9aa3b5" : "#e6e9ef", "stroke-width": 1 }));
    axis.appendChild(el("text", { x: left - 6, y: y(t) + 4, "text-anchor": "end", "font-size": 11, fill: "#677085" }, tickLabels[k]));
  });
  if (spec.yTitle) {
    axis.appendChild(el("text", { x: 12, y: top + plotH / 2, "text-anchor": "middle", "font-size": 11, fill: "#677085", transform: `rotate(-90 12 ${top + plotH / 2})` }, spec.yTitle));
  }
  svg.appendChild(axis);

  // x axis labels.
  const xa = el("g", { class: "axis x" });
  const ly = top + plotH + 14;
  spec.labels.forEach((l, i) => {
    if (i % xl.every !== 0 && i !== n - 1) return;
    if (i === n - 1 && i % xl.every !== 0 && xl.every > 1 && (n - 1) % xl.every < xl.every / 2) return;
    const attrs: Record<string, string | number> = { x: xc(i), y: ly, "font-size": 11, fill: "#1d2330", "text-anchor": xl.rotate ? "end" : "middle", class: "x-label" };
    if (xl.rotate) attrs.transform = `rotate(-45 ${xc(i)} ${ly - 4})`;
    const shown = l.length > 24 ? l.slice(0, 23) + "…" : l;
    const tx = el("text", attrs, shown + (partial[i] ? "*" : ""));
    if (shown !== l) tx.appendChild(tip(l));
    xa.appendChild(tx);
  });
  if (spec.xTitle) xa.appendChild(el("text", { x: left + plotW / 2, y: H - 8, "text-anchor": "middle", "font-size": 11, fill: "#677085" }, spec.xTitle + (anyPartial ? " (* partial)" : "")));
  svg.appendChild(xa);

  const marks = el("g", { class: "marks" });
  const labelValues = spec.series.length === 1 || (spec.kind === "bar" && spec.series.length <= 2);
  if (bars) {
    const groups = spec.kind === "stacked" ? 1 : spec.series.length;
    const bw = Math.max(2, Math.min(42, (band * 0.78) / groups));
    const showVal = labelValues && textWidth("00.0k", 10) <= bw * groups + 4 && !spec.compact;
    for (let i = 0; i < n; i++) {
      let pos = 0, neg = 0;
      spec.series.forEach((s, k) => {
        const v = s.values[i];
        if (v === null || v === undefined) return;
        let x0: number, y0: number, y1: number;
        if (spec.kind === "stacked") {
          x0 = xc(i) - bw / 2;
          const base = v >= 0 ? pos : neg;
          y0 = y(base);
          y1 = y(base + v);
          if (v >= 0) pos += v;
          else neg += v;
        } else {
          x0 = xc(i) - (bw * groups) / 2 + bw * k;
          y0 = y(0 < lo ? lo : 0);
          y1 = y(v);
        }
        const c = color(k);
        const r = el("rect", {
          x: x0, y: Math.min(y0, y1), width: Math.max(1, bw - 1), height: Math.max(v === 0 ? 0 : 1, Math.abs(y0 - y1)),
          fill: partial[i] ? hatch(svg, spec.id, c) : c,
          stroke: partial[i] ? c : "none",
          "stroke-dasharray": partial[i] ? "3 2" : "none",
          class: "mark bar",
          "data-series": s.name, "data-label": spec.labels[i], "data-value": v,
        });
        if (partial[i]) r.setAttribute("data-partial", "true");
        r.appendChild(tip(`${s.name}, ${spec.labels[i]}${partial[i] ? " (partial: so far)" : ""}: ${fmt(v, spec.unit, spec.currency)}`));
        marks.appendChild(r);
        if (showVal && spec.kind !== "stacked") {
          marks.appendChild(el("text", { x: x0 + bw / 2, y: (v >= 0 ? y1 - 4 : y1 + 12), "text-anchor": "middle", "font-size": 10, fill: "#1d2330", class: "value-label" }, short(v, spec.unit, spec.currency)));
        }
      });
      if (spec.kind === "stacked" && !spec.compact && textWidth("000", 10) < bw + 6) {
        const tot = spec.series.reduce((a, s) => a + (s.values[i] ?? 0), 0);
        marks.appendChild(el("text", { x: xc(i), y: y(pos) - 4, "text-anchor": "middle", "font-size": 10, fill: "#1d2330", class: "value-label" }, short(tot, spec.unit, spec.currency)));
      }
    }
  } else {
    spec.series.forEach((s, k) => {
      const c = color(k);
      // Runs of complete periods solid; a segment into a partial period dashed.
      let solid = "", dashed = "", prev: [number, number, boolean] | null = null;
      const area: [number, number][] = [];
      for (let i = 0; i < n; i++) {
        const v = s.values[i];
        if (v === null || v === undefined || Number.isNaN(v)) {
          prev = null;
          continue;
        }
        const pt: [number, number, boolean] = [xc(i), y(v), !!partial[i]];
        if (prev) {
          if (pt[2] || prev[2]) dashed += `M${prev[0]},${prev[1]}L${pt[0]},${pt[1]}`;
          else solid += `L${pt[0]},${pt[1]}`;
        }
        if (!prev || pt[2] || prev[2]) {
          if (!pt[2]) solid += `M${pt[0]},${pt[1]}`;
        }
        if (!pt[2]) area.push([pt[0], pt[1]]);
        prev = pt;
      }
      if (spec.kind === "area" && area.length > 1) {
        const base = y(Math.max(lo, 0));
        marks.appendChild(el("path", { d: `M${area[0][0]},${base}` + area.map((p) => `L${p[0]},${p[1]}`).join("") + `L${area[area.length - 1][0]},${base}Z`, fill: c, "fill-opacity": 0.15, stroke: "none" }));
      }
      if (solid) marks.appendChild(el("path", { d: solid.replace(/^L/, "M"), fill: "none", stroke: c, "stroke-width": 2.5, "stroke-linejoin": "round" }));
      if (dashed) marks.appendChild(el("path", { d: dashed, fill: "none", stroke: c, "stroke-width": 2, "stroke-dasharray": "5 4", class: "partial-line" }));
      for (let i = 0; i < n; i++) {
        const v = s.values[i];
        if (v === null || v === undefined || Number.isNaN(v)) continue;
        const p = el("circle", {
          cx: xc(i), cy: y(v), r: spec.compact ? 3 : 4,
          fill: partial[i] ? "#ffffff" : c, stroke: c, "stroke-width": 2,
          class: "mark point", "data-series": s.name, "data-label": spec.labels[i], "data-value": v,
        });
        if (partial[i]) p.setAttribute("data-partial", "true");
        p.appendChild(tip(`${s.name}, ${spec.labels[i]}${partial[i] ? " (partial: so far)" : ""}: ${fmt(v, spec.unit, spec.currency)}`));
        marks.appendChild(p);
        if (labelValues && !spec.compact && band >= textWidth("00.0%", 10)) {
          marks.appendChild(el("text", { x: xc(i), y: y(v) - 8, "text-anchor": "middle", "font-size": 10, fill: "#1d2330", class: "value-label" }, short(v, spec.unit, spec.currency)));
        }
      }
    });
  }
  svg.appendChild(marks);
  if (n === 0) svg.appendChild(el("text", { x: W / 2, y: top + plotH / 2, "text-anchor": "middle", fill: "#677085" }, "No data in this range"));
  return svg;
}

function hbar(spec: ChartSpec): SVGSVGElement {
  const n = spec.labels.length;
  const s = spec.series[0] ?? { name: "", values: [] };
  const labelW = Math.min(260, 10 + Math.max(40, ...spec.labels.map((l) => textWidth(l, 12))));
  const W = spec.compact ? 460 : 760;
  const rowH = spec.compact ? 20 : 28;
  const top = 14;
  const H = top + n * rowH + 16;
  const svg = root(spec, W, H);
  let max = 0;
  for (const v of s.values) if (v !== null) max = Math.max(max, v);
  // Room right of the longest bar for its value and note.
  const reserve = 16 + Math.max(40, ...s.values.map((v, i) => textWidth(short(v, spec.unit, spec.currency) + "  " + (spec.notes?.[0]?.[i] ?? ""), 11)));
  const plotW = Math.max(120, W - labelW - reserve);
  const marks = el("g", { class: "marks" });
  spec.labels.forEach((l, i) => {
    const v = s.values[i];
    const yy = top + i * rowH;
    let shown = l;
    while (textWidth(shown, 12) > labelW - 10 && shown.length > 4) shown = shown.slice(0, -2);
    if (shown !== l) shown = shown.slice(0, -1) + "…";
    const lt = el("text", { x: labelW - 8, y: yy + rowH / 2 + 4, "text-anchor": "end", fill: "#1d2330", class: "y-label" }, shown);
    lt.appendChild(tip(l));
    marks.appendChild(lt);
    if (v === null || v === undefined) return;
    const w = max > 0 ? (Math.max(0, v) / max) * plotW : 0;
    const r = el("rect", { x: labelW, y: yy + 4, width: Math.max(v > 0 ? 1 : 0, w), height: rowH - 8, fill: color(0), rx: 2, class: "mark bar", "data-series": s.name, "data-label": l, "data-value": v });
    const note = spec.notes?.[0]?.[i];
    r.appendChild(tip(`${l}: ${fmt(v, spec.unit, spec.currency)}${note ? " · " + note : ""}`));
    marks.appendChild(r);
    marks.appendChild(el("text", { x: labelW + w + 6, y: yy + rowH / 2 + 4, "font-size": 11, fill: "#1d2330", class: "value-label" }, short(v, spec.unit, spec.currency) + (note ? " · " + note : "")));
  });
  svg.appendChild(marks);
  if (n === 0) svg.appendChild(el("text", { x: W / 2, y: top + 20, "text-anchor": "middle", fill: "#677085" }, "No data"));
  return svg;
}

// Interpolates from a pale to a deep blue.
function heat(t: number): string {
  const a = [238, 242, 252], b = [31, 64, 160];
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * Math.max(0, Math.min(1, t))));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function heatmap(spec: ChartSpec): SVGSVGElement {
  const rows = spec.series;
  const cols = spec.labels;
  const rowLabelW = Math.min(200, 14 + Math.max(30, ...rows.map((r) => textWidth(r.name, 12))));
  const cellW = spec.compact ? Math.max(18, Math.min(40, 380 / Math.max(1, cols.length))) : Math.max(34, Math.min(64, 900 / Math.max(1, cols.length)));
  const cellH = spec.compact ? 16 : 26;
  const anyPartial = (spec.cellPartial ?? []).some((r) => r.some(Boolean));
  const legendH = anyPartial ? 26 : 0;
  const top = 12 + legendH + 22;
  const W = rowLabelW + cols.length * cellW + 20;
  const H = top + rows.length * cellH + (spec.xTitle ? 24 : 8);
  const svg = root(spec, Math.max(W, 320), H);
  if (anyPartial) legend(svg, spec, 10, 22, W - 20, [], true);
  let max = 0, min = Infinity;
  for (const r of rows) for (const v of r.values) if (v !== null) { max = Math.max(max, v); min = Math.min(min, v); }
  if (!Number.isFinite(min)) min = 0;
  if (spec.unit === "rate") { min = 0; max = Math.max(max, 1e-9); }
  const g = el("g", { class: "marks" });
  cols.forEach((c, j) => g.appendChild(el("text", { x: rowLabelW + j * cellW + cellW / 2, y: top - 6, "text-anchor": "middle", "font-size": 11, fill: "#677085", class: "x-label" }, c)));
  const showText = cellW >= 30 && !spec.compact;
  rows.forEach((r, i) => {
    const yy = top + i * cellH;
    g.appendChild(el("text", { x: rowLabelW - 8, y: yy + cellH / 2 + 4, "text-anchor": "end", fill: "#1d2330", class: "y-label" }, r.name));
    r.values.forEach((v, j) => {
      if (v === null || v === undefined) return;
      const t = max > min ? (v - min) / (max - min) : 1;
      const part = !!spec.cellPartial?.[i]?.[j];
      const fill = heat(t);
      const rect = el("rect", {
        x: rowLabelW + j * cellW + 1, y: yy + 1, width: cellW - 2, height: cellH - 2, fill,
        stroke: part ? "#1d2330" : "none", "stroke-dasharray": part ? "3 2" : "none",
        class: "mark cell", "data-series": r.name, "data-label": cols[j], "data-value": v,
      });
      if (part) rect.setAttribute("data-partial", "true");
      const note = spec.notes?.[i]?.[j];
      rect.appendChild(tip(`${r.name}, ${spec.xTitle ?? ""} ${cols[j]}${part ? " (partial: so far)" : ""}: ${fmt(v, spec.unit, spec.currency)}${note ? " · " + note : ""}`));
      g.appendChild(rect);
      if (part) g.appendChild(el("rect", { x: rowLabelW + j * cellW + 1, y: yy + 1, width: cellW - 2, height: cellH - 2, fill: hatch(svg, spec.id, "#ffffff"), "pointer-events": "none" }));
      if (showText) {
        g.appendChild(el("text", { x: rowLabelW + j * cellW + cellW / 2, y: yy + cellH / 2 + 4, "text-anchor": "middle", "font-size": 10, fill: t > 0.55 ? "#ffffff" : "#1d2330", class: "value-label", "pointer-events": "none" }, short(v, spec.unit, spec.currency)));
      }
    });
  });
  if (spec.xTitle) g.appendChild(el("text", { x: rowLabelW + (cols.length * cellW) / 2, y: H - 8, "text-anchor": "middle", "font-size": 11, fill: "#677085" }, spec.xTitle));
  svg.appendChild(g);
  if (rows.length === 0) svg.appendChild(el("text", { x: 160, y: top + 16, "text-anchor": "middle", fill: "#677085" }, "No data in this range"));
  return svg;
}

// ---- export

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/** Rows as CSV text (RFC 4180, CRLF line ends). */
export function csv(rows: (string | number | null)[][]): string {
  return rows.map((r) => r.map((c) => csvCell(c === null ? "" : String(c))).join(",")).join("\r\n") + "\r\n";
}

/** The chart's data as CSV: a row per label (per row of a heatmap). */
export function chartCSV(spec: ChartSpec): string {
  if (spec.kind === "heatmap") {
    return csv([["", ...spec.labels], ...spec.series.map((s) => [s.name, ...s.values.map((v) => (v === null ? "" : v))])]);
  }
  const hasPartial = (spec.partial ?? []).some(Boolean);
  const head = ["label", ...spec.series.map((s) => s.name), ...(hasPartial ? ["partial"] : [])];
  return csv([head, ...spec.labels.map((l, i) => [l, ...spec.series.map((s) => s.values[i] ?? null), ...(hasPartial ? [spec.partial?.[i] ? "true" : "false"] : [])])]);
}

/** Offers blob as a download named name. */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The SVG element as a standalone SVG document. */
export function svgText(svg: SVGSVGElement): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(svg);
}

/**
 * Draws svg on a canvas at twice its size and resolves to a PNG. The image
 * is a data: URL, which the page's CSP allows for images (blob: it does not).
 */
export function svgPNG(svg: SVGSVGElement): Promise<Blob> {
  return new Promise((resolve, reject) => {
    const w = Number(svg.getAttribute("width")), hh = Number(svg.getAttribute("height"));
    const img = new Image();
    img.onload = () => {
      const c = document.createElement("canvas");
      c.width = w * 2;
      c.height = hh * 2;
      const ctx = c.getContext("2d");
      if (!ctx) return reject(new Error("no canvas"));
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, c.width, c.height);
      ctx.drawImage(img, 0, 0, c.width, c.height);
      c.toBlob((b) => (b ? resolve(b) : reject(new Error("PNG encoding failed"))), "image/png");
    };
    img.onerror = () => reject(new Error("the chart could not be drawn as an image"));
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(new XMLSerializer().serializeToString(svg));
  });
}

function fileName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "chart";
}

/** Export buttons for a chart: SVG, PNG and CSV. */
export function exportButtons(name: string, svg: () => SVGSVGElement, data: () => string): HTMLElement {
  const base = fileName(name);
  const err = h("span", { class: "error small" });
  return h("div", { class: "chart-export" },
    h("span", { class: "muted small" }, "Export"),
    h("button", { type: "button", class: "export-svg", onclick: () => download(new Blob([svgText(svg())], { type: "image/svg+xml" }), base + ".svg") }, "SVG"),
    h("button", {
      type: "button", class: "export-png",
      onclick: async () => {
        err.textContent = "";
        try {
          download(await svgPNG(svg()), base + ".png");
        } catch (e) {
          err.textContent = (e as Error).message;
        }
      },
    }, "PNG"),
    h("button", { type: "button", class: "export-csv", onclick: () => download(new Blob([data()], { type: "text/csv" }), base + ".csv") }, "CSV"),
    err);
}

/** A chart in a card: its title, the SVG, export buttons, and a note. */
export function chartCard(spec: ChartSpec, note?: string): HTMLElement {
  const svg = drawChart(spec);
  const wrap = h("div", { class: "chart-scroll" });
  wrap.appendChild(svg);
  return h("figure", { class: "chart" + (spec.compact ? " compact" : ""), id: "chart-" + spec.id, "data-kind": spec.kind },
    h("figcaption", null, h("span", { class: "chart-title" }, spec.title), exportButtons(spec.title, () => svg, () => chartCSV(spec))),
    wrap,
    note ? h("p", { class: "muted small chart-note" }, note) : null);
}
