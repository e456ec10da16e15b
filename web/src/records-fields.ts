// Custom fields: their definitions, an input for each type, the typed value
// an input holds and a value shown as text.

import { gql } from "./api";
import { h } from "./dom";

/** A custom field defined for one entity of the workspace. */
export interface CustomFieldDef {
  id: string;
  entity: "contact" | "organization" | "lead" | "deal";
  key: string;
  label: string;
  type: "text" | "number" | "boolean" | "date" | "select";
  options: string[] | null;
  required: boolean;
}

/** The workspace's custom field definitions, by label. */
export async function customFieldDefs(): Promise<CustomFieldDef[]> {
  const data = await gql<{ customFields: CustomFieldDef[] }>(`query CustomFields { customFields { id entity key label type options required } }`);
  return [...data.customFields].sort((a, b) => a.label.localeCompare(b.label));
}

/** An input for a value of d, holding value (as text), with the element ID id. */
export function fieldInput(d: CustomFieldDef, value: string, id: string): HTMLInputElement | HTMLSelectElement {
  switch (d.type) {
    case "boolean":
      return h("select", { id, name: id },
        h("option", { value: "" }, "—"),
        h("option", { value: "true", selected: value === "true" }, "Yes"),
        h("option", { value: "false", selected: value === "false" }, "No"));
    case "select":
      return h("select", { id, name: id },
        h("option", { value: "" }, "—"),
        (d.options ?? []).map((o) => h("option", { value: o, selected: o === value }, o)));
    case "number":
      return h("input", { id, name: id, type: "number", step: "any", value });
    case "date":
      return h("input", { id, name: id, type: "date", value });
    default:
      return h("input", { id, name: id, type: "text", value });
  }
}

/** The typed value of raw (an input's text) for d: null when empty. */
export function fieldValue(d: CustomFieldDef, raw: string): unknown {
  const v = raw.trim();
  if (v === "") return null;
  switch (d.type) {
    case "number": {
      const n = Number(v);
      return isNaN(n) ? v : n; // the server says what is wrong with it
    }
    case "boolean":
      return v === "true";
    default:
      return v;
  }
}

/** A stored value as an input's text. */
export function inputText(v: unknown): string {
  if (v === null || v === undefined) return "";
  return String(v);
}

const dateFmt = new Intl.DateTimeFormat("en-US", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
const numFmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 6 });

/** A value of d shown as text. */
export function showValue(d: CustomFieldDef | undefined, v: unknown): string {
  if (v === null || v === undefined || v === "") return "—";
  switch (d?.type) {
    case "boolean":
      return v === true ? "Yes" : v === false ? "No" : String(v);
    case "number":
      return typeof v === "number" ? numFmt.format(v) : String(v);
    case "date": {
      const t = Date.parse(String(v) + "T00:00:00Z");
      return isNaN(t) ? String(v) : dateFmt.format(t);
    }
  }
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
