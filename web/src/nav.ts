// In-app navigation: history entries without page loads, and links that
// use them. The app's entry registers how a path is rendered.

import { h } from "./dom";

let renderer: () => Promise<void> = async () => {};

/** Registers the function that renders the current path (app.ts). */
export function setRenderer(f: () => Promise<void>): void {
  renderer = f;
}

/** Goes to an app path without reloading the page. */
export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  void renderer();
}

/** A link to an app path that navigates in place on a plain left click. */
export function link(href: string, label: string, cls = ""): HTMLAnchorElement {
  return h("a", {
    href,
    class: cls || undefined,
    onclick: (e: MouseEvent) => {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      navigate(href);
    },
  }, label);
}

/**
 * A page: renders into main for the signed-in session s. rest holds the
 * path's segments after the section's own (decoded), params its query.
 */
export type Page = (main: HTMLElement, s: import("./api").Session, rest: string[], params: URLSearchParams) => Promise<void> | void;
