// Record lists: contacts, organizations, deals and leads as tables, a page
// at a time (cursor-based: first/after and last/before), every value shown
// as text. Search, filters (owner, tag, segment, a custom field) and the
// sort live in the URL's query, so a reload or the back button keeps them.

import { gql } from "./api";
import { fmtMoney, h, mount } from "./dom";
import { link } from "./nav";
import { CustomFieldDef, customFieldDefs, fieldInput, fieldValue } from "./records-fields";

type Row = Record<string, unknown>;

interface List {
  title: string;
  field: string; // root connection
  entity: "contact" | "organization" | "deal" | "lead";
  whereType: string; // GraphQL where input type
  orderType: string; // GraphQL order input type
  sort: [string, "ASC" | "DESC"]; // default order
  node: string; // selection of a node
  search: string[]; // fields searched (…ContainsFold)
  tags: boolean; // whether the records have tags
  // label, value, order field, class
  columns: [string, (r: Row) => string, string?, string?][];
}

const person = (r: Row | null | undefined): string =>
  r ? [r.firstName, r.lastName].filter((x) => typeof x === "string" && x).join(" ") : "";
const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));
const name = (v: unknown): string => str((v as Row | null)?.name);

/** The lists by path. */
export const lists: Record<string, List> = {
  "/contacts": {
    title: "Contacts",
    field: "contacts",
    entity: "contact",
    whereType: "ContactWhereInput",
    orderType: "ContactOrder",
    sort: ["LAST_NAME", "ASC"],
    node: "id firstName lastName email title organization { name } owner { name }",
    search: ["firstName", "lastName", "email"],
    tags: true,
    columns: [["Name", person, "LAST_NAME"], ["Email", (r) => str(r.email), "EMAIL"], ["Title", (r) => str(r.title)], ["Organization", (r) => name(r.organization)], ["Owner", (r) => name(r.owner)]],
  },
  "/organizations": {
    title: "Organizations",
    field: "organizations",
    entity: "organization",
    whereType: "OrganizationWhereInput",
    orderType: "OrganizationOrder",
    sort: ["NAME", "ASC"],
    node: "id name domain industry employees owner { name }",
    search: ["name", "domain"],
    tags: true,
    columns: [["Name", (r) => str(r.name), "NAME"], ["Domain", (r) => str(r.domain), "DOMAIN"], ["Industry", (r) => str(r.industry), "INDUSTRY"],
      ["Employees", (r) => str(r.employees), "EMPLOYEES", "num"], ["Owner", (r) => name(r.owner)]],
  },
  "/deals": {
    title: "Deals",
    field: "deals",
    entity: "deal",
    whereType: "DealWhereInput",
    orderType: "DealOrder",
    sort: ["UPDATED_AT", "DESC"],
    node: "id name amount currency status stage { name } pipeline { name } organization { name } owner { name }",
    search: ["name"],
    tags: true,
    columns: [["Name", (r) => str(r.name), "NAME"], ["Amount", (r) => fmtMoney(Number(r.amount), str(r.currency) || "USD"), "AMOUNT", "num"], ["Status", (r) => str(r.status), "STATUS"],
      ["Stage", (r) => name(r.pipeline) + " · " + name(r.stage)], ["Organization", (r) => name(r.organization)], ["Owner", (r) => name(r.owner)]],
  },
  "/leads": {
    title: "Leads",
    field: "leads",
    entity: "lead",
    whereType: "LeadWhereInput",
    orderType: "LeadOrder",
    sort: ["CREATED_AT", "DESC"],
    node: "id title firstName lastName company source status",
    search: ["title", "firstName", "lastName", "company", "email"],
    tags: false,
    columns: [["Title", (r) => str(r.title), "TITLE"], ["Person", person], ["Company", (r) => str(r.company)], ["Source", (r) => str(r.source), "SOURCE"], ["Status", (r) => str(r.status), "STATUS"]],
  },
};

/** Rows a page shows. */
export const PAGE = 100;

// The query parameters a list keeps its state in.
const KEYS = ["q", "owner", "tag", "segment", "cf", "cfop", "cfv", "sort", "dir", "after", "before", "from"];

interface Conn {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  edges: { node: Row }[];
}

/** The where input of a list's filters in params (null when none). */
export function whereOf(l: List, p: URLSearchParams, defs: CustomFieldDef[]): Row | null {
  const w: Row = {};
  const q = (p.get("q") ?? "").trim();
  if (q) w.or = l.search.map((f) => ({ [f + "ContainsFold"]: q }));
  if (p.get("owner")) w.ownerID = p.get("owner");
  if (l.tags && p.get("tag")) w.hasTagsWith = [{ id: p.get("tag") }];
  if (p.get("segment")) w.inSegment = p.get("segment");
  const cf = p.get("cf");
  const def = defs.find((d) => d.key === cf);
  if (def && p.get("cfv") !== null && p.get("cfv") !== "") {
    w.customFields = [{ key: def.key, op: p.get("cfop") || "EQ", value: fieldValue(def, p.get("cfv") ?? "") }];
  }
  return Object.keys(w).length ? w : null;
}

/** Shows the list l in main, PAGE rows at a time, filtered as the URL's query says. */
export async function listPage(main: HTMLElement, l: List): Promise<void> {
  document.title = l.title + " · Rapport";
  const base = location.pathname;
  const params = new URLSearchParams(location.search);
  const count = h("span", { class: "muted small", id: "list-count" });
  const body = h("tbody");
  const error = h("p", { class: "error", role: "alert", id: "list-error" });
  const prev = h("button", { type: "button", class: "pager", id: "list-prev" }, "‹ Previous");
  const next = h("button", { type: "button", class: "pager", id: "list-next" }, "Next ›");
  const range = h("span", { class: "muted small", id: "list-range" });
  const head = h("tr");
  const table = h("table", { class: "list", id: "list" }, h("thead", null, head), body);

  // The filter bar.
  const search = h("input", { type: "search", id: "list-search", placeholder: "Search " + l.title.toLowerCase(), "aria-label": "Search", value: params.get("q") ?? "" });
  const owner = h("select", { id: "filter-owner", "aria-label": "Owner" }, h("option", { value: "" }, "All owners"));
  const tag = h("select", { id: "filter-tag", "aria-label": "Tag", hidden: !l.tags }, h("option", { value: "" }, "All tags"));
  const segment = h("select", { id: "filter-segment", "aria-label": "Segment" }, h("option", { value: "" }, "All segments"));
  const cfKey = h("select", { id: "filter-cf-key", "aria-label": "Custom field" }, h("option", { value: "" }, "Custom field…"));
  const cfOp = h("select", { id: "filter-cf-op", "aria-label": "Comparison" });
  const cfSlot = h("span", { class: "cf-value" });
  let cfValue: HTMLInputElement | HTMLSelectElement = h("input", { id: "filter-cf-value", "aria-label": "Value", disabled: true });
  cfSlot.appendChild(cfValue);
  const filters = h("form", { class: "filters", id: "list-filters", role: "search" },
    search, owner, tag, segment, h("span", { class: "cf" }, cfKey, cfOp, cfSlot),
    h("button", { type: "submit", id: "filter-apply" }, "Apply"),
    h("button", { type: "button", class: "link", id: "filter-clear" }, "Clear"));

  const newLink = link(base + "/new", "New " + l.entity, "button new-record");
  newLink.id = "new-record";
  mount(main,
    h("div", { class: "board-head" }, h("h1", null, l.title), count, h("span", { class: "spacer" }), newLink),
    filters, error, table,
    h("div", { class: "pager-bar" }, prev, range, next));

  // Options of the filters: members, tags, segments, custom fields.
  let defs: CustomFieldDef[] = [];
  try {
    const [data, all] = await Promise.all([
      gql<{ members: { id: string; name: string }[]; tags?: { id: string; name: string }[]; segments: { edges: { node: { key: string; name: string } }[] } }>(
        `query ListFilters { members { id name } ${l.tags ? "tags { id name }" : ""} segments(first: 200, orderBy: {field: NAME, direction: ASC}) { edges { node { key name } } } }`),
      customFieldDefs(),
    ]);
    for (const m of data.members) owner.appendChild(h("option", { value: m.id }, m.name));
    for (const t of data.tags ?? []) tag.appendChild(h("option", { value: t.id }, t.name));
    const seen = new Set<string>();
    for (const { node } of data.segments.edges) {
      if (seen.has(node.key)) continue;
      seen.add(node.key);
      segment.appendChild(h("option", { value: node.key }, node.name));
    }
    defs = all.filter((d) => d.entity === l.entity);
    for (const d of defs) cfKey.appendChild(h("option", { value: d.key }, d.label));
  } catch (e) {
    error.textContent = "Filters unavailable: " + (e as Error).message;
  }
  if (!main.isConnected) return;

  const ops: Record<string, [string, string][]> = {
    text: [["CONTAINS", "contains"], ["EQ", "is"]],
    select: [["EQ", "is"], ["CONTAINS", "contains"]],
    number: [["EQ", "="], ["GT", ">"], ["LT", "<"]],
    date: [["EQ", "on"], ["GT", "after"], ["LT", "before"]],
    boolean: [["EQ", "is"]],
  };
  function pickField(value: string, op: string): void {
    const d = defs.find((x) => x.key === cfKey.value);
    cfOp.replaceChildren(...(d ? ops[d.type] ?? [] : []).map(([v, label]) => h("option", { value: v, selected: v === op }, label)));
    cfOp.disabled = !d;
    const input = d ? fieldInput(d, value, "filter-cf-value") : h("input", { id: "filter-cf-value", disabled: true });
    input.setAttribute("aria-label", "Value");
    cfSlot.replaceChildren(input);
    cfValue = input;
  }
  const state = (): URLSearchParams => new URLSearchParams(location.search);
  function setControls(p: URLSearchParams): void {
    search.value = p.get("q") ?? "";
    owner.value = p.get("owner") ?? "";
    tag.value = p.get("tag") ?? "";
    segment.value = p.get("segment") ?? "";
    cfKey.value = p.get("cf") ?? "";
    pickField(p.get("cfv") ?? "", p.get("cfop") ?? "");
  }
  setControls(params);

  // Columns, sortable where the API orders by them.
  function renderHead(p: URLSearchParams): void {
    const [sf, sd] = [p.get("sort") || l.sort[0], (p.get("dir") || l.sort[1]).toUpperCase()];
    head.replaceChildren(...l.columns.map(([c, , order, cls]) => {
      if (!order) return h("th", { class: cls }, c);
      const active = order === sf;
      const arrow = active ? (sd === "ASC" ? " ▲" : " ▼") : "";
      return h("th", { class: cls, "aria-sort": active ? (sd === "ASC" ? "ascending" : "descending") : "none" },
        h("button", {
          type: "button",
          class: "sort" + (active ? " active" : ""),
          "data-sort": order,
          onclick: () => {
            const q = state();
            const dir = active && sd === "ASC" ? "DESC" : active ? "ASC" : order === "AMOUNT" || order.endsWith("_AT") || order === "EMPLOYEES" ? "DESC" : "ASC";
            q.set("sort", order);
            q.set("dir", dir);
            go(q, ["after", "before", "from"]);
          },
        }, c + arrow));
    }));
  }

  // Moves to the list state q (dropping the keys in drop), as a new history entry.
  function go(q: URLSearchParams, drop: string[] = []): void {
    for (const k of drop) q.delete(k);
    for (const k of [...q.keys()]) if (!KEYS.includes(k) || q.get(k) === "") q.delete(k);
    const s = q.toString();
    history.pushState(null, "", base + (s ? "?" + s : ""));
    void load();
  }

  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = state();
    q.set("q", search.value.trim());
    q.set("owner", owner.value);
    q.set("tag", tag.value);
    q.set("segment", segment.value);
    q.set("cf", cfKey.value);
    q.set("cfop", cfKey.value ? cfOp.value : "");
    q.set("cfv", cfKey.value ? cfValue.value : "");
    go(q, ["after", "before", "from"]);
  });
  for (const sel of [owner, tag, segment]) sel.addEventListener("change", () => filters.requestSubmit());
  cfKey.addEventListener("change", () => pickField("", ""));
  filters.querySelector("#filter-clear")!.addEventListener("click", () => {
    const q = state();
    go(q, ["q", "owner", "tag", "segment", "cf", "cfop", "cfv", "after", "before", "from"]);
  });
  prev.addEventListener("click", () => {
    const q = state();
    q.set("before", prev.dataset.cursor ?? "");
    q.set("from", String(Math.max(0, Number(q.get("from") ?? 0) - PAGE)));
    go(q, ["after"]);
  });
  next.addEventListener("click", () => {
    const q = state();
    q.set("after", next.dataset.cursor ?? "");
    q.set("from", String(Number(q.get("from") ?? 0) + body.rows.length));
    go(q, ["before"]);
  });

  let seq = 0;
  async function load(): Promise<void> {
    const my = ++seq;
    const p = state();
    setControls(p);
    renderHead(p);
    delete table.dataset.loaded;
    table.classList.add("loading");
    error.textContent = "";
    const sort = { field: p.get("sort") || l.sort[0], direction: (p.get("dir") || l.sort[1]).toUpperCase() === "DESC" ? "DESC" : "ASC" };
    const backward = !!p.get("before") && !p.get("after");
    const vars: Row = { where: whereOf(l, p, defs), orderBy: [sort] };
    if (backward) Object.assign(vars, { last: PAGE, before: p.get("before") });
    else Object.assign(vars, { first: PAGE, after: p.get("after") || null });
    const query = `query List($after: Cursor, $first: Int, $before: Cursor, $last: Int, $where: ${l.whereType}, $orderBy: [${l.orderType}!]) {
      ${l.field}(first: $first, after: $after, last: $last, before: $before, where: $where, orderBy: $orderBy) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { ${l.node} } }
      }
    }`;
    try {
      const data = await gql<Record<string, Conn>>(query, vars);
      if (my !== seq || !main.isConnected) return;
      const conn = data[l.field];
      const frag = document.createDocumentFragment();
      for (const { node } of conn.edges) {
        const href = base + "/" + encodeURIComponent(str(node.id));
        frag.appendChild(h("tr", { "data-id": str(node.id) }, l.columns.map(([, f, , cls], i) => {
          const v = f(node);
          return h("td", { class: cls }, i === 0 ? link(href, v || "(no name)", "row-link") : v);
        })));
      }
      if (conn.edges.length === 0) frag.appendChild(h("tr", null, h("td", { class: "empty muted", colspan: String(l.columns.length) }, "No " + l.title.toLowerCase() + " match.")));
      body.replaceChildren(frag);
      let from = Math.max(0, Number(p.get("from") ?? 0) || 0);
      // Back on the first page (no earlier records) the rows start at 1.
      if (backward && !conn.pageInfo.hasPreviousPage) from = 0;
      const end = Math.min(from + conn.edges.length, conn.totalCount);
      count.textContent = end + " of " + conn.totalCount;
      range.textContent = conn.edges.length ? (from + 1) + "–" + end + " of " + conn.totalCount : "0 of " + conn.totalCount;
      const hasPrev = backward ? conn.pageInfo.hasPreviousPage : !!p.get("after");
      const hasNext = backward ? true : conn.pageInfo.hasNextPage;
      prev.disabled = !hasPrev || !conn.pageInfo.startCursor;
      next.disabled = !hasNext || !conn.pageInfo.endCursor;
      prev.dataset.cursor = conn.pageInfo.startCursor ?? "";
      next.dataset.cursor = conn.pageInfo.endCursor ?? "";
      table.dataset.loaded = "true";
    } catch (e) {
      if (my !== seq) return;
      body.replaceChildren();
      count.textContent = "";
      error.textContent = (e as Error).message;
      table.dataset.loaded = "error";
    } finally {
      if (my === seq) table.classList.remove("loading");
    }
  }
  await load();
}
