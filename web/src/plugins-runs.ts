// Score and segment runs: start a background run for a subject type with
// the bound plugin (admins), and the recent runs with their progress,
// refreshed while one is queued or running.

import { Session, gql } from "./api";
import { h, mount } from "./dom";
import { Binding, SUBJECTS, errorText, loadPlugins, ref, tabs, when } from "./plugins-common";

interface WorkRun {
  id: string;
  kind: "score" | "segment";
  plugin: string;
  subjectType: string;
  status: "queued" | "running" | "succeeded" | "failed" | "canceled";
  total: number;
  done: number;
  failedBatches: number;
  errors: string[];
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
}

interface SegmentRun {
  id: string;
  plugin: string;
  subjectType: string;
  trigger: string;
  status: string;
  subjects: number;
  segmented: number;
  entered: number;
  left: number;
  stayed: number;
  startedAt: string;
  finishedAt: string | null;
}

const runsQuery = `query Runs {
  workRuns(first: 25, orderBy: {field: CREATED_AT, direction: DESC}) {
    edges { node { id kind plugin subjectType status total done failedBatches errors startedAt finishedAt createdAt } }
  }
  segmentRuns(first: 10, orderBy: {field: STARTED_AT, direction: DESC}) {
    edges { node { id plugin subjectType trigger status subjects segmented entered left stayed startedAt finishedAt } }
  }
}`;

const startScoring = `mutation StartScoring($t: ExtensionBindingSubjectType!) { startScoring(subjectType: $t) { id status total done } }`;
const startSegmentation = `mutation StartSegmentation($t: ExtensionBindingSubjectType!, $p: String) { startSegmentation(subjectType: $t, plugin: $p) { id status total done } }`;

const live = (r: WorkRun): boolean => r.status === "queued" || r.status === "running";

/** The runs page. */
export async function runsPage(main: HTMLElement, s: Session, _params: URLSearchParams): Promise<void> {
  document.title = "Runs · Plugins · Rapport";
  mount(main, h("h1", null, "Runs"), tabs("/plugins/runs"), h("p", { class: "muted" }, "Loading…"));
  let bindings: Binding[];
  try {
    bindings = (await loadPlugins()).bindings;
  } catch (e) {
    mount(main, h("h1", null, "Runs"), tabs("/plugins/runs"), h("p", { class: "error", role: "alert" }, errorText(e)));
    return;
  }
  const error = h("div", { class: "error banner", id: "runs-error", role: "alert", hidden: true });
  const body = h("tbody");
  const segBody = h("tbody");
  const table = h("table", { class: "list", id: "runs" },
    h("thead", null, h("tr", null, ["Kind", "Subjects", "Plugin", "State", "Progress", "Failed", "Started", "Finished"].map((c) => h("th", null, c)))), body);

  // A start button per (kind, subject type) that has a binding.
  const bound = (point: string, t: string) => bindings.filter((b) => b.point === point && (b.subjectType === t || b.subjectType === null));
  const starts: HTMLElement[] = [];
  for (const t of SUBJECTS) {
    for (const point of ["score", "segment"] as const) {
      const bs = bound(point, t);
      if (bs.length === 0) continue;
      const plugin = point === "segment" ? bs.find((b) => b.subjectType === t) ?? bs[0] : bs[0];
      starts.push(h("button", {
        type: "button",
        class: "start",
        id: "start-" + point + "-" + t,
        title: "With " + ref(plugin),
        onclick: async (e: Event) => {
          const btn = e.currentTarget as HTMLButtonElement;
          btn.disabled = true;
          error.hidden = true;
          try {
            if (point === "score") await gql(startScoring, { t });
            else await gql(startSegmentation, { t, p: plugin.plugin });
            await refresh();
          } catch (err) {
            error.textContent = "Not started: " + errorText(err);
            error.hidden = false;
          } finally {
            btn.disabled = false;
          }
        },
      }, (point === "score" ? "Score " : "Segment ") + t + "s"));
    }
  }

  function progress(r: WorkRun): HTMLElement {
    const pct = r.total > 0 ? Math.round((r.done / r.total) * 100) : r.status === "succeeded" ? 100 : 0;
    const bar = h("span", { class: "bar-fill" });
    bar.style.width = pct + "%";
    return h("div", { class: "progress" },
      h("span", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": String(r.total), "aria-valuenow": String(r.done) }, bar),
      h("span", { class: "progress-text" }, r.done + " / " + r.total));
  }

  let timer = 0;
  async function refresh(): Promise<void> {
    window.clearTimeout(timer);
    let d: { workRuns: { edges: { node: WorkRun }[] }; segmentRuns: { edges: { node: SegmentRun }[] } };
    try {
      d = await gql(runsQuery);
    } catch (e) {
      error.textContent = errorText(e);
      error.hidden = false;
      return;
    }
    if (!main.isConnected) return;
    const runs = d.workRuns.edges.map((e) => e.node);
    mount(body, runs.length === 0 ? h("tr", null, h("td", { colspan: "8", class: "muted" }, "No background run yet.")) : runs.map((r) => h("tr", { "data-run": r.id, "data-status": r.status, "data-done": String(r.done), "data-total": String(r.total) },
      h("td", null, r.kind), h("td", null, r.subjectType), h("td", null, r.plugin),
      h("td", null, h("span", { class: "badge state-" + r.status }, r.status)),
      h("td", null, progress(r)),
      h("td", { class: "num", title: r.errors.join("\n") || undefined }, String(r.failedBatches)),
      h("td", null, when(r.startedAt ?? r.createdAt)), h("td", null, when(r.finishedAt)))));
    const segs = d.segmentRuns.edges.map((e) => e.node);
    mount(segBody, segs.map((r) => h("tr", null,
      h("td", null, r.subjectType), h("td", null, r.plugin), h("td", null, r.trigger), h("td", null, h("span", { class: "badge state-" + r.status }, r.status)),
      h("td", { class: "num" }, r.segmented + " / " + r.subjects), h("td", { class: "num" }, "+" + r.entered + " −" + r.left + " =" + r.stayed),
      h("td", null, when(r.startedAt)), h("td", null, when(r.finishedAt)))));
    table.dataset.loaded = "true";
    table.dataset.live = String(runs.filter(live).length);
    if (runs.some(live)) timer = window.setTimeout(() => void refresh(), 1000);
  }

  mount(main,
    h("div", { class: "board-head" }, h("h1", null, "Runs")),
    tabs("/plugins/runs"),
    s.role === "admin"
      ? h("section", { class: "panel" }, h("h2", null, "Start a run"),
        h("p", { class: "muted small" }, "Runs the bound plugin over every subject of the type in the background, a range of 1,000 at a time."),
        starts.length ? h("div", { class: "actions", id: "run-starts" }, starts) : h("p", { class: "muted" }, "Bind a scorer or segmenter first."))
      : h("p", { class: "muted small", id: "runs-readonly" }, "Only an admin starts runs here; your role is " + s.role + "."),
    error,
    h("section", { class: "panel" }, h("h2", null, "Background runs"), table),
    h("section", { class: "panel" }, h("h2", null, "Segmentation runs"),
      h("table", { class: "list", id: "segment-runs" },
        h("thead", null, h("tr", null, ["Subjects", "Plugin", "Trigger", "State", "Segmented", "Memberships", "Started", "Finished"].map((c) => h("th", null, c)))), segBody)));
  await refresh();
}
