// Package manifest reads and checks plugin.json, the file that describes a
// plugin to the host: what it is, which contract it speaks, which extension
// points it implements, which data it needs, what it may do and how much
// it may use.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/inputs"
)

// FileName is the manifest's name beside a module or binary.
const FileName = "plugin.json"

// Manifest is the content of plugin.json.
type Manifest struct {
	// Name identifies the plugin: lower case letters, digits and dashes.
	Name string `json:"name"`
	// Version is a semantic version, e.g. "1.4.0".
	Version string `json:"version"`
	// ABI is the contract version; it must equal sdk.ABIVersion.
	ABI int `json:"abi"`
	// Runtime is "wasm" or "process".
	Runtime string `json:"runtime"`
	// Module is the WASM file, relative to the manifest (runtime wasm).
	Module string `json:"module,omitempty"`
	// Command starts a process plugin, relative to the manifest (runtime process).
	Command []string `json:"command,omitempty"`
	// Points are the extension points implemented: score, segment, report.
	Points []sdk.Point `json:"points"`
	// Subjects are the subject types the plugin accepts.
	Subjects []string `json:"subjects,omitempty"`
	// Inputs lists, per subject type, the attributes the plugin needs.
	Inputs map[string][]string `json:"inputs,omitempty"`
	// Records lists, per record type (sdk.RecordTypes), the attributes a
	// report plugin needs.
	Records map[string][]string `json:"records,omitempty"`
	// Metrics names the standard metric series (sdk.ReportMetrics) a
	// report plugin needs.
	Metrics []string `json:"metrics,omitempty"`
	// Questions is the plugin's questionnaire (an sdk.QuestionSet as
	// JSON), relative to the manifest, for a plugin whose report reads
	// assessment records.
	Questions string `json:"questions,omitempty"`
	// Segments names, by key, the segments a segmentation plugin answers,
	// for people: the host creates a segment the first time the plugin
	// puts a subject in it, with this name and description (a key not
	// listed is named from the key itself: at_risk becomes "At risk").
	Segments map[string]SegmentInfo `json:"segments,omitempty"`
	// Model names the CRM model the plugin implements, e.g. "idic".
	Model string `json:"model,omitempty"`
	// Description says what the plugin does, for people.
	Description string `json:"description,omitempty"`
	// ConfigSchema is a JSON Schema of the binding configuration.
	ConfigSchema json.RawMessage `json:"config_schema,omitempty"`
	// Capabilities are what the plugin asks to use: log, config, clock, random.
	Capabilities []string `json:"capabilities,omitempty"`
	// Limits bound each call.
	Limits Limits `json:"limits"`
}

// SegmentInfo describes a segment a segmentation plugin answers.
type SegmentInfo struct {
	// Name is shown to people, e.g. "At risk"; at most 200 characters.
	Name string `json:"name"`
	// Description says who is in it; at most 2,000 characters.
	Description string `json:"description,omitempty"`
}

// SegmentKey reports whether key is a valid segment key: 1 to 64 lower
// case letters, digits, underscores and dashes.
func SegmentKey(key string) bool {
	if len(key) == 0 || len(key) > 64 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Limits are a plugin's requested resource bounds; the operator's caps
// apply on top.
type Limits struct {
	// TimeoutMS is the deadline of one call, in milliseconds.
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// MemoryPages is the memory ceiling in 64 KiB pages (WASM).
	MemoryPages int `json:"memory_pages,omitempty"`
}

// Capabilities a manifest may ask for.
var knownCapabilities = []string{"log", "config", "clock", "random"}

var (
	namePattern    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	versionPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$`)
	subjects       = []string{"contact", "organization", "lead", "deal"}
	attrPattern    = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,62}$`)
)

// Error lists every problem found in a manifest.
type Error struct {
	// Path is the file read, if any.
	Path     string
	Problems []string
}

func (e *Error) Error() string {
	where := "plugin.json"
	if e.Path != "" {
		where = e.Path
	}
	return fmt.Sprintf("%s: %s", where, strings.Join(e.Problems, "; "))
}

// Parse reads and checks a manifest. Unknown fields are refused, so that a
// typo does not silently lose a setting.
func Parse(b []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, &Error{Problems: []string{"not a valid manifest: " + err.Error()}}
	}
	if dec.More() {
		return nil, &Error{Problems: []string{"trailing data after the manifest"}}
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Load reads and checks the manifest at path.
func Load(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(b)
	var me *Error
	if errors.As(err, &me) {
		me.Path = path
	}
	return m, err
}

// Validate checks every field and reports all problems at once.
func (m *Manifest) Validate() error {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if !namePattern.MatchString(m.Name) {
		add("name %q: use lower case letters, digits and dashes, starting with a letter", m.Name)
	}
	if !versionPattern.MatchString(m.Version) {
		add("version %q: want a semantic version such as 1.0.0", m.Version)
	}
	if m.ABI != sdk.ABIVersion {
		add("abi %d: this host speaks abi %d", m.ABI, sdk.ABIVersion)
	}
	switch m.Runtime {
	case "wasm":
		if m.Module == "" || strings.Contains(m.Module, "..") || strings.HasPrefix(m.Module, "/") {
			add("module %q: want the .wasm file's path relative to plugin.json", m.Module)
		}
	case "process":
		if len(m.Command) == 0 || m.Command[0] == "" || strings.Contains(m.Command[0], "..") {
			add("command: want the program to start, relative to plugin.json")
		}
	default:
		add("runtime %q: want wasm or process", m.Runtime)
	}
	if len(m.Points) == 0 {
		add("points: name at least one of score, segment, report")
	}
	for _, pt := range m.Points {
		if pt != sdk.PointScore && pt != sdk.PointSegment && pt != sdk.PointReport {
			add("points: unknown extension point %q", pt)
		}
	}
	for _, s := range m.Subjects {
		if !slices.Contains(subjects, s) {
			add("subjects: unknown subject type %q", s)
		}
	}
	for s, attrs := range m.Inputs {
		if !slices.Contains(subjects, s) {
			add("inputs: unknown subject type %q", s)
		}
		if slices.Contains(subjects, s) {
			// Custom fields are checked when the plugin is bound to a
			// workspace; everything else here.
			if _, err := inputs.ParseAll(nil, s, attrs); err != nil {
				add("%v", err)
			}
		}
	}
	if (len(m.Records) > 0 || len(m.Metrics) > 0) && !m.Implements(sdk.PointReport) {
		add("records and metrics are report data: the plugin implements no report point")
	}
	for r, attrs := range m.Records {
		known, ok := sdk.RecordTypes[r]
		if !ok {
			add("records: unknown record type %q", r)
			continue
		}
		for _, a := range attrs {
			if !slices.Contains(known, a) {
				add("records.%s: unknown attribute %q (known: %s)", r, a, strings.Join(known, ", "))
			}
		}
	}
	if len(m.Segments) > 0 && !m.Implements(sdk.PointSegment) {
		add("segments: only a plugin that implements segment names segments")
	}
	for key, info := range m.Segments {
		switch {
		case !SegmentKey(key):
			add("segments.%s: a segment key is 1 to 64 of a-z, 0-9, _ and -", key)
		case strings.TrimSpace(info.Name) == "" || len(info.Name) > 200:
			add("segments.%s.name: give a name of 1 to 200 characters", key)
		case len(info.Description) > 2000:
			add("segments.%s.description: at most 2,000 characters", key)
		}
	}
	if m.Questions != "" && (strings.Contains(m.Questions, "..") || strings.HasPrefix(m.Questions, "/")) {
		add("questions %q: want the question set's path relative to plugin.json", m.Questions)
	}
	if (m.Questions != "") != (m.Records[sdk.RecordAssessment] != nil) {
		add("questions and records.assessment go together: a questionnaire's answers are assessment records")
	}
	for _, name := range m.Metrics {
		if !slices.Contains(sdk.ReportMetrics, name) {
			add("metrics: unknown metric %q", name)
		}
	}
	for _, c := range m.Capabilities {
		if !slices.Contains(knownCapabilities, c) {
			add("capabilities: unknown capability %q (known: %s)", c, strings.Join(knownCapabilities, ", "))
		}
	}
	if len(m.ConfigSchema) > 0 {
		var schema map[string]any
		if err := json.Unmarshal(m.ConfigSchema, &schema); err != nil {
			add("config_schema: not a JSON object: %v", err)
		} else if _, err := CompileConfigSchema(m.ConfigSchema); err != nil {
			add("config_schema: not a valid JSON Schema: %v", err)
		}
	}
	if m.Limits.TimeoutMS < 0 || m.Limits.TimeoutMS > 600_000 {
		add("limits.timeout_ms %d: want 0 (the host's default) to 600000", m.Limits.TimeoutMS)
	}
	if m.Limits.MemoryPages < 0 || m.Limits.MemoryPages > 65536 {
		add("limits.memory_pages %d: want 0 (the host's default) to 65536", m.Limits.MemoryPages)
	}
	if len(p) > 0 {
		return &Error{Problems: p}
	}
	return nil
}

// Implements reports whether the plugin implements point.
func (m *Manifest) Implements(point sdk.Point) bool { return slices.Contains(m.Points, point) }

// Asks reports whether the manifest asks for capability c.
func (m *Manifest) Asks(c string) bool { return slices.Contains(m.Capabilities, c) }

// Ref is "name@version".
func (m *Manifest) Ref() string { return m.Name + "@" + m.Version }
