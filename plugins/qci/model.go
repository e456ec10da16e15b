package qci

import (
	"math"
	"sort"
)

// Area is one of the eight areas of the assessment.
type Area struct {
	Key   string `json:"key"`
	Title string `json:"title"`
}

// The area keys.
const (
	AnalysisPlanning           = "analysis_planning"
	Proposition                = "proposition"
	PeopleOrganisation         = "people_organisation"
	InformationTechnology      = "information_technology"
	ProcessManagement          = "process_management"
	CustomerManagementActivity = "customer_management_activity"
	CustomerExperience         = "customer_experience"
	Measurement                = "measurement"
)

// Areas lists the areas in report order: from planning, through what
// supports customer management, to the activity itself, what the customer
// experiences and how it is measured.
var Areas = []Area{
	{AnalysisPlanning, "Analysis and planning"},
	{Proposition, "The proposition"},
	{PeopleOrganisation, "People and organisation"},
	{InformationTechnology, "Information and technology"},
	{ProcessManagement, "Process management"},
	{CustomerManagementActivity, "Customer management activity: acquisition, retention, penetration"},
	{CustomerExperience, "Customer experience"},
	{Measurement, "Measuring the effect"},
}

// Question is one question of the questionnaire. Its Key is stable: it is
// what recorded answers name.
type Question struct {
	Key  string `json:"key"`
	Area string `json:"area"`
	Text string `json:"text"`
}

// MaxAnswer is the highest answer; answers run from 0 to MaxAnswer.
const MaxAnswer = 4

// Scale describes each answer, 0 to MaxAnswer.
var Scale = []string{
	"not at all",
	"started: ad hoc, in places",
	"partly in place",
	"in place across the business",
	"fully in place, embedded and measured",
}

// Questions is the question set, area by area in Areas order. Keys are
// "<area>.<name>"; questions.json holds the same list (a test checks).
var Questions = []Question{
	{"analysis_planning.segments_defined", AnalysisPlanning, "Customer segments are defined from data on customers' value and needs."},
	{"analysis_planning.customer_value_measured", AnalysisPlanning, "The current and potential value of customers is measured and used in planning."},
	{"analysis_planning.plans_by_segment", AnalysisPlanning, "Acquisition, retention and development objectives are planned per segment."},
	{"analysis_planning.competitors_analysed", AnalysisPlanning, "Competitors' offers and customers' alternatives are analysed and fed into plans."},

	{"proposition.defined_per_segment", Proposition, "A value proposition is defined for each target segment."},
	{"proposition.communicated", Proposition, "The proposition is communicated to customers and to the staff who deliver it."},
	{"proposition.tested_with_customers", Proposition, "The proposition is tested with customers and reviewed against competitors' offers."},

	{"people_organisation.roles_defined", PeopleOrganisation, "Customer management roles and responsibilities are defined, across functions."},
	{"people_organisation.skills_trained", PeopleOrganisation, "Staff are trained in the skills their customer-facing roles need."},
	{"people_organisation.objectives_aligned", PeopleOrganisation, "Objectives and rewards are aligned with customer management goals."},
	{"people_organisation.leadership_committed", PeopleOrganisation, "Senior management sponsors customer management and reviews its progress."},

	{"information_technology.single_customer_view", InformationTechnology, "A single view of each customer is available wherever customers are handled."},
	{"information_technology.data_quality_managed", InformationTechnology, "Customer data quality has an owner, is measured and is improved."},
	{"information_technology.systems_integrated", InformationTechnology, "Channels and systems share customer data rather than keep copies."},
	{"information_technology.privacy_managed", InformationTechnology, "Customer data is held and used under a documented privacy and consent policy."},

	{"process_management.processes_documented", ProcessManagement, "The key customer processes are documented and each has an owner."},
	{"process_management.service_standards_set", ProcessManagement, "Service standards, such as response times, are set and monitored."},
	{"process_management.complaints_managed", ProcessManagement, "Complaints are recorded, resolved and analysed for their root causes."},
	{"process_management.processes_improved", ProcessManagement, "Processes are reviewed and improved from measured results."},

	{"customer_management_activity.acquisition_targeted", CustomerManagementActivity, "Acquisition is aimed at chosen segments, and its results are measured."},
	{"customer_management_activity.retention_managed", CustomerManagementActivity, "Customers at risk of leaving are identified and retention actions taken."},
	{"customer_management_activity.penetration_planned", CustomerManagementActivity, "Selling more to existing customers (cross-sell, up-sell) is planned by segment."},
	{"customer_management_activity.win_back", CustomerManagementActivity, "Lapsed customers are identified and approached to win them back."},

	{"customer_experience.feedback_collected", CustomerExperience, "Customer feedback (satisfaction, effort) is collected regularly."},
	{"customer_experience.promise_delivered", CustomerExperience, "Customers get what the proposition promises, in every channel."},
	{"customer_experience.response_times_kept", CustomerExperience, "Enquiries are answered within the promised times."},
	{"customer_experience.benchmarked", CustomerExperience, "The experience is compared with competitors' and with customers' expectations."},

	{"measurement.kpis_defined", Measurement, "Customer management KPIs (acquisition, retention, value) are defined, with targets."},
	{"measurement.reported_regularly", Measurement, "The KPIs are reported regularly to the people who can act on them."},
	{"measurement.results_acted_on", Measurement, "Measured results change plans, propositions and processes."},
}

// QuestionSet is the whole questionnaire as questions.json holds it.
type QuestionSet struct {
	Areas     []Area     `json:"areas"`
	Scale     []string   `json:"scale"`
	Questions []Question `json:"questions"`
}

// QuestionByKey returns the question with the given key, and false when the
// question set has none.
func QuestionByKey(key string) (Question, bool) {
	for _, q := range Questions {
		if q.Key == key {
			return q, true
		}
	}
	return Question{}, false
}

// ValidAnswer reports whether v is an answer a respondent may give: a
// whole number from 0 to MaxAnswer.
func ValidAnswer(v float64) bool {
	return v >= 0 && v <= MaxAnswer && v == math.Trunc(v)
}

// Answer is one recorded answer to a question.
type Answer struct {
	Question string
	Value    float64
}

// Config is the plugin's configuration; its JSON names are those of
// plugin.json's config_schema, where the defaults are documented.
type Config struct {
	// KPIWeight is the KPI part's share of an area's score, for an area
	// with at least one measured KPI.
	KPIWeight float64 `json:"kpi_weight"`
	// TargetScore is the area score aimed at; areas below it are gaps.
	TargetScore float64 `json:"target_score"`
	// AreaWeights weigh the areas in the index and the gap ranking.
	AreaWeights map[string]float64 `json:"area_weights"`
	Targets     Targets            `json:"targets"`
	// EnquiryDays is how recent a customer's latest inbound activity must
	// be, in days, to count as an enquiry for the enquiries_answered KPI.
	EnquiryDays float64 `json:"enquiry_days"`
	// WeakestQuestions is how many of an area's weakest answered questions
	// the gap ranking names.
	WeakestQuestions int `json:"weakest_questions"`
	MaxRows          int `json:"max_rows"`
}

// Targets are the levels at which a measured KPI scores 100.
type Targets struct {
	NewCustomers     float64 `json:"new_customers_per_period"`
	RetentionRate    float64 `json:"retention_rate"`
	Penetration      float64 `json:"penetration"`
	DataCompleteness float64 `json:"data_completeness"`
	ReplyHours       float64 `json:"reply_hours"`
	// EnquiriesAnswered is a fraction; ReplyHours also sets when an
	// unanswered enquiry is overdue.
	EnquiriesAnswered float64 `json:"enquiries_answered"`
}

// DefaultConfig is the configuration when a binding gives none; it must
// agree with plugin.json's defaults (a test checks).
func DefaultConfig() Config {
	w := make(map[string]float64, len(Areas))
	for _, a := range Areas {
		w[a.Key] = 1
	}
	return Config{
		KPIWeight: 0.4, TargetScore: 75, AreaWeights: w,
		Targets:          Targets{NewCustomers: 10, RetentionRate: 0.85, Penetration: 0.5, DataCompleteness: 0.9, ReplyHours: 24, EnquiriesAnswered: 0.9},
		EnquiryDays:      90,
		WeakestQuestions: 2, MaxRows: 500,
	}
}

// The measured KPIs' keys.
const (
	KPIAcquisition  = "acquisition"
	KPIRetention    = "retention"
	KPIPenetration  = "penetration"
	KPICompleteness = "data_completeness"
	KPIResponse     = "response_time"
	KPIEnquiries    = "enquiries_answered"
)

// Data is what the measured KPIs are computed from. A nil series means the
// host sent no such metric.
type Data struct {
	// NewCustomers and RetentionRate are per-period values of the host's
	// new_customers and retention_rate (a fraction) metrics.
	NewCustomers, RetentionRate []float64
	// MedianReplyHours holds the median_reply_hours metric's value.
	MedianReplyHours []float64
	// Customers are the organizations and contacts, Buyers those with at
	// least one order.
	Customers, Buyers int
	// Contacts, and how many have an email, a phone, an organization.
	Contacts, WithEmail, WithPhone, WithOrganization int
	// Enquiries holds, for each customer with an inbound activity, the
	// days since its latest inbound and latest outbound activity.
	Enquiries []Enquiry
}

// Enquiry is a customer's latest inbound activity (an enquiry) and its
// latest outbound one, in days before the report's time; NaN when the
// customer has none.
type Enquiry struct {
	InboundDays, OutboundDays float64
}

// EnquiryState is where a customer's latest enquiry stands.
type EnquiryState int

// The states: not an enquiry of the window (none, or older than
// enquiry_days); answered (an outbound activity at or after it); waiting
// (no answer yet, but younger than the reply target); overdue (no
// answer, older than the reply target).
const (
	NoEnquiry EnquiryState = iota
	Answered
	Waiting
	Overdue
)

// State places an enquiry, with cfg's enquiry_days and targets.reply_hours.
func (e Enquiry) State(cfg Config) EnquiryState {
	switch {
	case !(e.InboundDays >= 0 && e.InboundDays <= cfg.EnquiryDays):
		return NoEnquiry
	case e.OutboundDays <= e.InboundDays:
		return Answered
	case 24*e.InboundDays < cfg.Targets.ReplyHours:
		return Waiting
	}
	return Overdue
}

// Measure is one KPI measured from data.
type Measure struct {
	Key, Area, Label string
	// Value is the measured figure; Target the level that scores 100.
	Value, Target float64
	// LowerIsBetter is set for a figure to keep down (reply hours).
	LowerIsBetter bool
	// Known is false when the data to measure it is absent; the KPI then
	// plays no part in its area's score.
	Known bool
}

// Score is the KPI's 0–100 score: min(1, value / target) × 100, or
// min(1, target / value) × 100 when lower is better; 0 when not known. A
// target of 0 or less is met by any value (higher is better) or only by a
// value at or below it (lower is better).
func (m Measure) Score() float64 {
	switch {
	case !m.Known:
		return 0
	case m.LowerIsBetter && m.Value <= m.Target:
		return 100
	case m.LowerIsBetter && m.Target <= 0:
		return 0
	case m.LowerIsBetter:
		return 100 * m.Target / m.Value
	case m.Target <= 0:
		return 100
	}
	return 100 * math.Max(0, math.Min(1, m.Value/m.Target))
}

// Measures computes the six KPIs, in this order: acquisition (mean new
// customers per period), retention (mean retention rate per period),
// penetration (buyers / customers), data completeness (the share of
// contact fields present of email, phone and organization), response
// time (median reply hours, lower is better) and enquiries answered
// (answered / (answered + overdue) of the customers' latest enquiries,
// see Enquiry.State).
//
// Response time and enquiries answered see the same promise from two
// sides: the median covers the emails that were answered, however many
// were not; the share of enquiries answered counts every channel and the
// customers left waiting past the reply target.
func Measures(d Data, cfg Config) []Measure {
	acq, acqOK := meanFinite(d.NewCustomers)
	ret, retOK := meanFinite(d.RetentionRate)
	reply, replyOK := firstFinite(d.MedianReplyHours)
	replyOK = replyOK && reply >= 0
	var answered, due int
	for _, e := range d.Enquiries {
		switch e.State(cfg) {
		case Answered:
			answered++
			due++
		case Overdue:
			due++
		}
	}
	t := cfg.Targets
	return []Measure{
		{Key: KPIAcquisition, Area: CustomerManagementActivity, Label: "New customers per period", Value: acq, Target: t.NewCustomers, Known: acqOK},
		{Key: KPIRetention, Area: CustomerManagementActivity, Label: "Retention rate", Value: ret, Target: t.RetentionRate, Known: retOK},
		{Key: KPIPenetration, Area: CustomerManagementActivity, Label: "Customers with orders, of organizations and contacts", Value: share(float64(d.Buyers), float64(d.Customers)), Target: t.Penetration, Known: d.Customers > 0},
		{Key: KPICompleteness, Area: InformationTechnology, Label: "Contact data completeness (email, phone, organization)", Value: share(float64(d.WithEmail+d.WithPhone+d.WithOrganization), 3*float64(d.Contacts)), Target: t.DataCompleteness, Known: d.Contacts > 0},
		{Key: KPIResponse, Area: CustomerExperience, Label: "Median reply time (hours)", Value: reply, Target: t.ReplyHours, LowerIsBetter: true, Known: replyOK},
		{Key: KPIEnquiries, Area: CustomerExperience, Label: "Latest enquiries answered, of those answered or overdue", Value: share(float64(answered), float64(due)), Target: t.EnquiriesAnswered, Known: due > 0},
	}
}

// QuestionResult is a question with its recorded answers.
type QuestionResult struct {
	Question
	// Answers is the number of valid answers recorded; Mean their mean
	// (0 when none).
	Answers int
	Mean    float64
}

// Answered reports whether the question has at least one answer.
func (q QuestionResult) Answered() bool { return q.Answers > 0 }

// AreaScore is one area's assessment.
type AreaScore struct {
	Area
	Weight float64
	// Questions are the area's questions in question-set order.
	Questions []QuestionResult
	// Answered of Total questions have an answer.
	Answered, Total int
	// Questionnaire is the mean of the answered questions' mean answers
	// / MaxAnswer × 100; 0 when none is answered.
	Questionnaire float64
	// Measures are the area's KPIs, known or not; KPI is the mean score of
	// the known ones, HasKPI whether there is one.
	Measures []Measure
	KPI      float64
	HasKPI   bool
	// Score is (1 − kpi_weight) × Questionnaire + kpi_weight × KPI when
	// the area has a known KPI, else Questionnaire.
	Score float64
}

// Assessment is the whole assessment.
type Assessment struct {
	Areas []AreaScore
	// Index is the weighted mean of the area scores, 0–100.
	Index float64
	// Recorded answers counted; Ignored answers name no question of the
	// set or lie outside 0–MaxAnswer.
	Recorded, Ignored int
}

// Assess scores every area from the answers and the measured KPIs. A
// question answered more than once counts the mean of its answers;
// answers outside 0–MaxAnswer (or missing) and answers to keys the
// question set lacks are ignored.
func Assess(answers []Answer, measures []Measure, cfg Config) Assessment {
	index := make(map[string]int, len(Questions))
	for i, q := range Questions {
		index[q.Key] = i
	}
	sums := make([]float64, len(Questions))
	counts := make([]int, len(Questions))
	out := Assessment{Recorded: len(answers)}
	for _, a := range answers {
		i, ok := index[a.Question]
		if !ok || !(a.Value >= 0 && a.Value <= MaxAnswer) {
			out.Ignored++
			continue
		}
		sums[i] += a.Value
		counts[i]++
	}
	var weighted, weights float64
	for _, ar := range Areas {
		s := AreaScore{Area: ar, Weight: cfg.AreaWeights[ar.Key]}
		var meanSum float64
		for i, q := range Questions {
			if q.Area != ar.Key {
				continue
			}
			r := QuestionResult{Question: q, Answers: counts[i]}
			if counts[i] > 0 {
				r.Mean = sums[i] / float64(counts[i])
				meanSum += r.Mean
				s.Answered++
			}
			s.Total++
			s.Questions = append(s.Questions, r)
		}
		if s.Answered > 0 {
			s.Questionnaire = 100 * meanSum / float64(s.Answered) / MaxAnswer
		}
		var kpiSum float64
		known := 0
		for _, m := range measures {
			if m.Area != ar.Key {
				continue
			}
			s.Measures = append(s.Measures, m)
			if m.Known {
				kpiSum += m.Score()
				known++
			}
		}
		s.Score = s.Questionnaire
		if known > 0 {
			s.HasKPI = true
			s.KPI = kpiSum / float64(known)
			s.Score = (1-cfg.KPIWeight)*s.Questionnaire + cfg.KPIWeight*s.KPI
		}
		out.Areas = append(out.Areas, s)
		if s.Weight > 0 {
			weighted += s.Weight * s.Score
			weights += s.Weight
		}
	}
	out.Index = share(weighted, weights)
	return out
}

// Gap is an area below the target score.
type Gap struct {
	Area  string
	Score float64
	// Gap is (target score − area score) × the area's weight.
	Gap float64
	// Weakest are the area's answered questions below MaxAnswer, lowest
	// mean first (ties in question-set order), at most WeakestQuestions.
	Weakest []QuestionResult
	// Unanswered are the keys of the area's questions with no answer.
	Unanswered []string
}

// Gaps ranks the areas whose score is below cfg.TargetScore and whose
// weight is positive by (target − score) × weight, largest first (ties in
// area order).
func Gaps(a Assessment, cfg Config) []Gap {
	var out []Gap
	for _, s := range a.Areas {
		if !(s.Score < cfg.TargetScore) || !(s.Weight > 0) {
			continue
		}
		g := Gap{Area: s.Key, Score: s.Score, Gap: (cfg.TargetScore - s.Score) * s.Weight}
		var answered []QuestionResult
		for _, q := range s.Questions {
			switch {
			case !q.Answered():
				g.Unanswered = append(g.Unanswered, q.Key)
			case q.Mean < MaxAnswer:
				answered = append(answered, q)
			}
		}
		sort.SliceStable(answered, func(i, j int) bool { return answered[i].Mean < answered[j].Mean })
		if len(answered) > cfg.WeakestQuestions {
			answered = answered[:cfg.WeakestQuestions]
		}
		g.Weakest = answered
		out = append(out, g)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Gap > out[j].Gap })
	return out
}

// meanFinite is the mean of the finite values of v, and whether there is
// one.
func meanFinite(v []float64) (float64, bool) {
	var sum float64
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// firstFinite is the first finite value of v, and whether there is one.
func firstFinite(v []float64) (float64, bool) {
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return x, true
		}
	}
	return 0, false
}

// share is a/b, 0 when b is not positive (never NaN).
func share(a, b float64) float64 {
	if !(b > 0) || math.IsNaN(a) {
		return 0
	}
	return a / b
}
