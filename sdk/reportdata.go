package sdk

import "fmt"

// Report data: what a host sends a report plugin beside its parameters.
// A manifest asks for it in three fields: "inputs" (attributes of every
// organization, contact, lead or deal of the workspace, one batch per
// subject type, as for score and segment), "records" (record types below,
// one batch each, whose rows are aggregates, not raw rows) and "metrics"
// (standard metric series below). A workspace's raw orders, line items and
// activities never cross into the plugin: the host aggregates them per
// subject (order_margin, call_count, days_since_last_order…) or per
// record (a customer's purchases of a product), so a report's data grows
// with the number of customers, not of transactions.

// Record types a report plugin may ask for in its manifest's "records",
// with their attributes.
var RecordTypes = map[string][]string{
	// RecordPurchases: one row per customer (organization, else contact)
	// and product: customer_id and product (text, the line item's name),
	// quantity and amount (currency units), summed over the line items of
	// the customer's orders and of its won deals that no order carries.
	RecordPurchases: {"customer_id", "product", "quantity", "amount"},
	// RecordAssessment: one row per recorded questionnaire answer of the
	// plugin's model: question (text, the plugin's question key) and
	// answer (a number).
	RecordAssessment: {"question", "answer"},
}

// The record types.
const (
	RecordPurchases  = "purchase"
	RecordAssessment = "assessment"
)

// ReportMetrics are the standard metric series a report plugin may ask for
// in its manifest's "metrics". Rates are fractions (0–1), money is in
// currency units, durations in days unless named otherwise. Per-period
// series are labelled by period ("2026-03", "2026-Q1", "2026") over the
// report's range; single values have one point labelled "all"; by-kind
// and by-source series are labelled by kind or source, with counts over
// the range. A metric without data has no points; rates over nothing are
// left out of their series rather than sent as NaN.
var ReportMetrics = []string{
	// Per period.
	"customers_at_end", "new_customers", "churned_customers", "churn_rate", "retention_rate",
	"revenue", "net_revenue_retention", "win_rate", "average_cycle_days", "sales_velocity", "reply_rate",
	// Single values.
	"clv_historical_average", "clv_predictive", "acquisition_cost", "average_days_since_touch",
	// median_reply_hours: the median, over a contact's inbound emails in
	// the range answered by an outbound email to the contact, of the hours
	// until that answer — how fast the business responds.
	"median_reply_hours",
	// By kind or source.
	"activities_by_kind", "leads_by_source", "converted_leads_by_source",
}

// QuestionSet is a model's questionnaire, as a plugin ships it in the file
// its manifest's "questions" names: areas, the answer scale (answer i is
// Scale[i], from 0 to len(Scale) − 1) and the questions, each keyed and in
// an area. The host checks recorded answers against it and sends them to
// the plugin's report as RecordAssessment rows.
type QuestionSet struct {
	Areas     []QuestionArea `json:"areas"`
	Scale     []string       `json:"scale"`
	Questions []Question     `json:"questions"`
}

// QuestionArea is a group of questions.
type QuestionArea struct {
	Key   string `json:"key"`
	Title string `json:"title"`
}

// Question is one question of a QuestionSet.
type Question struct {
	Key  string `json:"key"`
	Area string `json:"area"`
	Text string `json:"text"`
}

// Validate checks that the set has a scale of at least two answers, and
// questions with distinct keys in its areas.
func (q *QuestionSet) Validate() error {
	if len(q.Scale) < 2 {
		return fmt.Errorf("question set: the scale needs at least two answers")
	}
	areas := map[string]bool{}
	for _, a := range q.Areas {
		areas[a.Key] = true
	}
	keys := map[string]bool{}
	for _, qu := range q.Questions {
		if qu.Key == "" || keys[qu.Key] {
			return fmt.Errorf("question set: question key %q is empty or repeated", qu.Key)
		}
		keys[qu.Key] = true
		if !areas[qu.Area] {
			return fmt.Errorf("question set: question %q is in unknown area %q", qu.Key, qu.Area)
		}
	}
	return nil
}
