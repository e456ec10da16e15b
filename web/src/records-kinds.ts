// The four kinds of record: what a record page asks for and what its form
// edits.

type Row = Record<string, unknown>;

/** A field of a record's form. */
export interface FormField {
  key: string; // the input's field name
  label: string;
  type: "text" | "email" | "number" | "money" | "date" | "enum" | "organization" | "contact" | "owner" | "stage" | "textarea";
  required?: boolean;
  clear?: string; // the update input's clear flag for an optional field
  options?: string[]; // for enum
  read?: (r: Row) => string; // the record's value as the input's text
}

/** A kind of record and its section of the app. */
export interface Kind {
  section: "contacts" | "organizations" | "deals" | "leads";
  type: string; // GraphQL type
  entity: "contact" | "organization" | "deal" | "lead";
  one: string;
  plural: string;
  detail: string; // selection of the record page
  form: FormField[];
}

const scores = "scores(first: 20) { id point plugin value label explanation { name contribution detail } computedAt }";
const common = "id createdAt updatedAt customFields segments { key name } " + scores;
const dealNode = "id name amount currency status stage { name }";
const id = (k: string) => (r: Row) => String((r[k] as Row | null)?.id ?? "");
const dateOnly = (k: string) => (r: Row) => (typeof r[k] === "string" ? (r[k] as string).slice(0, 10) : "");

/** The kinds by section. */
export const kinds: Record<string, Kind> = {
  contacts: {
    section: "contacts", type: "Contact", entity: "contact", one: "Contact", plural: "contacts",
    detail: common + ` firstName lastName email phone title tags { id name } organization { id name } owner { id name }
      deals(first: 20, orderBy: [{field: UPDATED_AT, direction: DESC}]) { totalCount edges { node { ${dealNode} } } }
      leads { id title status }`,
    form: [
      { key: "firstName", label: "First name", type: "text" },
      { key: "lastName", label: "Last name", type: "text", required: true },
      { key: "email", label: "Email", type: "email", clear: "clearEmail" },
      { key: "phone", label: "Phone", type: "text", clear: "clearPhone" },
      { key: "title", label: "Title", type: "text", clear: "clearTitle" },
      { key: "organizationID", label: "Organization", type: "organization", clear: "clearOrganization", read: id("organization") },
      { key: "ownerID", label: "Owner", type: "owner", clear: "clearOwner", read: id("owner") },
    ],
  },
  organizations: {
    section: "organizations", type: "Organization", entity: "organization", one: "Organization", plural: "organizations",
    detail: common + ` name domain industry employees tags { id name } owner { id name }
      contacts(first: 20, orderBy: [{field: LAST_NAME, direction: ASC}]) { totalCount edges { node { id firstName lastName email } } }
      deals(first: 20, orderBy: [{field: UPDATED_AT, direction: DESC}]) { totalCount edges { node { ${dealNode} } } }
      leads { id title status }`,
    form: [
      { key: "name", label: "Name", type: "text", required: true },
      { key: "domain", label: "Domain", type: "text", clear: "clearDomain" },
      { key: "industry", label: "Industry", type: "text", clear: "clearIndustry" },
      { key: "employees", label: "Employees", type: "number", clear: "clearEmployees" },
      { key: "ownerID", label: "Owner", type: "owner", clear: "clearOwner", read: id("owner") },
    ],
  },
  deals: {
    section: "deals", type: "Deal", entity: "deal", one: "Deal", plural: "deals",
    detail: common + ` name amount currency status probability expectedCloseDate closedAt lostReason tags { id name }
      pipeline { id name } stage { id name } contact { id firstName lastName } organization { id name } owner { id name } lead { id title }
      stageChanges { id changedAt actor fromStage { name } toStage { name } }`,
    form: [
      { key: "name", label: "Name", type: "text", required: true },
      { key: "amount", label: "Amount", type: "money" },
      { key: "currency", label: "Currency", type: "text" },
      { key: "stageID", label: "Pipeline and stage", type: "stage", required: true, read: id("stage") },
      { key: "expectedCloseDate", label: "Expected close", type: "date", clear: "clearExpectedCloseDate", read: dateOnly("expectedCloseDate") },
      { key: "contactID", label: "Contact", type: "contact", clear: "clearContact", read: id("contact") },
      { key: "organizationID", label: "Organization", type: "organization", clear: "clearOrganization", read: id("organization") },
      { key: "ownerID", label: "Owner", type: "owner", clear: "clearOwner", read: id("owner") },
    ],
  },
  leads: {
    section: "leads", type: "Lead", entity: "lead", one: "Lead", plural: "leads",
    detail: common + ` title firstName lastName email phone company source status estimatedValue currency convertedAt
      organization { id name } contact { id firstName lastName } deal { id name } owner { id name }`,
    form: [
      { key: "title", label: "Title", type: "text", required: true },
      { key: "firstName", label: "First name", type: "text", clear: "clearFirstName" },
      { key: "lastName", label: "Last name", type: "text", clear: "clearLastName" },
      { key: "email", label: "Email", type: "email", clear: "clearEmail" },
      { key: "phone", label: "Phone", type: "text", clear: "clearPhone" },
      { key: "company", label: "Company", type: "text", clear: "clearCompany" },
      { key: "source", label: "Source", type: "text", clear: "clearSource" },
      { key: "status", label: "Status", type: "enum", options: ["new", "contacted", "qualified", "unqualified"] },
      { key: "estimatedValue", label: "Estimated value", type: "money", clear: "clearEstimatedValue" },
      { key: "currency", label: "Currency", type: "text" },
      { key: "ownerID", label: "Owner", type: "owner", clear: "clearOwner", read: id("owner") },
    ],
  },
};

/** The name a record goes by. */
export function recordTitle(k: Kind, r: Row): string {
  const s = (v: unknown) => (typeof v === "string" ? v : "");
  switch (k.section) {
    case "contacts":
      return [s(r.firstName), s(r.lastName)].filter(Boolean).join(" ") || "(no name)";
    case "leads":
      return s(r.title) || "(untitled lead)";
    default:
      return s(r.name) || "(no name)";
  }
}
