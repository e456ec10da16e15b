// Extensions: plugins, bindings, runs and comparisons.

import { h, mount } from "./dom";
import type { Page } from "./nav";

/** Renders the Extensions: plugins, bindings, runs and comparisons section. */
export const pluginsPage: Page = (main) => {
  mount(main, h("h1", null, "Plugins"), h("p", { class: "muted" }, "This screen is coming soon. Its data is available in GraphiQL."));
};
