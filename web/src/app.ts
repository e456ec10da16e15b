// The app's entry: routes the browser's path to a page, inside the shell
// (navigation, workspace switcher, sign-out) when signed in.

import { ApiError, Session, auth, handleUnauthenticated, session, setCSRF, signInURL } from "./api";
import { h, mount } from "./dom";
import { resetPage, signInPage, signUpPage } from "./auth";
import { boardPage } from "./board";
import { listPage, lists } from "./lists";
import { Page, link, navigate, setRenderer } from "./nav";
import { recordPage } from "./records";
import { dashboardsPage } from "./dashboards";
import { reportsPage } from "./reports";
import { pluginsPage } from "./plugins";
import { automationsPage } from "./automations";

const root = document.getElementById("app")!;
let current: Session | null = null;

const sections: [string, string][] = [
  ["/board", "Board"],
  ["/contacts", "Contacts"],
  ["/organizations", "Organizations"],
  ["/deals", "Deals"],
  ["/leads", "Leads"],
  ["/dashboards", "Dashboards"],
  ["/reports", "Reports"],
  ["/plugins", "Plugins"],
  ["/automations", "Automations"],
];

// The sections' pages by their first path segment. A record section's
// list is at /contacts; /contacts/ID, /contacts/new and the like go to
// recordPage with rest = ["contacts", "ID", ...].
const pages: Record<string, Page> = {
  dashboards: dashboardsPage,
  reports: reportsPage,
  plugins: pluginsPage,
  automations: automationsPage,
};

/** Called by the sign-in pages once signed in. */
export function signedIn(s: Session, next: string): void {
  current = s;
  setCSRF(s.csrf);
  navigate(safeNext(next), true);
}

/** Keeps ?next= to this app's own paths. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/board";
  if (/^\/(signin|signup|reset)\b/.test(next)) return "/board";
  return next;
}

function shell(s: Session, path: string): { main: HTMLElement } {
  const main = h("main", { class: "content" });
  const nav = h("nav", { class: "nav", "aria-label": "Sections" },
    sections.map(([href, label]) => link(href, label, path.startsWith(href) ? "active" : "")),
    h("a", { href: "/graphiql", class: "external" }, "GraphiQL"));
  let switcher: HTMLElement | null = null;
  if (s.workspaces.length > 1) {
    const sel = h("select", {
      "aria-label": "Workspace",
      id: "workspace-switcher",
      onchange: async () => {
        try {
          const ns = await auth<Session>("POST", "workspace", { slug: sel.value });
          current = ns;
          setCSRF(ns.csrf);
          navigate("/board");
        } catch (e) {
          sel.value = s.workspace.slug;
          alert((e as Error).message);
        }
      },
    }, s.workspaces.map((w) => h("option", { value: w.slug, selected: w.slug === s.workspace.slug }, w.name)));
    switcher = sel;
  } else {
    switcher = h("span", { class: "workspace-name" }, s.workspace.name);
  }
  const header = h("header", { class: "topbar" },
    h("a", { href: "/board", class: "brand", onclick: (e: Event) => { e.preventDefault(); navigate("/board"); } }, "Rapport"),
    switcher,
    h("span", { class: "spacer" }),
    h("span", { class: "who", id: "account-name", title: s.account.email }, s.account.name),
    h("span", { class: "role" }, s.role),
    h("button", {
      type: "button",
      class: "link",
      id: "signout",
      onclick: async () => {
        try {
          await auth("POST", "signout");
        } catch {
          // signed out either way
        }
        current = null;
        navigate("/signin", true);
      },
    }, "Sign out"));
  mount(root, h("div", { class: "shell" }, header, h("div", { class: "body" }, nav, main)));
  return { main };
}

let seq = 0;

async function render(): Promise<void> {
  const my = ++seq;
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  document.title = "Rapport";
  if (path === "/signin") return signInPage(root, params.get("next"));
  if (path === "/signup") return signUpPage(root, params.get("token") ?? "");
  if (path === "/reset") return resetPage(root, params.get("token") ?? "");
  if (!current) {
    try {
      current = await session();
    } catch (e) {
      mount(root, h("p", { class: "error boot" }, "The server did not answer: " + (e as ApiError).message));
      return;
    }
    if (my !== seq) return;
    if (!current) {
      location.replace(signInURL());
      return;
    }
  }
  if (path === "/" || path === "") {
    navigate("/board", true);
    return;
  }
  const { main } = shell(current, path);
  if (path === "/board" || path.startsWith("/board/")) {
    return boardPage(main, current, decodeURIComponent(path.slice("/board/".length)));
  }
  if (lists[path]) return listPage(main, lists[path]);
  const segs = path.split("/").slice(1).filter((x) => x !== "").map((x) => {
    try {
      return decodeURIComponent(x);
    } catch {
      return x;
    }
  });
  if (segs.length > 1 && lists["/" + segs[0]]) return recordPage(main, current, segs, params);
  const page = pages[segs[0]];
  if (page) return page(main, current, segs.slice(1), params);
  mount(main, h("h1", null, "Not found"), h("p", null, "No page here. ", link("/board", "Go to the board")));
}

handleUnauthenticated(() => {
  current = null;
  location.assign(signInURL());
});
setRenderer(render);
window.addEventListener("popstate", () => void render());
void render();
