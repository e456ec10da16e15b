// A record's timeline, newest first: its activities, field changes, stage
// changes, scores, segments entered and automation runs; and the form that
// logs a call, note, email or task on it.

import { Session, gql } from "./api";
import { h } from "./dom";
import type { Kind } from "./records-kinds";

type Row = Record<string, unknown>;

const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));
const when = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

interface Item {
  at: number;
  type: string;
  title: string;
  body?: string;
  meta?: string;
  kind?: string;
}

/** A record's timeline: its element and how to (re)load it. */
export interface Timeline {
  el: HTMLElement;
  load: (record: Row) => Promise<void>;
}

const idField: Record<string, string> = { contact: "contactID", organization: "organizationID", deal: "dealID", lead: "leadID" };

const show = (v: unknown): string => {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
};

/** The timeline of the record id of kind k, with a log form unless s is a viewer. */
export function timeline(k: Kind, id: string, s: Session): Timeline {
  const list = h("ol", { class: "timeline", id: "timeline" });
  const error = h("p", { class: "error", role: "alert", id: "timeline-error" });
  const kind = h("select", { id: "log-kind", name: "kind", "aria-label": "Kind" },
    [["call", "Call"], ["note", "Note"], ["email", "Email"], ["task", "Task"]].map(([v, l]) => h("option", { value: v }, l)));
  const direction = h("select", { id: "log-direction", "aria-label": "Direction" },
    h("option", { value: "outbound" }, "Outbound"), h("option", { value: "inbound" }, "Inbound"));
  const due = h("input", { id: "log-due", type: "datetime-local", "aria-label": "Due", hidden: true });
  const subject = h("input", { id: "log-subject", name: "subject", placeholder: "Subject", "aria-label": "Subject", required: true, maxlength: "500" });
  const body = h("textarea", { id: "log-body", name: "body", placeholder: "Notes", "aria-label": "Notes", rows: "2" });
  const formError = h("p", { class: "error", role: "alert", id: "log-error" });
  const submit = h("button", { type: "submit", id: "log-submit", class: "primary inline" }, "Log");
  const sync = () => {
    direction.hidden = !(kind.value === "call" || kind.value === "email");
    due.hidden = kind.value !== "task";
  };
  kind.addEventListener("change", sync);
  let record: Row = {};
  const form = s.role === "viewer" ? null : h("form", {
    id: "log-form",
    class: "log-form",
    onsubmit: async (e: Event) => {
      e.preventDefault();
      formError.textContent = "";
      submit.disabled = true;
      const input: Row = { kind: kind.value, subject: subject.value.trim(), [idField[k.entity]]: id };
      if (body.value.trim()) input.body = body.value.trim();
      if (!direction.hidden) input.direction = direction.value;
      if (!due.hidden && due.value) input.dueAt = new Date(due.value).toISOString();
      try {
        await gql(`mutation Log($input: CreateActivityInput!) { createActivity(input: $input) { id } }`, { input });
        subject.value = "";
        body.value = "";
        await load(record);
      } catch (err) {
        formError.textContent = (err as Error).message;
      } finally {
        submit.disabled = false;
      }
    },
  }, h("div", { class: "log-row" }, kind, direction, due, subject, submit), body, formError);
  sync();
  const el = h("section", { class: "panel", id: "timeline-panel" }, h("h2", null, "Timeline"), form, error, list);

  async function load(r: Row): Promise<void> {
    record = r;
    delete list.dataset.loaded;
    error.textContent = "";
    const items: Item[] = [];
    const t = (v: unknown) => Date.parse(str(v));
    for (const sc of (r.scores as Row[] | null) ?? []) {
      items.push({ at: t(sc.computedAt), type: "score", title: "Scored " + (Math.round(Number(sc.value) * 100) / 100) + (sc.label ? " (" + str(sc.label) + ")" : ""), meta: str(sc.plugin) });
    }
    for (const c of (r.stageChanges as Row[] | null) ?? []) {
      const from = (c.fromStage as Row | null)?.name;
      items.push({ at: t(c.changedAt), type: "stage", title: from ? "Moved from " + str(from) + " to " + str((c.toStage as Row)?.name) : "Entered " + str((c.toStage as Row)?.name), meta: str(c.actor) });
    }
    // Each source on its own: one the role may not read leaves the others.
    const vars = { id, acts: { [idField[k.entity]]: id } };
    const sources: [string, string][] = [
      ["activities", `query TimelineActivities($acts: ActivityWhereInput) {
        activities(first: 100, where: $acts, orderBy: [{field: OCCURRED_AT, direction: DESC}]) {
          edges { node { id kind subject body direction occurredAt dueAt doneAt owner { name } } } } }`],
      ["timelineEvents", `query TimelineChanges($id: ID!) {
        timelineEvents(first: 50, where: {subjectID: $id}, orderBy: {field: OCCURRED_AT, direction: DESC}) {
          edges { node { id action actor occurredAt changes { field before after } } } } }`],
      ["automationRuns", `query TimelineAutomations($id: ID!) {
        automationRuns(first: 30, where: {subjectID: $id}, orderBy: {field: FIRED_AT, direction: DESC}) {
          edges { node { id trigger status error firedAt automation { name } steps { type status error } } } } }`],
      ["segments", `query TimelineSegments($id: ID!) {
        segments(first: 50, where: {hasMembershipsWith: [{subjectID: $id}]}) {
          edges { node { key name members(first: 1, where: {subjectID: $id}) { edges { node { startedAt } } } } } } }`],
    ];
    const results = await Promise.allSettled(sources.map(([, q]) =>
      gql<Record<string, { edges: { node: Row }[] }>>(q, q.includes("$acts") ? { acts: vars.acts } : { id })));
    const failed: string[] = [];
    const edges = (i: number): Row[] => {
      const r = results[i];
      if (r.status === "rejected") {
        failed.push(sources[i][0] + " (" + (r.reason as Error).message + ")");
        return [];
      }
      return (r.value[sources[i][0]]?.edges ?? []).map((e) => e.node);
    };
    for (const a of edges(0)) {
      const dir = a.direction ? " (" + str(a.direction) + ")" : "";
      const due = a.dueAt ? " · due " + when.format(t(a.dueAt)) + (a.doneAt ? ", done" : "") : "";
      items.push({ at: t(a.occurredAt), type: "activity", kind: str(a.kind), title: str(a.kind).replace(/^./, (c) => c.toUpperCase()) + dir + ": " + str(a.subject),
        body: str(a.body), meta: str((a.owner as Row | null)?.name) + due });
    }
    for (const ev of edges(1)) {
      const changes = ((ev.changes as Row[] | null) ?? []).filter((c) => c.field !== "updated_at");
      const title = ev.action === "create" ? "Created" : ev.action === "delete" ? "Deleted" : "Changed " + changes.map((c) => str(c.field)).join(", ");
      items.push({ at: t(ev.occurredAt), type: "change", title, meta: str(ev.actor),
        body: ev.action === "update" ? changes.map((c) => str(c.field) + ": " + show(c.before) + " → " + show(c.after)).join("\n") : "" });
    }
    for (const run of edges(2)) {
      const steps = ((run.steps as Row[] | null) ?? []).map((st) => str(st.type) + " " + str(st.status) + (st.error ? " (" + str(st.error) + ")" : "")).join(", ");
      items.push({ at: t(run.firedAt), type: "automation", title: "Automation " + str((run.automation as Row)?.name) + ": " + str(run.status),
        body: steps + (run.error ? "\n" + str(run.error) : ""), meta: str(run.trigger) });
    }
    for (const sg of edges(3)) {
      const m = (sg.members as { edges: { node: Row }[] }).edges[0]?.node;
      if (m) items.push({ at: t(m.startedAt), type: "segment", title: "Entered segment " + str(sg.name), meta: str(sg.key) });
    }
    if (failed.length) error.textContent = "Part of the timeline could not be loaded: " + failed.join("; ");
    items.sort((a, b) => (b.at || 0) - (a.at || 0));
    list.replaceChildren(...items.map((it) => h("li", { class: "tl-item tl-" + it.type, "data-type": it.type, "data-kind": it.kind },
      h("div", { class: "tl-head" }, h("span", { class: "tl-title" }, it.title), h("time", { class: "muted small" }, isNaN(it.at) ? "" : when.format(it.at))),
      it.body ? h("div", { class: "tl-body" }, it.body) : null,
      it.meta ? h("div", { class: "muted small" }, it.meta) : null)));
    if (!items.length) list.appendChild(h("li", { class: "muted small" }, "Nothing yet."));
    list.dataset.loaded = "true";
  }
  return { el, load };
}
