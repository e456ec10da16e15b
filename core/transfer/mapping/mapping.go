// Package mapping decides what each column of an import file becomes: a
// field of the record type imported (a Target), a custom field, or
// nothing. It knows the export formats of Pipedrive, HubSpot and
// Salesforce (Presets, recognised from their headers) and otherwise maps
// a header by its name; a mapping File overrides either.
package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/rapportcrm/rapport/core/crm"
)

// Type is what kind of value a Target holds.
type Type string

// The value types.
const (
	Text     Type = "text"
	Email    Type = "email"
	Phone    Type = "phone"
	Money    Type = "money"
	Int      Type = "int"
	Percent  Type = "percent"
	Date     Type = "date"
	Bool     Type = "bool"
	Currency Type = "currency"
	// Ref names another record: by its source ID, name, email or domain.
	Ref Type = "ref"
)

// Target is a field an import column can fill.
type Target struct {
	// Name is how mappings write it, e.g. email or organization.name.
	Name string
	// Type is the value's type.
	Type Type
	// Aliases are other header names that mean it, compared as Normal
	// does.
	Aliases []string
}

// Kinds are the record types an import creates, with their targets. Every
// kind also takes external_id, created_at and updated_at, and custom
// fields as custom.KEY.
var Kinds = map[string][]Target{
	"organizations": {
		{Name: "name", Type: Text, Aliases: []string{"organization", "company", "company name", "account name", "organization name"}},
		{Name: "domain", Type: Text, Aliases: []string{"website", "web", "url", "company domain name", "domain name"}},
		{Name: "industry", Type: Text},
		{Name: "employees", Type: Int, Aliases: []string{"number of employees", "numberofemployees", "employee count", "headcount"}},
		{Name: "owner.email", Type: Ref, Aliases: []string{"owner", "owner email"}},
	},
	"contacts": {
		{Name: "first_name", Type: Text, Aliases: []string{"first name", "firstname", "given name"}},
		{Name: "last_name", Type: Text, Aliases: []string{"last name", "lastname", "surname", "family name"}},
		{Name: "name", Type: Text, Aliases: []string{"full name", "person", "contact name"}},
		{Name: "email", Type: Email, Aliases: []string{"e-mail", "email address", "work email", "mail"}},
		{Name: "phone", Type: Phone, Aliases: []string{"phone number", "telephone", "mobile", "work phone"}},
		{Name: "title", Type: Text, Aliases: []string{"job title", "position", "role"}},
		{Name: "organization.external_id", Type: Ref, Aliases: []string{"organization id", "company id", "account id", "accountid"}},
		{Name: "organization.name", Type: Ref, Aliases: []string{"organization", "company", "company name", "account", "account name"}},
		{Name: "owner.email", Type: Ref, Aliases: []string{"owner", "owner email"}},
	},
	"leads": {
		{Name: "title", Type: Text, Aliases: []string{"lead title", "subject"}},
		{Name: "first_name", Type: Text, Aliases: []string{"first name", "firstname"}},
		{Name: "last_name", Type: Text, Aliases: []string{"last name", "lastname"}},
		{Name: "email", Type: Email, Aliases: []string{"e-mail", "email address"}},
		{Name: "phone", Type: Phone, Aliases: []string{"phone number", "telephone"}},
		{Name: "company", Type: Text, Aliases: []string{"company name", "organization"}},
		{Name: "source", Type: Text, Aliases: []string{"lead source", "leadsource"}},
		{Name: "status", Type: Text, Aliases: []string{"lead status"}},
		{Name: "estimated_value", Type: Money, Aliases: []string{"value", "amount"}},
		{Name: "currency", Type: Currency},
		{Name: "owner.email", Type: Ref, Aliases: []string{"owner"}},
	},
	"deals": {
		{Name: "name", Type: Text, Aliases: []string{"title", "deal name", "deal title", "opportunity name"}},
		{Name: "amount", Type: Money, Aliases: []string{"value", "deal value", "deal amount"}},
		{Name: "currency", Type: Currency, Aliases: []string{"currencyisocode", "currency code"}},
		{Name: "pipeline", Type: Ref, Aliases: []string{"pipeline name"}},
		{Name: "stage", Type: Ref, Aliases: []string{"deal stage", "stagename", "stage name"}},
		{Name: "status", Type: Text, Aliases: []string{"deal status"}},
		{Name: "probability", Type: Percent, Aliases: []string{"probability (%)", "win probability"}},
		{Name: "expected_close_date", Type: Date, Aliases: []string{"close date", "closedate", "expected close"}},
		{Name: "closed_at", Type: Date, Aliases: []string{"won time", "lost time", "closed date", "close time"}},
		{Name: "lost_reason", Type: Text, Aliases: []string{"lost reason", "closed lost reason"}},
		{Name: "organization.external_id", Type: Ref, Aliases: []string{"organization id", "company id", "account id", "accountid"}},
		{Name: "organization.name", Type: Ref, Aliases: []string{"organization", "company", "account name"}},
		{Name: "contact.external_id", Type: Ref, Aliases: []string{"contact id", "person id", "contactid"}},
		{Name: "contact.email", Type: Ref, Aliases: []string{"contact email", "person email"}},
		{Name: "contact.name", Type: Ref, Aliases: []string{"contact person", "contact", "person"}},
		{Name: "owner.email", Type: Ref, Aliases: []string{"owner", "deal owner"}},
	},
	"activities": {
		{Name: "kind", Type: Text, Aliases: []string{"type", "activity type"}},
		{Name: "subject", Type: Text, Aliases: []string{"title"}},
		{Name: "body", Type: Text, Aliases: []string{"note", "notes", "description", "comments"}},
		{Name: "direction", Type: Text},
		{Name: "occurred_at", Type: Date, Aliases: []string{"date", "activity date", "due date", "due time"}},
		{Name: "done_at", Type: Date, Aliases: []string{"marked as done time", "done time", "completed at"}},
		{Name: "contact.external_id", Type: Ref, Aliases: []string{"contact id", "person id", "whoid"}},
		{Name: "contact.email", Type: Ref, Aliases: []string{"contact email", "email"}},
		{Name: "contact.name", Type: Ref, Aliases: []string{"contact person", "contact", "person"}},
		{Name: "organization.external_id", Type: Ref, Aliases: []string{"organization id", "account id"}},
		{Name: "organization.name", Type: Ref, Aliases: []string{"organization", "company"}},
		{Name: "deal.external_id", Type: Ref, Aliases: []string{"deal id", "opportunity id", "whatid"}},
		{Name: "deal.name", Type: Ref, Aliases: []string{"deal", "deal title"}},
		{Name: "owner.email", Type: Ref, Aliases: []string{"owner", "assigned to"}},
	},
	"products": {
		{Name: "name", Type: Text, Aliases: []string{"product", "product name"}},
		{Name: "sku", Type: Text, Aliases: []string{"product code", "productcode", "code"}},
		{Name: "description", Type: Text},
		{Name: "price", Type: Money, Aliases: []string{"unit price", "list price"}},
		{Name: "unit_cost", Type: Money, Aliases: []string{"cost", "unit cost"}},
		{Name: "currency", Type: Currency},
		{Name: "active", Type: Bool, Aliases: []string{"is active", "isactive"}},
	},
	"orders": {
		{Name: "number", Type: Text, Aliases: []string{"order number", "order no", "invoice number"}},
		{Name: "amount", Type: Money, Aliases: []string{"total", "order total", "value"}},
		{Name: "cost", Type: Money, Aliases: []string{"cost of goods"}},
		{Name: "currency", Type: Currency},
		{Name: "ordered_at", Type: Date, Aliases: []string{"order date", "date", "ordered"}},
		{Name: "contact.external_id", Type: Ref, Aliases: []string{"contact id", "customer id"}},
		{Name: "contact.email", Type: Ref, Aliases: []string{"email", "customer email"}},
		{Name: "organization.external_id", Type: Ref, Aliases: []string{"organization id", "account id"}},
		{Name: "organization.name", Type: Ref, Aliases: []string{"organization", "company", "customer"}},
		{Name: "deal.external_id", Type: Ref, Aliases: []string{"deal id"}},
	},
}

// common are the targets of every kind.
var common = []Target{
	{Name: "external_id", Type: Text, Aliases: []string{"id", "record id", "external id"}},
	{Name: "created_at", Type: Date, Aliases: []string{"created", "create date", "created date", "createddate", "add time", "date created"}},
	{Name: "updated_at", Type: Date, Aliases: []string{"updated", "update time", "last modified date", "lastmodifieddate", "modified"}},
}

// StageHistory is the prefix of a target that holds when a deal entered
// the named stage: "stage_entered:Proposal" (HubSpot exports such
// columns as "Date entered 'Proposal (Sales Pipeline)'").
const StageHistory = "stage_entered:"

// Custom is the prefix of a target that fills a custom field.
const Custom = "custom."

// Ignore is the target of a column the import skips.
const Ignore = "-"

// TargetOf returns the target named name in kind, and whether there is
// one. Custom fields and stage history are targets too.
func TargetOf(kind, name string) (Target, bool) {
	switch {
	case strings.HasPrefix(name, Custom) && crm.CustomFieldKey.MatchString(strings.TrimPrefix(name, Custom)):
		return Target{Name: name, Type: Text}, true
	case kind == "deals" && strings.HasPrefix(name, StageHistory) && len(name) > len(StageHistory):
		return Target{Name: name, Type: Date}, true
	}
	for _, ts := range [][]Target{Kinds[kind], common} {
		for _, t := range ts {
			if t.Name == name {
				return t, true
			}
		}
	}
	return Target{}, false
}

// Normal is a header as names are compared: lower case, the record-type
// prefix of Pipedrive's headers ("Person - ") cut, punctuation and
// spacing folded.
func Normal(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if i := strings.Index(h, " - "); i > 0 && i < 20 {
		switch h[:i] {
		case "person", "organization", "deal", "activity", "lead", "product":
			h = h[i+3:]
		}
	}
	var b strings.Builder
	space := false
	for _, r := range h {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '%' || r == '(' || r == ')' || r == '-':
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// Column is one column's mapping.
type Column struct {
	// Index is the column's place in the header, from 0.
	Index int
	// Header is the column's name in the file.
	Header string
	// Target is what the column fills; Ignore when nothing.
	Target string
	// By says how the target was chosen: preset, header, file or
	// create-fields.
	By string
}

// Mapping is how a file's columns map to a kind's targets.
type Mapping struct {
	// Kind is the record type imported.
	Kind string
	// Preset is the export format recognised, or "".
	Preset string
	// Source is the external_source imported records get.
	Source string
	// DateOrder is "dmy", "mdy" or "" (told from the values).
	DateOrder string
	// Columns are the file's columns, in order. Two columns map to one
	// target only when a preset says so; the first non-empty cell counts.
	Columns []Column
}

// Unmapped are the headers of the columns the mapping ignores.
func (m Mapping) Unmapped() []string {
	var out []string
	for _, c := range m.Columns {
		if c.Target == Ignore {
			out = append(out, c.Header)
		}
	}
	return out
}

// File is a mapping file: JSON that names the source and maps headers to
// targets ("-" to skip a column), e.g.
//
//	{"source": "legacy", "dateOrder": "dmy",
//	 "columns": {"Cust No": "external_id", "Mail": "email", "Fax": "-"}}
type File struct {
	Source    string            `json:"source,omitempty"`
	DateOrder string            `json:"dateOrder,omitempty"`
	Columns   map[string]string `json:"columns,omitempty"`
}

// ParseFile reads a mapping file; unknown keys are an error.
func ParseFile(data []byte) (File, error) {
	var f File
	if len(data) > 1<<20 {
		return f, errors.New("the mapping file is larger than 1 MiB")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("mapping file: %w", err)
	}
	if f.Source != "" && !crm.ExternalSource.MatchString(f.Source) {
		return f, fmt.Errorf("mapping file: source %q: want a lower-case word (letters, digits, _ . -), at most 40 characters", f.Source)
	}
	if f.DateOrder != "" && f.DateOrder != "dmy" && f.DateOrder != "mdy" {
		return f, fmt.Errorf("mapping file: dateOrder %q: want dmy or mdy", f.DateOrder)
	}
	return f, nil
}

// Options of Map.
type Options struct {
	// File overrides the preset and the header names; nil for none.
	File *File
	// CreateFields maps the columns nothing else maps to custom fields
	// named after their headers.
	CreateFields bool
	// Source is the external_source when neither the file nor a preset
	// names one.
	Source string
}

// Map maps the header of a file of kind. It fails when kind is unknown,
// when the mapping file names a header the file lacks or a target the
// kind lacks, or when two columns fill one target.
func Map(kind string, header []string, o Options) (Mapping, error) {
	if _, ok := Kinds[kind]; !ok {
		return Mapping{}, fmt.Errorf("unknown record type %q: want one of %s", kind, strings.Join(KindNames(), ", "))
	}
	m := Mapping{Kind: kind, Source: o.Source}
	p := Detect(kind, header)
	if p != nil {
		m.Preset, m.Source, m.DateOrder = p.Name, p.Name, p.DateOrder
	}
	byHeader := map[string]string{}
	if o.File != nil {
		have := map[string]bool{}
		for _, h := range header {
			have[h] = true
		}
		for h, t := range o.File.Columns {
			if !have[h] {
				return Mapping{}, fmt.Errorf("mapping file: the file has no column %q", h)
			}
			if _, ok := TargetOf(kind, t); !ok && t != Ignore {
				return Mapping{}, fmt.Errorf("mapping file: column %q: %s has no field %q (see rapport import --help for the fields)", h, kind, t)
			}
			byHeader[h] = t
		}
		if o.File.Source != "" {
			m.Source = o.File.Source
		}
		if o.File.DateOrder != "" {
			m.DateOrder = o.File.DateOrder
		}
	}
	// taken says which column fills a target. A preset may map several
	// columns to one target (Pipedrive's won and lost times are both a
	// deal's close): the first non-empty cell counts.
	taken, byOf := map[string]string{}, map[string]string{}
	for i, h := range header {
		c := Column{Index: i, Header: h, Target: Ignore}
		switch t, ok := byHeader[h]; {
		case ok:
			c.Target, c.By = t, "file"
		case p != nil && p.target(h) != "":
			c.Target, c.By = p.target(h), "preset"
		default:
			if t := byName(kind, h); t != "" {
				c.Target, c.By = t, "header"
			}
		}
		if c.Target != Ignore {
			if prev, dup := taken[c.Target]; dup && !(c.By == "preset" && byOf[c.Target] == "preset") {
				if c.By == "file" {
					return Mapping{}, fmt.Errorf("columns %q and %q both map to %s", prev, h, c.Target)
				}
				// The first column named for a target keeps it.
				c.Target, c.By = Ignore, ""
			} else if !dup {
				taken[c.Target], byOf[c.Target] = h, c.By
			}
		}
		m.Columns = append(m.Columns, c)
	}
	if o.CreateFields {
		for i, c := range m.Columns {
			if c.Target != Ignore || byHeader[c.Header] == Ignore {
				continue
			}
			key := FieldKey(c.Header)
			if key == "" || taken[Custom+key] != "" {
				continue
			}
			m.Columns[i].Target, m.Columns[i].By = Custom+key, "create-fields"
			taken[Custom+key] = c.Header
		}
	}
	if m.Source == "" {
		m.Source = "file"
	}
	return m, nil
}

// byName maps a header by the targets' names and aliases.
func byName(kind, h string) string {
	n := Normal(h)
	if n == "" {
		return ""
	}
	for _, ts := range [][]Target{Kinds[kind], common} {
		for _, t := range ts {
			if n == strings.ReplaceAll(t.Name, "_", " ") || n == t.Name {
				return t.Name
			}
			for _, a := range t.Aliases {
				if n == a {
					return t.Name
				}
			}
		}
	}
	if kind == "deals" {
		if stage := hubspotStageEntered(h); stage != "" {
			return StageHistory + stage
		}
	}
	return ""
}

// FieldKey makes a custom field key of a header: lower case words joined
// by _, starting with a letter; "" when nothing is left.
func FieldKey(h string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(Normal(h)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		default:
			under = true
		}
	}
	k := b.String()
	for k != "" && (k[0] < 'a' || k[0] > 'z') {
		k = k[1:]
	}
	if len(k) > 63 {
		k = strings.TrimRight(k[:63], "_")
	}
	return k
}

// KindNames lists the kinds, sorted.
func KindNames() []string {
	out := make([]string, 0, len(Kinds))
	for k := range Kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
