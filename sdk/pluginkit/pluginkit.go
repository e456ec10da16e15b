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
//     below) of 100 subjects in each of the three layouts get well-formed
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
//   - POINT/missing-values: batches where some values, every value, every
//     number (NaN) or every code (sdk.Missing, empty dictionary) is missing
//     get well-formed answers: no error, no NaN.
//   - score/order-independent and segment/order-independent: reversing the
//     subjects of a batch reverses the answers (numbers to a relative 1e-9).
//   - POINT/malformed-input: request bytes that no protobuf parser accepts
//     (truncated requests, bad tags, bad wire types, lengths past the end)
//     sent through Target.Raw are refused with an error answer (ErrRefused),
//     within the deadline; a zero-length request and batches whose columns
//     disagree with their count or dictionary are refused or answered, but
//     never crash or hang the plugin; afterwards the plugin still answers a
//     good request.
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
// A manifest names the attributes a plugin needs but not their kinds, so
// the kit sends every input both ways, in three layouts of the same
// subjects:
//
//   - inferred: each attribute as the kind its name suggests (below);
//   - numbers: every attribute as a numeric column;
//   - codes: every attribute as a categorical column, in reverse manifest
//     order (plugins must find columns by name, not position).
//
// A plugin must therefore read a column of the kind it does not expect as
// missing, which is what sdk.Batch.Numbers and sdk.Column.Text do.
//
// The inferred kind looks at the attribute's last dot-separated part. It is
// numeric when it starts with has_ or is_ (a 0/1 flag); ends with _at,
// _on, _date or _time (Unix seconds); ends with _count, _days, _hours or
// _age, or is count or age (a whole number 0–365); ends with _rate,
// _ratio, _probability or _share, or is probability (a fraction 0–1); ends
// with _value, _amount, _revenue, _price, _total, _score, _size or
// _budget, or is value, amount, revenue, price, score, employees or budget
// (an amount from 0 to about 10⁶). Every other attribute is categorical,
// with codes into a dictionary of common CRM values ("new", "qualified",
// "web", "referral", …) and awkward ones ("", "1", "true", non-ASCII text),
// one entry unused. An attribute named "id" is never a column: the batch's
// IDs are set instead, as the ABI says. A categorical attribute sent as
// numbers gets whole numbers 0–9. Values are pseudo-random with a fixed
// seed, so every run sends the same requests.
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
