// A form generated from a plugin manifest's config JSON Schema: a field per
// property (string, number, integer, boolean, enum, arrays of strings or of
// an enum, nested objects as fieldsets; anything else as JSON), with the
// manifest's defaults, required marks and bounds as hints. The form only
// parses what is typed; the server validates the rest (bounds, required)
// and its errors are shown next to the field they name.

import { h } from "./dom";

/** A JSON Schema node, as much of it as the form reads. */
export interface Schema {
  type?: string | string[];
  description?: string;
  title?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
}

/** A generated form: its element, the value it holds, and its field errors. */
export interface ConfigForm {
  el: HTMLElement;
  /** The configuration typed, or the errors of the fields that do not parse, by path. */
  read(): { config: Record<string, unknown>; errors: Record<string, string> };
  /** Shows msg next to the field at path (dotted, as the server names it); false when no field has that path. */
  showError(path: string, msg: string): boolean;
  clearErrors(): void;
}

interface Field {
  path: string;
  read(): { value?: unknown; error?: string; omit?: boolean };
  error: HTMLElement;
  input: HTMLElement;
}

type Typed = "string" | "number" | "integer" | "boolean" | "enum" | "object" | "strings" | "enums" | "json";

function kindOf(s: Schema): { kind: Typed; nullable: boolean } {
  let types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const nullable = types.includes("null");
  types = types.filter((t) => t !== "null");
  if (s.enum && s.enum.every((v) => typeof v === "string" || typeof v === "number")) return { kind: "enum", nullable };
  if (types.length !== 1) return { kind: "json", nullable };
  const t = types[0];
  if (t === "string" || t === "number" || t === "integer" || t === "boolean") return { kind: t, nullable };
  if (t === "object" && s.properties && (s.additionalProperties === undefined || s.additionalProperties === false)) return { kind: "object", nullable };
  if (t === "array" && s.items) {
    if (s.items.enum && s.items.enum.every((v) => typeof v === "string")) return { kind: "enums", nullable };
    if (s.items.type === "string") return { kind: "strings", nullable };
  }
  return { kind: "json", nullable };
}

/** A label for a property key: max_group → "Max group". */
export function humanize(key: string): string {
  const s = key.replace(/[_-]+/g, " ").replace(/([a-z])([A-Z])/g, "$1 $2").trim().toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function bounds(s: Schema): string {
  const lo = s.minimum !== undefined ? "≥ " + s.minimum : s.exclusiveMinimum !== undefined ? "> " + s.exclusiveMinimum : "";
  const hi = s.maximum !== undefined ? "≤ " + s.maximum : s.exclusiveMaximum !== undefined ? "< " + s.exclusiveMaximum : "";
  return [lo, hi].filter(Boolean).join(", ");
}

function idOf(prefix: string, path: string): string {
  return prefix + "-" + path.replace(/[^A-Za-z0-9_-]/g, "-");
}

/**
 * Builds the form of schema holding values (the binding's config; the
 * schema's defaults fill what it leaves out). readonly shows the values
 * without letting them change. Inputs get IDs prefix-PATH (dots as dashes)
 * and each field a data-path attribute.
 */
export function configForm(schema: Schema | null | undefined, values: Record<string, unknown> | null | undefined, readonly: boolean, prefix = "cfg"): ConfigForm {
  const fields: Field[] = [];
  const root = h("div", { class: "config-form" });
  if (!schema || !schema.properties || Object.keys(schema.properties).length === 0) {
    root.appendChild(h("p", { class: "muted" }, "This plugin takes no configuration."));
  } else {
    build(root, schema, values ?? {}, "", fields, readonly, prefix);
  }
  const byPath = new Map(fields.map((f) => [f.path, f]));
  return {
    el: root,
    read() {
      const config: Record<string, unknown> = {};
      const errors: Record<string, string> = {};
      for (const f of fields) {
        const r = f.read();
        if (r.error) {
          errors[f.path] = r.error;
          continue;
        }
        if (r.omit) continue;
        const parts = f.path.split(".");
        let o = config;
        for (const p of parts.slice(0, -1)) {
          if (typeof o[p] !== "object" || o[p] === null) o[p] = {};
          o = o[p] as Record<string, unknown>;
        }
        o[parts[parts.length - 1]] = r.value;
      }
      return { config, errors };
    },
    showError(path, msg) {
      // The server may name a part of a field (channels.1): the nearest field shows it.
      let p = path;
      for (;;) {
        const f = byPath.get(p);
        if (f) {
          f.error.textContent = msg;
          f.input.setAttribute("aria-invalid", "true");
          return true;
        }
        const i = p.lastIndexOf(".");
        if (i < 0) return false;
        p = p.slice(0, i);
      }
    },
    clearErrors() {
      for (const f of fields) {
        f.error.textContent = "";
        f.input.removeAttribute("aria-invalid");
      }
    },
  };
}

function build(into: HTMLElement, schema: Schema, values: Record<string, unknown>, base: string, fields: Field[], readonly: boolean, prefix: string): void {
  const required = new Set(schema.required ?? []);
  for (const [key, s] of Object.entries(schema.properties ?? {})) {
    const path = base ? base + "." + key : key;
    const { kind, nullable } = kindOf(s);
    const has = Object.prototype.hasOwnProperty.call(values, key);
    const value = has ? values[key] : s.default;
    const label = (s.title ?? humanize(key)) + (required.has(key) ? " *" : "");
    if (kind === "object") {
      const sub = h("fieldset", { class: "cfg-group", "data-path": path }, h("legend", null, label), s.description ? h("p", { class: "muted small" }, s.description) : null);
      build(sub, s, value && typeof value === "object" ? (value as Record<string, unknown>) : {}, path, fields, readonly, prefix);
      into.appendChild(sub);
      continue;
    }
    const id = idOf(prefix, path);
    const error = h("div", { class: "field-error", id: id + "-error", role: "alert" });
    const hints = [kind === "json" ? "JSON" : kind === "strings" ? "comma-separated" : "", bounds(s), s.default !== undefined ? "default " + JSON.stringify(s.default) : ""].filter(Boolean).join(" · ");
    let input: HTMLElement;
    let read: Field["read"];
    const need = required.has(key);
    switch (kind) {
      case "boolean": {
        const el = h("input", { type: "checkbox", id, disabled: readonly });
        el.checked = value === true;
        input = el;
        read = () => ({ value: el.checked });
        break;
      }
      case "enum": {
        const opts = s.enum ?? [];
        const el = h("select", { id, disabled: readonly },
          !need || value === undefined ? h("option", { value: "" }, need ? "Choose…" : "(default)") : null,
          opts.map((o, i) => h("option", { value: String(i), selected: o === value }, String(o))));
        input = el;
        read = () => (el.value === "" ? (need ? { error: "Choose a value." } : { omit: true }) : { value: opts[Number(el.value)] });
        break;
      }
      case "enums": {
        const opts = (s.items?.enum ?? []) as string[];
        const chosen = new Set(Array.isArray(value) ? value : []);
        const boxes = opts.map((o) => h("input", { type: "checkbox", value: o, disabled: readonly }));
        boxes.forEach((b) => (b.checked = chosen.has(b.value)));
        input = h("div", { class: "cfg-choices", id }, boxes.map((b) => h("label", null, b, " ", b.value)));
        read = () => ({ value: boxes.filter((b) => b.checked).map((b) => b.value) });
        break;
      }
      case "number":
      case "integer": {
        const el = h("input", { type: "text", inputmode: kind === "integer" ? "numeric" : "decimal", id, readonly, value: value === undefined || value === null ? "" : String(value) });
        input = el;
        read = () => {
          const t = el.value.trim();
          if (t === "") return nullable ? { value: null } : need ? { error: "Required." } : { omit: true };
          const n = Number(t);
          if (!isFinite(n)) return { error: "Not a number." };
          if (kind === "integer" && !Number.isInteger(n)) return { error: "Not a whole number." };
          return { value: n };
        };
        break;
      }
      case "string": {
        const el = h("input", { type: "text", id, readonly, value: typeof value === "string" ? value : "" });
        input = el;
        read = () => (el.value === "" && !need ? { omit: true } : { value: el.value });
        break;
      }
      case "strings": {
        const el = h("input", { type: "text", id, readonly, value: Array.isArray(value) ? value.join(", ") : "" });
        input = el;
        read = () => ({ value: el.value.split(",").map((x) => x.trim()).filter((x) => x !== "") });
        break;
      }
      default: {
        const el = h("textarea", { id, readonly, rows: 3 });
        el.value = value === undefined ? "" : JSON.stringify(value);
        input = el;
        read = () => {
          const t = el.value.trim();
          if (t === "") return need ? { error: "Required." } : { omit: true };
          try {
            return { value: JSON.parse(t) };
          } catch {
            return { error: "Not valid JSON." };
          }
        };
      }
    }
    fields.push({ path, read, error, input });
    into.appendChild(h("div", { class: "cfg-field", "data-path": path, "data-kind": kind },
      h("label", { for: id, class: "cfg-label" }, label),
      input,
      hints ? h("span", { class: "cfg-hint muted small" }, hints) : null,
      s.description ? h("div", { class: "cfg-desc muted small" }, s.description) : null,
      error));
  }
}
