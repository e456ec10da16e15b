package crm

import "regexp"

// Patterns of names that both the schema and the tools that write records
// (imports) check, kept here so that they check the same thing.
var (
	// CustomFieldKey is what a custom field's key looks like.
	CustomFieldKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	// ExternalSource is what names the system a record was imported
	// from: a lower-case word such as pipedrive or salesforce.
	ExternalSource = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,39}$`)
)
