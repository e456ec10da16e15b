// The signed-out pages: sign in, sign up from an invitation, reset a
// password from a reset link.

import { ApiError, Session, auth } from "./api";
import { h, mount } from "./dom";
import { signedIn } from "./app";

function card(title: string, ...body: (Node | null)[]): HTMLElement {
  return h("div", { class: "auth" }, h("div", { class: "auth-card" }, h("div", { class: "brand" }, "Rapport"), h("h1", null, title), ...body));
}

function field(label: string, input: HTMLInputElement): { row: HTMLElement; error: HTMLElement } {
  const error = h("div", { class: "field-error", id: input.id + "-error", role: "alert" });
  input.setAttribute("aria-describedby", error.id);
  return { row: h("label", { class: "field" }, h("span", null, label), input, error), error };
}

function message(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 429) {
      const wait = e.retryAfter > 0 ? (e.retryAfter >= 120 ? Math.ceil(e.retryAfter / 60) + " minutes" : e.retryAfter + " seconds") : "a while";
      return "Too many attempts. Try again in " + wait + ".";
    }
    return e.message;
  }
  return "The server could not be reached.";
}

/** The sign-in page; after signing in it goes to next. */
export function signInPage(root: HTMLElement, next: string | null): void {
  document.title = "Sign in · Rapport";
  const email = h("input", { id: "email", name: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "error", id: "signin-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", {
    id: "signin",
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.textContent = "";
      submit.disabled = true;
      try {
        const s = await auth<Session>("POST", "signin", { email: email.value.trim(), password: password.value });
        signedIn(s, next ?? "");
      } catch (err) {
        error.textContent = message(err);
        password.select();
      } finally {
        submit.disabled = false;
      }
    },
  }, field("Email", email).row, field("Password", password).row, error, submit);
  mount(root, card("Sign in", form, h("p", { class: "muted small" }, "No account? Ask an admin of your workspace for an invitation.")));
  email.focus();
}

interface Link {
  purpose: "invite" | "reset";
  email: string;
  workspace: string | null;
}

async function readLink(root: HTMLElement, token: string, title: string, want: Link["purpose"]): Promise<Link | null> {
  if (!token) {
    mount(root, card(title, h("p", { class: "error" }, "This page needs the link you were sent, with its token.")));
    return null;
  }
  mount(root, card(title, h("p", { class: "muted" }, "Checking your link…")));
  try {
    const link = await auth<Link>("GET", "link?token=" + encodeURIComponent(token));
    if (link.purpose !== want) throw new ApiError("This link is not for this page.", 400);
    return link;
  } catch (e) {
    const text = e instanceof ApiError && (e.status === 410 || e.status === 404)
      ? "This link has expired or was already used. Ask an admin for a new one."
      : message(e);
    mount(root, card(title, h("p", { class: "error", id: "link-error" }, text), h("p", null, h("a", { href: "/signin" }, "Sign in"))));
    return null;
  }
}

function passwordForm(id: string, token: string, fields: { name?: HTMLInputElement }, endpoint: string, label: string): HTMLFormElement {
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "new-password", required: true });
  const rows: Record<string, { row: HTMLElement; error: HTMLElement }> = {};
  if (fields.name) rows.name = field("Your name", fields.name);
  rows.password = field("Password", password);
  const error = h("p", { class: "error", id: id + "-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, label);
  return h("form", {
    id,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      error.textContent = "";
      for (const r of Object.values(rows)) r.error.textContent = "";
      submit.disabled = true;
      try {
        const body: Record<string, string> = { token, password: password.value };
        if (fields.name) body.name = fields.name.value.trim();
        const s = await auth<Session>("POST", endpoint, body);
        signedIn(s, "/board");
      } catch (err) {
        const f = err instanceof ApiError ? rows[err.field] : undefined;
        if (f) f.error.textContent = (err as ApiError).message;
        else error.textContent = message(err);
      } finally {
        submit.disabled = false;
      }
    },
  }, Object.values(rows).map((r) => r.row), error, submit);
}

/** The sign-up page of an invitation link (/signup?token=…). */
export async function signUpPage(root: HTMLElement, token: string): Promise<void> {
  document.title = "Sign up · Rapport";
  const link = await readLink(root, token, "Join Rapport", "invite");
  if (!link) return;
  const name = h("input", { id: "name", name: "name", type: "text", autocomplete: "name", required: true });
  mount(root, card("Join " + (link.workspace ?? "Rapport"),
    h("p", { class: "muted" }, "You were invited as ", h("strong", { id: "invite-email" }, link.email), "."),
    passwordForm("signup", token, { name }, "signup", "Create account")));
  name.focus();
}

/** The page of a password reset link (/reset?token=…). */
export async function resetPage(root: HTMLElement, token: string): Promise<void> {
  document.title = "Reset password · Rapport";
  const link = await readLink(root, token, "Reset your password", "reset");
  if (!link) return;
  mount(root, card("Reset your password",
    h("p", { class: "muted" }, "New password for ", h("strong", null, link.email), "."),
    passwordForm("reset", token, {}, "reset", "Set password and sign in")));
}
