package demo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// The plan is the whole demo data set, built in memory from a seeded
// random source before anything is written. Records refer to each other
// by index into the plan's slices (none for no link); the writer turns
// indexes into IDs. Building the plan touches no database and no clock, so
// the same Now always gives the same plan; and since everything that
// depends on dates draws from its own random stream, another Now gives
// the same records shifted in time (give or take the few at the edges).

// none marks a missing link.
const none = -1

// seedA and seedB seed the PCG source; changing them changes every record.
const seedA, seedB = 0x5eed_0f_d3_70, 0x0dd_ba11

// Sizes of the generated data set.
const (
	numOrgs         = 150
	numLooseContact = 60  // contacts without an organization
	numSalesDeals   = 880 // Sales pipeline
	numPartnerDeals = 100 // Partnerships pipeline
	numOpenLeads    = 200 // leads not (yet) converted
	numLeadDeals    = 90  // Sales deals that came from a converted lead
	months          = 24  // of history before Now
)

type weighted[T any] struct {
	v T
	w float64
}

type memberPlan struct {
	name, email, role string
}

type productPlan struct {
	name, sku, description string
	price, cost            int64 // cents
	annual                 bool  // a yearly subscription rather than a one-off
}

// Product indexes.
const (
	prodStarter = iota
	prodGrowth
	prodEnterprise
	prodOnboarding
	prodMigration
	prodTraining
	prodSupport
	prodAnalytics
	prodSSO
	prodAPI
	prodSandbox
	prodIntegration
)

type stagePlan struct {
	name        string
	probability float64
	kind        string // open, won, lost
}

type pipelinePlan struct {
	name      string
	isDefault bool
	// stages are in position order: the open stages, then won, then lost.
	stages []stagePlan
}

// open is the number of open stages; won and lost are the indexes of the
// terminal stages.
func (p *pipelinePlan) open() int { return len(p.stages) - 2 }
func (p *pipelinePlan) won() int  { return len(p.stages) - 2 }
func (p *pipelinePlan) lost() int { return len(p.stages) - 1 }

// Pipeline indexes.
const (
	pipeSales = iota
	pipeRenewals
	pipePartnerships
)

type tagPlan struct{ name, color string }

// Tag indexes.
const (
	tagVIP = iota
	tagPartner
	tagChurnRisk
	tagDecisionMaker
	tagNewsletter
	tagReference
)

type fieldPlan struct {
	entity, key, label, typ string
	options                 []string
}

type orgPlan struct {
	name, domain, industry string
	employees              int
	owner                  int
	tags                   []int
	tier                   string // custom field "tier", "" when unset
	contacts               []int  // the first is the primary contact
	created                time.Time
}

type contactPlan struct {
	first, last, email, phone, title string
	org, owner                       int
	tags                             []int
	linkedin                         string // custom field "linkedin", "" when unset
	created                          time.Time
}

// step is one entry of a deal's stage history: the deal entered stage
// (an index into its pipeline's stages) at at.
type step struct {
	stage int
	at    time.Time
}

type itemPlan struct {
	product, quantity int
	unitPrice         int64
}

type dealPlan struct {
	name          string
	pipeline      int
	path          []step // path[0] is the deal's creation
	items         []itemPlan
	amount        int64
	expectedClose time.Time
	lostReason    string
	org, contact  int
	owner         int
	tags          []int
}

func (d *dealPlan) created() time.Time { return d.path[0].at }
func (d *dealPlan) last() step         { return d.path[len(d.path)-1] }

type leadPlan struct {
	title, first, last, email, phone, company, source, status string
	estimatedValue                                            int64 // 0: not set
	convertedAt                                               time.Time
	org, contact, deal, owner                                 int
	created                                                   time.Time
}

type activityPlan struct {
	kind, subject, body, direction string
	occurred, due, done            time.Time
	contact, org, deal, lead       int
	owner                          int
}

type orderPlan struct {
	number       string
	amount, cost int64
	at           time.Time
	contact, org int
	deal         int
	refund       bool
	seq          int // generation order, to sort ties
}

type plan struct {
	now, start, setup time.Time

	members    []memberPlan
	products   []productPlan
	pipelines  []pipelinePlan
	tags       []tagPlan
	fields     []fieldPlan
	orgs       []orgPlan
	contacts   []contactPlan
	deals      []dealPlan
	leads      []leadPlan
	activities []activityPlan
	orders     []orderPlan

	// customers by organization index (nil: never bought), for renewals
	// and tags.
	customers []*customer
}

// closed reports whether the deal ended in a won or lost stage, and when.
func (p *plan) closed(d *dealPlan) (string, time.Time, bool) {
	last := d.last()
	kind := p.pipelines[d.pipeline].stages[last.stage].kind
	return kind, last.at, kind != "open"
}

// generator draws the plan from its random source.
type generator struct {
	r *rand.Rand
	p *plan
}

// Streams of random numbers. Each record that depends on dates draws from
// its own stream (sub), so that a different Now shifts the data in time
// instead of reshuffling it.
const (
	streamSales = iota + 1
	streamPartner
	streamCustomer
	streamRenewal
	streamLeadDeal
	streamLead
	streamDealActivity
	streamLeadActivity
	streamContactActivity
	streamTags
	streamCreated
)

// sub returns a generator drawing from record i's own stream.
func (g *generator) sub(stream, i int) *generator {
	return &generator{r: rand.New(rand.NewPCG(seedA+uint64(stream)<<40, seedB+uint64(i))), p: g.p}
}

type customer struct {
	org        int
	first      time.Time // first order
	cadence    int       // days between orders
	annual     int64     // yearly revenue, cents
	churned    bool
	lastOrder  time.Time
	acquiredBy int // the won deal that made the customer, or none
	existing   bool
}

// newPlan builds the demo data set for the 24 months before now.
func newPlan(now time.Time) *plan {
	now = now.UTC().Truncate(time.Second)
	start := now.AddDate(0, -months, 0)
	p := &plan{now: now, start: start, setup: start.AddDate(0, -2, 0)}
	p.customers = make([]*customer, numOrgs)
	g := &generator{r: rand.New(rand.NewPCG(seedA, seedB)), p: p}
	g.static()
	g.organizations()
	g.salesDeals()
	g.partnerDeals()
	g.ordersAndChurn()
	g.renewalDeals()
	g.leads()
	g.activitiesFor()
	g.tagCustomers()
	g.createdTimes()
	g.numberOrders()
	return p
}

// --- random helpers ---

func (g *generator) chance(prob float64) bool { return g.r.Float64() < prob }

func (g *generator) uniform(lo, hi float64) float64 { return lo + g.r.Float64()*(hi-lo) }

func (g *generator) days(lo, hi float64) time.Duration {
	return time.Duration(g.uniform(lo, hi) * float64(24*time.Hour))
}

// between returns a time in [a, b), or a if b is not after a.
func (g *generator) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(g.r.Int64N(int64(b.Sub(a)))))
}

// growing returns a time in [a, b) whose density rises towards b, as a
// growing business's does.
func (g *generator) growing(a, b time.Time) time.Time {
	f := g.r.Float64()
	if g.chance(0.5) {
		f = math.Sqrt(f)
	}
	return a.Add(time.Duration(f * float64(b.Sub(a))))
}

func pick[T any](g *generator, xs []T) T { return xs[g.r.IntN(len(xs))] }

func pickWeighted[T any](g *generator, xs []weighted[T]) T {
	total := 0.0
	for _, x := range xs {
		total += x.w
	}
	f := g.r.Float64() * total
	for _, x := range xs {
		if f < x.w {
			return x.v
		}
		f -= x.w
	}
	return xs[len(xs)-1].v
}

// office maps t into office hours (08:00–18:00 UTC) of its day, keeping
// the order of times, and drops sub-second precision.
func office(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.Add(8*time.Hour + t.Sub(day)*10/24).Truncate(time.Second)
}

// officeIn is office(t), unless that falls outside [lo, hi]; then t
// itself, to the second.
func officeIn(t, lo, hi time.Time) time.Time {
	if o := office(t); !o.Before(lo) && !o.After(hi) {
		return o
	}
	return t.Truncate(time.Second)
}

func day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// roundTo rounds cents to a multiple of unit cents.
func roundTo(cents float64, unit int64) int64 {
	return int64(math.Round(cents/float64(unit))) * unit
}

func (g *generator) writableOwner() int { return g.r.IntN(5) } // members 0..4 may write

// fill puts a first name and an organization's name into a subject.
func fill(s, first, org string) string {
	if first == "" {
		first = "the team"
	}
	if org == "" {
		org = "the account"
	}
	return strings.NewReplacer("{first}", first, "{org}", org).Replace(s)
}

// names returns the first name of contact and the name of org, "" for
// none.
func (p *plan) names(contact, org int) (first, orgName string) {
	if contact != none {
		first = p.contacts[contact].first
	}
	if org != none {
		orgName = p.orgs[org].name
	}
	return first, orgName
}

// --- the data ---

func (g *generator) static() {
	p := g.p
	p.members = []memberPlan{
		{"Demo Admin", "admin@demo.example", "admin"},
		{"Maya Lindqvist", "maya@demo.example", "member"},
		{"Jonas Adeyemi", "jonas@demo.example", "member"},
		{"Priya Novak", "priya@demo.example", "member"},
		{"Luis Hartmann", "luis@demo.example", "member"},
		{"Tom Ibarra", "tom@demo.example", "viewer"},
	}
	p.products = []productPlan{
		{"Starter plan, annual seat", "STR-SEAT-Y", "Core CRM for small teams, billed per seat and year.", 240_00, 30_00, true},
		{"Growth plan, annual seat", "GRW-SEAT-Y", "Pipelines, automation and reports, billed per seat and year.", 600_00, 62_00, true},
		{"Enterprise plan, annual seat", "ENT-SEAT-Y", "Everything, with audit log and sandbox, billed per seat and year.", 1_200_00, 115_00, true},
		{"Onboarding package", "SRV-ONB", "Guided set-up: import, pipelines and two training sessions.", 2_500_00, 1_400_00, false},
		{"Data migration", "SRV-MIG", "Migration of records and history from another CRM.", 3_500_00, 2_150_00, false},
		{"Training day", "SRV-TRN", "One day of on-site or remote training for up to 15 people.", 1_800_00, 950_00, false},
		{"Premium support, annual", "SUP-PRM-Y", "24/7 support with a named engineer.", 4_800_00, 1_900_00, true},
		{"Analytics add-on, annual seat", "ADD-ANL-Y", "Cohorts, forecasts and custom dashboards.", 180_00, 24_00, true},
		{"SSO and audit add-on, annual", "ADD-SSO-Y", "SAML single sign-on and exportable audit trail.", 3_000_00, 310_00, true},
		{"API volume pack, 1M calls", "ADD-API-1M", "One million extra API calls per year.", 900_00, 220_00, true},
		{"Sandbox environment, annual", "ADD-SBX-Y", "A full copy of the workspace for testing.", 1_500_00, 420_00, true},
		{"Custom integration", "SRV-INT", "An integration built by our services team.", 8_000_00, 5_200_00, false},
	}
	p.pipelines = []pipelinePlan{
		{"Sales", true, []stagePlan{
			{"Lead in", 0.05, "open"}, {"Qualified", 0.15, "open"}, {"Demo", 0.30, "open"},
			{"Proposal", 0.50, "open"}, {"Negotiation", 0.75, "open"},
			{"Won", 1, "won"}, {"Lost", 0, "lost"},
		}},
		{"Renewals", false, []stagePlan{
			{"Upcoming", 0.60, "open"}, {"In review", 0.75, "open"}, {"Quote sent", 0.85, "open"},
			{"Renewed", 1, "won"}, {"Churned", 0, "lost"},
		}},
		{"Partnerships", false, []stagePlan{
			{"Identified", 0.05, "open"}, {"Intro call", 0.15, "open"}, {"Evaluation", 0.30, "open"},
			{"Term sheet", 0.60, "open"}, {"Signed", 1, "won"}, {"Declined", 0, "lost"},
		}},
	}
	p.tags = []tagPlan{
		{"VIP", "#d4a017"}, {"Partner", "#2e86de"}, {"Churn risk", "#e74c3c"},
		{"Decision maker", "#8e44ad"}, {"Newsletter", "#27ae60"}, {"Reference customer", "#16a085"},
	}
	p.fields = []fieldPlan{
		{"contact", "linkedin", "LinkedIn profile", "text", nil},
		{"organization", "tier", "Account tier", "select", []string{"strategic", "growth", "standard"}},
	}
}

func (g *generator) organizations() {
	p := g.p
	names := map[string]bool{}
	for len(p.orgs) < numOrgs {
		ind := pick(g, industries)
		first, word := pick(g, orgFirstWords), pick(g, ind.words)
		base := first + " " + word
		if names[base] {
			continue
		}
		names[base] = true
		var employees int
		switch f := g.r.Float64(); {
		case f < 0.40:
			employees = int(math.Exp(g.uniform(math.Log(5), math.Log(50))))
		case f < 0.75:
			employees = int(math.Exp(g.uniform(math.Log(50), math.Log(500))))
		case f < 0.95:
			employees = int(math.Exp(g.uniform(math.Log(500), math.Log(5000))))
		default:
			employees = int(math.Exp(g.uniform(math.Log(5000), math.Log(60000))))
		}
		o := orgPlan{
			name:      base + pick(g, orgSuffixes),
			domain:    strings.ToLower(first+word) + ".example",
			industry:  ind.name,
			employees: employees,
			owner:     g.writableOwner(),
		}
		if g.chance(0.75) {
			switch {
			case employees >= 1000:
				o.tier = "strategic"
			case employees >= 100:
				o.tier = "growth"
			default:
				o.tier = "standard"
			}
		}
		p.orgs = append(p.orgs, o)
	}
	for i := range p.orgs {
		o := &p.orgs[i]
		n := 2 + g.r.IntN(5)
		used := map[string]bool{}
		for k := 0; k < n; k++ {
			c := g.person(o.domain, used)
			c.org, c.owner = i, o.owner
			if k == 0 {
				c.title = pick(g, leaderTitles)
			} else {
				c.title = pick(g, staffTitles)
			}
			o.contacts = append(o.contacts, len(p.contacts))
			p.contacts = append(p.contacts, c)
		}
	}
	used := map[string]bool{}
	for k := 0; k < numLooseContact; k++ {
		c := g.person("mail.example", used)
		c.org, c.owner = none, g.writableOwner()
		if g.chance(0.5) {
			c.title = "Consultant"
		}
		p.contacts = append(p.contacts, c)
	}
}

// person makes a contact with a name, an email at domain (unique within
// used), a phone and sometimes a LinkedIn profile.
func (g *generator) person(domain string, used map[string]bool) contactPlan {
	c := contactPlan{first: pick(g, firstNames), last: pick(g, lastNames)}
	local := strings.ToLower(c.first + "." + c.last)
	for n := 2; used[local]; n++ {
		local = fmt.Sprintf("%s.%s%d", strings.ToLower(c.first), strings.ToLower(c.last), n)
	}
	used[local] = true
	c.email = local + "@" + domain
	c.phone = fmt.Sprintf("+1 %s 555 01%02d", pick(g, areaCodes), g.r.IntN(100))
	if g.chance(0.4) {
		c.linkedin = fmt.Sprintf("https://linkedin.example/in/%s-%s-%04d",
			strings.ToLower(c.first), strings.ToLower(c.last), g.r.IntN(10000))
	}
	return c
}

// history draws a deal's path through pipeline pl: created at created,
// reaching its end (won, or lost from stage lostAt) cycle later. Steps
// after Now are cut off, leaving the deal open; a stalled deal stops at an
// open stage for good.
func (g *generator) history(pl *pipelinePlan, created time.Time, cycle time.Duration, won bool, lostAt int, stalled bool) []step {
	last := lostAt
	if won {
		last = pl.open() - 1
	}
	stages := []int{0}
	for s := 1; s <= last; s++ {
		if s < last && g.chance(0.07) {
			continue // now and then a stage is skipped
		}
		stages = append(stages, s)
	}
	if won {
		stages = append(stages, pl.won())
	} else {
		stages = append(stages, pl.lost())
	}
	fr := make([]float64, len(stages)-2)
	for i := range fr {
		fr[i] = g.r.Float64()
	}
	slices.Sort(fr)
	fr = append(append([]float64{0}, fr...), 1)
	path := make([]step, len(stages))
	for i, s := range stages {
		at := created
		if i > 0 {
			at = office(created.Add(time.Duration(fr[i] * float64(cycle))))
			if earliest := path[i-1].at.Add(time.Minute); at.Before(earliest) {
				at = earliest
			}
		}
		path[i] = step{stage: s, at: at}
	}
	if stalled {
		path = path[:1+g.r.IntN(len(path)-1)]
	}
	for i, s := range path {
		if s.at.After(g.p.now) {
			return path[:i]
		}
	}
	return path
}

// lostStage draws the open stage a lost deal fell out of: early stages
// lose more deals than late ones.
func (g *generator) lostStage(pl *pipelinePlan) int {
	ws := make([]weighted[int], pl.open())
	for i := range ws {
		ws[i] = weighted[int]{i, float64(pl.open() - i)}
	}
	return pickWeighted(g, ws)
}

// expectedClose is the close date a deal was forecast with.
func (g *generator) expectedClose(d *dealPlan, cycle time.Duration) time.Time {
	exp := day(d.created().Add(time.Duration(float64(cycle) * g.uniform(0.85, 1.2))))
	if _, _, closed := g.p.closed(d); !closed && exp.Before(g.p.now) && d.last().at.After(g.p.now.AddDate(0, -2, 0)) {
		// An active open deal is forecast to close soon; only stalled
		// deals are left overdue.
		exp = day(g.p.now.Add(g.days(3, 60)))
	}
	return exp
}

// planItems draws the products a deal for org sells, and their total.
func (g *generator) planItems(org int) ([]itemPlan, int64) {
	p := g.p
	prod, seats := prodStarter, 1+g.r.IntN(5)
	employees := 10
	if org != none {
		employees = p.orgs[org].employees
		seats = max(3, min(400, int(float64(employees)*g.uniform(0.04, 0.25))))
	}
	switch {
	case employees >= 500:
		prod = prodEnterprise
	case employees >= 50:
		prod = prodGrowth
	}
	disc := 0
	switch {
	case seats > 100:
		disc = 5 + g.r.IntN(16)
	case seats > 20:
		disc = g.r.IntN(11)
	}
	price := func(i int) int64 { return p.products[i].price * int64(100-disc) / 100 }
	items := []itemPlan{{prod, seats, price(prod)}}
	add := func(prob float64, product, qty int) {
		if g.chance(prob) {
			items = append(items, itemPlan{product, qty, price(product)})
		}
	}
	add(0.5, prodOnboarding, 1)
	add(0.2, prodMigration, 1)
	add(0.15, prodTraining, 1+g.r.IntN(3))
	add(0.2, prodAnalytics, max(1, seats/2))
	add(0.1, prodAPI, 1+g.r.IntN(4))
	if employees >= 200 {
		add(0.35, prodSupport, 1)
		add(0.3, prodSSO, 1)
		add(0.15, prodSandbox, 1)
		add(0.1, prodIntegration, 1)
	}
	var total int64
	for _, it := range items {
		total += int64(it.quantity) * it.unitPrice
	}
	return items, total
}

// contactOf picks a contact of org, or a contact without organization.
func (g *generator) contactOf(org int) int {
	if org != none {
		return pick(g, g.p.orgs[org].contacts)
	}
	return numOrgsContacts(g.p) + g.r.IntN(numLooseContact)
}

func numOrgsContacts(p *plan) int { return len(p.contacts) - numLooseContact }

func (g *generator) salesDeals() {
	p := g.p
	pl := &p.pipelines[pipeSales]
	for i := 0; i < numSalesDeals; i++ {
		g := g.sub(streamSales, i)
		org := none
		if g.chance(0.95) {
			org = g.r.IntN(len(p.orgs))
		}
		created := office(g.growing(p.start, p.now.AddDate(0, 0, -1)))
		won := g.chance(0.30)
		lostAt := g.lostStage(pl)
		cycleDays := min(200, 14+g.r.ExpFloat64()*35)
		if !won {
			cycleDays *= float64(lostAt+1)/float64(pl.open()) + 0.2
		}
		cycle := time.Duration(cycleDays * float64(24*time.Hour))
		stalled := created.Before(p.now.AddDate(0, -5, 0)) && g.chance(0.05)
		d := dealPlan{
			pipeline: pipeSales,
			path:     g.history(pl, created, cycle, won, lostAt, stalled),
			org:      org,
			contact:  g.contactOf(org),
			owner:    g.writableOwner(),
		}
		if org != none {
			d.owner = p.orgs[org].owner
		}
		d.items, d.amount = g.planItems(org)
		it := d.items[0]
		who := p.contacts[d.contact].first + " " + p.contacts[d.contact].last
		if org != none {
			who = p.orgs[org].name
		}
		d.name = fmt.Sprintf("%s: %s, %d seats", who, strings.Split(p.products[it.product].name, ",")[0], it.quantity)
		if kind, _, _ := p.closed(&d); kind == "lost" {
			d.lostReason = pickWeighted(g, lostReasons)
		}
		d.expectedClose = g.expectedClose(&d, cycle)
		p.deals = append(p.deals, d)
	}
}

func (g *generator) partnerDeals() {
	p := g.p
	pl := &p.pipelines[pipePartnerships]
	for i := 0; i < numPartnerDeals; i++ {
		g := g.sub(streamPartner, i)
		org := g.r.IntN(len(p.orgs))
		created := office(g.growing(p.start, p.now.AddDate(0, 0, -1)))
		won := g.chance(0.22)
		lostAt := g.lostStage(pl)
		cycle := time.Duration(min(300, 30+g.r.ExpFloat64()*60) * float64(24*time.Hour))
		stalled := created.Before(p.now.AddDate(0, -6, 0)) && g.chance(0.05)
		d := dealPlan{
			name:     fmt.Sprintf("%s: %s", p.orgs[org].name, pick(g, partnershipKinds)),
			pipeline: pipePartnerships,
			path:     g.history(pl, created, cycle, won, lostAt, stalled),
			amount:   roundTo(g.uniform(20_000_00, 250_000_00), 500_00),
			org:      org,
			contact:  p.orgs[org].contacts[0],
			owner:    p.orgs[org].owner,
		}
		kind, _, _ := p.closed(&d)
		switch kind {
		case "lost":
			d.lostReason = pickWeighted(g, lostReasons)
		case "won":
			d.tags = []int{tagPartner}
			if !slices.Contains(p.orgs[org].tags, tagPartner) {
				p.orgs[org].tags = append(p.orgs[org].tags, tagPartner)
			}
		}
		d.expectedClose = g.expectedClose(&d, cycle)
		p.deals = append(p.deals, d)
	}
}

// recurring is the yearly part of a deal's items.
func (g *generator) recurring(items []itemPlan) int64 {
	var sum int64
	for _, it := range items {
		if g.p.products[it.product].annual {
			sum += int64(it.quantity) * it.unitPrice
		}
	}
	return sum
}

// ordersAndChurn makes customers of organizations — some from before the
// window, the others from their first won Sales deal — and their orders at
// a regular cadence until they churn or Now comes.
func (g *generator) ordersAndChurn() {
	p := g.p
	firstWin := make([]int, len(p.orgs))
	for i := range firstWin {
		firstWin[i] = none
	}
	for i := range p.deals {
		d := &p.deals[i]
		kind, at, _ := p.closed(d)
		if d.pipeline != pipeSales || d.org == none || kind != "won" {
			continue
		}
		if w := firstWin[d.org]; w == none || at.Before(p.deals[w].last().at) {
			firstWin[d.org] = i
		}
	}
	cadences := []weighted[int]{{7, 30}, {14, 35}, {30, 28}, {91, 7}}
	for org := range p.orgs {
		g := g.sub(streamCustomer, org)
		c := &customer{org: org, acquiredBy: none}
		switch {
		case g.chance(0.25):
			c.existing = true
			c.first = office(p.start.Add(g.days(0, 30)))
			items, _ := g.planItems(org)
			c.annual = g.recurring(items)
		case firstWin[org] != none:
			d := &p.deals[firstWin[org]]
			c.acquiredBy = firstWin[org]
			c.first = office(d.last().at.Add(g.days(2, 14)))
			c.annual = g.recurring(d.items)
			if c.annual == 0 {
				c.annual = d.amount / 2
			}
		default:
			continue
		}
		if c.first.After(p.now) {
			continue
		}
		p.customers[org] = c
		c.cadence = pickWeighted(g, cadences)
		hazard := 0.03 // per month
		switch emp := p.orgs[org].employees; {
		case emp < 50:
			hazard = 0.045
		case emp >= 500:
			hazard = 0.018
		}
		perOrder := float64(c.annual) * float64(c.cadence) / 365
		costRatio := g.uniform(0.22, 0.45)
		quit := 1 - math.Pow(1-hazard, float64(c.cadence)/30.4)
		contact := p.orgs[org].contacts[0]
		for n, t := 0, c.first; !t.After(p.now); n++ {
			months := t.Sub(c.first).Hours() / 24 / 30.4
			amount := max(25_00, int64(perOrder*(1+0.006*months)*g.uniform(0.9, 1.1)))
			cost := int64(float64(amount) * costRatio * g.uniform(0.9, 1.1))
			o := orderPlan{amount: amount, cost: cost, at: t, contact: contact, org: org, deal: none}
			if n == 0 {
				o.deal = c.acquiredBy
			}
			g.addOrder(o)
			c.lastOrder = t
			if g.chance(0.015) {
				frac := pick(g, []float64{1, 0.5, 0.25})
				if at := office(t.Add(g.days(2, 20))); !at.After(p.now) {
					g.addOrder(orderPlan{
						amount: -int64(float64(amount) * frac), cost: -int64(float64(cost) * frac),
						at: at, contact: contact, org: org, deal: none, refund: true,
					})
				}
			}
			if g.chance(quit) {
				c.churned = true
				break
			}
			next := t.AddDate(0, 0, c.cadence)
			if c.cadence == 30 {
				next = t.AddDate(0, 1, 0)
			}
			t = office(next.Add(g.days(-1, 1)))
		}
	}
}

func (g *generator) addOrder(o orderPlan) {
	o.seq = len(g.p.orders)
	g.p.orders = append(g.p.orders, o)
}

// renewalDeals opens a Renewals deal 60 days before each contract
// anniversary of a customer: won when the customer stayed, lost when it
// churned, open while undecided.
func (g *generator) renewalDeals() {
	p := g.p
	pl := &p.pipelines[pipeRenewals]
	for _, c := range p.customers {
		if c == nil {
			continue
		}
		g := g.sub(streamRenewal, c.org)
		anchor := c.first
		if c.existing {
			anchor = p.start.AddDate(0, -g.r.IntN(12), 0)
		}
		end := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) // when orders stop
		if c.churned {
			end = c.lastOrder.AddDate(0, 0, c.cadence)
		}
		for k := 1; ; k++ {
			anniversary := anchor.AddDate(k, 0, 0)
			created := office(anniversary.AddDate(0, 0, -60).Add(g.days(-5, 5)))
			if created.After(p.now.AddDate(0, 0, -1)) {
				break
			}
			if created.Before(p.start) || end.Before(created) {
				continue
			}
			won := end.After(anniversary.AddDate(0, 0, 30))
			var closeAt time.Time
			if won {
				closeAt = anniversary.Add(-g.days(0, 25))
			} else {
				closeAt = end
				if limit := anniversary.AddDate(0, 0, 30); closeAt.After(limit) {
					closeAt = limit
				}
			}
			if earliest := created.AddDate(0, 0, 7); closeAt.Before(earliest) {
				closeAt = earliest.Add(g.days(0, 5))
			}
			org := &p.orgs[c.org]
			prod := prodStarter
			switch {
			case org.employees >= 500:
				prod = prodEnterprise
			case org.employees >= 50:
				prod = prodGrowth
			}
			seats := max(1, int(c.annual/p.products[prod].price))
			d := dealPlan{
				name:     fmt.Sprintf("%s: renewal %d", org.name, anniversary.Year()),
				pipeline: pipeRenewals,
				path:     g.history(pl, created, closeAt.Sub(created), won, g.r.IntN(pl.open()), false),
				items:    []itemPlan{{prod, seats, p.products[prod].price}},
				amount:   int64(seats) * p.products[prod].price,
				org:      c.org,
				contact:  org.contacts[0],
				owner:    org.owner,
			}
			if kind, _, _ := p.closed(&d); kind == "lost" {
				d.lostReason = pickWeighted(g, []weighted[string]{
					{"Moved to a competitor", 40}, {"Budget cut", 30}, {"Company downsized", 15}, {"Product not adopted", 15},
				})
			}
			d.expectedClose = day(anniversary)
			p.deals = append(p.deals, d)
		}
	}
}

func (g *generator) leads() {
	p := g.p
	// Leads that became Sales deals: the deal was created on conversion.
	for _, i := range g.sub(streamLeadDeal, 0).r.Perm(numSalesDeals) {
		if len(p.leads) == numLeadDeals {
			break
		}
		g := g.sub(streamLeadDeal, i+1)
		d := &p.deals[i]
		if d.pipeline != pipeSales || d.org == none || d.created().Before(p.start.AddDate(0, 0, 45)) {
			continue
		}
		c, o := &p.contacts[d.contact], &p.orgs[d.org]
		p.leads = append(p.leads, leadPlan{
			title:          fmt.Sprintf("%s: %s", o.name, pick(g, leadInterests)),
			first:          c.first,
			last:           c.last,
			email:          c.email,
			phone:          c.phone,
			company:        o.name,
			source:         pickWeighted(g, leadSources),
			status:         "converted",
			estimatedValue: roundTo(float64(d.amount)*g.uniform(0.7, 1.3), 100_00),
			convertedAt:    d.created(),
			org:            d.org,
			contact:        d.contact,
			deal:           i,
			owner:          d.owner,
			created:        office(d.created().Add(-g.days(3, 40))),
		})
	}
	// Leads still in the funnel, or disqualified.
	taken := map[string]bool{}
	for _, o := range p.orgs {
		taken[o.domain] = true
	}
	for k := 0; k < numOpenLeads; k++ {
		g := g.sub(streamLead, k)
		var company, domain string
		for {
			ind := pick(g, industries)
			first, word := pick(g, orgFirstWords), pick(g, ind.words)
			company, domain = first+" "+word, strings.ToLower(first+word)+".example"
			if !taken[domain] {
				break
			}
		}
		created := office(g.growing(p.start, p.now.Add(-2*time.Hour)))
		age := p.now.Sub(created)
		var statuses []weighted[string]
		switch {
		case age < 7*24*time.Hour:
			statuses = []weighted[string]{{"new", 60}, {"contacted", 30}, {"qualified", 10}}
		case age < 30*24*time.Hour:
			statuses = []weighted[string]{{"new", 20}, {"contacted", 35}, {"qualified", 30}, {"unqualified", 15}}
		default:
			statuses = []weighted[string]{{"new", 5}, {"contacted", 15}, {"qualified", 10}, {"unqualified", 70}}
		}
		c := g.person(domain, map[string]bool{})
		l := leadPlan{
			title:   fmt.Sprintf("%s: %s", company, pick(g, leadInterests)),
			first:   c.first,
			last:    c.last,
			email:   c.email,
			company: company,
			source:  pickWeighted(g, leadSources),
			status:  pickWeighted(g, statuses),
			org:     none, contact: none, deal: none, owner: none,
			created: created,
		}
		if g.chance(0.6) {
			l.phone = c.phone
		}
		if g.chance(0.65) {
			l.estimatedValue = roundTo(math.Exp(g.uniform(math.Log(2_000_00), math.Log(80_000_00))), 100_00)
		}
		if l.status != "new" || g.chance(0.5) {
			l.owner = g.writableOwner()
		}
		p.leads = append(p.leads, l)
	}
}

var activityKinds = []weighted[string]{{"email", 30}, {"call", 25}, {"meeting", 15}, {"note", 15}, {"task", 15}}

// activity draws one activity of kind (or a random kind) between from
// and to, about contact and org, with words from ws naming first (a
// person) and orgName.
func (g *generator) activity(ws *activityWords, kind string, from, to time.Time, contact, org int, first, orgName string) activityPlan {
	p := g.p
	if kind == "" {
		kind = pickWeighted(g, activityKinds)
	}
	a := activityPlan{kind: kind, contact: contact, org: org, deal: none, lead: none, owner: none}
	a.occurred = officeIn(g.between(from, to), from, p.now)
	a.subject = fill(pick(g, ws.subjects[kind]), first, orgName)
	if kind == "note" || kind == "meeting" {
		a.body = pick(g, ws.bodies)
	}
	if kind == "task" {
		a.due = office(a.occurred.Add(g.days(1, 14)))
		switch {
		case a.due.Before(p.now) && g.chance(0.85):
			late := a.due.Add(3 * 24 * time.Hour)
			if late.After(p.now) {
				late = p.now
			}
			a.done = officeIn(g.between(a.occurred, late), a.occurred, p.now)
		case !a.due.Before(p.now) && g.chance(0.2):
			a.done = officeIn(g.between(a.occurred, p.now), a.occurred, p.now)
		}
	}
	if kind == "call" || kind == "email" {
		a.direction = "outbound"
		if g.chance(0.35) {
			a.direction = "inbound"
		}
	}
	return a
}

func (g *generator) activitiesFor() {
	p := g.p
	for i := range p.deals {
		g := g.sub(streamDealActivity, i)
		d := &p.deals[i]
		end := p.now
		if _, at, closed := p.closed(d); closed {
			end = at
		}
		n := 1 + g.r.IntN(3)
		if len(d.path) >= 3 {
			n++
		}
		for k := 0; k < n; k++ {
			first, orgName := p.names(d.contact, d.org)
			a := g.activity(&salesWords, "", d.created(), end, d.contact, d.org, first, orgName)
			a.deal, a.owner = i, d.owner
			p.activities = append(p.activities, a)
		}
	}
	for i := range p.leads {
		g := g.sub(streamLeadActivity, i)
		l := &p.leads[i]
		if l.status == "new" {
			continue
		}
		end := p.now
		if l.status == "converted" {
			end = l.convertedAt
		}
		for k := 1 + g.r.IntN(2); k > 0; k-- {
			a := g.activity(&salesWords, pick(g, []string{"call", "email", "email", "note"}), l.created, end, l.contact, l.org, l.first, l.company)
			a.lead, a.owner = i, l.owner
			p.activities = append(p.activities, a)
		}
	}
	for i := range p.contacts {
		g := g.sub(streamContactActivity, i)
		c := &p.contacts[i]
		if !g.chance(0.5) {
			continue
		}
		from, words := p.start, &salesWords
		if c.org != none && p.customers[c.org] != nil {
			// Looking after a customer, after the sale.
			from, words = p.customers[c.org].first, &accountWords
		}
		first, orgName := p.names(i, c.org)
		a := g.activity(words, pick(g, []string{"note", "email", "call", "meeting", "task"}), from, p.now, i, c.org, first, orgName)
		a.owner = c.owner
		p.activities = append(p.activities, a)
	}
}

func (g *generator) tagCustomers() {
	p := g.p
	var active []*customer
	for _, c := range p.customers {
		if c != nil && !c.churned {
			active = append(active, c)
		}
	}
	slices.SortStableFunc(active, func(a, b *customer) int { return cmp.Compare(b.annual, a.annual) })
	for k, c := range active {
		o := &p.orgs[c.org]
		switch {
		case k < len(active)/10:
			o.tags = append(o.tags, tagVIP)
			p.contacts[o.contacts[0]].tags = append(p.contacts[o.contacts[0]].tags, tagReference)
		case g.sub(streamTags, c.org).chance(0.12):
			o.tags = append(o.tags, tagChurnRisk)
		}
	}
	for i := range p.contacts {
		c := &p.contacts[i]
		if c.org != none && p.orgs[c.org].contacts[0] == i {
			c.tags = append(c.tags, tagDecisionMaker)
		}
		if g.chance(0.3) {
			c.tags = append(c.tags, tagNewsletter)
		}
	}
}

// createdTimes dates each organization and contact a little before the
// first record that mentions it.
func (g *generator) createdTimes() {
	p := g.p
	far := p.now.Add(time.Hour)
	orgFirst := make([]time.Time, len(p.orgs))
	conFirst := make([]time.Time, len(p.contacts))
	for i := range orgFirst {
		orgFirst[i] = far
	}
	for i := range conFirst {
		conFirst[i] = far
	}
	seen := func(org, contact int, at time.Time) {
		if org != none && at.Before(orgFirst[org]) {
			orgFirst[org] = at
		}
		if contact != none && at.Before(conFirst[contact]) {
			conFirst[contact] = at
		}
	}
	for i := range p.deals {
		seen(p.deals[i].org, p.deals[i].contact, p.deals[i].created())
	}
	for _, l := range p.leads {
		seen(l.org, l.contact, l.created)
	}
	for _, a := range p.activities {
		seen(a.org, a.contact, a.occurred)
	}
	for _, o := range p.orders {
		seen(o.org, o.contact, o.at)
	}
	for i := range p.contacts {
		if org := p.contacts[i].org; org != none && conFirst[i].Before(orgFirst[org]) {
			orgFirst[org] = conFirst[i]
		}
	}
	for i := range p.orgs {
		g := g.sub(streamCreated, i)
		if orgFirst[i].Equal(far) {
			p.orgs[i].created = office(g.between(p.setup, p.now.AddDate(0, 0, -3)))
		} else {
			p.orgs[i].created = orgFirst[i].Add(-g.days(1, 30)).Truncate(time.Second)
		}
	}
	for i := range p.contacts {
		g := g.sub(streamCreated, numOrgs+i)
		c := &p.contacts[i]
		from := p.setup
		if c.org != none {
			from = p.orgs[c.org].created
		}
		if conFirst[i].Equal(far) {
			c.created = g.between(from, p.now.AddDate(0, 0, -1)).Truncate(time.Second)
		} else {
			c.created = g.between(from, conFirst[i]).Truncate(time.Second)
		}
	}
}

// numberOrders sorts orders by date and numbers them: SO-… for sales,
// CR-… for refunds (credit notes).
func (g *generator) numberOrders() {
	p := g.p
	slices.SortStableFunc(p.orders, func(a, b orderPlan) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	sales, credits := 10000, 10000
	for i := range p.orders {
		o := &p.orders[i]
		if o.refund {
			credits++
			o.number = fmt.Sprintf("CR-%05d", credits)
		} else {
			sales++
			o.number = fmt.Sprintf("SO-%05d", sales)
		}
	}
}
