// Dashboards: the built-in metrics as charts.

import { h, mount } from "./dom";
import type { Page } from "./nav";

/** Renders the Dashboards: the built-in metrics as charts section. */
export const dashboardsPage: Page = (main) => {
  mount(main, h("h1", null, "Dashboards"), h("p", { class: "muted" }, "This screen is coming soon. Its data is available in GraphiQL."));
};
