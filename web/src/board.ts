// The pipeline board: a column per stage (count, total, weighted total),
// a card per deal, drag a card to another stage to move the deal.

import { ApiError, Session, gql } from "./api";
import { fmtMoney, h, mount } from "./dom";
import { navigate } from "./nav";

interface Stage {
  id: string;
  name: string;
  position: number;
  probability: number;
  kind: "open" | "won" | "lost";
}

interface Pipeline {
  id: string;
  name: string;
  isDefault: boolean;
  stages: Stage[] | null;
}

interface Deal {
  id: string;
  name: string;
  amount: number | string;
  currency: string;
  probability: number | null;
  stageID: string;
  ownerID: string | null;
  contact: { firstName: string; lastName: string } | null;
  organization: { name: string } | null;
  label?: string;
}

interface Member {
  id: string;
  name: string;
}

const PAGE = 250; // deals per request
const SHOWN = 60; // cards a column shows before "Show more"

const pipelinesQuery = `query BoardPipelines {
  pipelines(first: 100) { edges { node { id name isDefault stages { id name position probability kind } } } }
  members { id name }
}`;

const dealsQuery = `query BoardDeals($pipeline: ID!, $after: Cursor, $first: Int!) {
  deals(first: $first, after: $after, where: {pipelineID: $pipeline}, orderBy: [{field: AMOUNT, direction: DESC}]) {
    pageInfo { hasNextPage endCursor }
    edges { node { id name amount currency probability stageID ownerID contact { firstName lastName } organization { name } } }
  }
}`;

const scoresQuery = `query BoardScores($ids: [ID!]!, $first: Int!) {
  scores(first: $first, where: {subjectType: deal, subjectIDIn: $ids}, orderBy: [{field: COMPUTED_AT, direction: DESC}]) {
    edges { node { subjectID label } }
  }
}`;

const moveMutation = `mutation BoardMove($id: ID!, $stage: ID!) {
  moveDeal(id: $id, stageID: $stage) { id stageID probability }
}`;

function amountOf(d: Deal): number {
  const n = typeof d.amount === "number" ? d.amount : parseFloat(d.amount);
  return isNaN(n) ? 0 : n;
}

/** The board of the pipeline with ID pipelineID (the default one when empty). */
export async function boardPage(main: HTMLElement, s: Session, pipelineID: string): Promise<void> {
  document.title = "Board · Rapport";
  mount(main, h("p", { class: "muted" }, "Loading pipelines…"));
  let pipelines: Pipeline[];
  let members: Member[];
  try {
    const data = await gql<{ pipelines: { edges: { node: Pipeline }[] }; members: Member[] }>(pipelinesQuery);
    pipelines = data.pipelines.edges.map((e) => e.node);
    members = data.members;
  } catch (e) {
    mount(main, h("p", { class: "error" }, (e as Error).message));
    return;
  }
  if (pipelines.length === 0) {
    mount(main, h("h1", null, "Board"), h("p", { class: "muted" }, "This workspace has no pipeline yet."));
    return;
  }
  const pipeline = pipelines.find((p) => p.id === pipelineID) ?? pipelines.find((p) => p.isDefault) ?? pipelines[0];
  const stages = [...(pipeline.stages ?? [])].sort((a, b) => a.position - b.position);
  const stageByID = new Map(stages.map((st) => [st.id, st]));
  const memberByID = new Map(members.map((m) => [m.id, m.name]));

  const picker = h("select", {
    id: "pipeline-picker",
    "aria-label": "Pipeline",
    onchange: () => navigate("/board/" + encodeURIComponent(picker.value)),
  }, pipelines.map((p) => h("option", { value: p.id, selected: p.id === pipeline.id }, p.name)));
  const ownerFilter = h("select", { id: "owner-filter", "aria-label": "Owner" },
    h("option", { value: "" }, "All owners"),
    members.map((m) => h("option", { value: m.id }, m.name)));
  const labelFilter = h("select", { id: "label-filter", "aria-label": "Score" }, h("option", { value: "" }, "All scores"));
  const status = h("span", { class: "muted small", id: "board-status" }, "Loading deals…");
  const error = h("div", { class: "error banner", id: "board-error", role: "alert", hidden: true });
  const columns = h("div", { class: "board", id: "board" });
  mount(main,
    h("div", { class: "board-head" }, h("h1", null, "Board"), picker, ownerFilter, labelFilter, status),
    s.role === "viewer" ? h("p", { class: "muted small" }, "You can look but not move deals: your role is viewer.") : null,
    error, columns);

  const deals = new Map<string, Deal>();
  const shown = new Map<string, number>(); // stage ID → cards shown
  const cols = new Map<string, { el: HTMLElement; head: HTMLElement; list: HTMLElement }>();
  let dragging = "";

  function showError(text: string): void {
    error.textContent = text;
    error.hidden = false;
  }

  function visible(d: Deal): boolean {
    if (ownerFilter.value && d.ownerID !== ownerFilter.value) return false;
    if (labelFilter.value && (d.label ?? "") !== labelFilter.value) return false;
    return true;
  }

  function card(d: Deal): HTMLElement {
    const contact = d.contact ? (d.contact.firstName + " " + d.contact.lastName).trim() : "";
    const owner = d.ownerID ? memberByID.get(d.ownerID) ?? "" : "";
    return h("article", {
      class: "card",
      draggable: s.role === "viewer" ? "false" : "true",
      "data-deal": d.id,
      ondragstart: (e: DragEvent) => {
        dragging = d.id;
        e.dataTransfer?.setData("text/plain", d.id);
        if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
      },
      ondragend: () => {
        dragging = "";
        columns.querySelectorAll(".drop").forEach((c) => c.classList.remove("drop"));
      },
    },
    h("div", { class: "card-top" }, h("span", { class: "deal-name" }, d.name), d.label ? h("span", { class: "label" }, d.label) : null),
    h("div", { class: "amount" }, fmtMoney(amountOf(d), d.currency)),
    contact ? h("div", { class: "meta contact" }, contact) : null,
    d.organization ? h("div", { class: "meta org" }, d.organization.name) : null,
    owner ? h("div", { class: "meta owner" }, owner) : null);
  }

  function renderColumn(st: Stage): void {
    const c = cols.get(st.id)!;
    const list = [...deals.values()].filter((d) => d.stageID === st.id && visible(d));
    let total = 0, weighted = 0;
    for (const d of list) {
      const a = amountOf(d);
      total += a;
      weighted += a * (d.probability ?? st.probability);
    }
    const cur = list[0]?.currency ?? "USD";
    mount(c.head,
      h("div", { class: "col-title" }, h("span", { class: "stage-name" }, st.name), h("span", { class: "count" }, String(list.length))),
      h("div", { class: "col-totals" },
        h("span", { class: "total", title: "Total" }, fmtMoney(total, cur)),
        st.kind === "open" ? h("span", { class: "weighted", title: "Weighted by probability (" + Math.round(st.probability * 100) + "%)" }, "≈ " + fmtMoney(weighted, cur)) : null));
    const n = shown.get(st.id) ?? SHOWN;
    const frag = document.createDocumentFragment();
    for (const d of list.slice(0, n)) frag.appendChild(card(d));
    if (list.length > n) {
      frag.appendChild(h("button", {
        type: "button",
        class: "more",
        onclick: () => {
          shown.set(st.id, n + SHOWN * 2);
          renderColumn(st);
        },
      }, "Show " + Math.min(SHOWN * 2, list.length - n) + " more of " + (list.length - n)));
    }
    c.list.replaceChildren(frag);
  }

  function renderAll(): void {
    for (const st of stages) renderColumn(st);
  }

  async function move(id: string, to: Stage): Promise<void> {
    const d = deals.get(id);
    if (!d || d.stageID === to.id) return;
    const from = stageByID.get(d.stageID);
    const before = { stageID: d.stageID, probability: d.probability };
    error.hidden = true;
    d.stageID = to.id;
    if (from) renderColumn(from);
    renderColumn(to);
    try {
      const r = await gql<{ moveDeal: { id: string; stageID: string; probability: number | null } }>(moveMutation, { id, stage: to.id });
      d.stageID = r.moveDeal.stageID;
      d.probability = r.moveDeal.probability;
      renderColumn(to);
    } catch (e) {
      d.stageID = before.stageID;
      d.probability = before.probability;
      if (from) renderColumn(from);
      renderColumn(to);
      const code = e instanceof ApiError ? e.code : "";
      showError((code === "FORBIDDEN" ? "Not moved: your role cannot change deals. " : "Not moved: ") + (e as Error).message);
    }
  }

  for (const st of stages) {
    const head = h("header", { class: "col-head" });
    const list = h("div", { class: "col-list" });
    const el = h("section", {
      class: "column kind-" + st.kind,
      "data-stage": st.id,
      "aria-label": st.name,
      ondragover: (e: DragEvent) => {
        if (!dragging && !e.dataTransfer?.types.includes("text/plain")) return;
        e.preventDefault();
        if (e.dataTransfer) e.dataTransfer.dropEffect = "move";
        el.classList.add("drop");
      },
      ondragleave: (e: DragEvent) => {
        if (!el.contains(e.relatedTarget as Node)) el.classList.remove("drop");
      },
      ondrop: (e: DragEvent) => {
        e.preventDefault();
        el.classList.remove("drop");
        const id = e.dataTransfer?.getData("text/plain") || dragging;
        dragging = "";
        if (id) void move(id, st);
      },
    }, head, list);
    cols.set(st.id, { el, head, list });
    columns.appendChild(el);
  }
  ownerFilter.addEventListener("change", renderAll);
  labelFilter.addEventListener("change", renderAll);
  renderAll();

  // Deals, a page at a time, each page shown as it comes.
  let after: string | null = null;
  try {
    for (;;) {
      const data: { deals: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Deal }[] } } =
        await gql(dealsQuery, { pipeline: pipeline.id, after, first: PAGE });
      if (!main.isConnected) return;
      for (const e of data.deals.edges) deals.set(e.node.id, e.node);
      renderAll();
      status.textContent = deals.size + " deals";
      if (!data.deals.pageInfo.hasNextPage || !data.deals.pageInfo.endCursor) break;
      after = data.deals.pageInfo.endCursor;
    }
  } catch (e) {
    showError("Deals could not be loaded: " + (e as Error).message);
    return;
  }

  // Latest score label of each deal.
  try {
    const ids = [...deals.keys()];
    const labels = new Set<string>();
    for (let i = 0; i < ids.length; i += PAGE) {
      const batch = ids.slice(i, i + PAGE);
      const data = await gql<{ scores: { edges: { node: { subjectID: string; label: string | null } }[] } }>(scoresQuery, { ids: batch, first: 1000 });
      const seen = new Set<string>();
      for (const { node } of data.scores.edges) {
        if (seen.has(node.subjectID)) continue; // newest first: the first is the latest
        seen.add(node.subjectID);
        const d = deals.get(node.subjectID);
        if (d && node.label) {
          d.label = node.label;
          labels.add(node.label);
        }
      }
    }
    if (!main.isConnected) return;
    for (const l of [...labels].sort()) labelFilter.appendChild(h("option", { value: l }, l));
    if (labels.size) renderAll();
  } catch (e) {
    status.textContent = deals.size + " deals (scores unavailable: " + (e as Error).message + ")";
  }
  columns.dataset.loaded = "true";
}
