// Calls to the server: the session endpoints under /auth/ and GraphQL at
// /graphql, same origin, with the session cookie and the CSRF token.

export interface Session {
  account: { id: string; email: string; name: string };
  workspace: { id: string; slug: string; name: string };
  role: "admin" | "member" | "viewer";
  workspaces: { slug: string; name: string; role: string }[];
  csrf: string;
}

/** An error the server reported: its code, message and the field it is about. */
export class ApiError extends Error {
  constructor(message: string, public status: number, public code = "", public field = "", public retryAfter = 0) {
    super(message);
  }
}

let csrf = "";

/** Remembers the CSRF token of the current session. */
export function setCSRF(token: string): void {
  csrf = token;
}

/** Where a 401 sends the browser: the sign-in page, then back here. */
export function signInURL(): string {
  const here = location.pathname + location.search;
  return here.startsWith("/signin") ? "/signin" : "/signin?next=" + encodeURIComponent(here);
}

let onUnauthenticated: () => void = () => location.assign(signInURL());

/** Sets what happens when a call answers 401 (the session ended). */
export function handleUnauthenticated(f: () => void): void {
  onUnauthenticated = f;
}

async function errorOf(res: Response): Promise<ApiError> {
  let code = "", message = res.statusText || "request failed", field = "";
  try {
    const body = await res.json();
    const e = body.error ?? body.errors?.[0];
    if (e) {
      code = e.code ?? e.extensions?.code ?? "";
      message = e.message ?? message;
      field = e.field ?? e.extensions?.field ?? "";
    }
  } catch {
    // not JSON: keep the status text
  }
  const retry = parseInt(res.headers.get("Retry-After") ?? "", 10);
  return new ApiError(message, res.status, code, field, isNaN(retry) ? 0 : retry);
}

/** Calls an /auth/ endpoint; resolves to its JSON (null for 204). */
export async function auth<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method === "POST" && csrf) headers["X-CSRF-Token"] = csrf;
  const res = await fetch("/auth/" + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return null as T;
  return (await res.json()) as T;
}

/** The current session, or null when signed out. */
export async function session(): Promise<Session | null> {
  try {
    const s = await auth<Session>("GET", "session");
    setCSRF(s.csrf);
    return s;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 404)) return null;
    throw e;
  }
}

/** Runs a GraphQL operation; rejects with the first error. A 401 ends the session. */
export async function gql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch("/graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ query, variables }),
  });
  if (res.status === 401) {
    onUnauthenticated();
    throw await errorOf(res);
  }
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string; field?: string } }[] };
  try {
    body = await res.json();
  } catch {
    throw new ApiError(res.statusText || "request failed", res.status);
  }
  if (body.errors?.length) {
    const e = body.errors[0];
    if (e.extensions?.code === "UNAUTHENTICATED") onUnauthenticated();
    throw new ApiError(e.message, res.status, e.extensions?.code ?? "", e.extensions?.field ?? "");
  }
  if (!res.ok || !body.data) throw new ApiError(res.statusText || "request failed", res.status);
  return body.data;
}
