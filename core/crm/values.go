package crm

import "time"

// Factor is one named contribution to a score: what the plugin looked at,
// and how much it moved the value.
type Factor struct {
	// Name identifies the factor, e.g. "email_domain" or "recency".
	Name string `json:"name"`
	// Contribution is the factor's signed share of the score value.
	Contribution float64 `json:"contribution"`
	// Detail is an optional human-readable note.
	Detail string `json:"detail,omitempty"`
}

// Change is one field's value before and after a write, as kept in a
// timeline event. Before is absent on create, After on delete.
type Change struct {
	Field  string `json:"field"`
	Before any    `json:"before,omitempty"`
	After  any    `json:"after,omitempty"`
}

// AutomationStep is the outcome of one action of an automation run.
type AutomationStep struct {
	// Type is the action's type, e.g. webhook or send_email.
	Type string `json:"type"`
	// Status is pending, succeeded or failed.
	Status string `json:"status"`
	// Attempts counts the tries so far.
	Attempts int `json:"attempts"`
	// Error is the last error, if any.
	Error string `json:"error,omitempty"`
	// FirstAttemptAt is when the action was first tried; retries stop a
	// retry window after it.
	FirstAttemptAt *time.Time `json:"first_attempt_at,omitempty"`
	// FinishedAt is when the action succeeded or finally failed.
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}
