package mapping

import (
	"regexp"
	"strings"
)

// Preset is the export format of a CRM: how it names its columns.
type Preset struct {
	// Name is the CRM, and the external_source of what is imported
	// from its files: pipedrive, hubspot, salesforce.
	Name string
	// DateOrder is the order of its slashed dates, "" when told from
	// the values.
	DateOrder string
	// columns map normalised headers (see Normal) to targets, per kind.
	columns map[string]map[string]string
	// sign tells whether a header (as written) is this CRM's.
	sign func(header []string) bool
	kind string
}

func (p *Preset) target(h string) string {
	return p.columns[p.kind][Normal(h)]
}

// Presets are the export formats Map recognises.
var Presets = []Preset{
	{
		Name: "pipedrive",
		// Pipedrive prefixes every header with its record type:
		// "Person - Name", "Deal - Value", "Organization - ID".
		sign: func(h []string) bool {
			for _, c := range h {
				switch strings.TrimSpace(c) {
				case "Person - ID", "Organization - ID", "Deal - ID", "Activity - ID", "Lead - ID", "Product - ID":
					return true
				}
			}
			return false
		},
		columns: map[string]map[string]string{
			"organizations": {"id": "external_id", "name": "name", "organization created": "created_at", "update time": "updated_at",
				"website": "domain", "industry": "industry", "number of employees": "employees", "address": Ignore, "owner": Ignore},
			"contacts": {"id": "external_id", "name": "name", "first name": "first_name", "last name": "last_name",
				"email": "email", "email work": "email", "email - work": "email", "phone": "phone", "phone work": "phone", "phone - work": "phone",
				"organization": "organization.name", "organization id": "organization.external_id", "person created": "created_at",
				"update time": "updated_at", "job title": "title", "owner": Ignore},
			"deals": {"id": "external_id", "title": "name", "value": "amount", "currency": "currency", "pipeline": "pipeline",
				"stage": "stage", "status": "status", "deal created": "created_at", "update time": "updated_at",
				"expected close date": "expected_close_date", "won time": "closed_at", "lost time": "closed_at",
				"lost reason": "lost_reason", "organization": "organization.name", "organization id": "organization.external_id",
				"contact person": "contact.name", "contact person id": "contact.external_id", "probability": "probability", "owner": Ignore},
			"activities": {"id": "external_id", "subject": "subject", "type": "kind", "due date": "occurred_at", "add time": "created_at",
				"note": "body", "marked as done time": "done_at", "deal": "deal.name", "deal id": "deal.external_id",
				"contact person": "contact.name", "contact person id": "contact.external_id", "organization": "organization.name",
				"organization id": "organization.external_id", "done": Ignore, "assigned to user": Ignore},
			"leads": {"id": "external_id", "title": "title", "value": "estimated_value", "currency": "currency",
				"source": "source", "lead created": "created_at", "organization": "company", "owner": Ignore},
			"products": {"id": "external_id", "name": "name", "product code": "sku", "description": "description",
				"unit price": "price", "price": "price", "cost": "unit_cost", "active": "active", "currency": "currency"},
		},
	},
	{
		Name: "hubspot",
		// HubSpot's exports name the record's ID "Record ID" and carry
		// "Create Date" and an owner column.
		sign: func(h []string) bool {
			has := set(h)
			return has["Record ID"] && (has["Create Date"] || has["Contact owner"] || has["Company owner"] || has["Deal owner"] || has["Deal Stage"])
		},
		columns: map[string]map[string]string{
			"organizations": {"record id": "external_id", "company name": "name", "company domain name": "domain", "industry": "industry",
				"number of employees": "employees", "create date": "created_at", "last modified date": "updated_at", "company owner": Ignore},
			"contacts": {"record id": "external_id", "first name": "first_name", "last name": "last_name", "email": "email",
				"phone number": "phone", "job title": "title", "company name": "organization.name",
				"associated company ids": "organization.external_id", "associated company id": "organization.external_id",
				"create date": "created_at", "last modified date": "updated_at", "contact owner": Ignore, "lifecycle stage": Ignore},
			"deals": {"record id": "external_id", "deal name": "name", "amount": "amount", "deal stage": "stage", "pipeline": "pipeline",
				"close date": "expected_close_date", "create date": "created_at", "last modified date": "updated_at",
				"associated company ids": "organization.external_id", "associated company id": "organization.external_id",
				"associated contact ids": "contact.external_id", "associated contact id": "contact.external_id",
				"currency": "currency", "deal owner": Ignore, "closed lost reason": "lost_reason"},
		},
	},
	{
		Name: "salesforce",
		// Salesforce's data exports use the fields' API names: Id,
		// CreatedDate, AccountId, StageName.
		sign: func(h []string) bool {
			has := set(h)
			return has["Id"] && (has["CreatedDate"] || has["LastModifiedDate"] || has["IsDeleted"] || has["OwnerId"])
		},
		columns: map[string]map[string]string{
			"organizations": {"id": "external_id", "name": "name", "website": "domain", "industry": "industry",
				"numberofemployees": "employees", "createddate": "created_at", "lastmodifieddate": "updated_at",
				"ownerid": Ignore, "isdeleted": Ignore},
			"contacts": {"id": "external_id", "firstname": "first_name", "lastname": "last_name", "email": "email", "phone": "phone",
				"title": "title", "accountid": "organization.external_id", "createddate": "created_at",
				"lastmodifieddate": "updated_at", "ownerid": Ignore, "isdeleted": Ignore},
			"deals": {"id": "external_id", "name": "name", "amount": "amount", "stagename": "stage", "closedate": "expected_close_date",
				"probability": "probability", "accountid": "organization.external_id", "contactid": "contact.external_id",
				"createddate": "created_at", "lastmodifieddate": "updated_at", "currencyisocode": "currency",
				"iswon": Ignore, "isclosed": Ignore, "ownerid": Ignore, "isdeleted": Ignore},
			"leads": {"id": "external_id", "firstname": "first_name", "lastname": "last_name", "company": "company", "email": "email",
				"phone": "phone", "leadsource": "source", "status": "status", "createddate": "created_at",
				"lastmodifieddate": "updated_at", "isconverted": Ignore, "ownerid": Ignore, "isdeleted": Ignore},
			"activities": {"id": "external_id", "subject": "subject", "description": "body", "activitydate": "occurred_at",
				"whoid": "contact.external_id", "whatid": "deal.external_id", "accountid": "organization.external_id",
				"createddate": "created_at", "tasksubtype": "kind", "type": "kind", "ownerid": Ignore, "isdeleted": Ignore},
		},
	},
}

func set(h []string) map[string]bool {
	out := make(map[string]bool, len(h))
	for _, c := range h {
		out[strings.TrimSpace(c)] = true
	}
	return out
}

// Detect returns the preset whose export a header of kind looks like,
// or nil.
func Detect(kind string, header []string) *Preset {
	for _, p := range Presets {
		if p.sign(header) && p.columns[kind] != nil {
			p.kind = kind
			return &p
		}
	}
	return nil
}

// hubspotStage matches HubSpot's stage history columns: Date entered
// "Proposal (Sales Pipeline)", with straight or curly quotes.
var hubspotStage = regexp.MustCompile(`^Date entered ["'“‘](.+?)(?: \((.+)\))?["'”’]$`)

// hubspotStageEntered is the stage a HubSpot stage history column names,
// or "".
func hubspotStageEntered(h string) string {
	m := hubspotStage.FindStringSubmatch(strings.TrimSpace(h))
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}
