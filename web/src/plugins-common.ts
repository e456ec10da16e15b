// What the plugin pages share: the plugins and bindings as the API shows
// them, and small pieces of page.

import { gql } from "./api";
import type { Schema } from "./configform";
import { h } from "./dom";
import { link } from "./nav";

export interface Plugin {
  name: string;
  version: string;
  runtime: string;
  points: string[];
  subjects: string[];
  model: string | null;
  description: string | null;
  status: string;
  origin: string;
  configSchema: Schema | null;
}

export interface Binding {
  id: string;
  point: "score" | "segment" | "report";
  subjectType: string | null;
  plugin: string;
  version: string;
  config: Record<string, unknown> | null;
  updatedAt: string;
}

export const POINTS = ["score", "segment", "report"] as const;
export const SUBJECTS = ["contact", "organization", "lead", "deal"] as const;

const query = `query Plugins {
  plugins { name version runtime points subjects model description status origin configSchema }
  extensionBindings { id point subjectType plugin version config updatedAt }
}`;

/** The workspace's plugins and bindings, plugins by name then version. */
export async function loadPlugins(): Promise<{ plugins: Plugin[]; bindings: Binding[] }> {
  const d = await gql<{ plugins: Plugin[]; extensionBindings: Binding[] }>(query);
  const plugins = [...d.plugins].sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version, undefined, { numeric: true }));
  return { plugins, bindings: d.extensionBindings };
}

/** name@version */
export const ref = (p: { name?: string; plugin?: string; version: string }): string => (p.name ?? p.plugin) + "@" + p.version;

/** The path of a plugin's page. */
export const pluginPath = (r: string): string => "/plugins/" + encodeURIComponent(r);

/** The path of the binding form of (point, subject); subject "" is every type; plugin picks one of several segmenters. */
export const bindingPath = (point: string, subject: string | null, plugin = ""): string =>
  "/plugins/bindings/" + point + "/" + (subject || "all") + (plugin ? "?plugin=" + encodeURIComponent(plugin) : "");

/** Whether a plugin's status says it works; its error otherwise. */
export function health(status: string): { ok: boolean; text: string; error: string } {
  if (status === "ready") return { ok: true, text: "healthy", error: "" };
  if (status === "loading") return { ok: true, text: "loading", error: "" };
  if (status === "installed") return { ok: true, text: "installed", error: "" }; // a workspace plugin loads on first use
  const [state, ...rest] = status.split(":");
  return { ok: false, text: state.trim() || "failed", error: rest.join(":").trim() };
}

export function healthBadge(status: string): HTMLElement {
  const s = health(status);
  const cls = !s.ok ? "bad" : s.text === "healthy" ? "ok" : "idle";
  const title = s.error || (s.text === "installed" ? "Loads on first use" : undefined);
  return h("span", { class: "badge " + cls, title }, s.text);
}

/** The sub-navigation of the plugin pages. */
export function tabs(active: string): HTMLElement {
  const items: [string, string][] = [["/plugins", "Plugins"], ["/plugins/bindings", "Bindings"], ["/plugins/runs", "Runs"], ["/plugins/compare", "Compare"]];
  return h("nav", { class: "tabs", "aria-label": "Plugin pages" }, items.map(([href, label]) => link(href, label, href === active ? "active" : "")));
}

/** A short config summary: key=value pairs. */
export function configSummary(c: Record<string, unknown> | null): string {
  if (!c || Object.keys(c).length === 0) return "defaults";
  return Object.entries(c).map(([k, v]) => k + "=" + (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
}

/** Formats an ISO time for people. */
export function when(t: string | null | undefined): string {
  if (!t) return "";
  const d = new Date(t);
  return isNaN(d.getTime()) ? t : d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "medium" });
}

/** A page's error, or a role refusal said plainly. */
export function errorText(e: unknown): string {
  const err = e as { code?: string; message?: string };
  if (err.code === "FORBIDDEN") return "Refused: your role cannot do this. " + (err.message ?? "");
  return err.message ?? String(e);
}
