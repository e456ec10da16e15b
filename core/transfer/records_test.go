package transfer_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/order"
	"github.com/rapportcrm/rapport/core/ent/product"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/ent/stagechange"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer"
	"github.com/rapportcrm/rapport/core/transfer/mapping"
)

func importBytes(t *testing.T, ctx context.Context, c *ent.Client, data []byte, o transfer.Options) *transfer.Result {
	t.Helper()
	job, err := transfer.Start(ctx, c, data, o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := transfer.Run(ctx, c, job.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// workspace makes a workspace and an admin's context in it.
func workspace(t *testing.T, st *store.Store, slug string) context.Context {
	t.Helper()
	ws, err := access.CreateWorkspace(context.Background(), st.Client, slug, slug)
	if err != nil {
		t.Fatal(err)
	}
	return tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
}

// counts is created, updated, unchanged and failed.
func counts(r *transfer.Result) [4]int { return [4]int{r.Created, r.Updated, r.Unchanged, r.Failed} }

// rejects lists a result's rejects as "row:column:reason", sorted.
func rejects(r *transfer.Result) string {
	var out []string
	for _, rj := range r.Rejects {
		out = append(out, fmt.Sprintf("%d:%s:%s", rj.Row, rj.Column, rj.Reason))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// history is a deal's stage changes as "from>to@time", in order.
func history(t *testing.T, ctx context.Context, c *ent.Client, d *ent.Deal) []string {
	t.Helper()
	scs, err := c.StageChange.Query().Where(stagechange.DealID(d.ID)).Order(ent.Asc(stagechange.FieldChangedAt)).
		WithFromStage().WithToStage().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range scs {
		from := ""
		if s.Edges.FromStage != nil {
			from = s.Edges.FromStage.Name
		}
		out = append(out, from+">"+s.Edges.ToStage.Name+"@"+s.ChangedAt.UTC().Format("2006-01-02 15:04"))
	}
	return out
}

// TestPipedriveAll imports a whole Pipedrive account (organizations,
// people, deals, activities and products) and a shop's orders as JSON
// Lines, then all of it again, then a delta of the deals. The expected
// counts, links, dates and rejects were worked out by reading the
// fixture files; the second run changes nothing and the delta changes
// exactly its one changed row.
func TestPipedriveAll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, "acme")
		c := st.Client
		for run := 1; run <= 2; run++ {
			first := func(want [4]int) [4]int {
				if run == 2 {
					return [4]int{0, 0, want[0] + want[1] + want[2], want[3]}
				}
				return want
			}
			importFile(t, ctx, c, "pipedrive/organizations.csv", "organizations", transfer.Options{})
			importFile(t, ctx, c, "pipedrive/persons.csv", "contacts", transfer.Options{})
			// 301 and 302 import into the pipeline and stages they name
			// (made as asked); 303 names an organization that is not
			// there (an orphan); 304's amount is negative.
			dl := importFile(t, ctx, c, "pipedrive/deals.csv", "deals", transfer.Options{CreateMissing: true})
			if got, want := counts(dl), first([4]int{2, 0, 0, 2}); got != want {
				t.Fatalf("run %d: deals %v, want %v; rejects %s", run, got, want, rejects(dl))
			}
			if got := rejects(dl); got != "4:Deal - Organization:unknown_organization 5:Deal - Value:invalid_amount" {
				t.Errorf("run %d: deal rejects %s", run, got)
			}
			// 404's type is not one; 405 is on the orphan deal, which
			// was not imported.
			acts := importFile(t, ctx, c, "pipedrive/activities.csv", "activities", transfer.Options{})
			if got, want := counts(acts), first([4]int{3, 0, 0, 2}); got != want {
				t.Fatalf("run %d: activities %v, want %v; rejects %s", run, got, want, rejects(acts))
			}
			if got := rejects(acts); got != "5:Activity - Type:invalid_kind 6:Activity - Deal:unknown_deal" {
				t.Errorf("run %d: activity rejects %s", run, got)
			}
			// 504 reuses 501's product code.
			prods := importFile(t, ctx, c, "pipedrive/products.csv", "products", transfer.Options{})
			if got, want := counts(prods), first([4]int{3, 0, 0, 1}); got != want {
				t.Fatalf("run %d: products %v, want %v; rejects %s", run, got, want, rejects(prods))
			}
			if got := rejects(prods); got != "5:Product - Product code:duplicate" {
				t.Errorf("run %d: product rejects %s", run, got)
			}
			// Orders have no IDs: they are known by their numbers. The
			// third names a customer who is not there, the fourth an
			// amount that is not one.
			ords := importFile(t, ctx, c, "shop/orders.jsonl", "orders", transfer.Options{})
			if got, want := counts(ords), first([4]int{2, 0, 0, 2}); got != want {
				t.Fatalf("run %d: orders %v, want %v; rejects %s", run, got, want, rejects(ords))
			}
			if got := rejects(ords); got != "3:customer_email:unknown_contact 4:total:invalid_amount" {
				t.Errorf("run %d: order rejects %s", run, got)
			}
		}

		// Deals: pipeline and stages made in the order met, amounts in
		// cents, links by name, the won deal closed when it was won.
		stages, err := c.Stage.Query().Order(ent.Asc(stage.FieldPosition)).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range stages {
			names = append(names, fmt.Sprintf("%s:%s", s.Name, s.Kind))
		}
		if got := strings.Join(names, " "); got != "Proposal Made:open Won:won" {
			t.Errorf("stages %s", got)
		}
		fjord := c.Deal.Query().Where(deal.ExternalID("301")).WithOrganization().WithContact().OnlyX(ctx)
		if fjord.Amount != 1_250_000 || fjord.Currency != "EUR" || fjord.Status != deal.StatusOpen ||
			fjord.Edges.Organization.Name != "Fjordline Logistics AS" || fjord.Edges.Contact.LastName != "Solberg" ||
			!fjord.CreatedAt.Equal(at("2024-01-15 10:00")) || !fjord.ExpectedCloseDate.Equal(at("2024-03-31 00:00")) {
			t.Errorf("deal 301: %+v", fjord)
		}
		acme := c.Deal.Query().Where(deal.ExternalID("302")).OnlyX(ctx)
		if acme.Status != deal.StatusWon || acme.ClosedAt == nil || !acme.ClosedAt.Equal(at("2023-03-10 17:45")) || acme.Amount != 400_000 {
			t.Errorf("deal 302: %+v", acme)
		}
		if got := strings.Join(history(t, ctx, c, acme), " "); got != ">Won@2023-02-01 09:00" {
			t.Errorf("deal 302 history %s", got)
		}

		// Activities: kinds read from Pipedrive's types, dated when
		// they happened, linked to deal, person and organization.
		kick := c.Activity.Query().Where(activity.ExternalID("401")).OnlyX(ctx)
		if kick.Kind != activity.KindCall || !kick.OccurredAt.Equal(at("2024-01-16 09:00")) || kick.DoneAt == nil ||
			!kick.DoneAt.Equal(at("2024-01-16 09:30")) || kick.DealID == nil || *kick.DealID != fjord.ID ||
			kick.OrganizationID == nil || kick.Body != "Discussed fleet size\nand timing" || !kick.CreatedAt.Equal(at("2024-01-15 10:05")) {
			t.Errorf("activity 401: %+v", kick)
		}
		if lunch := c.Activity.Query().Where(activity.ExternalID("403")).OnlyX(ctx); lunch.Kind != activity.KindMeeting {
			t.Errorf("activity 403 is a %s, want a meeting", lunch.Kind)
		}

		// Products: prices as written in either convention.
		tracker := c.Product.Query().Where(product.Sku("TRK-1")).OnlyX(ctx)
		old := c.Product.Query().Where(product.Sku("OLD-1")).OnlyX(ctx)
		if tracker.Price != 129_900 || tracker.UnitCost != 80_000 || !tracker.Active || old.Price != 1_250 || old.Active {
			t.Errorf("products: %+v %+v", tracker, old)
		}

		// Orders: a refund is negative; the customer by email.
		refund := c.Order.Query().Where(order.Number("A-1002")).WithContact().OnlyX(ctx)
		if refund.Amount != -4_990 || refund.Edges.Contact.LastName != "Coyote" || !refund.OrderedAt.Equal(at("2024-02-03 00:00")) {
			t.Errorf("order A-1002: %+v", refund)
		}
		if a := c.Order.Query().Where(order.Number("A-1001")).OnlyX(ctx); a.Amount != 129_900 || a.Currency != "EUR" {
			t.Errorf("order A-1001: %+v", a)
		}

		// The delta: 301 was won on 2 April; 302 is as it was.
		delta := importFile(t, ctx, c, "pipedrive/deals_delta.csv", "deals", transfer.Options{CreateMissing: true})
		if got := counts(delta); got != [4]int{0, 1, 1, 0} {
			t.Fatalf("delta %v; rejects %s", got, rejects(delta))
		}
		fjord = c.Deal.GetX(ctx, fjord.ID)
		if fjord.Status != deal.StatusWon || fjord.ClosedAt == nil || !fjord.ClosedAt.Equal(at("2024-04-02 12:00")) {
			t.Errorf("deal 301 after the delta: %+v", fjord)
		}
		if got := strings.Join(history(t, ctx, c, fjord), " "); got != ">Proposal Made@2024-01-15 10:00 Proposal Made>Won@2024-04-02 12:00" {
			t.Errorf("deal 301 history %s", got)
		}
		if n := c.Deal.Query().CountX(ctx); n != 2 {
			t.Errorf("%d deals, want 2", n)
		}
	})
}

// TestHubSpotStageHistory imports HubSpot deals whose "Date entered"
// columns give their path through the pipeline: each becomes a stage
// change dated as the export says, and the won deal closed when it
// entered Closed Won.
func TestHubSpotStageHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, "acme")
		c := st.Client
		importFile(t, ctx, c, "hubspot/companies.csv", "organizations", transfer.Options{})
		res := importFile(t, ctx, c, "hubspot/deals.csv", "deals", transfer.Options{CreateMissing: true})
		if got := counts(res); got != [4]int{2, 0, 0, 0} {
			t.Fatalf("deals %v; rejects %s", got, rejects(res))
		}
		won := c.Deal.Query().Where(deal.ExternalID("9001")).WithOrganization().OnlyX(ctx)
		if got := strings.Join(history(t, ctx, c, won), " "); got !=
			">Appointment Scheduled@2023-11-02 10:00 Appointment Scheduled>Contract Sent@2024-01-15 09:30 Contract Sent>Closed Won@2024-02-28 16:00" {
			t.Errorf("deal 9001 history %s", got)
		}
		if won.Status != deal.StatusWon || !won.ClosedAt.Equal(at("2024-02-28 16:00")) || won.Amount != 2_400_000 ||
			won.Edges.Organization == nil || won.Edges.Organization.Name != "Nimbus Analytics" {
			t.Errorf("deal 9001: %+v", won)
		}
		open := c.Deal.Query().Where(deal.ExternalID("9002")).WithStage().OnlyX(ctx)
		if got := strings.Join(history(t, ctx, c, open), " "); got !=
			">Appointment Scheduled@2024-10-01 12:00 Appointment Scheduled>Contract Sent@2024-11-05 10:00" {
			t.Errorf("deal 9002 history %s", got)
		}
		if open.Status != deal.StatusOpen || open.Amount != 180_050 || open.Edges.Stage.Name != "Contract Sent" {
			t.Errorf("deal 9002: %+v", open)
		}
		// Again: nothing changes, and no stage change is added.
		again := importFile(t, ctx, c, "hubspot/deals.csv", "deals", transfer.Options{CreateMissing: true})
		if got := counts(again); got != [4]int{0, 0, 2, 0} || c.StageChange.Query().CountX(ctx) != 5 {
			t.Errorf("second run %v, %d stage changes; want 2 unchanged and 5", got, c.StageChange.Query().CountX(ctx))
		}
		// Stages were made in the order deals went through them.
		var names []string
		for _, s := range c.Stage.Query().Order(ent.Asc(stage.FieldPosition)).AllX(ctx) {
			names = append(names, s.Name)
		}
		if got := strings.Join(names, ", "); got != "Appointment Scheduled, Contract Sent, Closed Won" {
			t.Errorf("stages %s", got)
		}
		// Without create missing, another workspace has no pipeline to
		// put them in: every row is rejected and nothing is made.
		other := workspace(t, st, "other")
		importFile(t, other, c, "hubspot/companies.csv", "organizations", transfer.Options{})
		res = importFile(t, other, c, "hubspot/deals.csv", "deals", transfer.Options{})
		if res.Failed != 2 || res.FailedByReason["unknown_pipeline"] != 2 || c.Pipeline.Query().CountX(other) != 0 {
			t.Errorf("without create missing: %v %v", counts(res), res.FailedByReason)
		}
	})
}

// TestSalesforce imports Salesforce accounts, contacts, opportunities
// and leads: IDs link contacts and opportunities to accounts, a closed
// won opportunity is won at its close date, lead statuses are read, and
// a lead repeating another's email is a duplicate.
func TestSalesforce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, "acme")
		c := st.Client
		importFile(t, ctx, c, "salesforce/Account.csv", "organizations", transfer.Options{})
		ppl := importFile(t, ctx, c, "salesforce/Contact.csv", "contacts", transfer.Options{})
		// Milton's account is not in the export, and his email is a
		// formula: the email is checked first.
		if got := rejects(ppl); got != "4:Email:invalid_email" {
			t.Errorf("contact rejects %s", got)
		}
		opps := importFile(t, ctx, c, "salesforce/Opportunity.csv", "deals", transfer.Options{CreateMissing: true})
		if got := counts(opps); got != [4]int{2, 0, 0, 0} {
			t.Fatalf("opportunities %v; rejects %s", got, rejects(opps))
		}
		won := c.Deal.Query().Where(deal.ExternalID("006A000000opp002")).WithOrganization().OnlyX(ctx)
		if won.Status != deal.StatusWon || won.ClosedAt == nil || !won.ClosedAt.Equal(at("2020-06-30 00:00")) ||
			won.Edges.Organization.Name != "Initech" {
			t.Errorf("won opportunity: %+v", won)
		}
		doom := c.Deal.Query().Where(deal.ExternalID("006A000000opp001")).OnlyX(ctx)
		if doom.Amount != 100_000_000 || doom.Probability == nil || *doom.Probability != 0.9 || doom.Status != deal.StatusOpen {
			t.Errorf("open opportunity: %+v", doom)
		}
		if again := importFile(t, ctx, c, "salesforce/Opportunity.csv", "deals", transfer.Options{CreateMissing: true}); counts(again) != [4]int{0, 0, 2, 0} {
			t.Errorf("opportunities again: %v", counts(again))
		}
		lds := importFile(t, ctx, c, "salesforce/Lead.csv", "leads", transfer.Options{})
		if got := counts(lds); got != [4]int{4, 0, 0, 1} {
			t.Fatalf("leads %v; rejects %s", got, rejects(lds))
		}
		if got := rejects(lds); got != "6:Email:duplicate" {
			t.Errorf("lead rejects %s", got)
		}
		want := map[string][2]string{
			"00QA000001lead001": {"Bob Slydell, Consultants Inc", "new"},
			"00QA000001lead002": {"Michael Bolton, Initech", "contacted"},
			"00QA000001lead003": {"Joanna, Chotchkie's", "unqualified"},
			"00QA000001lead004": {"Lumbergh, Initech", "new"},
		}
		for _, l := range c.Lead.Query().AllX(ctx) {
			if w := want[*l.ExternalID]; l.Title != w[0] || string(l.Status) != w[1] {
				t.Errorf("lead %s: %q %s, want %q %s", *l.ExternalID, l.Title, l.Status, w[0], w[1])
			}
		}
		if l := c.Lead.Query().Where(lead.ExternalID("00QA000001lead001")).OnlyX(ctx); !l.CreatedAt.Equal(at("2021-04-01 12:00")) || l.Source != "Web" {
			t.Errorf("lead 1: %+v", l)
		}
		// With merge, the duplicate folds into the lead it repeats.
		merged := importFile(t, ctx, c, "salesforce/Lead.csv", "leads", transfer.Options{Merge: true})
		if got := counts(merged); got != [4]int{0, 1, 4, 0} {
			t.Errorf("merged leads %v; rejects %s", got, rejects(merged))
		}
		if l := c.Lead.Query().Where(lead.ExternalID("00QA000001lead002")).OnlyX(ctx); l.FirstName != "Samir" {
			t.Errorf("merged lead: %+v", l)
		}
	})
}

// TestCheckAndAllOrNothing: a dry run reports what an import would do
// and writes nothing; an all-or-nothing import of a file with a bad row
// writes nothing but its job and rejects, and of a clean file writes
// all of it.
func TestCheckAndAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, "acme")
		c := st.Client
		importFile(t, ctx, c, "pipedrive/organizations.csv", "organizations", transfer.Options{})
		data, err := os.ReadFile("testdata/pipedrive/persons.csv")
		if err != nil {
			t.Fatal(err)
		}
		jobs := c.ImportJob.Query().CountX(ctx)
		res, err := transfer.Check(ctx, c, data, transfer.Options{Type: "contacts", FileName: "persons.csv", CreateFields: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := counts(res); got != [4]int{3, 0, 0, 2} {
			t.Errorf("check: %v", got)
		}
		if n := c.Contact.Query().CountX(ctx); n != 0 {
			t.Errorf("the check wrote %d contacts", n)
		}
		if n := c.CustomField.Query().CountX(ctx); n != 0 {
			t.Errorf("the check made %d custom fields", n)
		}
		if n := c.ImportJob.Query().CountX(ctx); n != jobs {
			t.Errorf("the check left a job: %d, want %d", n, jobs)
		}

		o := transfer.Options{Type: "contacts", FileName: "persons.csv", AllOrNothing: true, BatchSize: 2}
		job, err := transfer.Start(ctx, c, data, o)
		if err != nil {
			t.Fatal(err)
		}
		res, err = transfer.Run(ctx, c, job.ID, nil)
		if err == nil || res.Failed != 2 || res.Created != 0 {
			t.Fatalf("all or nothing: %v, %v", err, counts(res))
		}
		if n := c.Contact.Query().CountX(ctx); n != 0 {
			t.Errorf("all or nothing wrote %d contacts", n)
		}
		j := c.ImportJob.GetX(ctx, job.ID)
		if j.Status != "failed" || j.Failed != 2 || j.Created != 0 || c.ImportReject.Query().CountX(ctx) != 2 {
			t.Errorf("the refused job: %+v", j)
		}
		clean := importFile(t, ctx, c, "pipedrive/organizations.csv", "organizations", transfer.Options{AllOrNothing: true, BatchSize: 1})
		if got := counts(clean); got != [4]int{0, 0, 3, 0} {
			t.Errorf("a clean all-or-nothing run: %v", got)
		}
	})
}

// TestCustomFields: with create fields, an unmapped column becomes a
// text custom field labelled by its header; a column mapped to a
// number field is stored as a number, and a cell that is not one is
// rejected naming the column.
func TestCustomFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, "acme")
		c := st.Client
		importFile(t, ctx, c, "pipedrive/organizations.csv", "organizations", transfer.Options{})
		ppl := importFile(t, ctx, c, "pipedrive/persons.csv", "contacts", transfer.Options{CreateFields: true})
		if got := counts(ppl); got != [4]int{3, 0, 0, 2} {
			t.Fatalf("contacts %v; rejects %s", got, rejects(ppl))
		}
		f := c.CustomField.Query().Where(customfield.Key("label")).OnlyX(ctx)
		if f.Label != "Person - Label" || f.Type != customfield.TypeText || f.Entity != customfield.EntityContact {
			t.Errorf("made field %+v", f)
		}
		hot := 0
		for _, x := range c.Contact.Query().AllX(ctx) {
			if x.CustomFields["label"] == "Hot" {
				hot++
			}
		}
		if hot != 1 {
			t.Errorf("%d contacts labelled Hot, want 1 (Ingrid)", hot)
		}
		// People as a number: "2" and "1" and "0" are numbers.
		c.CustomField.Create().SetEntity(customfield.EntityOrganization).SetKey("people").SetLabel("People").
			SetType(customfield.TypeNumber).ExecX(ctx)
		data, _ := os.ReadFile("testdata/pipedrive/organizations.csv")
		m := &mapping.File{Columns: map[string]string{"Organization - People": "custom.people"}}
		res := importBytes(t, ctx, c, data, transfer.Options{Type: "organizations", Mapping: m})
		if got := counts(res); got != [4]int{0, 3, 0, 0} {
			t.Fatalf("organizations with people %v; rejects %s", got, rejects(res))
		}
		if n := c.Organization.Query().AllX(ctx)[0].CustomFields["people"]; fmt.Sprint(n) != "2" {
			t.Errorf("people %v (%T)", n, n)
		}
		bad := strings.Replace(string(data), ",2\r\n", ",two\r\n", 1)
		bad = strings.Replace(bad, ",2\n", ",two\n", 1)
		res = importBytes(t, ctx, c, []byte(bad), transfer.Options{Type: "organizations", Mapping: m})
		if got := rejects(res); got != "2:Organization - People:invalid_number" {
			t.Errorf("a word for a number: %s", got)
		}
	})
}

// TestAmbiguousDates: HubSpot's contacts write one date as 03/04/2023
// among ISO dates. Nothing in the file tells day-first from
// month-first, so that row is rejected naming its column; a mapping
// file that says month-first reads it as 4 March 2023. A file whose
// other dates decide (25/12/2022 is day-first) reads it as 3 April.
func TestAmbiguousDates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := workspace(t, st, "acme")
		c := st.Client
		importFile(t, ctx, c, "hubspot/companies.csv", "organizations", transfer.Options{})
		ppl := importFile(t, ctx, c, "hubspot/contacts.csv", "contacts", transfer.Options{})
		if got := rejects(ppl); got != "4:Create Date:invalid_date" || ppl.Created != 3 {
			t.Fatalf("contacts %v, rejects %s", counts(ppl), rejects(ppl))
		}
		// Priya's company by its ID, Lena's by her email's domain.
		for _, x := range c.Contact.Query().WithOrganization().AllX(ctx) {
			want := map[string]string{"Raman": "Nimbus Analytics", "O'Neil": "Harbor & Co", "Lee": ""}[x.LastName]
			got := ""
			if x.Edges.Organization != nil {
				got = x.Edges.Organization.Name
			}
			if got != want {
				t.Errorf("%s works at %q, want %q", x.LastName, got, want)
			}
		}
		res := importFile(t, ctx, c, "hubspot/contacts.csv", "contacts", transfer.Options{Mapping: &mapping.File{DateOrder: "mdy"}})
		if got := counts(res); got != [4]int{1, 0, 3, 0} {
			t.Fatalf("month first: %v, rejects %s", got, rejects(res))
		}
		lena := c.Contact.Query().Where(contact.LastName("Fischer")).WithOrganization().OnlyX(ctx)
		if !lena.CreatedAt.Equal(at("2023-03-04 10:00")) || lena.Edges.Organization == nil || lena.Edges.Organization.Name != "Nimbus Analytics" {
			t.Errorf("Lena: %+v", lena)
		}
		other := workspace(t, st, "other")
		importFile(t, other, c, "hubspot/companies.csv", "organizations", transfer.Options{})
		data, _ := os.ReadFile("testdata/hubspot/contacts.csv")
		decided := strings.Replace(string(data), "2023-07-19 11:00,2023-07-19 11:00", "25/12/2022 11:00,25/12/2022 11:00", 1)
		res = importBytes(t, other, c, []byte(decided), transfer.Options{Type: "contacts", FileName: "contacts.csv"})
		if res.Created != 4 || res.Failed != 0 {
			t.Fatalf("day first by the file: %v, rejects %s", counts(res), rejects(res))
		}
		if l := c.Contact.Query().Where(contact.LastName("Fischer")).OnlyX(other); !l.CreatedAt.Equal(at("2023-04-03 10:00")) {
			t.Errorf("Lena day first: created %v", l.CreatedAt)
		}
	})
}

// TestQuietAndRoles: an import's record events are written already
// dispatched, so the automation engine (which takes only events not yet
// dispatched) fires nothing for them; with FireAutomations they wait
// for it. A viewer can neither import nor check a file.
func TestQuietAndRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		c := st.Client
		for _, fire := range []bool{false, true} {
			ctx := workspace(t, st, fmt.Sprint("fire-", fire))
			importFile(t, ctx, c, "pipedrive/organizations.csv", "organizations", transfer.Options{FireAutomations: fire})
			evs := c.Event.Query().Where(event.WorkspaceID(tenancy.FromContext(ctx).WorkspaceID)).AllX(tenancy.System(ctx))
			waiting := 0
			for _, e := range evs {
				if e.DispatchedAt == nil {
					waiting++
				}
			}
			if want := map[bool]int{false: 0, true: 3}[fire]; len(evs) != 3 || waiting != want {
				t.Errorf("fire %v: %d events, %d waiting for automations; want 3 and %d", fire, len(evs), waiting, want)
			}
		}
		ws := tenancy.FromContext(workspace(t, st, "viewed")).WorkspaceID
		viewer := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws, Role: tenancy.RoleViewer})
		data, _ := os.ReadFile("testdata/pipedrive/organizations.csv")
		if _, err := transfer.Start(viewer, c, data, transfer.Options{Type: "organizations"}); err == nil {
			t.Error("a viewer started an import")
		}
		if _, err := transfer.Check(viewer, c, data, transfer.Options{Type: "organizations"}, nil); err == nil {
			t.Error("a viewer checked an import")
		}
	})
}
