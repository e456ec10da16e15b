// Record pages and forms: a contact, organization, deal or lead with its
// fields, related records, timeline, scores and segments; /SECTION/new and
// /SECTION/ID/edit are the create and edit forms.

import { ApiError, Session, gql } from "./api";
import { fmtMoney, h, mount } from "./dom";
import { link, navigate } from "./nav";
import type { Page } from "./nav";
import { CustomFieldDef, customFieldDefs, showValue } from "./records-fields";
import { formPage } from "./records-form";
import { Kind, kinds, recordTitle } from "./records-kinds";
import { Timeline, timeline } from "./records-timeline";

type Row = Record<string, unknown>;

const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));
const person = (r: Row | null | undefined): string =>
  r ? [r.firstName, r.lastName].filter((x) => typeof x === "string" && x).join(" ") : "";

/** Shows that no record is here (unknown, deleted or another workspace's). */
export function notFound(main: HTMLElement, k: Kind | undefined): void {
  document.title = "Not found · Rapport";
  mount(main, h("h1", { id: "not-found" }, "Not found"),
    h("p", null, "There is no such record in this workspace. ", k ? link("/" + k.section, "Back to " + k.plural) : link("/board", "Go to the board")));
}

/** Renders the record pages and forms: /contacts/ID, /contacts/new, /contacts/ID/edit and the same for the other record sections. */
export const recordPage: Page = async (main, s, segs) => {
  const k = kinds[segs[0]];
  if (!k || segs.length > 3 || (segs.length === 3 && segs[2] !== "edit")) return notFound(main, k);
  if (segs[1] === "new" && segs.length === 2) return formPage(main, s, k, null);
  if (segs[2] === "edit") return formPage(main, s, k, segs[1]);
  return viewPage(main, s, k, segs[1]);
};

/** Loads the record id of kind k; null when there is none (in this workspace). */
export async function loadRecord(k: Kind, id: string, selection: string): Promise<Row | null> {
  try {
    const data = await gql<{ node: Row | null }>(`query Record($id: ID!) { node(id: $id) { __typename ... on ${k.type} { ${selection} } } }`, { id });
    if (!data.node || data.node.__typename !== k.type) return null;
    return data.node;
  } catch (e) {
    if (e instanceof ApiError && (e.code === "NOT_FOUND" || e.code === "BAD_USER_INPUT")) return null;
    throw e;
  }
}

interface Score {
  id: string;
  point: string;
  plugin: string;
  value: number;
  label: string | null;
  explanation: { name: string; contribution: number; detail: string | null }[] | null;
  computedAt: string;
}

const when = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const day = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "short", day: "numeric" });

/** A time as local date and time; "" for none. */
export function fmtTime(v: unknown): string {
  const t = Date.parse(str(v));
  return isNaN(t) ? "" : when.format(t);
}

function fmtDay(v: unknown): string {
  const t = Date.parse(str(v));
  return isNaN(t) ? "" : day.format(t);
}

function refLink(section: string, r: Row | null | undefined, label: string): Node | string {
  if (!r || !r.id) return "—";
  return link("/" + section + "/" + encodeURIComponent(str(r.id)), label || "(no name)");
}

// The record's own fields as label, value pairs.
function fieldsOf(k: Kind, r: Row): [string, Node | string][] {
  const money = (v: unknown) => (v === null || v === undefined || v === "" ? "—" : fmtMoney(Number(v), str(r.currency) || "USD"));
  const t = (v: unknown) => str(v) || "—";
  const owner = (r.owner as Row | null)?.name;
  switch (k.section) {
    case "contacts":
      return [["First name", t(r.firstName)], ["Last name", t(r.lastName)], ["Email", r.email ? h("a", { href: "mailto:" + str(r.email) }, str(r.email)) : "—"],
        ["Phone", t(r.phone)], ["Title", t(r.title)], ["Organization", refLink("organizations", r.organization as Row, str((r.organization as Row)?.name))],
        ["Owner", t(owner)]];
    case "organizations":
      return [["Name", t(r.name)], ["Domain", t(r.domain)], ["Industry", t(r.industry)], ["Employees", r.employees === null || r.employees === undefined ? "—" : String(r.employees)], ["Owner", t(owner)]];
    case "deals":
      return [["Name", t(r.name)], ["Amount", money(r.amount)], ["Status", t(r.status)],
        ["Stage", str((r.pipeline as Row)?.name) + " · " + str((r.stage as Row)?.name)],
        ["Probability", typeof r.probability === "number" ? Math.round(r.probability * 100) + "%" : "—"],
        ["Expected close", fmtDay(r.expectedCloseDate) || "—"], ["Closed", fmtDay(r.closedAt) || "—"], ["Lost reason", t(r.lostReason)],
        ["Contact", refLink("contacts", r.contact as Row, person(r.contact as Row))],
        ["Organization", refLink("organizations", r.organization as Row, str((r.organization as Row)?.name))],
        ["Lead", refLink("leads", r.lead as Row, str((r.lead as Row)?.title))], ["Owner", t(owner)]];
    case "leads":
      return [["Title", t(r.title)], ["First name", t(r.firstName)], ["Last name", t(r.lastName)], ["Email", t(r.email)], ["Phone", t(r.phone)],
        ["Company", t(r.company)], ["Source", t(r.source)], ["Status", t(r.status)], ["Estimated value", money(r.estimatedValue)],
        ["Converted", fmtTime(r.convertedAt) || "—"],
        ["Contact", refLink("contacts", r.contact as Row, person(r.contact as Row))],
        ["Organization", refLink("organizations", r.organization as Row, str((r.organization as Row)?.name))],
        ["Deal", refLink("deals", r.deal as Row, str((r.deal as Row)?.name))], ["Owner", t(owner)]];
  }
  return [];
}

// Related records: lists of links.
function related(k: Kind, r: Row): HTMLElement | null {
  const groups: [string, string, Node[], number][] = [];
  const conn = (v: unknown) => ((v as { edges?: { node: Row }[] } | null)?.edges ?? []).map((e) => e.node);
  const total = (v: unknown) => (v as { totalCount?: number } | null)?.totalCount ?? 0;
  const deal = (d: Row) => h("li", null, refLink("deals", d, str(d.name)), h("span", { class: "muted small" }, " " + fmtMoney(Number(d.amount), str(d.currency) || "USD") + " · " + str((d.stage as Row)?.name || d.status)));
  if (k.section === "contacts" || k.section === "organizations") {
    groups.push(["Deals", "related-deals", conn(r.deals).map(deal), total(r.deals)]);
  }
  if (k.section === "organizations") {
    groups.push(["Contacts", "related-contacts", conn(r.contacts).map((c) => h("li", null, refLink("contacts", c, person(c)), c.email ? h("span", { class: "muted small" }, " " + str(c.email)) : null)), total(r.contacts)]);
  }
  if (k.section === "contacts" || k.section === "organizations") {
    const leads = (r.leads as Row[] | null) ?? [];
    groups.push(["Leads", "related-leads", leads.map((l) => h("li", null, refLink("leads", l, str(l.title)), h("span", { class: "muted small" }, " " + str(l.status)))), leads.length]);
  }
  if (!groups.length) return null;
  return h("section", { class: "panel", id: "related" }, h("h2", null, "Related"),
    groups.map(([title, id, items, n]) => h("div", { class: "related", id },
      h("h3", null, title + " (" + n + ")"),
      items.length ? h("ul", { class: "links" }, items) : h("p", { class: "muted small" }, "None."),
      n > items.length ? h("p", { class: "muted small" }, "Showing " + items.length + " of " + n + ".") : null)));
}

// Scores, each factor of its explanation a horizontal bar scaled to the
// largest contribution.
function scoresPanel(scores: Score[]): HTMLElement {
  const latest = new Map<string, Score>();
  for (const sc of scores) if (!latest.has(sc.point + "/" + sc.plugin)) latest.set(sc.point + "/" + sc.plugin, sc);
  const panel = h("section", { class: "panel", id: "scores" }, h("h2", null, "Scores"));
  if (!latest.size) {
    panel.appendChild(h("p", { class: "muted small" }, "Not scored yet."));
    return panel;
  }
  for (const sc of latest.values()) {
    const factors = sc.explanation ?? [];
    const max = Math.max(1e-9, ...factors.map((f) => Math.abs(f.contribution)));
    panel.appendChild(h("div", { class: "score", "data-plugin": sc.plugin },
      h("div", { class: "score-head" },
        h("span", { class: "score-value" }, String(Math.round(sc.value * 100) / 100)),
        sc.label ? h("span", { class: "label" }, sc.label) : null,
        h("span", { class: "muted small" }, sc.plugin + " · " + fmtTime(sc.computedAt))),
      factors.length ? h("div", { class: "factors" }, factors.map((f) => {
        const bar = h("span", { class: "bar " + (f.contribution < 0 ? "neg" : "pos") });
        bar.style.width = (Math.abs(f.contribution) / max * 100).toFixed(1) + "%";
        return h("div", { class: "factor", title: f.detail ?? "" },
          h("span", { class: "factor-name" }, f.name),
          h("span", { class: "track" }, bar),
          h("span", { class: "factor-value" }, (f.contribution > 0 ? "+" : "") + (Math.round(f.contribution * 100) / 100)));
      })) : h("p", { class: "muted small" }, "No explanation.")));
  }
  return panel;
}

function customPanel(defs: CustomFieldDef[], values: Row | null): HTMLElement | null {
  const vals = values ?? {};
  const keys = new Set([...defs.map((d) => d.key), ...Object.keys(vals)]);
  if (!keys.size) return null;
  const byKey = new Map(defs.map((d) => [d.key, d]));
  return h("section", { class: "panel", id: "custom-fields" }, h("h2", null, "Custom fields"),
    h("dl", { class: "fields" }, [...keys].map((key) => {
      const d = byKey.get(key);
      return [h("dt", null, d?.label ?? key), h("dd", { "data-field": "customFields." + key, class: "cf-" + (d?.type ?? "text") }, showValue(d, vals[key]))];
    })));
}

async function viewPage(main: HTMLElement, s: Session, k: Kind, id: string): Promise<void> {
  mount(main, h("p", { class: "muted" }, "Loading…"));
  let r: Row | null;
  let defs: CustomFieldDef[] = [];
  try {
    [r, defs] = await Promise.all([loadRecord(k, id, k.detail), customFieldDefs()]);
  } catch (e) {
    mount(main, h("h1", null, k.one), h("p", { class: "error", role: "alert" }, (e as Error).message));
    return;
  }
  if (!main.isConnected) return;
  if (!r) return notFound(main, k);
  const title = recordTitle(k, r);
  document.title = title + " · Rapport";
  const canWrite = s.role !== "viewer";
  const base = "/" + k.section + "/" + encodeURIComponent(id);
  const actions = h("div", { class: "actions" });
  if (canWrite) {
    const edit = link(base + "/edit", "Edit", "button");
    edit.id = "edit-record";
    actions.appendChild(edit);
  }
  const convertError = h("p", { class: "error", id: "convert-error", role: "alert" });
  if (k.section === "leads" && canWrite && r.status !== "converted") {
    const btn: HTMLButtonElement = h("button", {
      type: "button",
      id: "convert-lead",
      class: "primary inline",
      onclick: async () => {
        btn.disabled = true;
        convertError.textContent = "";
        try {
          const out = await gql<{ convertLead: { id: string } }>(`mutation Convert($id: ID!) { convertLead(id: $id) { id } }`, { id });
          navigate("/deals/" + encodeURIComponent(out.convertLead.id));
        } catch (e) {
          convertError.textContent = "Not converted: " + (e as Error).message;
          btn.disabled = false;
        }
      },
    }, "Convert to deal");
    actions.appendChild(btn);
  }
  const tl: Timeline = timeline(k, id, s);
  const segs = (r.segments as { key: string; name: string }[] | null) ?? [];
  const tags = (r.tags as { id: string; name: string }[] | null) ?? [];
  mount(main,
    h("div", { class: "record-head" },
      h("div", null, h("p", { class: "crumbs small" }, link("/" + k.section, k.plural), " / "), h("h1", { id: "record-title" }, title)),
      h("span", { class: "spacer" }), actions),
    convertError,
    h("div", { class: "record" },
      h("div", { class: "record-main" },
        h("section", { class: "panel", id: "record-fields" }, h("h2", null, "Details"),
          h("dl", { class: "fields" }, fieldsOf(k, r).map(([label, v]) => [h("dt", null, label), h("dd", null, v)])),
          h("p", { class: "muted small" }, "Created " + fmtTime(r.createdAt) + " · updated " + fmtTime(r.updatedAt))),
        customPanel(defs.filter((d) => d.entity === k.entity), r.customFields as Row | null),
        tl.el),
      h("aside", { class: "record-side" },
        scoresPanel((r.scores as Score[] | null) ?? []),
        h("section", { class: "panel", id: "segments" }, h("h2", null, "Segments"),
          segs.length ? h("ul", { class: "chips" }, segs.map((sg) => h("li", { class: "chip", "data-key": sg.key }, sg.name))) : h("p", { class: "muted small" }, "In no segment.")),
        k.section !== "leads" ? h("section", { class: "panel", id: "tags" }, h("h2", null, "Tags"),
          tags.length ? h("ul", { class: "chips" }, tags.map((t) => h("li", { class: "chip" }, t.name))) : h("p", { class: "muted small" }, "No tags.")) : null,
        related(k, r))));
  await tl.load(r);
  const fields = main.querySelector("#record-fields") as HTMLElement | null;
  if (fields) fields.dataset.loaded = "true";
}
