// Extensions: the workspace's plugins, a page per plugin, and the routes
// of the binding, run and comparison pages (plugins-*.ts).

import { h, mount } from "./dom";
import { Page, link } from "./nav";
import { bindingFormPage, bindingsPage } from "./plugins-bindings";
import { comparePage } from "./plugins-compare";
import { runsPage } from "./plugins-runs";
import { Binding, Plugin, bindingPath, configSummary, errorText, health, healthBadge, loadPlugins, pluginPath, ref, tabs } from "./plugins-common";
import { configForm } from "./configform";

/** Renders the plugin pages: /plugins, /plugins/NAME@VERSION, /plugins/bindings…, /plugins/runs, /plugins/compare. */
export const pluginsPage: Page = async (main, s, rest, params) => {
  if (rest[0] === "bindings" && rest.length === 3) return bindingFormPage(main, s, rest[1], rest[2], params.get("plugin") ?? "");
  if (rest[0] === "bindings") return bindingsPage(main, s);
  if (rest[0] === "runs") return runsPage(main, s, params);
  if (rest[0] === "compare") return comparePage(main, s, params);
  if (rest.length === 1) return pluginPage(main, rest[0]);
  return listPage(main);
};

async function listPage(main: HTMLElement): Promise<void> {
  document.title = "Plugins · Rapport";
  mount(main, h("h1", null, "Plugins"), tabs("/plugins"), h("p", { class: "muted" }, "Loading plugins…"));
  let data: { plugins: Plugin[]; bindings: Binding[] };
  try {
    data = await loadPlugins();
  } catch (e) {
    mount(main, h("h1", null, "Plugins"), tabs("/plugins"), h("p", { class: "error", role: "alert" }, errorText(e)));
    return;
  }
  const uses = (p: Plugin) => data.bindings.filter((b) => b.plugin === p.name && b.version === p.version).length;
  const rows = data.plugins.map((p) => {
    const st = health(p.status);
    return h("tr", { "data-plugin": ref(p) },
      h("td", null, link(pluginPath(ref(p)), p.name)),
      h("td", null, p.version),
      h("td", { class: "kind" }, p.points.join(", ")),
      h("td", null, p.subjects.length ? p.subjects.join(", ") : "any"),
      h("td", null, p.runtime),
      h("td", null, p.origin.toLowerCase()),
      h("td", { class: "status" }, healthBadge(p.status), st.error ? h("div", { class: "muted small last-error" }, st.error) : null),
      h("td", { class: "num" }, String(uses(p))));
  });
  mount(main,
    h("div", { class: "board-head" }, h("h1", null, "Plugins"), h("span", { class: "muted small", id: "plugin-count" }, data.plugins.length + " installed")),
    tabs("/plugins"),
    data.plugins.length === 0
      ? h("p", { class: "muted" }, "No plugin is loaded in this workspace.")
      : h("table", { class: "list", id: "plugins", "data-loaded": "true" },
        h("thead", null, h("tr", null, ["Name", "Version", "Kind", "Subjects", "Runtime", "Origin", "Status"].map((c) => h("th", null, c)), h("th", { class: "num" }, "Bindings"))),
        h("tbody", null, rows)));
}

async function pluginPage(main: HTMLElement, r: string): Promise<void> {
  document.title = r + " · Plugins · Rapport";
  mount(main, h("h1", null, r), tabs(""), h("p", { class: "muted" }, "Loading…"));
  let data: { plugins: Plugin[]; bindings: Binding[] };
  try {
    data = await loadPlugins();
  } catch (e) {
    mount(main, h("h1", null, r), tabs(""), h("p", { class: "error", role: "alert" }, errorText(e)));
    return;
  }
  const p = data.plugins.find((x) => ref(x) === r) ?? data.plugins.find((x) => x.name === r);
  if (!p) {
    mount(main, h("h1", null, "No such plugin"), tabs(""), h("p", null, "No plugin " + r + " is loaded here. ", link("/plugins", "All plugins")));
    return;
  }
  const st = health(p.status);
  const bindings = data.bindings.filter((b) => b.plugin === p.name && b.version === p.version);
  const dl = (pairs: [string, HTMLElement | string][]) => h("dl", { class: "facts" }, pairs.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
  mount(main,
    h("div", { class: "board-head" }, h("h1", { id: "plugin-title" }, p.name + " " + p.version), healthBadge(p.status)),
    tabs(""),
    p.description ? h("p", { class: "lead" }, p.description) : null,
    st.error ? h("p", { class: "error banner", id: "plugin-error" }, "Last error: " + st.error) : null,
    h("section", { class: "panel" },
      h("h2", null, "Manifest"),
      dl([["Name", p.name], ["Version", p.version], ["Kind", p.points.join(", ")], ["Subjects", p.subjects.length ? p.subjects.join(", ") : "any"],
        ["Runtime", p.runtime], ["Origin", p.origin.toLowerCase()], ["Model", p.model ?? "—"], ["Status", p.status]])),
    h("section", { class: "panel" },
      h("h2", null, "Bindings that use it"),
      bindings.length === 0
        ? h("p", { class: "muted", id: "plugin-bindings-none" }, "No binding uses this plugin.")
        : h("table", { class: "list", id: "plugin-bindings" },
          h("thead", null, h("tr", null, ["Point", "Subjects", "Config", ""].map((c) => h("th", null, c)))),
          h("tbody", null, bindings.map((b) => h("tr", null,
            h("td", null, b.point), h("td", null, b.subjectType ?? "every type"), h("td", { class: "config" }, configSummary(b.config)),
            h("td", null, link(bindingPath(b.point, b.subjectType, b.point === "segment" ? b.plugin : ""), "Open"))))))),
    h("section", { class: "panel" },
      h("h2", null, "Configuration and its defaults"),
      configForm(p.configSchema, null, true, "manifest").el));
}
