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

// The server refuses operations nested more than 12 fields deep; GraphiQL's
// introspection query unwraps types 8 levels deep (fragment TypeRef), which
// makes it 15. Six levels ([[T!]!]! has five wrappers) keep it within 12.
function typeRef(levels: number): string {
  let s = "kind name";
  for (let i = 0; i < levels; i++) s = "kind name ofType { " + s + " }";
  return "fragment TypeRef on __Type { " + s + " }";
}

function shallowIntrospection(query: string): string {
  const start = query.indexOf("fragment TypeRef on __Type");
  if (start < 0) return query;
  let depth = 0;
  for (let i = query.indexOf("{", start); i < query.length; i++) {
    if (query[i] === "{") depth++;
    else if (query[i] === "}" && --depth === 0) return query.slice(0, start) + typeRef(6) + query.slice(i + 1);
  }
  return query;
}

async function fetcher(params: { query?: string }, opts?: { headers?: Record<string, string> }): Promise<unknown> {
  if (typeof params.query === "string") params = { ...params, query: shallowIntrospection(params.query) };
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
