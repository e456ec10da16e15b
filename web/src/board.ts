// The pipeline board: a column per stage (count, total, weighted total),
// a card per deal. Drag a card with the mouse (or a finger or pen) to
// another column to move the deal, or focus it and press the left or
// right arrow key to move it to the previous or next stage.
//
// The whole pipeline loads with as few requests as the server allows: the
// pipelines, the members and the first page of deals (the server's
// largest, 1,000) in one, the deals' latest scores in one more, sent
// while the board draws the deals.

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
  value?: number; // amount as a number, computed once
}

interface Member {
  id: string;
  name: string;
}

interface DealPage {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: Deal }[];
}

const PAGE = 1000; // deals per request: the server's largest page (Limits.MaxPage)
const SCORE_IDS = 250; // deal IDs per scores field, each answering up to 1,000 scores
const SCORE_FIELDS = 4; // scores fields per request, within the complexity budget
const SHOWN = 30; // cards a column shows before "Show more", more than it has room for
const DRAG_START = 4; // pixels a pressed pointer moves before it drags

const dealFields = `pageInfo { hasNextPage endCursor }
    edges { node { id name amount currency probability stageID ownerID contact { firstName lastName } organization { name } } }`;

// Everything the board needs but the scores, in one request. Without a
// pipeline in the path, the deals are the default pipeline's.
const boardQuery = `query Board($where: DealWhereInput!, $first: Int!) {
  pipelines(first: 100) { edges { node { id name isDefault stages { id name position probability kind } } } }
  members { id name }
  deals(first: $first, where: $where, orderBy: [{field: AMOUNT, direction: DESC}]) { ${dealFields} }
}`;

const dealsQuery = `query BoardDeals($where: DealWhereInput!, $after: Cursor, $first: Int!) {
  deals(first: $first, after: $after, where: $where, orderBy: [{field: AMOUNT, direction: DESC}]) { ${dealFields} }
}`;

const moveMutation = `mutation BoardMove($id: ID!, $stage: ID!) {
  moveDeal(id: $id, stageID: $stage) { id stageID probability }
}`;

// scoresQuery asks for the latest scores of n batches of deal IDs, each
// batch its own field ($i0 → s0, …).
function scoresQuery(n: number): string {
  const vars: string[] = [];
  const fields: string[] = [];
  for (let i = 0; i < n; i++) {
    vars.push(`$i${i}: [ID!]!`);
    fields.push(`s${i}: scores(first: 1000, where: {subjectType: deal, subjectIDIn: $i${i}}, orderBy: [{field: COMPUTED_AT, direction: DESC}]) { edges { node { subjectID label } } }`);
  }
  return `query BoardScores(${vars.join(", ")}) {\n  ${fields.join("\n  ")}\n}`;
}

function amountOf(d: Deal): number {
  if (d.value === undefined) {
    const n = typeof d.amount === "number" ? d.amount : parseFloat(d.amount);
    d.value = isNaN(n) ? 0 : n;
  }
  return d.value;
}

/** The board of the pipeline with ID pipelineID (the default one when empty). */
export async function boardPage(main: HTMLElement, s: Session, pipelineID: string): Promise<void> {
  document.title = "Board · Rapport";
  mount(main, h("p", { class: "muted" }, "Loading the board…"));
  let pipelines: Pipeline[];
  let members: Member[];
  let page: DealPage;
  let where: Record<string, unknown> = pipelineID ? { pipelineID } : { hasPipelineWith: [{ isDefault: true }] };
  try {
    const data = await gql<{ pipelines: { edges: { node: Pipeline }[] }; members: Member[]; deals: DealPage }>(boardQuery, { where, first: PAGE });
    pipelines = data.pipelines.edges.map((e) => e.node);
    members = data.members;
    page = data.deals;
    performance.mark("board-data");
  } catch (e) {
    mount(main, h("p", { class: "error" }, (e as Error).message));
    return;
  }
  if (!main.isConnected) return;
  if (pipelines.length === 0) {
    mount(main, h("h1", null, "Board"), h("p", { class: "muted" }, "This workspace has no pipeline yet."));
    return;
  }
  const pipeline = pipelines.find((p) => p.id === pipelineID) ?? pipelines.find((p) => p.isDefault) ?? pipelines[0];
  const asked = pipelineID ? pipeline.id === pipelineID : pipeline.isDefault;
  where = { pipelineID: pipeline.id };
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
  const hint = h("p", { class: "muted small", id: "board-hint" },
    "Drag a card to another stage, or focus it and press ← or → to move it to the previous or next stage.");
  const announce = h("span", { class: "muted small", id: "board-announce", role: "status", "aria-live": "polite" });
  const error = h("div", { class: "error banner", id: "board-error", role: "alert", hidden: true });
  const columns = h("div", { class: "board", id: "board" });
  mount(main,
    h("div", { class: "board-head" }, h("h1", null, "Board"), picker, ownerFilter, labelFilter, status, announce),
    s.role === "viewer" ? h("p", { class: "muted small" }, "You can look but not move deals: your role is viewer.") : hint,
    error, columns);

  const deals = new Map<string, Deal>();
  const recent: string[] = []; // deals moved here, latest first: they head their column
  const shown = new Map<string, number>(); // stage ID → cards shown
  const cols = new Map<string, { head: HTMLElement; list: HTMLElement; more?: HTMLElement }>();
  // A column scrolled down to its "Show more" button shows more by itself.
  const reveal = new IntersectionObserver((entries) => {
    for (const e of entries) if (e.isIntersecting) (e.target as HTMLButtonElement).click();
  });

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
      tabindex: "0",
      "data-deal": d.id,
      "aria-describedby": "board-hint",
      "aria-keyshortcuts": "ArrowLeft ArrowRight",
    },
    h("div", { class: "card-top" }, h("span", { class: "deal-name" }, d.name), d.label ? h("span", { class: "label" }, d.label) : null),
    h("div", { class: "amount" }, fmtMoney(amountOf(d), d.currency)),
    contact ? h("div", { class: "meta contact" }, contact) : null,
    d.organization ? h("div", { class: "meta org" }, d.organization.name) : null,
    owner ? h("div", { class: "meta owner" }, owner) : null);
  }

  // The deals of each stage that the filters let through, in board order:
  // the ones just moved first, then by amount (the order they came in).
  function byStage(only?: Set<string>): Map<string, Deal[]> {
    const out = new Map<string, Deal[]>();
    for (const st of stages) if (!only || only.has(st.id)) out.set(st.id, []);
    const first = new Set(recent);
    const add = (d: Deal): void => {
      if (visible(d)) out.get(d.stageID)?.push(d);
    };
    for (const id of recent) {
      const d = deals.get(id);
      if (d) add(d);
    }
    for (const d of deals.values()) if (!first.has(d.id)) add(d);
    return out;
  }

  function renderColumn(st: Stage, list: Deal[]): void {
    const c = cols.get(st.id)!;
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
    const end = Math.min(n, list.length);
    for (let i = 0; i < end; i++) frag.appendChild(card(list[i]));
    if (c.more) reveal.unobserve(c.more);
    c.more = undefined;
    if (list.length > n) {
      frag.appendChild(c.more = h("button", {
        type: "button",
        class: "more",
        onclick: () => {
          shown.set(st.id, n + SHOWN * 2);
          render(st.id);
        },
      }, "Show " + Math.min(SHOWN * 2, list.length - n) + " more of " + (list.length - n)));
    }
    c.list.replaceChildren(frag);
    if (c.more) reveal.observe(c.more);
  }

  // render redraws the columns of the given stages (all without any).
  function render(...ids: string[]): void {
    const lists = byStage(ids.length ? new Set(ids) : undefined);
    for (const st of stages) {
      const list = lists.get(st.id);
      if (list) renderColumn(st, list);
    }
  }

  async function move(id: string, to: Stage): Promise<void> {
    const d = deals.get(id);
    if (!d || d.stageID === to.id) return;
    const from = d.stageID;
    const before = { stageID: d.stageID, probability: d.probability };
    error.hidden = true;
    d.stageID = to.id;
    const at = recent.indexOf(id);
    if (at >= 0) recent.splice(at, 1);
    recent.unshift(id);
    render(from, to.id);
    try {
      const r = await gql<{ moveDeal: { id: string; stageID: string; probability: number | null } }>(moveMutation, { id, stage: to.id });
      d.stageID = r.moveDeal.stageID;
      d.probability = r.moveDeal.probability;
      render(from, to.id);
      announce.textContent = "Moved " + d.name + " to " + (stageByID.get(d.stageID)?.name ?? "another stage") + ".";
    } catch (e) {
      d.stageID = before.stageID;
      d.probability = before.probability;
      render(from, to.id);
      const code = e instanceof ApiError ? e.code : "";
      showError((code === "FORBIDDEN" ? "Not moved: your role cannot change deals. " : "Not moved: ") + (e as Error).message);
    }
  }

  for (const st of stages) {
    const head = h("header", { class: "col-head" });
    const list = h("div", { class: "col-list" });
    columns.appendChild(h("section", { class: "column kind-" + st.kind, "data-stage": st.id, "aria-label": st.name }, head, list));
    cols.set(st.id, { head, list });
  }

  // Dragging with pointer events: a press on a card that moves a few
  // pixels lifts a copy of it that follows the pointer; releasing it over
  // another column moves the deal there. Pointer events come from a mouse,
  // a pen or a finger alike, and from a test's synthetic mouse input.
  let press: { id: string; card: HTMLElement; pointer: number; x: number; y: number; dx: number; dy: number; width: number } | null = null;
  let ghost: HTMLElement | null = null;
  let over: HTMLElement | null = null;

  function columnAt(x: number, y: number): HTMLElement | null {
    const el = document.elementFromPoint(x, y)?.closest<HTMLElement>(".column");
    return el && columns.contains(el) ? el : null;
  }

  function endDrag(): void {
    window.removeEventListener("pointermove", onMove);
    window.removeEventListener("pointerup", onUp);
    window.removeEventListener("pointercancel", endDrag);
    window.removeEventListener("keydown", onEscape, true);
    ghost?.remove();
    ghost = null;
    over?.classList.remove("drop");
    over = null;
    if (press) press.card.style.opacity = "";
    document.body.style.cursor = "";
    press = null;
  }

  function onMove(e: PointerEvent): void {
    if (!press || e.pointerId !== press.pointer) return;
    if (!ghost) {
      if (Math.abs(e.clientX - press.x) < DRAG_START && Math.abs(e.clientY - press.y) < DRAG_START) return;
      ghost = press.card.cloneNode(true) as HTMLElement;
      ghost.removeAttribute("data-deal");
      ghost.removeAttribute("tabindex");
      ghost.setAttribute("aria-hidden", "true");
      const g = ghost.style;
      g.position = "fixed";
      g.left = "0";
      g.top = "0";
      g.width = press.width + "px";
      g.margin = "0";
      g.zIndex = "1000";
      g.pointerEvents = "none";
      g.boxShadow = "0 6px 18px rgba(20, 30, 60, .25)";
      g.cursor = "grabbing";
      document.body.appendChild(ghost);
      press.card.style.opacity = "0.4";
      document.body.style.cursor = "grabbing";
      window.getSelection()?.removeAllRanges();
    }
    ghost.style.transform = `translate(${e.clientX - press.dx}px, ${e.clientY - press.dy}px) rotate(2deg)`;
    // Near the board's left or right edge, scroll it to the columns beyond.
    const r = columns.getBoundingClientRect();
    if (e.clientX < r.left + 40) columns.scrollLeft -= 20;
    else if (e.clientX > r.right - 40) columns.scrollLeft += 20;
    const col = columnAt(e.clientX, e.clientY);
    if (col !== over) {
      over?.classList.remove("drop");
      over = col;
      over?.classList.add("drop");
    }
  }

  function onUp(e: PointerEvent): void {
    if (!press || e.pointerId !== press.pointer) return;
    const id = press.id;
    const dragged = ghost !== null;
    const col = dragged ? columnAt(e.clientX, e.clientY) : null;
    endDrag();
    const st = col ? stageByID.get(col.dataset.stage ?? "") : undefined;
    if (st) void move(id, st);
  }

  function onEscape(e: KeyboardEvent): void {
    if (e.key === "Escape") {
      e.preventDefault();
      endDrag();
    }
  }

  columns.addEventListener("pointerdown", (e: PointerEvent) => {
    if (press || e.button !== 0 || !e.isPrimary) return;
    const c = (e.target as Element).closest<HTMLElement>(".card[data-deal]");
    if (!c || (e.target as Element).closest("button, a, select, input")) return;
    const r = c.getBoundingClientRect();
    press = { id: c.dataset.deal!, card: c, pointer: e.pointerId, x: e.clientX, y: e.clientY, dx: e.clientX - r.left, dy: e.clientY - r.top, width: r.width };
    window.addEventListener("pointermove", onMove);
    window.addEventListener("pointerup", onUp);
    window.addEventListener("pointercancel", endDrag);
    window.addEventListener("keydown", onEscape, true);
  });
  // A press on a card starts a drag, not a text selection.
  columns.addEventListener("selectstart", (e) => {
    if (press) e.preventDefault();
  });
  // The keyboard: ← and → move the focused card a stage; it keeps the focus.
  columns.addEventListener("keydown", (e: KeyboardEvent) => {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    const c = (e.target as Element).closest<HTMLElement>(".card[data-deal]");
    const d = c ? deals.get(c.dataset.deal!) : undefined;
    if (!d) return;
    const at = stages.findIndex((st) => st.id === d.stageID);
    const to = stages[at + (e.key === "ArrowLeft" ? -1 : 1)];
    if (!to) return;
    e.preventDefault();
    const done = move(d.id, to);
    columns.querySelector<HTMLElement>(`[data-stage="${CSS.escape(to.id)}"] [data-deal="${CSS.escape(d.id)}"]`)?.focus();
    void done.then(() => columns.querySelector<HTMLElement>(`[data-deal="${CSS.escape(d.id)}"]`)?.focus());
  });

  ownerFilter.addEventListener("change", () => render());
  labelFilter.addEventListener("change", () => render());

  // The latest score label of each deal: SCORE_FIELDS batches of deal IDs
  // a request, each page's asked for as soon as it comes, while the board
  // draws it.
  type Scores = Record<string, { edges: { node: { subjectID: string; label: string | null } }[] }>;
  const scoreRequests: Promise<{ data?: Scores; error?: Error }>[] = [];
  function askScores(ids: string[]): void {
    for (let i = 0; i < ids.length; i += SCORE_IDS * SCORE_FIELDS) {
      const vars: Record<string, string[]> = {};
      let n = 0;
      for (let j = i; j < Math.min(i + SCORE_IDS * SCORE_FIELDS, ids.length); j += SCORE_IDS) vars["i" + n++] = ids.slice(j, j + SCORE_IDS);
      scoreRequests.push(gql<Scores>(scoresQuery(n), vars).then((data) => ({ data }), (error: Error) => ({ error })));
    }
  }

  // Deals, the first page already here unless the path named a pipeline
  // that is not there; then page by page, each shown as it comes.
  try {
    if (!asked) page = (await gql<{ deals: DealPage }>(dealsQuery, { where, first: PAGE })).deals;
    for (;;) {
      if (!main.isConnected) return;
      askScores(page.edges.map((e) => e.node.id));
      const next = page.pageInfo.hasNextPage && page.pageInfo.endCursor
        ? gql<{ deals: DealPage }>(dealsQuery, { where, after: page.pageInfo.endCursor, first: PAGE })
        : null;
      next?.catch(() => undefined); // handled below, once awaited
      for (const e of page.edges) deals.set(e.node.id, e.node);
      render();
      performance.mark("board-drawn");
      status.textContent = deals.size + " deals";
      if (!next) break;
      page = (await next).deals;
    }
  } catch (e) {
    showError("Deals could not be loaded: " + (e as Error).message);
    return;
  }

  const labels = new Set<string>();
  const seen = new Set<string>();
  let failed: Error | undefined;
  for (const { data, error } of await Promise.all(scoreRequests)) {
    if (error) failed = error;
    for (const conn of Object.values(data ?? {})) {
      for (const { node } of conn.edges) {
        if (seen.has(node.subjectID)) continue; // newest first: the first is the latest
        seen.add(node.subjectID);
        const d = deals.get(node.subjectID);
        if (d && node.label) {
          d.label = node.label;
          labels.add(node.label);
        }
      }
    }
  }
  if (!main.isConnected) return;
  for (const l of [...labels].sort()) labelFilter.appendChild(h("option", { value: l }, l));
  if (labels.size) render();
  if (failed) status.textContent = deals.size + " deals (scores unavailable: " + failed.message + ")";
  columns.dataset.loaded = "true";
}
