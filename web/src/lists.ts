// Record lists: contacts, organizations, deals and leads as tables, a page
// at a time (first/after), every value shown as text.

import { gql } from "./api";
import { fmtMoney, h, mount } from "./dom";

type Row = Record<string, unknown>;

interface List {
  title: string;
  field: string; // root connection
  order: string; // orderBy
  node: string; // selection of a node
  columns: [string, (r: Row) => string, string?][];
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
    order: "{field: LAST_NAME, direction: ASC}",
    node: "id firstName lastName email title organization { name } owner { name }",
    columns: [["Name", person], ["Email", (r) => str(r.email)], ["Title", (r) => str(r.title)], ["Organization", (r) => name(r.organization)], ["Owner", (r) => name(r.owner)]],
  },
  "/organizations": {
    title: "Organizations",
    field: "organizations",
    order: "{field: NAME, direction: ASC}",
    node: "id name domain industry employees owner { name }",
    columns: [["Name", (r) => str(r.name)], ["Domain", (r) => str(r.domain)], ["Industry", (r) => str(r.industry)], ["Employees", (r) => str(r.employees), "num"], ["Owner", (r) => name(r.owner)]],
  },
  "/deals": {
    title: "Deals",
    field: "deals",
    order: "{field: UPDATED_AT, direction: DESC}",
    node: "id name amount currency status stage { name } pipeline { name } organization { name } owner { name }",
    columns: [["Name", (r) => str(r.name)], ["Amount", (r) => fmtMoney(Number(r.amount), str(r.currency) || "USD"), "num"], ["Status", (r) => str(r.status)],
      ["Stage", (r) => name(r.pipeline) + " · " + name(r.stage)], ["Organization", (r) => name(r.organization)], ["Owner", (r) => name(r.owner)]],
  },
  "/leads": {
    title: "Leads",
    field: "leads",
    order: "{field: CREATED_AT, direction: DESC}",
    node: "id title firstName lastName company source status",
    columns: [["Title", (r) => str(r.title)], ["Person", person], ["Company", (r) => str(r.company)], ["Source", (r) => str(r.source)], ["Status", (r) => str(r.status)]],
  },
};

const PAGE = 100;

/** Shows the list l in main, PAGE rows at a time. */
export async function listPage(main: HTMLElement, l: List): Promise<void> {
  document.title = l.title + " · Rapport";
  const query = `query List($after: Cursor, $first: Int!) {
    ${l.field}(first: $first, after: $after, orderBy: [${l.order}]) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { ${l.node} } }
    }
  }`;
  const count = h("span", { class: "muted small", id: "list-count" });
  const body = h("tbody");
  const error = h("p", { class: "error", role: "alert" });
  const more = h("button", { type: "button", class: "more", hidden: true }, "Show more");
  mount(main,
    h("div", { class: "board-head" }, h("h1", null, l.title), count),
    h("table", { class: "list", id: "list" }, h("thead", null, h("tr", null, l.columns.map(([c, , cls]) => h("th", { class: cls }, c)))), body),
    error, more);
  let after: string | null = null;
  let shown = 0;
  const load = async (): Promise<void> => {
    more.disabled = true;
    try {
      const data = await gql<Record<string, { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: Row }[] }>>(query, { after, first: PAGE });
      const conn = data[l.field];
      const frag = document.createDocumentFragment();
      for (const { node } of conn.edges) frag.appendChild(h("tr", null, l.columns.map(([, f, cls]) => h("td", { class: cls }, f(node)))));
      body.appendChild(frag);
      shown += conn.edges.length;
      count.textContent = shown + " of " + conn.totalCount;
      after = conn.pageInfo.endCursor;
      more.hidden = !conn.pageInfo.hasNextPage;
    } catch (e) {
      error.textContent = (e as Error).message;
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  await load();
  (main.querySelector("#list") as HTMLElement).dataset.loaded = "true";
}
