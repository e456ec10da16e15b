// Starts the vendored GraphiQL on /graphiql with a fetcher that sends the
// session cookie and the CSRF token of /auth/session.

declare const React: { createElement: (...a: unknown[]) => unknown };
declare const ReactDOM: { createRoot: (el: Element) => { render: (x: unknown) => void } };
declare const GraphiQL: unknown;

let csrf = "";

async function loadSession(): Promise<void> {
  try {
    const res = await fetch("/auth/session", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (res.ok) csrf = (await res.json()).csrf ?? "";
  } catch {
    // not signed in: requests will answer 401
  }
}

async function fetcher(params: unknown, opts?: { headers?: Record<string, string> }): Promise<unknown> {
  const res = await fetch("/graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf, ...(opts?.headers ?? {}) },
    body: JSON.stringify(params),
  });
  return res.json();
}

void loadSession().then(() => {
  const el = document.getElementById("graphiql")!;
  ReactDOM.createRoot(el).render(React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }));
});
