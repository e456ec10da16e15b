package demo

// Word lists the generator draws names from. Every name is invented; the
// domains end in .example (RFC 2606) and the phone numbers use the
// 555-01xx range that is reserved for fiction, so no demo record reaches a
// real company or person.

var firstNames = []string{
	"Aaliyah", "Adrian", "Aisha", "Alejandro", "Amara", "Andrea", "Anton", "Ava",
	"Benjamin", "Bianca", "Camille", "Carlos", "Chloe", "Daniel", "Deepa", "Diego",
	"Elena", "Elif", "Emeka", "Emily", "Erik", "Fatima", "Felix", "Freya",
	"Gabriel", "Grace", "Hana", "Hannah", "Hugo", "Ibrahim", "Ingrid", "Isabel",
	"Jakob", "James", "Jin", "Julia", "Kai", "Kenji", "Lars", "Layla",
	"Leo", "Lina", "Lucas", "Mai", "Marco", "Maria", "Mateo", "Mia",
	"Nadia", "Nikhil", "Noah", "Nora", "Olivia", "Omar", "Paula", "Rafael",
	"Rosa", "Samuel", "Sara", "Sofia", "Tariq", "Thea", "Tomas", "Valentina",
	"Wei", "Yara", "Yusuf", "Zoe",
}

var lastNames = []string{
	"Abbott", "Adeyemi", "Alvarez", "Andersen", "Bauer", "Becker", "Bianchi", "Brennan",
	"Castillo", "Chen", "Costa", "Dubois", "Eriksson", "Farouk", "Fischer", "Fontaine",
	"Garcia", "Gupta", "Hansen", "Hartmann", "Hoang", "Ibarra", "Ito", "Jansen",
	"Kaur", "Keller", "Kim", "Kowalski", "Larsen", "Laurent", "Lindqvist", "Lopez",
	"Mahmoud", "Martin", "Mensah", "Meyer", "Moreau", "Murphy", "Nakamura", "Nguyen",
	"Novak", "Okafor", "Olsen", "Ortiz", "Park", "Patel", "Petrov", "Quinn",
	"Ramos", "Rao", "Reyes", "Richter", "Rossi", "Sato", "Schmidt", "Silva",
	"Singh", "Sokolov", "Suzuki", "Tan", "Torres", "Varga", "Vogel", "Walsh",
	"Weber", "Wright", "Yamamoto", "Young", "Zhang", "Zimmermann",
}

// orgFirstWords open an organization's name.
var orgFirstWords = []string{
	"Alder", "Atlas", "Aurora", "Beacon", "Bluefin", "Brightpath", "Cedar", "Copperleaf",
	"Crescent", "Driftwood", "Evergreen", "Falcon", "Granite", "Harbor", "Horizon", "Ironwood",
	"Juniper", "Keystone", "Larkspur", "Lumen", "Maple", "Meridian", "Nimbus", "Northwind",
	"Oakridge", "Orchard", "Pinnacle", "Pioneer", "Quarry", "Redstone", "Riverbend", "Sable",
	"Silverline", "Sterling", "Summit", "Tidewater", "Upland", "Vantage", "Willow", "Zenith",
}

// industry is an industry with the words that close the names of
// organizations in it.
type industry struct {
	name  string
	words []string
}

var industries = []industry{
	{"Software", []string{"Software", "Systems", "Labs", "Digital"}},
	{"Logistics", []string{"Logistics", "Freight", "Shipping"}},
	{"Healthcare", []string{"Health", "Clinics", "Medical"}},
	{"Manufacturing", []string{"Manufacturing", "Industries", "Robotics", "Works"}},
	{"Retail", []string{"Outfitters", "Goods", "Market"}},
	{"Financial Services", []string{"Capital", "Financial", "Insurance"}},
	{"Media", []string{"Media", "Studios", "Publishing"}},
	{"Energy", []string{"Energy", "Power", "Solar"}},
	{"Education", []string{"Learning", "Academy"}},
	{"Hospitality", []string{"Hotels", "Hospitality"}},
	{"Construction", []string{"Builders", "Construction"}},
	{"Food & Beverage", []string{"Foods", "Brewing", "Coffee"}},
	{"Real Estate", []string{"Realty", "Properties"}},
	{"Telecommunications", []string{"Telecom", "Networks"}},
	{"Professional Services", []string{"Partners", "Consulting", "Advisors"}},
}

var orgSuffixes = []string{"", "", "", "", " Inc.", " Ltd", " Group", " Co."}

// titles are job titles; the first ones are decision makers and go to the
// first contact of an organization.
var (
	leaderTitles = []string{"CEO", "COO", "CTO", "CFO", "VP Sales", "VP Operations", "Head of IT", "Head of Customer Success"}
	staffTitles  = []string{
		"Operations Manager", "Procurement Manager", "IT Manager", "Sales Manager", "Account Executive",
		"Marketing Manager", "Office Manager", "Customer Success Manager", "Business Analyst",
		"Finance Manager", "Project Manager", "Software Engineer", "Sales Operations Analyst",
	}
)

var areaCodes = []string{"212", "303", "312", "415", "503", "512", "617", "646", "702", "720", "773", "919"}

var leadSources = []weighted[string]{
	{"Website", 30}, {"Referral", 15}, {"Trade show", 10}, {"Webinar", 12},
	{"Cold outreach", 10}, {"Partner", 8}, {"Paid search", 10}, {"LinkedIn", 5},
}

var leadInterests = []string{
	"Pricing inquiry", "Demo request", "Trial sign-up", "Webinar follow-up",
	"Replacing spreadsheets", "Migration from legacy CRM", "Referral from a customer",
	"Request for proposal", "Integration question",
}

var lostReasons = []weighted[string]{
	{"Price too high", 25}, {"Chose a competitor", 25}, {"No budget this year", 15},
	{"No decision", 15}, {"Timing", 10}, {"Missing feature", 10},
}

var partnershipKinds = []string{"reseller partnership", "referral partnership", "technology partnership", "agency partnership"}

// activityWords are the subjects of each kind of activity and the bodies
// of notes and meetings; {first} and {org} are replaced.
type activityWords struct {
	subjects map[string][]string
	bodies   []string
}

// salesWords describe work on a deal or lead, before a sale.
var salesWords = activityWords{
	subjects: map[string][]string{
		"call":    {"Discovery call with {first}", "Follow-up call with {first}", "Pricing call", "Call about the {org} roll-out plan"},
		"email":   {"Proposal for {org}", "Re: pricing questions", "Follow-up on the demo", "Contract questions from {first}", "Re: security questionnaire"},
		"meeting": {"Product demo for {org}", "Discovery workshop at {org}", "Negotiation meeting", "Technical deep-dive with {first}"},
		"note":    {"Notes from talk with {first}", "Budget confirmed", "Competitor mentioned", "Champion identified at {org}", "Decision expected next month"},
		"task":    {"Send proposal to {org}", "Follow up with {first}", "Schedule a demo", "Update the contract draft", "Send case studies to {first}"},
	},
	bodies: []string{
		"Team is growing fast and outgrew their spreadsheets.",
		"They asked for a reference customer in the same industry.",
		"Security review needed before signing; sent our questionnaire answers.",
		"Budget owner is the CFO; our champion will set up a meeting.",
		"Main pain points: duplicate records and no pipeline visibility.",
		"Comparing us with two other vendors; price is the main concern.",
		"Wants SSO before rolling out to the whole company.",
	},
}

// accountWords describe looking after a customer.
var accountWords = activityWords{
	subjects: map[string][]string{
		"call":    {"Check-in call with {first}", "Support escalation call", "Call about adding seats"},
		"email":   {"Intro to our onboarding team", "Your renewal at {org}", "Re: invoice question", "New features this quarter"},
		"meeting": {"Quarterly business review", "Kick-off meeting", "Onboarding check-in with {first}"},
		"note":    {"Notes from QBR with {first}", "Usage is up this quarter", "New stakeholder at {org}"},
		"task":    {"Prepare QBR deck for {org}", "Send onboarding plan", "Follow up on the support ticket", "Ask {first} for a case study"},
	},
	bodies: []string{
		"Happy with onboarding so far, asked about the analytics add-on.",
		"Adoption is strong in sales, weaker in support; offered a training day.",
		"They plan to add a second team next quarter.",
		"Raised concerns about report performance; opened a ticket.",
	},
}
