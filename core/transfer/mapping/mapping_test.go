package mapping

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/transfer/read"
)

// fixture reads a file of ../testdata: its header and its rows' count.
func fixture(t *testing.T, name string) ([]string, int) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := read.Open(f, st.Size(), name, read.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := tb.Next()
		if err == io.EOF {
			break
		}
		var re *read.Error
		if err != nil && !errors.As(err, &re) {
			t.Fatal(err)
		}
		n++
	}
	return tb.Header(), n
}

// TestPresets maps the made-up exports of testdata/ and checks, column by
// column, what the exports' documentation says each one holds.
func TestPresets(t *testing.T) {
	cases := []struct {
		file, kind, preset string
		rows               int
		want               map[string]string // header → target
	}{
		{"pipedrive/organizations.csv", "organizations", "pipedrive", 3, map[string]string{
			"Organization - ID": "external_id", "Organization - Name": "name", "Organization - Website": "domain",
			"Organization - Organization created": "created_at", "Organization - Owner": Ignore, "Organization - People": Ignore,
		}},
		{"pipedrive/persons.csv", "contacts", "pipedrive", 5, map[string]string{
			"Person - ID": "external_id", "Person - Name": "name", "Person - First name": "first_name",
			"Person - Email - Work": "email", "Person - Phone - Work": "phone", "Person - Organization": "organization.name",
			"Person - Person created": "created_at", "Person - Label": Ignore,
		}},
		{"pipedrive/deals.csv", "deals", "pipedrive", 4, map[string]string{
			"Deal - ID": "external_id", "Deal - Title": "name", "Deal - Value": "amount", "Deal - Stage": "stage",
			"Deal - Pipeline": "pipeline", "Deal - Won time": "closed_at", "Deal - Lost time": "closed_at", // the first non-empty of the two
			"Deal - Contact person": "contact.name", "Deal - Organization": "organization.name",
		}},
		{"hubspot/companies.csv", "organizations", "hubspot", 2, map[string]string{
			"Record ID": "external_id", "Company name": "name", "Company Domain Name": "domain", "Number of Employees": "employees",
		}},
		{"hubspot/contacts.csv", "contacts", "hubspot", 4, map[string]string{
			"Record ID": "external_id", "Associated Company IDs": "organization.external_id", "Company Name": "organization.name",
			"Phone Number": "phone", "Lifecycle Stage": Ignore,
		}},
		{"hubspot/deals.csv", "deals", "hubspot", 2, map[string]string{
			"Deal Stage": "stage", "Close Date": "expected_close_date",
			`Date entered "Appointment Scheduled (Sales Pipeline)"`: StageHistory + "Appointment Scheduled",
			`Date entered "Closed Won (Sales Pipeline)"`:            StageHistory + "Closed Won",
		}},
		{"salesforce/Account.csv", "organizations", "salesforce", 2, map[string]string{
			"Id": "external_id", "Website": "domain", "NumberOfEmployees": "employees", "IsDeleted": Ignore,
		}},
		{"salesforce/Contact.csv", "contacts", "salesforce", 3, map[string]string{
			"AccountId": "organization.external_id", "FirstName": "first_name", "CreatedDate": "created_at",
		}},
		{"salesforce/Opportunity.csv", "deals", "salesforce", 2, map[string]string{
			"StageName": "stage", "CloseDate": "expected_close_date", "Probability": "probability", "CurrencyIsoCode": "currency",
			"IsWon": Ignore,
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			header, rows := fixture(t, c.file)
			if rows != c.rows {
				t.Errorf("%d rows read, want %d", rows, c.rows)
			}
			m, err := Map(c.kind, header, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Preset != c.preset || m.Source != c.preset {
				t.Errorf("preset %q, source %q; want %q", m.Preset, m.Source, c.preset)
			}
			got := map[string]string{}
			for _, col := range m.Columns {
				got[col.Header] = col.Target
			}
			for h, want := range c.want {
				if g, ok := got[h]; !ok || g != want {
					t.Errorf("%q maps to %q, want %q", h, g, want)
				}
			}
		})
	}
}

func TestMapByHeaderAndFile(t *testing.T) {
	header := []string{"ID", "E-Mail", "First Name", "Surname", "Company", "Favourite Colour", "Fax", "email"}
	m, err := Map("contacts", header, Options{Source: "legacy"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"external_id", "email", "first_name", "last_name", "organization.name", Ignore, Ignore, Ignore}
	for i, c := range m.Columns {
		if c.Target != want[i] {
			t.Errorf("%q maps to %q, want %q", c.Header, c.Target, want[i])
		}
	}
	if m.Preset != "" || m.Source != "legacy" {
		t.Errorf("preset %q source %q", m.Preset, m.Source)
	}
	if u := strings.Join(m.Unmapped(), "|"); u != "Favourite Colour|Fax|email" {
		t.Errorf("unmapped %q", u)
	}

	// --create-fields makes custom fields of what is left; a mapping file
	// skips a column and renames another.
	f, err := ParseFile([]byte(`{"source": "old-crm", "dateOrder": "dmy", "columns": {"Fax": "-", "Company": "custom.employer"}}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err = Map("contacts", header, Options{File: &f, CreateFields: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range m.Columns {
		got[c.Header] = c.Target + "/" + c.By
	}
	for h, w := range map[string]string{
		"Company": "custom.employer/file", "Fax": "-/file", "Favourite Colour": "custom.favourite_colour/create-fields",
		"email": "custom.email/create-fields", "ID": "external_id/header",
	} {
		if got[h] != w {
			t.Errorf("%q: %q, want %q", h, got[h], w)
		}
	}
	if m.Source != "old-crm" || m.DateOrder != "dmy" {
		t.Errorf("source %q, date order %q", m.Source, m.DateOrder)
	}
}

func TestMapRefuses(t *testing.T) {
	header := []string{"Name", "Mail", "Other"}
	cases := []struct {
		kind, file, want string
	}{
		{"widgets", ``, "unknown record type"},
		{"contacts", `{"columns": {"Nope": "email"}}`, `no column "Nope"`},
		{"contacts", `{"columns": {"Mail": "emial"}}`, `no field "emial"`},
		{"contacts", `{"columns": {"Mail": "email", "Other": "email"}}`, "both map to email"},
		{"contacts", `{"colums": {}}`, "unknown field"},
		{"contacts", `{"source": "Has Spaces"}`, "lower-case word"},
		{"contacts", `{"dateOrder": "ymd"}`, "dmy or mdy"},
		{"contacts", `{"columns": {"Mail": "custom.Bad Key"}}`, `no field "custom.Bad Key"`},
	}
	for _, c := range cases {
		var err error
		var o Options
		if c.file != "" {
			var f File
			if f, err = ParseFile([]byte(c.file)); err == nil {
				o.File = &f
			}
		}
		if err == nil {
			_, err = Map(c.kind, header, o)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: %v, want an error saying %q", c.kind, c.file, err, c.want)
		}
	}
}

func TestNormalAndFieldKey(t *testing.T) {
	for in, want := range map[string]string{
		"Person - Email - Work": "email - work", "  Deal  Value ": "deal value", "E-Mail": "e-mail",
		"Probability (%)": "probability (%)", "Organization - ID": "id",
	} {
		if got := Normal(in); got != want {
			t.Errorf("Normal(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"Favourite Colour": "favourite_colour", "2nd Phone": "nd_phone", "Größe": "gr_e", "!!!": "",
	} {
		if got := FieldKey(in); got != want {
			t.Errorf("FieldKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzMap reads any mapping file and maps any header with it: no panic,
// and every column maps to a target of the kind or to nothing.
func FuzzMap(f *testing.F) {
	f.Add(`{"columns": {"a": "email"}}`, "a,b,Person - ID")
	f.Add(`{"source": "x", "columns": {"b": "custom.k"}}`, "Record ID,Create Date,b")
	f.Add(`{}`, `Id,CreatedDate,Date entered "X (Y)"`)
	f.Fuzz(func(t *testing.T, file, header string) {
		fl, err := ParseFile([]byte(file))
		if err != nil {
			return
		}
		for _, kind := range KindNames() {
			m, err := Map(kind, strings.Split(header, ","), Options{File: &fl, CreateFields: true})
			if err != nil {
				continue
			}
			for _, c := range m.Columns {
				if _, ok := TargetOf(kind, c.Target); !ok && c.Target != Ignore {
					t.Fatalf("%s: %q maps to %q, no target", kind, c.Header, c.Target)
				}
			}
			if !crm.ExternalSource.MatchString(m.Source) {
				t.Fatalf("source %q", m.Source)
			}
		}
	})
}
