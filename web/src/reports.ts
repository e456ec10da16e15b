// Reports: any report plugin rendered from runReport, and the QCI questionnaire.

import { h, mount } from "./dom";
import type { Page } from "./nav";

/** Renders the Reports: any report plugin rendered from runReport, and the QCI questionnaire section. */
export const reportsPage: Page = (main) => {
  mount(main, h("h1", null, "Reports"), h("p", { class: "muted" }, "This screen is coming soon. Its data is available in GraphiQL."));
};
