// Record pages and forms: a contact, organization, deal or lead with its fields, timeline, scores and segments.

import { h, mount } from "./dom";
import type { Page } from "./nav";

/** Renders the Record pages and forms: a contact, organization, deal or lead with its fields, timeline, scores and segments section. */
export const recordPage: Page = (main) => {
  mount(main, h("h1", null, "Record"), h("p", { class: "muted" }, "This screen is coming soon. Its data is available in GraphiQL."));
};
