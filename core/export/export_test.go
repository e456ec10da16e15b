package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/ent/product"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/export"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// Expected cells, typed the way the export must type them, computed from
// the seeded records.
type (
	money crm.Money // an amount in cents, expected as a number with two decimals
	ts    time.Time // a time, expected in RFC 3339 UTC
	day   string    // a custom date, YYYY-MM-DD
)

// world is two workspaces: acme, exported, and other, whose records must
// never appear.
type world struct {
	acme, other context.Context // viewer contexts (admin, for seeding)
	acmeID      pulid.ID
	otherIDs    map[pulid.ID]bool
	contactCols []string
	productCols []string
	contacts    []map[string]any // column → expected cell, in ID order
	products    []map[string]any
	contactByID map[pulid.ID]*ent.Contact
	client      *ent.Client
}

func opt(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func optPtr(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func optID(id *pulid.ID) any {
	if id == nil {
		return nil
	}
	return string(*id)
}

func seed(t *testing.T, st *store.Store) *world {
	t.Helper()
	ctx := context.Background()
	c := st.Client
	wsA := must[*ent.Workspace](t)(access.CreateWorkspace(ctx, c, "acme", "Acme"))
	wsB := must[*ent.Workspace](t)(access.CreateWorkspace(ctx, c, "other", "Other"))
	w := &world{
		acme:        tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: wsA.ID, Role: tenancy.RoleAdmin}),
		other:       tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: wsB.ID, Role: tenancy.RoleAdmin}),
		acmeID:      wsA.ID,
		otherIDs:    map[pulid.ID]bool{},
		contactByID: map[pulid.ID]*ent.Contact{},
		client:      c,
	}
	for _, d := range []struct{ key, typ string }{
		{"region", "text"}, {"score", "number"}, {"vip", "boolean"}, {"since", "date"}, {"tier", "select"},
	} {
		cf := c.CustomField.Create().SetEntity(customfield.EntityContact).SetKey(d.key).SetLabel(d.key).SetType(customfield.Type(d.typ))
		if d.typ == "select" {
			cf.SetOptions([]string{"gold", "silver"})
		}
		must[*ent.CustomField](t)(cf.Save(w.acme))
	}
	// The other workspace defines a custom field of its own: not a column
	// of acme's export.
	must[*ent.CustomField](t)(c.CustomField.Create().SetEntity(customfield.EntityContact).SetKey("secret").
		SetLabel("Secret").SetType(customfield.TypeText).Save(w.other))

	org := must[*ent.Organization](t)(c.Organization.Create().SetName("Initech").SetEmployees(40).Save(w.acme))
	type contactSeed struct {
		first, last, email, phone string
		org                       bool
		custom                    map[string]any
	}
	seeds := []contactSeed{
		{first: "Ann", last: `=HYPERLINK("x")`, email: "ann@example.com",
			custom: map[string]any{"region": "+north", "score": 12.5, "vip": true, "since": "2024-02-29", "tier": "gold"}},
		{last: "Brown", custom: map[string]any{"score": 3.0}}, // no first name, email, org: missing
		{first: "@bob", last: "-5", phone: "-1 555 0100", custom: map[string]any{"vip": false, "region": "south"}},
		{first: "Cy", last: "Cole", email: "cy@example.com", org: true, custom: map[string]any{"tier": "silver", "score": -0.25}},
	}
	for _, s := range seeds {
		cc := c.Contact.Create().SetFirstName(s.first).SetLastName(s.last).SetCustomFields(s.custom)
		if s.email != "" {
			cc.SetEmail(s.email)
		}
		if s.phone != "" {
			cc.SetPhone(s.phone)
		}
		if s.org {
			// One contact came from another system, and keeps its ID there.
			cc.SetOrganizationID(org.ID).SetExternalSource("pipedrive").SetExternalID("=7")
		}
		must[*ent.Contact](t)(cc.Save(w.acme))
	}
	products := []struct {
		name   string
		price  crm.Money
		cost   crm.Money
		active bool
	}{
		{"Widget", 123450, 7, true},
		{"=SUM(A1:A9)", 0, 0, false},
		{"Gadget", 99, 1000000, true},
	}
	for _, p := range products {
		must[*ent.Product](t)(c.Product.Create().SetName(p.name).SetPrice(p.price).SetUnitCost(p.cost).SetActive(p.active).Save(w.acme))
	}
	// The other workspace's records.
	oc := must[*ent.Contact](t)(c.Contact.Create().SetLastName("Intruder").SetCustomFields(map[string]any{"secret": "hush-hush"}).Save(w.other))
	op := must[*ent.Product](t)(c.Product.Create().SetName("Contraband").SetPrice(100).Save(w.other))
	w.otherIDs[oc.ID], w.otherIDs[op.ID] = true, true

	// Expected rows, from the records as stored (re-read, for the
	// database's time precision).
	w.contactCols = []string{"id", "created_at", "updated_at", "external_source", "external_id", "first_name", "last_name", "email", "phone", "title",
		"organization_id", "owner_id", "custom.region", "custom.score", "custom.since", "custom.tier", "custom.vip"}
	for _, r := range must[[]*ent.Contact](t)(c.Contact.Query().Order(ent.Asc(contact.FieldID)).All(w.acme)) {
		w.contactByID[r.ID] = r
		row := map[string]any{
			"id": string(r.ID), "created_at": ts(r.CreatedAt), "updated_at": ts(r.UpdatedAt),
			"external_source": optPtr(r.ExternalSource), "external_id": optPtr(r.ExternalID),
			"first_name": opt(r.FirstName), "last_name": opt(r.LastName), "email": opt(r.Email),
			"phone": opt(r.Phone), "title": opt(r.Title), "organization_id": optID(r.OrganizationID),
			"owner_id": optID(r.OwnerID),
		}
		for _, k := range []string{"region", "score", "since", "tier", "vip"} {
			v, ok := r.CustomFields[k]
			switch {
			case !ok:
				row["custom."+k] = nil
			case k == "since":
				row["custom."+k] = day(v.(string))
			default:
				row["custom."+k] = v
			}
		}
		w.contacts = append(w.contacts, row)
	}
	w.productCols = []string{"id", "created_at", "updated_at", "external_source", "external_id", "name", "sku", "description", "price", "unit_cost", "currency", "active"}
	for _, r := range must[[]*ent.Product](t)(c.Product.Query().Order(ent.Asc(product.FieldID)).All(w.acme)) {
		w.products = append(w.products, map[string]any{
			"id": string(r.ID), "created_at": ts(r.CreatedAt), "updated_at": ts(r.UpdatedAt),
			"external_source": optPtr(r.ExternalSource), "external_id": optPtr(r.ExternalID),
			"name": opt(r.Name), "sku": opt(r.Sku), "description": opt(r.Description),
			"price": money(r.Price), "unit_cost": money(r.UnitCost), "currency": r.Currency, "active": r.Active,
		})
	}
	if len(w.contacts) != 4 || len(w.products) != 3 {
		t.Fatalf("seeded %d contacts, %d products", len(w.contacts), len(w.products))
	}
	return w
}

// cents writes an amount in cents as a decimal with two digits.
func cents(m money) string {
	v, sign := int64(m), ""
	if v < 0 {
		v, sign = -v, "-"
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// sheetText is how an expected cell reads in a CSV (or an XLSX read as
// text): missing empty, text escaped against formulas.
func sheetText(v any, boolWord func(bool) string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			if _, err := strconv.ParseFloat(x, 64); err != nil {
				return "'" + x
			}
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return boolWord(x)
	case money:
		return cents(x)
	case ts:
		return time.Time(x).UTC().Format(time.RFC3339Nano)
	case day:
		return string(x)
	}
	panic(fmt.Sprintf("unexpected %T", v))
}

// jsonValue is how an expected cell reads in JSON Lines decoded with
// UseNumber.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float64:
		return json.Number(strconv.FormatFloat(x, 'f', -1, 64))
	case money:
		return json.Number(cents(x))
	case ts:
		return time.Time(x).UTC().Format(time.RFC3339Nano)
	case day:
		return string(x)
	}
	return v
}

// parsed is an export read back: its header and rows of cells (strings
// for CSV and XLSX, JSON values for JSON Lines).
type parsed struct {
	cols []string
	rows [][]any
}

func parseCSV(t *testing.T, b []byte) parsed {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{cols: recs[0]}
	for _, r := range recs[1:] {
		row := make([]any, len(r))
		for i, s := range r {
			row[i] = s
		}
		p.rows = append(p.rows, row)
	}
	return p
}

func parseJSONL(t *testing.T, b []byte) parsed {
	t.Helper()
	var p parsed
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		// The keys, in order.
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var keys []string
		var vals []any
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("line %d: %q is not an object", i, line)
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k.(string))
			vals = append(vals, v)
		}
		if p.cols == nil {
			p.cols = keys
		} else if strings.Join(keys, ",") != strings.Join(p.cols, ",") {
			t.Fatalf("line %d has keys %v, want %v", i, keys, p.cols)
		}
		p.rows = append(p.rows, vals)
	}
	return p
}

func parseXLSX(t *testing.T, b []byte, sheet string) parsed {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 1 || got[0] != sheet {
		t.Fatalf("sheets %v, want [%s]", got, sheet)
	}
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	p := parsed{cols: rows[0]}
	for ri, r := range rows[1:] {
		row := make([]any, len(p.cols))
		for i := range row {
			row[i] = ""
			if i < len(r) {
				row[i] = r[i]
			}
		}
		// Numbers are numbers, not text.
		for i, col := range p.cols {
			cell, _ := excelize.CoordinatesToCellName(i+1, ri+2)
			typ, err := f.GetCellType(sheet, cell)
			if err != nil {
				t.Fatal(err)
			}
			if s := row[i].(string); s != "" && (col == "price" || col == "unit_cost" || col == "custom.score") && typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
				t.Errorf("%s %s = %q has cell type %v, want a number", sheet, cell, s, typ)
			}
		}
		p.rows = append(p.rows, row)
	}
	return p
}

func runExport(t *testing.T, ctx context.Context, c *ent.Client, o export.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := export.Run(ctx, c, &buf, o); err != nil {
		t.Fatalf("export %s %s: %v", o.Type, o.Format, err)
	}
	return buf.Bytes()
}

func TestFormats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := seed(t, st)
		viewer := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: w.acmeID, Role: tenancy.RoleViewer})
		for _, tc := range []struct {
			format export.Format
			parse  func(t *testing.T, b []byte, sheet string) parsed
			want   func(v any) any
		}{
			{export.CSV, func(t *testing.T, b []byte, _ string) parsed { return parseCSV(t, b) },
				func(v any) any { return sheetText(v, strconv.FormatBool) }},
			{export.JSONL, func(t *testing.T, b []byte, _ string) parsed { return parseJSONL(t, b) }, jsonValue},
			{export.XLSX, parseXLSX,
				func(v any) any {
					return sheetText(v, func(b bool) string { return strings.ToUpper(strconv.FormatBool(b)) })
				}},
		} {
			for _, typ := range []struct {
				name string
				cols []string
				rows []map[string]any
			}{
				{"contacts", w.contactCols, w.contacts},
				{"products", w.productCols, w.products},
			} {
				t.Run(string(tc.format)+"/"+typ.name, func(t *testing.T) {
					out := runExport(t, viewer, w.client, export.Options{Type: typ.name, Format: tc.format, PageSize: 2})
					got := tc.parse(t, out, typ.name)
					if strings.Join(got.cols, ",") != strings.Join(typ.cols, ",") {
						t.Fatalf("columns\n got %v\nwant %v", got.cols, typ.cols)
					}
					if len(got.rows) != len(typ.rows) {
						t.Fatalf("%d rows, want %d", len(got.rows), len(typ.rows))
					}
					for i, want := range typ.rows {
						for j, col := range typ.cols {
							if g, e := got.rows[i][j], tc.want(want[col]); g != e {
								t.Errorf("row %d %s = %#v, want %#v", i, col, g, e)
							}
						}
					}
				})
			}
		}
		// The dangerous cells, spelt out.
		out := parseCSV(t, runExport(t, viewer, w.client, export.Options{Type: "contacts"}))
		var cells []string
		for _, r := range out.rows {
			for _, c := range r {
				cells = append(cells, c.(string))
			}
		}
		all := strings.Join(cells, "|")
		for _, s := range []string{`|'=HYPERLINK("x")|`, "|'+north|", "|'@bob|", "|-5|", "|'-1 555 0100|", "|12.5|", "|-0.25|"} {
			if !strings.Contains(all, s) {
				t.Errorf("CSV lacks cell %s", s)
			}
		}
		prods := string(runExport(t, viewer, w.client, export.Options{Type: "products"}))
		for _, s := range []string{",1234.50,0.07,", ",0.99,10000.00,", "'=SUM(A1:A9)"} {
			if !strings.Contains(prods, s) {
				t.Errorf("products CSV lacks %s:\n%s", s, prods)
			}
		}
	})
}

func TestEveryTypeExports(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	w := seed(t, st)
	for _, typ := range export.Types() {
		for _, f := range []export.Format{export.CSV, export.JSONL, export.XLSX} {
			res, err := export.Run(w.acme, w.client, &bytes.Buffer{}, export.Options{Type: typ, Format: f})
			if err != nil {
				t.Fatalf("%s %s: %v", typ, f, err)
			}
			if res.Columns[0] != "id" || res.Columns[1] != "created_at" {
				t.Errorf("%s columns %v", typ, res.Columns)
			}
		}
	}
	// A deleted record is not exported.
	gone := pulid.ID(w.contacts[1]["id"].(string))
	if err := w.client.Contact.DeleteOneID(gone).Exec(w.acme); err != nil {
		t.Fatal(err)
	}
	out := runExport(t, w.acme, w.client, export.Options{Type: "contacts"})
	if got := parseCSV(t, out); len(got.rows) != len(w.contacts)-1 || bytes.Contains(out, []byte(gone)) {
		t.Errorf("after deleting %s the export holds %d rows: %s", gone, len(got.rows), out)
	}
	if _, err := export.Run(w.acme, w.client, &bytes.Buffer{}, export.Options{Type: "widgets"}); errcode.Of(err) != errcode.BadUserInput {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := export.Run(context.Background(), w.client, &bytes.Buffer{}, export.Options{Type: "contacts"}); err == nil {
		t.Error("an export without a viewer ran")
	}
}

func TestWhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := seed(t, st)
		for _, filter := range []string{
			``,
			`{}`,
			`{"lastNameContains":"o"}`,
			`{"or":[{"emailIsNil":true},{"hasOrganization":true}]}`,
			`{"not":{"lastNameHasPrefix":"="}}`,
			`{"and":[{"createdAtGTE":"2000-01-01T00:00:00Z"},{"firstNameNEQ":"Ann"}]}`,
			`{"hasOrganizationWith":[{"employeesGT":10}]}`,
			`{"idIn":["` + string(w.contacts[1]["id"].(string)) + `"]}`,
		} {
			t.Run(filter, func(t *testing.T) {
				// The same filter through ent.
				var in ent.ContactWhereInput
				if filter != "" {
					if err := json.Unmarshal([]byte(filter), &in); err != nil {
						t.Fatal(err)
					}
				}
				q, err := in.Filter(w.client.Contact.Query())
				if err != nil {
					t.Fatal(err)
				}
				ids := must[[]pulid.ID](t)(q.Order(ent.Asc(contact.FieldID)).IDs(w.acme))
				var want []string
				for _, id := range ids {
					want = append(want, string(id))
				}
				got := parseJSONL(t, runExport(t, w.acme, w.client, export.Options{Type: "contacts", Format: export.JSONL, Where: []byte(filter), PageSize: 1}))
				var gotIDs []string
				for _, r := range got.rows {
					gotIDs = append(gotIDs, r[0].(string))
				}
				if strings.Join(gotIDs, ",") != strings.Join(want, ",") {
					t.Errorf("exported %v, ent finds %v", gotIDs, want)
				}
			})
		}
	})
}

func TestWhereErrors(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	w := seed(t, st)
	for _, tc := range []struct{ filter, want string }{
		{`{"lastNameContain":"a"}`, `"lastNameContain"`},
		{`{"LastNameContains":"a"}`, `"LastNameContains"`},
		{`{"or":[{"nme":"x"}]}`, `"nme" in or[0]`},
		{`{"hasOrganizationWith":[{"nameContains":"x","bogus":1}]}`, `"bogus" in hasOrganizationWith[0]`},
		{`{"lastNameContains":5}`, `lastNameContains`},
		{`{"createdAtGT":"yesterday"}`, `where`},
		{`[]`, `JSON object`},
		{`{"lastName":"a"} {}`, `after`},
		{`{"lastName":`, `JSON`},
		{`{"not":{}}`, `empty`},
		{strings.Repeat(`{"not":`, 40) + `{}` + strings.Repeat(`}`, 40), `deeper`},
		{`{"lastNameIn":["` + strings.Repeat("a", export.MaxWhereSize) + `"]}`, `bytes`},
	} {
		_, err := export.Run(w.acme, w.client, &bytes.Buffer{}, export.Options{Type: "contacts", Where: []byte(tc.filter)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("filter %.60s: error %v, want one mentioning %s", tc.filter, err, tc.want)
			continue
		}
		if errcode.Of(err) != errcode.BadUserInput {
			t.Errorf("filter %.60s: error %v is %s, want BAD_USER_INPUT", tc.filter, err, errcode.Of(err))
		}
	}
}

func TestOtherWorkspaceNeverAppears(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := seed(t, st)
		for _, typ := range []string{"contacts", "products"} {
			for _, filter := range []string{``, `{"or":[{"idNEQ":"x"},{"not":{"idNEQ":"x"}}]}`} {
				out := runExport(t, w.acme, w.client, export.Options{Type: typ, Format: export.JSONL, Where: []byte(filter)})
				for id := range w.otherIDs {
					if bytes.Contains(out, []byte(id)) {
						t.Errorf("%s export of acme holds %s of the other workspace", typ, id)
					}
				}
				for _, s := range []string{"Intruder", "Contraband", "secret", "hush-hush"} {
					if bytes.Contains(out, []byte(s)) {
						t.Errorf("%s export of acme holds %q", typ, s)
					}
				}
			}
		}
		// And the other workspace sees only its own.
		got := parseJSONL(t, runExport(t, w.other, w.client, export.Options{Type: "contacts", Format: export.JSONL}))
		if len(got.rows) != 1 || got.rows[0][0] == nil || !w.otherIDs[pulid.ID(got.rows[0][0].(string))] {
			t.Errorf("other workspace's export: %v", got.rows)
		}
		if got.cols[len(got.cols)-1] != "custom.secret" {
			t.Errorf("other workspace's columns: %v", got.cols)
		}
	})
}
