// The create and edit forms of a record. The server decides what is valid:
// each of its BAD_USER_INPUT errors shows next to the field it names.

import { ApiError, Session, gql } from "./api";
import { h, mount } from "./dom";
import { link, navigate } from "./nav";
import { CustomFieldDef, customFieldDefs, fieldInput, fieldValue, inputText } from "./records-fields";
import { FormField, Kind, recordTitle } from "./records-kinds";
import { loadRecord, notFound } from "./records";

type Row = Record<string, unknown>;

const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));

interface Options {
  members: { id: string; name: string }[];
  organizations: { id: string; name: string }[];
  contacts: { id: string; firstName: string; lastName: string }[];
  pipelines: { id: string; name: string; isDefault: boolean; stages: { id: string; name: string; position: number }[] | null }[];
}

// The options the form's pickers need. Organizations and contacts are the
// first 500 by name, plus the record's own.
async function options(k: Kind): Promise<Options> {
  const needs = new Set(k.form.map((f) => f.type));
  const parts = ["members { id name }"];
  if (needs.has("organization")) parts.push("organizations(first: 500, orderBy: [{field: NAME, direction: ASC}]) { edges { node { id name } } }");
  if (needs.has("contact")) parts.push("contacts(first: 500, orderBy: [{field: LAST_NAME, direction: ASC}]) { edges { node { id firstName lastName } } }");
  if (needs.has("stage")) parts.push("pipelines(first: 50) { edges { node { id name isDefault stages { id name position } } } }");
  const data = await gql<Row>(`query FormOptions { ${parts.join(" ")} }`);
  const nodes = <T>(v: unknown): T[] => ((v as { edges?: { node: T }[] } | undefined)?.edges ?? []).map((e) => e.node);
  return {
    members: (data.members as Options["members"]) ?? [],
    organizations: nodes(data.organizations),
    contacts: nodes(data.contacts),
    pipelines: nodes(data.pipelines),
  };
}

interface Control {
  f: FormField | null; // null for a custom field
  def?: CustomFieldDef;
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  error: HTMLElement;
  initial: string;
}

/** The form creating a record of kind k (id null) or editing the record id. */
export async function formPage(main: HTMLElement, s: Session, k: Kind, id: string | null): Promise<void> {
  document.title = (id ? "Edit " : "New ") + k.one.toLowerCase() + " · Rapport";
  mount(main, h("p", { class: "muted" }, "Loading…"));
  let r: Row = {};
  let opts: Options;
  let defs: CustomFieldDef[];
  try {
    const [rec, o, d] = await Promise.all([
      id ? loadRecord(k, id, k.detail) : Promise.resolve({} as Row),
      options(k),
      customFieldDefs(),
    ]);
    if (!rec) return notFound(main, k);
    r = rec;
    opts = o;
    defs = d.filter((x) => x.entity === k.entity);
  } catch (e) {
    mount(main, h("h1", null, k.one), h("p", { class: "error", role: "alert" }, (e as Error).message));
    return;
  }
  if (!main.isConnected) return;
  if (s.role === "viewer") {
    mount(main, h("h1", null, k.one), h("p", { class: "error" }, "Your role is viewer: you cannot change records."));
    return;
  }

  const controls = new Map<string, Control>(); // by the server's field path (without "input.")
  const rows: HTMLElement[] = [];
  const row = (path: string, label: string, c: Omit<Control, "error">, required = false): void => {
    const errId = "field-" + path.replace(/[^A-Za-z0-9_-]/g, "-") + "-error";
    const error = h("div", { class: "field-error", id: errId, role: "alert" });
    c.input.setAttribute("aria-describedby", errId);
    if (!c.input.id) c.input.id = "field-" + path.replace(/[^A-Za-z0-9_-]/g, "-");
    rows.push(h("label", { class: "field", "data-field": path }, h("span", null, label + (required ? " *" : "")), c.input, error));
    controls.set(path, { ...c, error });
  };

  for (const f of k.form) {
    const value = f.read ? f.read(r) : inputText(r[f.key]);
    let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
    const none = h("option", { value: "" }, "—");
    switch (f.type) {
      case "owner":
        input = h("select", null, none, opts.members.map((m) => h("option", { value: m.id, selected: m.id === value }, m.name)));
        break;
      case "organization": {
        const list = [...opts.organizations];
        const cur = r.organization as Row | null;
        if (cur?.id && !list.some((o) => o.id === cur.id)) list.unshift({ id: str(cur.id), name: str(cur.name) });
        input = h("select", null, none, list.map((o) => h("option", { value: o.id, selected: o.id === value }, o.name)));
        break;
      }
      case "contact": {
        const list = [...opts.contacts];
        const cur = r.contact as Row | null;
        if (cur?.id && !list.some((c) => c.id === cur.id)) list.unshift({ id: str(cur.id), firstName: str(cur.firstName), lastName: str(cur.lastName) });
        input = h("select", null, none, list.map((c) => h("option", { value: c.id, selected: c.id === value }, [c.firstName, c.lastName].filter(Boolean).join(" "))));
        break;
      }
      case "stage": {
        const def = opts.pipelines.find((p) => p.isDefault) ?? opts.pipelines[0];
        const first = def ? [...(def.stages ?? [])].sort((a, b) => a.position - b.position)[0]?.id ?? "" : "";
        input = h("select", null, opts.pipelines.map((p) => h("optgroup", { label: p.name },
          [...(p.stages ?? [])].sort((a, b) => a.position - b.position).map((st) => h("option", { value: st.id, "data-pipeline": p.id, selected: st.id === (value || first) }, p.name + " · " + st.name)))));
        break;
      }
      case "enum":
        input = h("select", null, (f.options ?? []).map((o) => h("option", { value: o, selected: o === (value || f.options?.[0]) }, o)));
        if (value && !(f.options ?? []).includes(value)) input.appendChild(h("option", { value, selected: true }, value));
        break;
      case "textarea":
        input = h("textarea", { rows: "3" }, value);
        break;
      case "number":
        input = h("input", { type: "number", step: "1", value });
        break;
      case "money":
        input = h("input", { type: "text", inputmode: "decimal", value });
        break;
      case "date":
        input = h("input", { type: "date", value });
        break;
      case "email":
        // type=text: the server, not the browser, decides what an email is.
        input = h("input", { type: "text", inputmode: "email", autocomplete: "off", value });
        break;
      default:
        input = h("input", { type: "text", value });
    }
    input.name = f.key;
    input.id = "field-" + f.key;
    row(f.key, f.label, { f, input, initial: input.value }, f.required);
  }
  const custom = (r.customFields as Row | null) ?? {};
  for (const d of defs) {
    const input = fieldInput(d, inputText(custom[d.key]), "field-cf-" + d.key);
    row("customFields." + d.key, d.label, { f: null, def: d, input, initial: input.value }, d.required);
  }

  const error = h("p", { class: "error", id: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary inline", id: "form-submit" }, id ? "Save" : "Create " + k.one.toLowerCase());
  const back = id ? "/" + k.section + "/" + encodeURIComponent(id) : "/" + k.section;
  const form = h("form", { id: "record-form", class: "record-form", novalidate: true }, rows,
    error, h("div", { class: "form-actions" }, submit, link(back, "Cancel", "cancel")));
  mount(main,
    h("p", { class: "crumbs small" }, link("/" + k.section, k.plural), " / ", id ? link(back, recordTitle(k, r)) : null),
    h("h1", null, id ? "Edit " + recordTitle(k, r) : "New " + k.one.toLowerCase()), form);

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    for (const c of controls.values()) {
      c.error.textContent = "";
      c.input.removeAttribute("aria-invalid");
    }
    const input: Row = {};
    const cf: Row = {};
    let stage: { id: string; pipeline: string } | null = null;
    for (const [path, c] of controls) {
      const v = c.input.value.trim();
      if (c.def) {
        const typed = fieldValue(c.def, v);
        if (typed !== null) cf[c.def.key] = typed;
        continue;
      }
      const f = c.f!;
      if (f.type === "stage") {
        const opt = (c.input as HTMLSelectElement).selectedOptions[0];
        stage = opt ? { id: opt.value, pipeline: opt.dataset.pipeline ?? "" } : null;
        continue;
      }
      if (v === "") {
        // An emptied optional field is cleared on edit.
        if (id && f.clear && c.initial !== "") input[f.clear] = true;
        if (f.required) input[path] = ""; // the server says what is missing
        continue;
      }
      if (id && v === c.initial) continue;
      if (f.type === "number") input[path] = Number(v);
      else if (f.type === "date") input[path] = v + "T00:00:00Z";
      else input[path] = v;
    }
    if (defs.length || Object.keys(custom).length) input.customFields = cf;
    submit.disabled = true;
    try {
      let newID = id;
      if (id) {
        if (k.section === "deals" && stage && stage.id !== str((r.stage as Row | null)?.id)) {
          if (stage.pipeline !== str((r.pipeline as Row | null)?.id)) input.pipelineID = stage.pipeline;
        }
        await gql(`mutation Update($id: ID!, $input: Update${k.type}Input!) { update${k.type}(id: $id, input: $input) { id } }`, { id, input });
        if (k.section === "deals" && stage && stage.id !== str((r.stage as Row | null)?.id)) {
          await gql(`mutation Move($id: ID!, $stage: ID!) { moveDeal(id: $id, stageID: $stage) { id } }`, { id, stage: stage.id });
        }
      } else {
        if (k.section === "deals" && stage) {
          input.stageID = stage.id;
          input.pipelineID = stage.pipeline;
        }
        const out = await gql<Row>(`mutation Create($input: Create${k.type}Input!) { create${k.type}(input: $input) { id } }`, { input });
        newID = str((out["create" + k.type] as Row).id);
      }
      navigate("/" + k.section + "/" + encodeURIComponent(newID ?? ""));
    } catch (err) {
      showError(err);
    } finally {
      submit.disabled = false;
    }
  });

  // An input error shows next to its field (the path after "input."), any
  // other error above the buttons.
  function showError(err: unknown): void {
    if (err instanceof ApiError && err.code === "BAD_USER_INPUT" && err.field) {
      const path = err.field.replace(/^input\./, "");
      const c = controls.get(path) ?? (path === "pipelineID" ? controls.get("stageID") : undefined);
      if (c) {
        c.error.textContent = fieldMessage(err.message, err.field);
        c.input.setAttribute("aria-invalid", "true");
        c.input.focus();
        return;
      }
    }
    error.textContent = err instanceof Error ? err.message : String(err);
  }
}

/** The server's message about field without its "field: " prefix, as a sentence. */
export function fieldMessage(message: string, field: string): string {
  let m = message.startsWith(field + ": ") ? message.slice(field.length + 2) : message;
  m = m.trim();
  return m ? m[0].toUpperCase() + m.slice(1) : m;
}
