// Automations with their runs and deliveries.

import { h, mount } from "./dom";
import type { Page } from "./nav";

/** Renders the Automations with their runs and deliveries section. */
export const automationsPage: Page = (main) => {
  mount(main, h("h1", null, "Automations"), h("p", { class: "muted" }, "This screen is coming soon. Its data is available in GraphiQL."));
};
