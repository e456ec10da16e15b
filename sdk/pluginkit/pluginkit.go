// Package pluginkit is the conformance kit for Rapport plugins: checks that
// every plugin, whatever its runtime or language, must pass before a host
// binds it. A plugin author runs it from an ordinary test:
//
//	func TestConformance(t *testing.T) {
//		m, err := manifest.Load("plugin.json")
//		if err != nil {
//			t.Fatal(err)
//		}
//		pluginkit.Run(t, pluginkit.Native(m, Plugin))
//	}
//
// The kit talks to a plugin through a Target: Native runs an sdk.Plugin
// in-process; a runtime (the WASM host in core/extension, a process host)
// provides its own small adapter. The kit imports nothing of the server.
//
// # Checks
//
// Run runs these as subtests, named as below; Suite.Check runs the same
// checks without a *testing.T and returns a Result per check.
//
//   - manifest: the manifest passes manifest.Validate (which also requires at
//     least one point), lists no point twice, and gives inputs (at least one
//     attribute, none twice) for each subject type it declares, none for
//     subject types it does not; a score or segment plugin declares at least
//     one subject type.
//   - POINT/well-formed, for each declared point: canonical requests (see
//     below) of 100 subjects in both layouts get well-formed
//     answers: ScoreResponse.Validate and SegmentResponse.Validate pass for
//     the request's count (and segment weights are finite); a report has a
//     title or sections, finite numbers, series with as many labels as
//     values and tables with as many cells per row as columns.
//   - POINT/deterministic: the same request twice gets the same answer:
//     bit-identical numbers, the same labels, factors and segments.
//   - POINT/empty-batch: a batch of no subjects (with empty columns, and
//     with no columns at all) gets a well-formed answer.
//   - POINT/large-batch: a batch of 10,000 subjects gets a well-formed
//     answer.
//   - POINT/missing-values: batches where some values or every value is
//     missing (NaN in numeric columns; sdk.Missing, with an empty dictionary
//     when every value is, in categorical ones) get well-formed answers: no
//     error, no NaN.
//   - score/order-independent and segment/order-independent: reversing the
//     subjects of a batch reverses the answers (numbers to a relative 1e-9).
//   - POINT/malformed-input: request bytes that no protobuf parser accepts
//     (truncated requests, bad tags, bad wire types, lengths past the end)
//     sent through Target.Raw are refused with an error answer (ErrRefused),
//     within the deadline; a zero-length request, a batch whose count
//     exceeds its columns' length and, when an input is categorical, a
//     batch whose first categorical column has a code outside its
//     dictionary are refused or answered, but never crash or hang the
//     plugin; afterwards the plugin still answers a good request.
//   - POINT/config-defaults: a request whose config is the manifest's
//     defaults (see below) gets a well-formed answer.
//   - undeclared-points: each of score, segment and report that the
//     manifest does not declare is refused with an error answer, as the ABI
//     requires of a point a guest does not implement.
//
// Every call has a deadline (Suite.Timeout), and every check also fails
// when a call modifies its request: the host may share a request's columns
// between plugins, so plugins must treat requests as read-only.
//
// # Canonical requests
//
// A report request holds a batch per subject type of the manifest's
// inputs, then a batch per record type of its records (in name order),
// and the metric series it names: twelve monthly points, one point
// labelled "all" for single values, or a point per kind or source (no
// points at all when every value is missing).
//
// Each input is sent only in its declared form: as the kind sdk/inputs
// gives it (see sdk/INPUTS.md), in a column named by its Name (the alias,
// else the canonical expression, e.g. "stage = stage.name" is the column
// "stage", "tag:vip" the column "tag:vip"). A batch comes in two layouts
// of the same subjects:
//
//   - declared: one column per input, in manifest order;
//   - declared, columns in reverse order: the same columns, last input
//     first (plugins must find columns by name, not position).
//
// The values of each kind:
//
//   - id: never a column; the batch's IDs are set ("lead_000000", …).
//   - flag: 0 or 1.
//   - time: Unix seconds from 1,600,000,000 to 1,700,000,000 (September
//     2020 to November 2023), whole; a field whose name ends with _date at
//     midnight UTC.
//   - category: codes into a dictionary whose last entry no code uses. An
//     enum field (inputs.Lookup(entity).Fields[field].Enum: a lead's
//     status, an activity's kind, a stage's kind, …) gets its enum values,
//     then "" and "Zürich ✓" (a value the plugin cannot know: enums grow);
//     every other category (text, IDs, custom fields, segment) gets common
//     CRM values and awkward ones: "new", "qualified", "web", "referral", …,
//     "", "1", "true", "Zürich ✓".
//   - number: shaped by what it counts. count(…) is a whole number 0–365;
//     days_since_first(…) and days_since_last(…) are days 0–365, with a
//     fractional part. Money (an amount, a cost, a margin, sum, mean, min
//     or max of one) is an amount from 0 to about 10⁶ to the cent. Any
//     other number, a built-in or a custom field, goes by the name of its
//     field (for an aggregate, the field aggregated), then by its column's
//     name: a name ending with _count, _days, _hours or _age, or count or
//     age, is a whole number 0–365; starting with days_, days 0–365; ending
//     with _rate, _ratio, _probability or _share, or probability, a
//     fraction 0–1; anything else an amount. min(…) or max(…) of a time
//     field is a time.
//
// Missing values are NaN in numeric columns and sdk.Missing in categorical
// ones; when every value of a batch is missing, categorical columns have
// an empty dictionary. Values are pseudo-random with a fixed seed per
// subject type and column name, so every run sends the same requests.
//
// An input the language refuses (the manifest check reports it) is still
// sent, by its text and as its name suggests: has_ or is_ a flag, _at, _on,
// _date or _time a time, the number rules above, else a category; "id" the
// IDs. Of two inputs with the same column name only the first is sent.
//
// Records are sent with the kinds sdk.RecordTypes documents: customer_id,
// product and question are categories; quantity a whole number 0–365;
// amount an amount; answer a whole number 0–9 (a position on the
// question set's scale). Metric series are drawn by their names, as
// numbers are.
//
// Score and segment requests hold one batch of one subject type, for each
// subject type the manifest declares (or, when it declares none, each it
// gives inputs for; failing that, a contact batch without columns). A
// report request holds one batch per such subject type, no metrics, and
// params "{}".
//
// # Config
//
// Every request carries the binding configuration a host would send for a
// binding that sets nothing: the defaults of the manifest's config_schema.
// A schema's "default" is used as is; otherwise an object schema gets an
// object of its properties' defaults, recursively (properties without one
// are left out); no schema gives "{}". A schema that requires a property
// without a default cannot be satisfied this way: set Suite.Config.
package pluginkit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

// Target is a plugin under test, called as a host would call it. Its
// methods may be called one after another, never concurrently; each call's
// context carries the kit's deadline, and a Target must return when it
// passes (with an error wrapping the context's).
//
// A Target returns responses as the plugin gave them; the kit validates
// them. When the plugin answers a call with an error of its own (an ABI
// Error message, or a non-nil error from a native function), the Target
// returns an error that wraps ErrRefused. Any other error (a crash, a trap,
// a timeout, an answer that does not parse) must not wrap ErrRefused: the
// kit tells refusals from failures that way.
type Target interface {
	// Manifest returns the plugin's manifest.
	Manifest() *manifest.Manifest
	// Score runs the score point.
	Score(ctx context.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error)
	// Segment runs the segment point.
	Segment(ctx context.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error)
	// Report runs the report point.
	Report(ctx context.Context, req *sdk.ReportRequest) (*sdk.Report, error)
	// Raw sends request bytes, as they would arrive on the wire, to point
	// and returns the response bytes. A WASM adapter maps the point to its
	// ABI number (score 1, segment 2, report 3).
	Raw(ctx context.Context, point sdk.Point, req []byte) ([]byte, error)
}

// ErrRefused is wrapped by a Target's error when the plugin itself answered
// the call with an error, as opposed to crashing, hanging or answering
// garbage. An adapter wraps it with
//
//	fmt.Errorf("%w: %w", pluginkit.ErrRefused, err)
var ErrRefused = errors.New("plugin refused the call")

// Suite is a configured run of the checks. The zero value is ready to use
// and is what Run uses. A Suite is a plain value: copy it to vary it.
type Suite struct {
	// Timeout bounds every call to the target. It exists so that a hang
	// fails its check instead of the test binary; it is not a performance
	// budget. Default 10 s, the host's default cap on a call.
	Timeout time.Duration
	// Config, when not nil, is the binding configuration (JSON) sent with
	// every request instead of the manifest's defaults. Set it when the
	// manifest's config schema requires a property without a default; the
	// config-defaults checks then pass when no defaults can be derived, and
	// still send the defaults when they can.
	Config []byte
}

// DefaultTimeout is Suite.Timeout's default.
const DefaultTimeout = 10 * time.Second

// Result is the outcome of one check.
type Result struct {
	// Name is the check's name, which Run also gives its subtest, e.g.
	// "score/deterministic".
	Name string
	// Problems describe what failed, one sentence each; empty when the
	// check passed.
	Problems []string
}

// Failed reports whether the check found problems.
func (r Result) Failed() bool { return len(r.Problems) > 0 }

func (r *Result) errorf(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Run runs every check against target as subtests of t, with the zero
// Suite's settings.
func Run(t *testing.T, target Target) {
	t.Helper()
	Suite{}.Run(t, target)
}

// Run runs every check against target, each as a subtest of t named as its
// Result would be. A check's problems are reported with t.Error.
func (s Suite) Run(t *testing.T, target Target) {
	t.Helper()
	k, err := s.newKit(target)
	if err != nil {
		t.Fatalf("pluginkit: %v", err)
	}
	for _, c := range k.checks() {
		t.Run(c.name, func(t *testing.T) {
			res := Result{Name: c.name}
			c.run(k, t.Context(), &res)
			for _, p := range res.Problems {
				t.Error(p)
			}
		})
	}
}

// Check runs every check against target and returns their results in
// order. It is Run for callers without a *testing.T, such as a command
// that checks a built plugin. It fails only when target has no manifest.
func (s Suite) Check(ctx context.Context, target Target) ([]Result, error) {
	k, err := s.newKit(target)
	if err != nil {
		return nil, fmt.Errorf("pluginkit: %w", err)
	}
	var out []Result
	for _, c := range k.checks() {
		res := Result{Name: c.name}
		c.run(k, ctx, &res)
		out = append(out, res)
	}
	return out, nil
}

func (s Suite) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}
