// Automations: the workspace's automations with their trigger and an
// enable/disable toggle (not for viewers), and a page per automation with
// its runs and webhook deliveries.

import { Session, gql } from "./api";
import { h, mount } from "./dom";
import { Page, link } from "./nav";
import { errorText, when } from "./plugins-common";

interface Automation {
  id: string;
  name: string;
  enabled: boolean;
  event: string | null;
  schedule: Record<string, unknown> | null;
  condition: Record<string, unknown> | null;
  actions: Record<string, unknown>[];
  nextRunAt: string | null;
  updatedAt: string;
  runs: { totalCount: number };
}

interface Run {
  id: string;
  trigger: string;
  subjectType: string;
  subjectID: string;
  status: string;
  attempts: number;
  error: string | null;
  firedAt: string;
  finishedAt: string | null;
}

interface Delivery {
  id: string;
  runID: string;
  step: number;
  kind: string;
  target: string;
  status: string;
  attempts: number;
  lastError: string | null;
  responseStatus: number | null;
  deliveredAt: string | null;
  createdAt: string;
}

const listQuery = `query Automations {
  automations(first: 100, orderBy: {field: NAME, direction: ASC}) {
    totalCount
    edges { node { id name enabled event schedule condition actions nextRunAt updatedAt runs(first: 1) { totalCount } } }
  }
}`;

const oneQuery = `query Automation($id: ID!) {
  node(id: $id) { ... on Automation { id name enabled event schedule condition actions nextRunAt updatedAt runs(first: 1) { totalCount } } }
  automationRuns(first: 50, where: {automationID: $id}, orderBy: {field: FIRED_AT, direction: DESC}) {
    totalCount edges { node { id trigger subjectType subjectID status attempts error firedAt finishedAt } }
  }
  deliveries(first: 50, where: {automationID: $id}, orderBy: {field: CREATED_AT, direction: DESC}) {
    totalCount edges { node { id runID step kind target status attempts lastError responseStatus deliveredAt createdAt } }
  }
}`;

const setEnabled = `mutation SetAutomationEnabled($id: ID!, $on: Boolean!) { setAutomationEnabled(id: $id, enabled: $on) { id enabled nextRunAt } }`;

/** A trigger in words: the event, or the schedule's parts. */
function trigger(a: Automation): string {
  if (a.event) return "on " + a.event;
  const s = a.schedule ?? {};
  const parts: string[] = [];
  if (s.cron) parts.push("cron " + String(s.cron) + (s.timezone ? " (" + String(s.timezone) + ")" : ""));
  if (s.idle_days !== undefined) parts.push("idle " + String(s.idle_days) + " days");
  return (s.subject ? String(s.subject) + "s: " : "") + (parts.join(", ") || JSON.stringify(s));
}

function actionsText(a: Automation): string {
  return a.actions.map((x) => String(x.type ?? "?")).join(" → ") || "none";
}

/** The toggle that turns an automation on or off, or its state as text for a viewer. */
function toggle(a: Automation, s: Session, onError: (msg: string) => void, onChange: (a: Partial<Automation>) => void): HTMLElement {
  const state = h("span", { class: "state " + (a.enabled ? "on" : "off") }, a.enabled ? "Enabled" : "Disabled");
  if (s.role === "viewer") return h("span", { class: "toggle-readonly", "data-automation": a.id }, state);
  const box = h("input", { type: "checkbox", class: "switch", "aria-label": (a.enabled ? "Disable " : "Enable ") + a.name, "data-automation": a.id });
  box.checked = a.enabled;
  box.addEventListener("change", async () => {
    const want = box.checked;
    box.disabled = true;
    try {
      const r = await gql<{ setAutomationEnabled: { enabled: boolean; nextRunAt: string | null } }>(setEnabled, { id: a.id, on: want });
      a.enabled = r.setAutomationEnabled.enabled;
      onChange({ enabled: a.enabled, nextRunAt: r.setAutomationEnabled.nextRunAt });
    } catch (e) {
      box.checked = !want;
      onError((want ? "Not enabled: " : "Not disabled: ") + errorText(e));
    } finally {
      box.disabled = false;
      box.checked = a.enabled;
      box.setAttribute("aria-label", (a.enabled ? "Disable " : "Enable ") + a.name);
      state.textContent = a.enabled ? "Enabled" : "Disabled";
      state.className = "state " + (a.enabled ? "on" : "off");
    }
  });
  return h("label", { class: "toggle" }, box, state);
}

/** Renders /automations and /automations/ID. */
export const automationsPage: Page = (main, s, rest) => {
  if (rest.length >= 1) return automationPage(main, s, rest[0]);
  return listPage(main, s);
};

async function listPage(main: HTMLElement, s: Session): Promise<void> {
  document.title = "Automations · Rapport";
  mount(main, h("h1", null, "Automations"), h("p", { class: "muted" }, "Loading…"));
  let list: Automation[];
  try {
    const d = await gql<{ automations: { edges: { node: Automation }[] } }>(listQuery);
    list = d.automations.edges.map((e) => e.node);
  } catch (e) {
    mount(main, h("h1", null, "Automations"), h("p", { class: "error", role: "alert" }, errorText(e)));
    return;
  }
  const error = h("div", { class: "error banner", id: "automations-error", role: "alert", hidden: true });
  const showError = (msg: string) => {
    error.textContent = msg;
    error.hidden = false;
  };
  const rows = list.map((a) => {
    const next = h("td", { class: "next" }, when(a.nextRunAt));
    return h("tr", { "data-automation": a.id },
      h("td", null, link("/automations/" + encodeURIComponent(a.id), a.name)),
      h("td", { class: "trigger" }, trigger(a)),
      h("td", null, actionsText(a)),
      h("td", { class: "enabled" }, toggle(a, s, showError, (c) => {
        error.hidden = true;
        next.textContent = when(c.nextRunAt);
      })),
      next,
      h("td", { class: "num" }, String(a.runs.totalCount)));
  });
  mount(main,
    h("div", { class: "board-head" }, h("h1", null, "Automations"), h("span", { class: "muted small" }, list.length + " in all")),
    s.role === "viewer" ? h("p", { class: "muted small", id: "automations-readonly" }, "You can look but not turn automations on or off: your role is viewer.") : null,
    error,
    list.length === 0 ? h("p", { class: "muted" }, "No automation yet. Create one through the API (createAutomation).")
      : h("table", { class: "list", id: "automations", "data-loaded": "true" },
        h("thead", null, h("tr", null, ["Name", "Trigger", "Actions", "State", "Next run"].map((c) => h("th", null, c)), h("th", { class: "num" }, "Runs"))),
        h("tbody", null, rows)));
}

async function automationPage(main: HTMLElement, s: Session, id: string): Promise<void> {
  document.title = "Automation · Rapport";
  mount(main, h("h1", null, "Automation"), h("p", { class: "muted" }, "Loading…"));
  let a: Automation | null;
  let runs: { totalCount: number; edges: { node: Run }[] };
  let deliveries: { totalCount: number; edges: { node: Delivery }[] };
  try {
    const d = await gql<{ node: Automation | null; automationRuns: typeof runs; deliveries: typeof deliveries }>(oneQuery, { id });
    a = d.node && "name" in d.node ? d.node : null;
    runs = d.automationRuns;
    deliveries = d.deliveries;
  } catch (e) {
    mount(main, h("h1", null, "Automation"), h("p", { class: "error", role: "alert" }, errorText(e)));
    return;
  }
  if (!a) {
    mount(main, h("h1", null, "Not found"), h("p", null, "No such automation. ", link("/automations", "All automations")));
    return;
  }
  document.title = a.name + " · Automations · Rapport";
  const error = h("div", { class: "error banner", id: "automation-error", role: "alert", hidden: true });
  const next = h("dd", null, when(a.nextRunAt) || "—");
  const json = (v: unknown) => h("pre", { class: "json" }, JSON.stringify(v, null, 2));
  mount(main,
    h("p", { class: "small" }, link("/automations", "← Automations")),
    h("div", { class: "board-head" }, h("h1", { id: "automation-name" }, a.name),
      toggle(a, s, (m) => { error.textContent = m; error.hidden = false; }, (c) => { error.hidden = true; next.textContent = when(c.nextRunAt) || "—"; })),
    error,
    h("section", { class: "panel" },
      h("dl", { class: "facts" },
        h("dt", null, "Trigger"), h("dd", null, trigger(a)),
        h("dt", null, "Next run"), next,
        h("dt", null, "Condition"), h("dd", null, a.condition ? json(a.condition) : "none: every event fires it"),
        h("dt", null, "Actions"), h("dd", null, json(a.actions)))),
    h("section", { class: "panel" },
      h("h2", null, "Runs ", h("span", { class: "muted small" }, String(runs.totalCount))),
      runs.edges.length === 0 ? h("p", { class: "muted", id: "runs-none" }, "It has not fired yet.")
        : h("table", { class: "list", id: "automation-runs" },
          h("thead", null, h("tr", null, ["Fired", "Trigger", "Subject", "Status", "Attempts", "Finished", "Error"].map((c) => h("th", null, c)))),
          h("tbody", null, runs.edges.map(({ node: r }) => h("tr", { "data-status": r.status },
            h("td", null, when(r.firedAt)), h("td", null, r.trigger), h("td", null, r.subjectType + " " + r.subjectID),
            h("td", null, h("span", { class: "badge state-" + r.status }, r.status)), h("td", { class: "num" }, String(r.attempts)),
            h("td", null, when(r.finishedAt)), h("td", { class: "error-cell" }, r.error ?? "")))))),
    h("section", { class: "panel" },
      h("h2", null, "Deliveries ", h("span", { class: "muted small" }, String(deliveries.totalCount))),
      deliveries.edges.length === 0 ? h("p", { class: "muted", id: "deliveries-none" }, "No webhook or email delivery yet.")
        : h("table", { class: "list", id: "deliveries" },
          h("thead", null, h("tr", null, ["Created", "Kind", "Target", "Status", "Attempts", "Response", "Delivered", "Last error"].map((c) => h("th", null, c)))),
          h("tbody", null, deliveries.edges.map(({ node: d }) => h("tr", { "data-status": d.status },
            h("td", null, when(d.createdAt)), h("td", null, d.kind), h("td", { class: "target" }, d.target),
            h("td", null, h("span", { class: "badge state-" + d.status }, d.status)), h("td", { class: "num" }, String(d.attempts)),
            h("td", { class: "num response" }, d.responseStatus === null ? "—" : String(d.responseStatus)),
            h("td", null, when(d.deliveredAt)), h("td", { class: "error-cell" }, d.lastError ?? "")))))));
}
