// Bindings: which plugin serves each extension point for each subject type,
// with its configuration, and the form that binds one (generated from the
// plugin's config schema; a viewer sees it read-only).

import { ApiError, Session, gql } from "./api";
import { configForm } from "./configform";
import { h, mount } from "./dom";
import { link, navigate } from "./nav";
import { Binding, POINTS, Plugin, SUBJECTS, bindingPath, configSummary, errorText, loadPlugins, pluginPath, ref, tabs } from "./plugins-common";

const bindMutation = `mutation Bind($input: BindExtensionInput!) {
  bindExtension(input: $input) { id point subjectType plugin version config }
}`;

/** Whether plugin p can serve point for subject ("" or "all": every type). */
function serves(p: Plugin, point: string, subject: string): boolean {
  if (!p.points.includes(point)) return false;
  if (point === "report" || subject === "" || subject === "all") return true;
  return p.subjects.length === 0 || p.subjects.includes(subject);
}

/** The bindings of the workspace by point and subject type. */
export async function bindingsPage(main: HTMLElement, s: Session): Promise<void> {
  document.title = "Bindings · Plugins · Rapport";
  mount(main, h("h1", null, "Bindings"), tabs("/plugins/bindings"), h("p", { class: "muted" }, "Loading…"));
  let data: { plugins: Plugin[]; bindings: Binding[] };
  try {
    data = await loadPlugins();
  } catch (e) {
    mount(main, h("h1", null, "Bindings"), tabs("/plugins/bindings"), h("p", { class: "error", role: "alert" }, errorText(e)));
    return;
  }
  const sections = POINTS.map((point) => {
    const subjects: (string | null)[] = point === "report" ? [null] : [...SUBJECTS];
    const rows = subjects.flatMap((subject) => {
      // Several segmenters may serve one subject type; one scorer or report does.
      const bs = data.bindings.filter((x) => x.point === point && (x.subjectType ?? null) === subject);
      const all = subject ? data.bindings.find((x) => x.point === point && x.subjectType === null) : undefined;
      const can = data.plugins.some((p) => serves(p, point, subject ?? ""));
      if (bs.length === 0 && !all && !can) return [];
      const row = (b: Binding | undefined) => h("tr", { "data-binding": point + "/" + (subject ?? "all") + (b && point === "segment" ? "/" + b.plugin : "") },
        h("td", null, subject ?? "every type"),
        h("td", null, b ? link(pluginPath(ref(b)), ref(b)) : all ? h("span", { class: "muted" }, ref(all) + " (bound for every type)") : h("span", { class: "muted" }, "not bound")),
        h("td", { class: "config" }, b ? configSummary(b.config) : ""),
        h("td", null, link(bindingPath(point, subject, b && point === "segment" ? b.plugin : ""), b ? (s.role === "viewer" ? "View" : "Edit") : s.role === "viewer" ? "" : "Bind")));
      return bs.length ? bs.map(row) : [row(undefined)];
    });
    return h("section", { class: "panel", "data-point": point },
      h("h2", null, point === "score" ? "Scorers" : point === "segment" ? "Segmenters" : "Reports"),
      rows.length === 0 ? h("p", { class: "muted" }, "No plugin implements " + point + ".")
        : h("table", { class: "list bindings" }, h("thead", null, h("tr", null, ["Subjects", "Plugin", "Config", ""].map((c) => h("th", null, c)))), h("tbody", null, rows)));
  });
  mount(main, h("h1", null, "Bindings"), tabs("/plugins/bindings"),
    h("p", { class: "muted small" }, "A binding names the plugin that serves an extension point for a subject type, and its configuration."),
    h("div", { id: "bindings", "data-loaded": "true" }, sections));
}

/** The form that binds point for subject ("all": every type). */
export async function bindingFormPage(main: HTMLElement, s: Session, point: string, subject: string, plugin = ""): Promise<void> {
  const title = (point === "score" ? "Scorer" : point === "segment" ? "Segmenter" : "Report") + (point === "report" ? "" : " for " + (subject === "all" ? "every type" : subject + "s"));
  document.title = title + " · Plugins · Rapport";
  mount(main, h("h1", null, title), tabs("/plugins/bindings"), h("p", { class: "muted" }, "Loading…"));
  if (!(POINTS as readonly string[]).includes(point) || !(subject === "all" || (SUBJECTS as readonly string[]).includes(subject))) {
    mount(main, h("h1", null, "Not found"), tabs("/plugins/bindings"), h("p", null, "No such extension point. ", link("/plugins/bindings", "All bindings")));
    return;
  }
  let data: { plugins: Plugin[]; bindings: Binding[] };
  try {
    data = await loadPlugins();
  } catch (e) {
    mount(main, h("h1", null, title), tabs("/plugins/bindings"), h("p", { class: "error", role: "alert" }, errorText(e)));
    return;
  }
  const subjectType = subject === "all" ? null : subject;
  const here = data.bindings.filter((b) => b.point === point && (b.subjectType ?? null) === subjectType);
  let binding = here.find((b) => b.plugin === plugin) ?? (plugin ? null : here[0] ?? null);
  const candidates = data.plugins.filter((p) => serves(p, point, subject));
  const readonly = s.role === "viewer";
  const picker = h("select", { id: "binding-plugin", "aria-label": "Plugin", disabled: readonly },
    candidates.map((p) => h("option", { value: ref(p), selected: binding ? ref(binding) === ref(p) : p.name === plugin }, ref(p))));
  const formBox = h("div", { id: "binding-config" });
  const general = h("div", { class: "error banner", id: "binding-error", role: "alert", hidden: true });
  const saved = h("p", { class: "ok-note", id: "binding-saved", role: "status", hidden: true });
  const save = h("button", { type: "submit", class: "primary inline", id: "binding-save" }, binding ? "Save" : "Bind");
  let form = configForm(null, null, readonly);

  const showForm = () => {
    const p = candidates.find((x) => ref(x) === picker.value);
    const values = binding && p && ref(binding) === ref(p) ? binding.config : null;
    form = configForm(p?.configSchema, values, readonly, "cfg");
    mount(formBox, form.el);
  };
  picker.addEventListener("change", () => {
    saved.hidden = true;
    showForm();
  });
  if (candidates.length) showForm();

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    general.hidden = true;
    saved.hidden = true;
    form.clearErrors();
    const { config, errors } = form.read();
    const bad = Object.entries(errors);
    if (bad.length) {
      for (const [path, msg] of bad) form.showError(path, msg);
      return;
    }
    const [name, version] = picker.value.split("@");
    save.disabled = true;
    try {
      const r = await gql<{ bindExtension: Binding }>(bindMutation, {
        input: { point, subjectType, plugin: name, version, config },
      });
      binding = { ...r.bindExtension, updatedAt: "" };
      save.textContent = "Save";
      saved.textContent = "Saved: " + ref(binding) + " serves " + point + (subjectType ? " for " + subjectType + "s" : "") + ".";
      saved.hidden = false;
    } catch (err) {
      const field = err instanceof ApiError ? err.field : "";
      const msg = err instanceof Error ? err.message.replace(field + ": ", "") : String(err);
      if (field.startsWith("config.") && form.showError(field.slice("config.".length), msg)) {
        general.textContent = "Not saved: a value is not accepted.";
      } else {
        general.textContent = "Not saved: " + errorText(err);
      }
      general.hidden = false;
    } finally {
      save.disabled = false;
    }
  };

  mount(main,
    h("div", { class: "board-head" }, h("h1", null, title)),
    tabs("/plugins/bindings"),
    binding ? h("p", { class: "muted", id: "binding-current" }, "Bound to ", link(pluginPath(ref(binding)), ref(binding)), " with " + configSummary(binding.config) + ".")
      : h("p", { class: "muted", id: "binding-current" }, "Not bound yet."),
    readonly ? h("p", { class: "muted small", id: "binding-readonly" }, "You can look but not change bindings: your role is viewer.") : null,
    candidates.length === 0 ? h("p", { class: "muted" }, "No loaded plugin implements " + point + (subjectType ? " for " + subjectType + "s" : "") + ".")
      : h("form", { id: "binding-form", class: "panel binding-form", novalidate: true, onsubmit: onSubmit },
        h("div", { class: "cfg-field" }, h("label", { for: "binding-plugin", class: "cfg-label" }, "Plugin"), picker),
        formBox, general, saved,
        readonly ? null : h("div", { class: "actions" }, save, " ", h("button", { type: "button", class: "link", onclick: () => navigate("/plugins/bindings") }, "Back to bindings"))));
}
