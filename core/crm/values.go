package crm

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
