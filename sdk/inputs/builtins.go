package inputs

// Builtins are, per subject type, the inputs the host computed before
// inputs could be declared. Each name keeps working as an alias, so older
// plugins run unchanged; a declared input may not reuse one as its name.
var Builtins = map[string]map[string]Kind{
	"lead": {
		"estimated_value": Number, "source": Category, "status": Category,
		"has_email": Flag, "has_phone": Flag, "has_company": Flag,
		"activity_count": Number, "age_days": Number, "id": ID,
	},
	"contact": withCustomer(map[string]Kind{
		"has_email": Flag, "has_phone": Flag, "has_title": Flag, "has_organization": Flag,
		"email_domain": Category, "title": Category,
		"activity_count": Number, "deal_count": Number, "won_amount": Number,
		"order_count": Number, "order_total": Number, "age_days": Number, "id": ID,
		"first_name": Category, "last_name": Category, "email": Category, "phone": Category, "organization_id": Category,
	}),
	"organization": withCustomer(map[string]Kind{
		"employees": Number, "industry": Category, "has_domain": Flag,
		"contact_count": Number, "deal_count": Number, "won_amount": Number,
		"order_count": Number, "order_total": Number, "age_days": Number, "id": ID,
	}),
	"deal": {
		"amount": Number, "status": Category, "probability": Number,
		"has_contact": Flag, "has_organization": Flag,
		"activity_count": Number, "age_days": Number, "days_to_close": Number, "id": ID,
	},
}

// customerBuiltins are the figures of organizations and contacts as
// customers, which the CRM models read.
var customerBuiltins = map[string]Kind{
	"order_margin":             Number, // Σ (amount − cost) of its orders
	"days_since_first_order":   Number,
	"days_since_last_order":    Number,
	"open_pipeline":            Number, // Σ amount of its open deals
	"open_probability":         Number, // mean probability of its open deals
	"call_count":               Number,
	"email_count":              Number,
	"meeting_count":            Number,
	"note_count":               Number,
	"task_count":               Number,
	"inbound_call_count":       Number,
	"inbound_email_count":      Number,
	"inbound_meeting_count":    Number,
	"days_since_last_activity": Number,
	"activity_span_days":       Number, // from the first activity to the latest
}

func withCustomer(m map[string]Kind) map[string]Kind {
	for k, v := range customerBuiltins {
		m[k] = v
	}
	return m
}

// builtinDocs explains the built-ins whose meaning the name does not give.
var builtinDocs = map[string]string{
	"id":                       "the subject IDs, sent beside the columns",
	"age_days":                 "days since the record was created",
	"activity_count":           "number of its activities",
	"deal_count":               "number of its deals",
	"won_amount":               "sum of the amounts of its won deals",
	"order_count":              "number of its orders",
	"order_total":              "sum of the amounts of its orders",
	"contact_count":            "number of its contacts",
	"email_domain":             "the part of its email after @, lower case",
	"has_company":              "1 when it names a company or an organization",
	"probability":              "the deal's probability, else its stage's",
	"days_to_close":            "days from now to its expected close date",
	"order_margin":             "sum of amount − cost of its orders",
	"days_since_first_order":   "days since its first order",
	"days_since_last_order":    "days since its latest order",
	"open_pipeline":            "sum of the amounts of its open deals",
	"open_probability":         "mean probability of its open deals",
	"days_since_last_activity": "days since its latest activity",
	"activity_span_days":       "days from its first activity to its latest",
}
